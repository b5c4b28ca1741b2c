// Starts the app: the Go program (app.wasm) with Glimpse's SIMD kernels
// over its memory, the IndexedDB store it saves the project to, and the
// service worker that keeps everything for offline use. All URLs are
// relative, so the site works from any sub-path, and every request stays
// on this origin.
import { detectSIMD, loadSIMD } from './loader.mjs';
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
  // The Go program finds its storage and its model here: the default
  // backbone, or one the student chose on the course page (learn.html keeps
  // that file in Cache Storage, "backbone-choice").
  const defaultModelURL = 'models/mobilenet_v2_1.0_224.glimpse';
  globalThis.glimpseApp = { store, modelURL: defaultModelURL, defaultModelURL };
  const chosen = await chosenBackbone();
  if (chosen) Object.assign(globalThis.glimpseApp, chosen);
  const go = new Go();
  const res = await fetch('app.wasm');
  if (!res.ok) throw new Error(`app.wasm: HTTP ${res.status}`);
  const { instance } = await WebAssembly.instantiateStreaming(res, go.importObject);
  // The kernels must be in place before Go plans its model; without SIMD
  // the pure-Go kernels run.
  if (detectSIMD() !== 'none') {
    await loadSIMD(instance.exports.mem, (name) => fetch(name).then((r) => {
      if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
      return r.arrayBuffer();
    }));
  }
  // The figure "wasm memory" in the test reads the Go heap's size here.
  globalThis.glimpseApp.wasmMemoryBytes = () => instance.exports.mem.buffer.byteLength;
  go.run(instance).then(() => fail('The Glimpse program stopped. Reload the page.'));
}

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js').catch((e) => console.warn('offline cache unavailable:', e.message));
}
start().catch((e) => fail(String((e && e.message) || e)));
