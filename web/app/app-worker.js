// The app's dedicated Worker (started by app.js): it runs app-worker.wasm
// (wasm/appworker), which holds the model and the classifier and embeds,
// predicts and trains off the page's thread, with Glimpse's SIMD kernels
// over its memory. The Go program posts {ready: true} once it listens; a
// start that fails posts {failed: message}, and a program that ends posts
// {stopped: true}. A module Worker from the same origin: no special
// headers are needed.
import './wasm_exec.js'; // defines globalThis.Go
import { detectSIMD, loadSIMD } from './loader.mjs';

// The page names its model in its first message, {prefetch: url}: the
// download starts at once, while the Go programs compile, and the Go
// program's load of that URL reads this response (until then, the
// handler is this one; Go's replaces it).
onmessage = ({ data }) => {
  if (data && typeof data.prefetch === 'string') {
    globalThis.appModelPrefetch = { url: data.prefetch, response: fetch(data.prefetch) };
  }
};

async function fetchOK(name) {
  const res = await fetch(name);
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status} ${res.statusText}`.trim());
  return res;
}

async function start() {
  if (typeof WebAssembly !== 'object') throw new Error('This browser cannot run WebAssembly.');
  const go = new Go();
  const res = await fetchOK('app-worker.wasm');
  let instance;
  try {
    ({ instance } = await WebAssembly.instantiateStreaming(res.clone(), go.importObject));
  } catch (e) {
    // A server that labels .wasm with another MIME type defeats streaming.
    ({ instance } = await WebAssembly.instantiate(await res.arrayBuffer(), go.importObject));
  }
  // The kernels must be in place before Go plans its model; without SIMD
  // the pure-Go kernels run.
  if (detectSIMD() !== 'none') {
    await loadSIMD(instance.exports.mem, async (name) => (await fetchOK(name)).arrayBuffer());
  }
  go.run(instance).then(() => postMessage({ stopped: true }));
}

start().catch((e) => postMessage({ failed: String((e && e.message) || e) }));
