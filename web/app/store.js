// The project's IndexedDB store. Go (web/ui) calls these functions and
// awaits their promises; the schema is described in web/project's package
// documentation:
//
//   database "glimpse", version 1
//   "meta"    out-of-line keys: "project" → {version, classes: [{id, name}],
//             settings, nextId}, "head" → ArrayBuffer (the trained head's
//             Glimpse file)
//   "samples" keyPath "id": {id, classId, embedding: ArrayBuffer (float32
//             little-endian), thumb: string (a JPEG data URL)}
//
// Every write is one transaction that either completes or fails whole
// (a quota error included), so what was saved before stays intact.
const DB = 'glimpse';
let opening;

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function db() {
  opening ??= new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => {
      r.result.createObjectStore('meta');
      r.result.createObjectStore('samples', { keyPath: 'id' });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => { opening = undefined; reject(r.error); };
    r.onblocked = () => reject(new Error('the project store is open in an older tab'));
  });
  return opening;
}

async function write(stores, fn) {
  const d = await db();
  return new Promise((resolve, reject) => {
    const tx = d.transaction(stores, 'readwrite');
    fn(tx);
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new Error('the save was aborted'));
    tx.onerror = (e) => e.preventDefault();
  });
}

/** Loads everything: {project, head, samples}; project is undefined when nothing was saved. */
export async function load() {
  const d = await db();
  const tx = d.transaction(['meta', 'samples'], 'readonly');
  const [project, head, samples] = await Promise.all([
    request(tx.objectStore('meta').get('project')),
    request(tx.objectStore('meta').get('head')),
    request(tx.objectStore('samples').getAll()),
  ]);
  return { project, head, samples };
}

/** Saves the project's description (classes, settings). */
export function putProject(project) {
  return write(['meta'], (tx) => tx.objectStore('meta').put(project, 'project'));
}

/** Saves samples [{id, classId, embedding, thumb}] in one transaction. */
export function putSamples(samples) {
  return write(['samples'], (tx) => { for (const s of samples) tx.objectStore('samples').put(s); });
}

/** Deletes samples by id. */
export function deleteSamples(ids) {
  return write(['samples'], (tx) => { for (const id of ids) tx.objectStore('samples').delete(id); });
}

/** Saves the trained head (bytes) or removes it (null). */
export function putHead(bytes) {
  return write(['meta'], (tx) => {
    if (bytes) tx.objectStore('meta').put(bytes.slice().buffer, 'head');
    else tx.objectStore('meta').delete('head');
  });
}

/** Replaces the whole project at once (import, new project). */
export function replaceAll(project, samples, head) {
  return write(['meta', 'samples'], (tx) => {
    tx.objectStore('samples').clear();
    tx.objectStore('meta').clear();
    tx.objectStore('meta').put(project, 'project');
    if (head) tx.objectStore('meta').put(head.slice().buffer, 'head');
    for (const s of samples) tx.objectStore('samples').put(s);
  });
}

/** Asks the browser to keep the project when storage runs short. */
export async function persist() {
  return navigator.storage && navigator.storage.persist ? navigator.storage.persist() : false;
}

/** Offers bytes (a Uint8Array) as a file download, made here so no request leaves the page. */
export function download(bytes, name, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type: type || 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
