// Starts the app: the Go program that draws it (app.wasm), the dedicated
// Worker that holds the model and predicts and trains off this thread
// (app-worker.js, started first so that both download at once), the
// IndexedDB store the project is saved to, and the service worker that
// keeps everything for offline use. All URLs are relative, so the site
// works from any sub-path, and every request stays on this origin.
import * as store from './store.js';

function fail(message) {
  const el = document.getElementById('alert');
  el.textContent = message;
  el.hidden = false;
  document.getElementById('status').textContent = 'Glimpse could not start.';
}

// chosenBackbone is the backbone the course page kept for the app, as
// {modelURL, modelName}, or null.
async function chosenBackbone() {
  try {
    if (!globalThis.caches) return null;
    const hit = await (await caches.open('backbone-choice')).match('backbone.glimpse');
    if (!hit) return null;
    const modelName = decodeURIComponent(hit.headers.get('X-Backbone-Name') || 'backbone.glimpse');
    return { modelURL: URL.createObjectURL(await hit.blob()), modelName };
  } catch (e) {
    console.warn('the chosen backbone could not be read:', e.message);
    return null;
  }
}

async function start() {
  if (typeof WebAssembly !== 'object') throw new Error('This browser cannot run WebAssembly.');
  // The Go program finds its storage, its model and its Worker here: the
  // default backbone, or one the student chose on the course page
  // (learn.html keeps that file in Cache Storage, "backbone-choice").
  const worker = new Worker('app-worker.js', { type: 'module' });
  // The Worker may be ready (or fail) before the Go program listens: what
  // it says until then is kept here for the Go program, not dropped.
  const workerSaid = [];
  worker.onmessage = ({ data }) => workerSaid.push(data);
  worker.onerror = (e) => {
    e.preventDefault();
    workerSaid.push({ failed: e.message || 'it could not be started' });
  };
  const defaultModelURL = 'models/mobilenet_v2_1.0_224.glimpse';
  globalThis.glimpseApp = { store, worker, workerSaid, modelURL: defaultModelURL, defaultModelURL };
  const chosen = await chosenBackbone();
  if (chosen) Object.assign(globalThis.glimpseApp, chosen);
  // The model's download starts now, while both Go programs compile.
  worker.postMessage({ prefetch: new URL(globalThis.glimpseApp.modelURL, location.href).href });
  const go = new Go();
  const res = await fetch('app.wasm');
  if (!res.ok) throw new Error(`app.wasm: HTTP ${res.status}`);
  const { instance } = await WebAssembly.instantiateStreaming(res, go.importObject);
  // The figure "wasm memory" in the test reads the Go heap's size here.
  globalThis.glimpseApp.wasmMemoryBytes = () => instance.exports.mem.buffer.byteLength;
  go.run(instance).then(() => fail('The Glimpse program stopped. Reload the page.'));
}

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js').catch((e) => console.warn('offline cache unavailable:', e.message));
}
start().catch((e) => fail(String((e && e.message) || e)));
