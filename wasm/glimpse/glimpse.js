// Glimpse's JavaScript API: a CNN image classifier running in WebAssembly.
//
//   import { load } from './glimpse.js';
//   const model = await load('models/mobilenet_v2_1.0_224.glimpse', { onProgress: (f) => bar.value = f });
//   const features = await model.embed(document.querySelector('img'));   // Float32Array
//   const top5 = await model.classify(video, { topk: 5 });               // [{className, probability}]
//
//   const clf = model.classifier();                                      // your own classes
//   await clf.addExample(img1, 'cat'); await clf.addExample(img2, 'dog'); // ...
//   await clf.train({ seed: 1, onEpoch: (e) => chart.push(e.loss) });
//   const [best] = await clf.predict(video, { topk: 1 });
//   const file = await clf.export();                                    // a Blob load() reads
//
// An ES module with no build step: it finds glimpse.wasm, wasm_exec.js (the
// Go runtime's glue), loader.mjs and the SIMD kernels (kernels*.wasm)
// beside itself. The Go program starts once per page, on the first load(),
// and serves every model. Training a classifier and exporting it take
// another Go program, glimpse-classifier.wasm (the same runtime with
// core/train, core/classifier and the file writer): most pages only
// classify or embed, and glimpse.wasm stays a tenth smaller without them.
// It starts on the first model.classifier() and reads that model's file
// again (a URL from the HTTP cache, a Blob from memory), checked to be the
// same file by its hash. This module only checks arguments and hands
// them over: downloading with progress, reading pixels (the browser
// decodes, without colour-space conversion or premultiplication), resizing
// and normalizing as the model file prescribes, training and exporting
// are the Go browser runtime's (wasm/browser), the same code the app
// runs, so a PNG gets the same numbers here, in the app and from the
// command line.
//
// Every failure rejects the Promise with an Error whose message says what
// went wrong; the runtime survives it and the next call works.
//
// load(url, {worker: true}) runs the same runtime in a dedicated Worker
// (glimpse-worker.js, beside this file; a module Worker, so a plain static
// server will do) behind the same API, keeping the page's thread free
// while a picture is classified or a classifier trains.

const here = (name) => new URL(name, import.meta.url);

// The Go runtime of this page, started by the first load().
let runtimePromise = null;

function startRuntime() {
  if (!runtimePromise) {
    runtimePromise = boot('glimpse.wasm', '__glimpse', '__glimpseSIMD').then((rt) => {
      rt.api = withClassifier(rt.api);
      // glimpse-worker.js answers the page's calls with these.
      globalThis.__glimpseRuntime = rt.api;
      return rt;
    }).catch((e) => {
      runtimePromise = null; // let a later load() try again
      throw e;
    });
  }
  return runtimePromise;
}

// The classifier program, started by the first model.classifier().
let classifierPromise = null;

function startClassifierProgram() {
  if (!classifierPromise) {
    classifierPromise = boot('glimpse-classifier.wasm', '__glimpseClassifier', '__glimpseSIMDClassifier').catch((e) => {
      classifierPromise = null; // let a later classifier try again
      throw e;
    });
  }
  return classifierPromise;
}

async function fetchOK(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
  return res;
}

// compile fetches a WebAssembly module and compiles it as it streams in;
// with a server that sends it as application/wasm, the browser also keeps
// the compiled code, so a return visit skips compiling.
async function compile(url) {
  const res = await fetchOK(url);
  try {
    return await WebAssembly.compileStreaming(res.clone());
  } catch {
    // A server that labels .wasm with another MIME type defeats streaming.
    return WebAssembly.compile(await res.arrayBuffer());
  }
}

// mark records a User Timing mark: a page's performance panel, and the
// startup benchmark, show when each step of a cold start ended (the Go
// side marks "glimpse:read" and "glimpse:planned" for each model).
function mark(name) {
  globalThis.performance?.mark?.(name);
}

// boot starts a Go program, file, which publishes its functions as
// globalThis[name] and finds its SIMD kernels on globalThis[simdName].
// Everything it needs is requested at once: the program, compiling while
// the Go runtime's glue and the kernel loader arrive, and the SIMD
// kernels, compiled as soon as the loader is in (not after the glue too:
// Go starts only once both modules are compiled). load() fetches the
// model alongside.
async function boot(file, name, simdName) {
  const module = compile(here(file));
  module.then(() => mark(`glimpse:compiled ${file}`), () => {});
  module.catch(() => {}); // awaited below; an early failure must not go unhandled
  const loader = import(here('loader.mjs').href);
  // The kernels with relaxed SIMD, which most engines run, are asked for
  // at once too, rather than a round trip after the loader (which tells
  // whether this engine runs them) arrives.
  const relaxed = fetchOK(here('kernels_relaxed.wasm'));
  relaxed.catch(() => {}); // unused where the engine lacks relaxed SIMD
  // The SIMD kernels share Go's memory; they must be in place before Go
  // plans a model. Without WebAssembly SIMD the pure-Go kernels run.
  const kernels = loader.then(({ detectSIMD, compileSIMD }) => {
    const variant = detectSIMD();
    if (variant === 'none') return { variant, module: null };
    return compileSIMD(variant, (f) => (f === 'kernels_relaxed.wasm' ? relaxed : fetchOK(here(f)))).then((m) => {
      mark('glimpse:kernels compiled');
      return { variant, module: m };
    });
  });
  kernels.catch(() => {}); // awaited below
  const [, { loadSIMD }] = await Promise.all([
    // wasm_exec.js is a classic script whose only effect is defining
    // globalThis.Go; importing it runs it once.
    typeof globalThis.Go === 'function' ? null : import(here('wasm_exec.js').href),
    loader,
  ]);
  const go = new globalThis.Go();
  go.env = { ...go.env, GLIMPSE_SIMD_GLOBAL: simdName };
  const instance = await WebAssembly.instantiate(await module, go.importObject);
  const { variant, module: kernelModule } = await kernels;
  const simd = kernelModule ? await loadSIMD(instance.exports.mem, () => kernelModule, variant, undefined, simdName) : 'none';
  const rt = { api: null, memory: instance.exports.mem, simd, exited: false };
  const ready = new Promise((resolve) => { globalThis[`${name}Ready`] = resolve; });
  go.run(instance).finally(() => { rt.exited = true; });
  await ready;
  mark(`glimpse:started ${file}`);
  delete globalThis[`${name}Ready`];
  rt.api = globalThis[name];
  if (rt.exited) throw new Error(`${file} stopped as it started`);
  return rt;
}

// withClassifier gives the library program's functions (api) the
// classifier's too, as one set: classifierNew on a model loads the same
// file into the classifier program (once per model) and makes the
// classifier there; its handle is a Promise, which the classifier's other
// calls wait for. A failure rejects those calls with the reason.
function withClassifier(api) {
  const models = new Map(); // handle -> {again, name, simd, hash, embeddingSize, twin}
  const settled = new Map(); // a classifier's handle Promise -> its number
  let started = null; // the classifier program, once it runs
  const program = async () => {
    started = await startClassifierProgram();
    if (started.exited) throw new Error('the Glimpse runtime has stopped; reload the page');
    return started.api;
  };
  const value = (r) => {
    if (r.error !== undefined) throw new Error(r.error);
    return r.value;
  };
  // twin resolves to the model's handle in the classifier program.
  const twin = (m) => {
    m.twin ??= (async () => {
      const c = await program();
      const info = await c.load(m.again, m.name, m.simd, null);
      if (info.hash !== m.hash) {
        c.dispose(info.handle);
        throw new Error(`${m.name}: the file changed after load(): load it again`);
      }
      return info.handle;
    })();
    m.twin.catch(() => { m.twin = null; }); // a later classifier tries again
    return m.twin;
  };
  const classifierCall = (name) => async (h, ...args) => (await program())[name](await h, ...args);
  return {
    ...api,
    // load(source, name, simd, onProgress, again): again is what reads the
    // file once more (the URL, or the Blob; source when it is one of them).
    async load(source, name, simd, onProgress, again = source) {
      const info = await api.load(source, name, simd, onProgress);
      models.set(info.handle, { again, name, simd, hash: info.hash, embeddingSize: info.embeddingSize, twin: null });
      return info;
    },
    dispose(h) {
      const r = api.dispose(h);
      const m = models.get(h);
      models.delete(h);
      m?.twin?.then((t) => program().then((c) => c.dispose(t)), () => {});
      return r;
    },
    // classifierNew answers at once when the model cannot have one, as
    // the classifier program would (wasm/browser's NewClassifier).
    classifierNew(h, head) {
      if (typeof h !== 'number') return { error: 'want a model handle' };
      const m = models.get(h);
      if (!m) return { error: 'this model was disposed' };
      if (!m.embeddingSize) return { error: "this model has no embedding: a classifier trains on a backbone's features" };
      const p = (async () => value((await program()).classifierNew(await twin(m), head)))();
      p.then((n) => settled.set(p, n), () => {});
      return { value: p };
    },
    classifierAdd: classifierCall('classifierAdd'),
    classifierTrain: classifierCall('classifierTrain'),
    classifierPredict: classifierCall('classifierPredict'),
    classifierExport: classifierCall('classifierExport'),
    // classifierDispose refuses, as the program does, a classifier that is
    // training; one whose handle is still on its way is disposed on arrival.
    classifierDispose(h) {
      const n = typeof h === 'number' ? h : settled.get(h);
      if (n === undefined) {
        Promise.resolve(h).then((x) => program().then((c) => c.classifierDispose(x)), () => {});
        return { value: undefined };
      }
      if (!started || started.exited) return { error: 'the Glimpse runtime has stopped; reload the page' };
      const r = started.api.classifierDispose(n);
      if (r.error === undefined) settled.delete(h);
      return r;
    },
  };
}

// call invokes a synchronous Go function and unwraps its {value} or {error}.
// In a Worker's runtime a classifier's handle is a Promise (the calls that
// use it wait for it), and a dispose is posted without waiting.
function call(rt, name, ...args) {
  if (rt.remote) {
    const p = Promise.all(args).then((a) => rt.request(name, a)); // a classifier's handle may be on its way
    p.catch(() => {}); // a classifier's later calls reject with the reason
    return name === 'classifierNew' ? p : undefined;
  }
  if (rt.exited) throw new Error('the Glimpse runtime has stopped; reload the page');
  const r = rt.api[name](...args);
  if (r.error !== undefined) throw new Error(r.error);
  return r.value;
}

// callAsync invokes a Go function that returns a Promise.
async function callAsync(rt, name, ...args) {
  if (rt.remote) return remoteCall(rt, name, args);
  if (rt.exited) throw new Error('the Glimpse runtime has stopped; reload the page');
  return rt.api[name](...args);
}

/**
 * Loads a .glimpse model from a URL (resolved against the page) or a Blob
 * (a File from an <input>, or a Blob a classifier exported).
 *
 * options.onProgress(fraction, {loaded, total}) is called as the file
 * streams in, with a fraction from 0 to 1 (1 exactly once, at the end).
 * options.simd = false plans the model on the pure-Go kernels even where
 * the browser runs WebAssembly SIMD. options.worker = true runs the model
 * in a dedicated Worker (one per page, shared by every model loaded so).
 */
export async function load(urlOrBlob, { onProgress, simd = true, worker = false } = {}) {
  if (worker) return loadInWorker(urlOrBlob, onProgress, simd);
  const rtPromise = startRuntime(); // start Go while the model downloads
  let source;
  let name;
  let again; // what a classifier reads the file from once more
  if (typeof Blob !== 'undefined' && urlOrBlob instanceof Blob) {
    name = urlOrBlob.name || 'the model Blob';
    source = again = urlOrBlob;
  } else if (typeof urlOrBlob === 'string' || urlOrBlob instanceof URL) {
    name = String(urlOrBlob);
    again = new URL(urlOrBlob, globalThis.location?.href).href;
    source = fetch(urlOrBlob);
    // With no onProgress to tell, the page reads the file whole while Go
    // starts, and Go takes it in one copy: a stream is read chunk by chunk,
    // each chunk a round trip between Go and the event loop. A failed
    // answer goes to Go as it is, for its message.
    if (typeof onProgress !== 'function') source = source.then((res) => (res.ok ? res.arrayBuffer() : res));
    source.catch(() => {}); // Go reads the failure; the page must not see it unhandled
  } else {
    throw new TypeError('load() takes a URL or a Blob');
  }
  const rt = await rtPromise;
  const info = await callAsync(rt, 'load', source, name, simd !== false, typeof onProgress === 'function' ? onProgress : null, again);
  return new Model(rt, info);
}

// ---- The runtime in a dedicated Worker ----------------------------------
//
// The Worker (glimpse-worker.js) runs this module's runtime and answers
// the same calls by message; Model and Classifier check their arguments
// here, as they do on the page's thread, and post the calls. A picture
// the Worker cannot receive (an <img>, a <video>, a canvas) is decoded
// here into an ImageBitmap exactly as the runtime decodes it (no colour
// conversion, no premultiplication) and transferred; ImageData, Blobs and
// ImageBitmaps are posted as they are (the caller's are not detached).

let remote = null; // the page's one Worker, started by the first load({worker: true})

const bitmapOptions = { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' };

function startWorker() {
  if (remote) return remote;
  const url = here('glimpse-worker.js');
  const w = new Worker(url, { type: 'module' });
  const pending = new Map();
  let next = 1;
  const rt = {
    remote: true,
    request(name, args, transfer = [], callback, onEvent) {
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { name, resolve, reject, onEvent });
        w.postMessage({ id, name, args, callback }, transfer);
      });
    },
  };
  w.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    if (!p) return;
    if (data.event) {
      let more;
      try {
        more = p.onEvent(...data.event);
      } catch (e) {
        p.threw = e;
        more = false;
      }
      if (more === false) w.postMessage({ stop: data.id }); // seen at the next epoch
      return;
    }
    pending.delete(data.id);
    if (p.threw !== undefined) {
      const cb = p.name === 'classifierTrain' ? 'onEpoch' : 'onProgress';
      p.reject(new Error(`${cb} threw: ${p.threw instanceof Error ? p.threw.message : p.threw}`));
    } else if ('error' in data) {
      p.reject(new Error(data.error));
    } else {
      p.resolve(data.value);
    }
  };
  w.onerror = (e) => {
    e.preventDefault();
    const err = new Error(`the Glimpse worker ${url} failed: ${e.message || 'it could not be started'}`);
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    w.terminate();
    if (remote === rt) remote = null; // a later load({worker: true}) starts another
  };
  remote = rt;
  return rt;
}

async function loadInWorker(urlOrBlob, onProgress, simd) {
  let source;
  let name;
  if (typeof Blob !== 'undefined' && urlOrBlob instanceof Blob) {
    name = urlOrBlob.name || 'the model Blob';
    source = urlOrBlob;
  } else if (typeof urlOrBlob === 'string' || urlOrBlob instanceof URL) {
    name = String(urlOrBlob);
    source = new URL(urlOrBlob, globalThis.location?.href).href; // the page's base, not the Worker's
  } else {
    throw new TypeError('load() takes a URL or a Blob');
  }
  const rt = startWorker();
  const cb = typeof onProgress === 'function';
  const info = await rt.request('load', [source, name, simd !== false, null], [], cb ? 3 : undefined, cb ? onProgress : undefined);
  return new Model(rt, info);
}

// The runtime's calls whose second argument is a picture.
const pictureCalls = new Set(['classify', 'embed', 'classifierAdd', 'classifierPredict']);

async function remoteCall(rt, name, args) {
  args = await Promise.all(args); // a classifier's handle may still be on its way
  let transfer = [];
  if (pictureCalls.has(name)) [args[1], transfer] = await postable(args[1]);
  let callback;
  let onEvent;
  args.forEach((a, i) => {
    if (typeof a === 'function') {
      callback = i;
      onEvent = a;
      args[i] = null;
    }
  });
  return rt.request(name, args, transfer, callback, onEvent);
}

// postable turns a picture into what a Worker can receive, and the list of
// objects to transfer. Its checks and messages are the runtime's own
// (wasm/browser/pixels.go); anything else goes over as a plain object,
// which the runtime refuses with its usual message.
async function postable(x) {
  const is = (c) => typeof globalThis[c] === 'function' && x instanceof globalThis[c];
  if (is('ImageData') || is('Blob') || is('ImageBitmap')) return [x, []];
  let kind;
  if (is('HTMLVideoElement')) {
    if (x.readyState < 2 || x.videoWidth === 0) {
      throw new Error(`the video has no frame yet (readyState ${x.readyState}): wait for its 'playing' event`);
    }
    kind = 'video';
  } else if (is('HTMLImageElement')) {
    if (!x.complete) throw new Error("the image has not finished loading: wait for its 'load' event or await img.decode()");
    if (x.naturalWidth === 0) throw new Error(`the image ${x.currentSrc || x.src || '(no src)'} has no pixels: it is empty or failed to decode`);
    kind = 'image';
  } else if (is('HTMLCanvasElement') || is('OffscreenCanvas')) {
    if (x.width < 1 || x.height < 1) throw new Error(`the canvas is ${x.width}x${x.height} pixels: nothing to see`);
    kind = 'canvas';
  } else {
    return [x !== null && (typeof x === 'object' || typeof x === 'function' || typeof x === 'symbol') ? {} : x, []];
  }
  let bmp;
  try {
    bmp = await createImageBitmap(x, bitmapOptions);
  } catch (e) {
    throw new Error(`the ${kind}: the browser could not decode it (${e instanceof Error ? e.message : e})`);
  }
  return [bmp, [bmp]];
}

/**
 * Describes the runtime: Glimpse's release (version, as `glimpse
 * --version` and the npm package give it), Go's, the SIMD variant loaded
 * ('relaxed', 'simd' or 'none'), the size of its WebAssembly memory in
 * bytes, and Go's heap (heapAlloc, heapSys, numGC: collections so far)
 * and the number of models loaded. Tests watch these to see the memory
 * stay flat. Starts the runtime.
 */
export async function runtimeInfo() {
  const rt = await startRuntime();
  return {
    version: rt.api.glimpseVersion,
    goVersion: rt.api.version,
    simd: rt.simd,
    kernels: rt.api.kernels,
    memoryBytes: rt.memory.buffer.byteLength,
    ...call(rt, 'stats'),
  };
}

/** A loaded model. Create one with load(). */
class Model {
  #rt;
  #handle;
  #info;

  constructor(rt, info) {
    this.#rt = rt;
    this.#handle = info.handle;
    this.#info = info;
  }

  /**
   * What the model file says about itself: {architecture, params, macs,
   * inputSize: [height, width, channels], labels, hasClassifier,
   * embeddingSize, kernels, source, license}.
   */
  info() {
    const { handle, hash, ...rest } = this.#info;
    return { ...rest, inputSize: [...rest.inputSize], labels: [...rest.labels] };
  }

  /**
   * The topk most probable classes, most probable first, as
   * [{className, probability}]; topk 0 or Infinity gives every class.
   */
  async classify(x, { topk = 5 } = {}) {
    if (!this.#info.hasClassifier) {
      throw new Error('this model has no classes; use embed() or train a classifier');
    }
    if (!(topk >= 0)) throw new Error(`topk ${topk}: want a number of classes, 0 for all`);
    const k = Number.isFinite(topk) ? Math.floor(topk) : 0;
    return callAsync(this.#rt, 'classify', this.#handle, x, k);
  }

  /** The backbone's features for x, a Float32Array of info().embeddingSize. */
  async embed(x) {
    const bytes = await callAsync(this.#rt, 'embed', this.#handle, x);
    return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
  }

  /**
   * Starts a classifier of your own classes on this model's features (a
   * backbone with an embedding, such as the default MobileNetV2):
   * addExample() pictures, train(), then predict() or export().
   *
   * options.head names the head: by default the most accurate one the
   * study found ('strong': softmax regression on standardized multi-level
   * features, the embedding and the average of the layer below it; every
   * example trains, 200 epochs), as on the command line; 'tm' (Teachable
   * Machine's Dense(100, ReLU) then softmax, 50 epochs, 15% of each class
   * held out to validate) or 'linear' (softmax regression). options.augment
   * adds that many augmented views (flip, crop, rotation, brightness,
   * contrast) of every example as it is added (true: 4, like `glimpse
   * train --augment`); views are drawn from options.seed (default 1).
   * Augmentation is chosen here, not in train(), because each view is
   * embedded once, when its picture is at hand.
   */
  classifier({ head, augment = 0, seed = 1 } = {}) {
    const views = augment === true ? 4 : augment === false ? 0 : augment;
    if (!(Number.isInteger(views) && views >= 0 && views <= 64)) {
      throw new Error(`augment ${augment}: want true, false or 0 to 64 views per example`);
    }
    if (head !== undefined && !['tm', 'linear', 'strong'].includes(head)) throw new Error(`unknown head "${head}" (want tm, linear or strong)`);
    // An absent head is the runtime's default (core/train's DefaultHead),
    // named in one place for the library, the command line and the app.
    const h = call(this.#rt, 'classifierNew', this.#handle, head || '');
    return new Classifier(this.#rt, this.#handle, h, { head, views, seed });
  }

  /** Releases the model's weights; later calls reject. */
  dispose() {
    call(this.#rt, 'dispose', this.#handle);
  }
}

/**
 * A classifier of your own classes, trained on a model's features. Make
 * one with model.classifier(). Every picture is embedded once, when it is
 * added; training reads the cached features, so it takes seconds even with
 * thousands of examples.
 */
class Classifier {
  #rt;
  #model;
  #handle;
  #opts;

  constructor(rt, model, handle, opts) {
    this.#rt = rt;
    this.#model = model;
    this.#handle = handle;
    this.#opts = opts;
  }

  /**
   * Adds picture x (anything classify() takes) as an example of class
   * label, and returns the number of examples of each class so far, as
   * {label: count}.
   */
  async addExample(x, label) {
    if (typeof label !== 'string' || label === '') throw new Error('addExample(x, label) needs a class name');
    return callAsync(this.#rt, 'classifierAdd', this.#handle, x, label, this.#opts.views, this.#opts.seed);
  }

  /**
   * Trains a new head on every example added, and resolves with a report:
   * {train, validation (samples used for each), kept (the epoch whose
   * weights the head holds), stopped, diverged, history: [epoch...]}.
   *
   * options: epochs, batchSize, learningRate (the head's preset otherwise)
   * and seed (default: the classifier's, 1); the same examples, added in
   * the same order, with the same options and seed give the same head as
   * `glimpse train` on a folder of them. onEpoch({epoch, epochs, loss,
   * accuracy, valLoss, valAccuracy}) is called after each epoch (valLoss
   * and valAccuracy are null when nothing is held out), and the page gets
   * to paint before the next; returning false stops training there.
   * Classes are trained in sorted order of their names.
   */
  async train({ epochs, batchSize, learningRate, seed, augment, onEpoch } = {}) {
    if (augment !== undefined && augment !== false && augment !== 0) {
      throw new Error('augment is set when the classifier is made (model.classifier({augment})): views are embedded as examples are added');
    }
    const opts = { head: this.#opts.head, epochs, batchSize, learningRate, seed: seed === undefined ? this.#opts.seed : seed };
    return callAsync(this.#rt, 'classifierTrain', this.#handle, opts, onEpoch);
  }

  /** The topk most probable classes for x, as [{className, probability}]. */
  async predict(x, { topk = 0 } = {}) {
    if (!(topk >= 0)) throw new Error(`topk ${topk}: want a number of classes, 0 for all`);
    const k = Number.isFinite(topk) ? Math.floor(topk) : 0;
    return callAsync(this.#rt, 'classifierPredict', this.#handle, x, k);
  }

  /**
   * The trained classifier as one self-contained model file (the backbone,
   * the head, the class names and the preprocessing), a Blob that load()
   * reads back and `glimpse predict` runs.
   */
  async export() {
    const bytes = await callAsync(this.#rt, 'classifierExport', this.#handle);
    return new Blob([bytes], { type: 'application/octet-stream' });
  }

  /** Forgets the examples and the head; later calls reject. */
  dispose() {
    call(this.#rt, 'classifierDispose', this.#handle);
  }
}
