// Glimpse's JavaScript API: a CNN image classifier running in WebAssembly.
//
//   import { load } from './glimpse.js';
//   const model = await load('models/mobilenet_v2_1.0_224.glimpse', { onProgress: (f) => bar.value = f });
//   const features = await model.embed(document.querySelector('img'));   // Float32Array
//   const top5 = await model.classify(video, { topk: 5 });               // [{className, probability}]
//
//   const clf = model.classifier({ head: 'tm' });                        // your own classes
//   await clf.addExample(img1, 'cat'); await clf.addExample(img2, 'dog'); // ...
//   await clf.train({ seed: 1, onEpoch: (e) => chart.push(e.loss) });
//   const [best] = await clf.predict(video, { topk: 1 });
//   const file = await clf.export();                                    // a Blob load() reads
//
// An ES module with no build step: it finds glimpse.wasm, wasm_exec.js (the
// Go runtime's glue), loader.mjs and the SIMD kernels (kernels*.wasm)
// beside itself. The Go program starts once per page, on the first load(),
// and serves every model. The browser decodes images (createImageBitmap
// without colour-space conversion or premultiplication); resizing and
// normalizing happen in Go with the same code as the command line, as the
// model file prescribes, so a PNG gets the same probabilities in both.
//
// Every failure rejects the Promise with an Error whose message says what
// went wrong; the runtime survives it and the next call works.

const here = (name) => new URL(name, import.meta.url);

// A model larger than this is refused before it is read any further: no
// MobileNet comes near it, and reading on would only exhaust memory.
const MAX_MODEL_BYTES = 512 << 20;

// Without a Content-Length (the server compressed the file), progress is
// estimated against this many bytes, about a MobileNet's size, and
// approaches 1 without reaching it until the last byte arrives.
const PROGRESS_ESTIMATE = 8 << 20;

// The one Go runtime of this page, started by the first load().
let runtimePromise = null;

function startRuntime() {
  if (!runtimePromise) {
    runtimePromise = boot().catch((e) => {
      runtimePromise = null; // let a later load() try again
      throw e;
    });
  }
  return runtimePromise;
}

async function fetchOK(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
  return res;
}

async function boot() {
  if (typeof globalThis.Go !== 'function') {
    // wasm_exec.js is a classic script whose only effect is defining
    // globalThis.Go; importing it runs it once.
    await import(here('wasm_exec.js').href);
  }
  const go = new globalThis.Go();
  let instance;
  const res = await fetchOK(here('glimpse.wasm'));
  try {
    ({ instance } = await WebAssembly.instantiateStreaming(res.clone(), go.importObject));
  } catch (e) {
    // A server that labels .wasm with another MIME type defeats streaming.
    ({ instance } = await WebAssembly.instantiate(await res.arrayBuffer(), go.importObject));
  }
  // The SIMD kernels share Go's memory; they must be in place before Go
  // plans a model. Without WebAssembly SIMD the pure-Go kernels run.
  const { detectSIMD, loadSIMD } = await import(here('loader.mjs').href);
  let simd = 'none';
  if (detectSIMD() !== 'none') {
    simd = await loadSIMD(instance.exports.mem, async (name) => (await fetchOK(here(name))).arrayBuffer());
  }
  const rt = { api: null, memory: instance.exports.mem, simd, exited: false };
  const ready = new Promise((resolve) => { globalThis.__glimpseReady = resolve; });
  go.run(instance).finally(() => { rt.exited = true; });
  await ready;
  delete globalThis.__glimpseReady;
  rt.api = globalThis.__glimpse;
  return rt;
}

// call invokes a Go function and unwraps its {value} or {error}.
function call(rt, name, ...args) {
  if (rt.exited) throw new Error('the Glimpse runtime has stopped; reload the page');
  const r = rt.api[name](...args);
  if (r.error !== undefined) throw new Error(r.error);
  return r.value;
}

// readAll streams body, reporting progress, into one Uint8Array.
async function readAll(body, total, name, onProgress) {
  const reader = body.getReader();
  const chunks = [];
  let received = 0;
  let last = -1;
  const report = (f) => {
    if (onProgress && f > last) {
      last = f;
      onProgress(f, { loaded: received, total: total || null });
    }
  };
  report(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.length;
    if (received > MAX_MODEL_BYTES) {
      reader.cancel();
      throw new Error(`${name}: larger than ${MAX_MODEL_BYTES >> 20} MB, not a model Glimpse can load`);
    }
    chunks.push(value);
    const f = total ? received / total : received / (received + PROGRESS_ESTIMATE);
    report(Math.min(f, 0.999));
  }
  const bytes = new Uint8Array(received);
  let off = 0;
  for (const c of chunks) { bytes.set(c, off); off += c.length; }
  report(1);
  return bytes;
}

/**
 * Loads a .glimpse model from a URL (resolved against the page) or a Blob
 * (a File from an <input>, or a Blob a classifier exported).
 *
 * options.onProgress(fraction, {loaded, total}) is called as the file
 * streams in, with a fraction from 0 to 1 (1 exactly once, at the end).
 * options.simd = false plans the model on the pure-Go kernels even where
 * the browser runs WebAssembly SIMD.
 */
export async function load(urlOrBlob, { onProgress, simd = true } = {}) {
  const rtPromise = startRuntime(); // start Go while the model downloads
  let bytes;
  let name;
  if (typeof Blob !== 'undefined' && urlOrBlob instanceof Blob) {
    name = urlOrBlob.name || 'the model Blob';
    bytes = await readAll(urlOrBlob.stream(), urlOrBlob.size, name, onProgress);
  } else if (typeof urlOrBlob === 'string' || urlOrBlob instanceof URL) {
    name = String(urlOrBlob);
    let res;
    try {
      res = await fetch(urlOrBlob);
    } catch (e) {
      throw new Error(`${name}: could not fetch the model (${e.message})`);
    }
    if (!res.ok) throw new Error(`${name}: the server answered HTTP ${res.status} ${res.statusText}`.trim());
    const encoded = (res.headers.get('Content-Encoding') || 'identity') !== 'identity';
    const length = Number(res.headers.get('Content-Length')) || 0;
    bytes = await readAll(res.body, encoded ? 0 : length, name, onProgress);
  } else {
    throw new TypeError('load() takes a URL or a Blob');
  }
  const rt = await rtPromise;
  const info = call(rt, 'load', bytes, name, simd !== false);
  return new Model(rt, info);
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

// The canvas images are drawn on to read their pixels, reused across
// calls (a webcam at video rate would otherwise make one per frame).
let scratch = null;

function readPixels(source, width, height) {
  if (!scratch) {
    const canvas = new OffscreenCanvas(width, height);
    scratch = { canvas, ctx: canvas.getContext('2d', { willReadFrequently: true }) };
  }
  const { canvas, ctx } = scratch;
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  } else {
    ctx.clearRect(0, 0, width, height);
  }
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

const bitmapOptions = { colorSpaceConversion: 'none', premultiplyAlpha: 'none' };

function has(name) { return typeof globalThis[name] === 'function'; }

function checkSize(w, h, what) {
  if (!(w > 0 && h > 0)) throw new Error(`the ${what} is ${w}x${h} pixels: nothing to see`);
}

// pixels returns straight-alpha RGBA bytes for anything classify accepts.
async function pixels(x) {
  if (has('ImageData') && x instanceof ImageData) {
    return x;
  }
  if (has('HTMLVideoElement') && x instanceof HTMLVideoElement) {
    if (x.readyState < 2 || !x.videoWidth) {
      throw new Error(`the video has no frame yet (readyState ${x.readyState}): wait for its 'playing' event`);
    }
    return readPixels(x, x.videoWidth, x.videoHeight);
  }
  if (has('HTMLImageElement') && x instanceof HTMLImageElement) {
    if (!x.complete) throw new Error("the image has not finished loading: wait for its 'load' event or await img.decode()");
    if (!x.naturalWidth) throw new Error(`the image ${x.currentSrc || x.src || '(no src)'} has no pixels: it is empty or failed to decode`);
    return bitmapPixels(x);
  }
  if (has('ImageBitmap') && x instanceof ImageBitmap) {
    checkSize(x.width, x.height, 'ImageBitmap');
    return readPixels(x, x.width, x.height);
  }
  if ((has('HTMLCanvasElement') && x instanceof HTMLCanvasElement) || (has('OffscreenCanvas') && x instanceof OffscreenCanvas)) {
    checkSize(x.width, x.height, 'canvas');
    return readPixels(x, x.width, x.height);
  }
  if (has('Blob') && x instanceof Blob) {
    if (x.size === 0) throw new Error(`${x.name || 'the image Blob'} is empty`);
    return bitmapPixels(x, x.name || 'the image Blob');
  }
  throw new TypeError('expected an HTMLImageElement, HTMLVideoElement, HTMLCanvasElement, OffscreenCanvas, ImageBitmap, ImageData or Blob');
}

// bitmapPixels decodes with the platform, leaving the file's colours and
// alpha as they are (the command line does no colour management either).
async function bitmapPixels(x, name) {
  let bmp;
  try {
    bmp = await createImageBitmap(x, bitmapOptions);
  } catch (e) {
    throw new Error(`${name || 'the image'}: the browser could not decode it (${e.message})`);
  }
  try {
    checkSize(bmp.width, bmp.height, 'image');
    return readPixels(bmp, bmp.width, bmp.height);
  } finally {
    bmp.close();
  }
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
    const { handle, ...rest } = this.#info;
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
    const img = await pixels(x);
    return call(this.#rt, 'classify', this.#handle, img.data, img.width, img.height, k);
  }

  /** The backbone's features for x, a Float32Array of info().embeddingSize. */
  async embed(x) {
    const img = await pixels(x);
    const bytes = call(this.#rt, 'embed', this.#handle, img.data, img.width, img.height);
    return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
  }

  /**
   * Starts a classifier of your own classes on this model's features (a
   * backbone with an embedding, such as the default MobileNetV2):
   * addExample() pictures, train(), then predict() or export().
   *
   * options.head names the head: 'tm' (Teachable Machine's Dense(100,
   * ReLU) then softmax, 50 epochs, 15% of each class held out to validate;
   * the default, as on the command line), 'linear' (softmax regression) or
   * 'strong' (softmax regression on multi-level features: the embedding
   * and the average of the layer below it; every example trains, 200
   * epochs; the most accurate on few examples). options.augment
   * adds that many augmented views (flip, crop, rotation, brightness,
   * contrast) of every example as it is added (true: 4, like `glimpse
   * train --augment`); views are drawn from options.seed (default 1).
   * Augmentation is chosen here, not in train(), because each view is
   * embedded once, when its picture is at hand.
   */
  classifier({ head = 'tm', augment = 0, seed = 1 } = {}) {
    const views = augment === true ? 4 : augment === false ? 0 : augment;
    if (!(Number.isInteger(views) && views >= 0 && views <= 64)) {
      throw new Error(`augment ${augment}: want true, false or 0 to 64 views per example`);
    }
    if (!['tm', 'linear', 'strong'].includes(head)) throw new Error(`unknown head "${head}" (want tm, linear or strong)`);
    const h = call(this.#rt, 'classifierNew', this.#handle, head);
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
    const img = await pixels(x);
    return call(this.#rt, 'classifierAdd', this.#handle, this.#model, img.data, img.width, img.height,
      label, this.#opts.views, this.#opts.seed);
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
    return call(this.#rt, 'classifierTrain', this.#handle, opts, onEpoch);
  }

  /** The topk most probable classes for x, as [{className, probability}]. */
  async predict(x, { topk = 0 } = {}) {
    if (!(topk >= 0)) throw new Error(`topk ${topk}: want a number of classes, 0 for all`);
    const k = Number.isFinite(topk) ? Math.floor(topk) : 0;
    const img = await pixels(x);
    return call(this.#rt, 'classifierPredict', this.#handle, this.#model, img.data, img.width, img.height, k);
  }

  /**
   * The trained classifier as one self-contained model file (the backbone,
   * the head, the class names and the preprocessing), a Blob that load()
   * reads back and `glimpse predict` runs.
   */
  async export() {
    const bytes = call(this.#rt, 'classifierExport', this.#handle, this.#model);
    return new Blob([bytes], { type: 'application/octet-stream' });
  }

  /** Forgets the examples and the head; later calls reject. */
  dispose() {
    call(this.#rt, 'classifierDispose', this.#handle);
  }
}
