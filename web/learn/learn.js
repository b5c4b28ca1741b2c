// Starts the course page: the Go program (learn.wasm) with Glimpse's SIMD
// kernels over its memory, and the service worker that keeps the site for
// offline use. All URLs are relative, so the site works from any
// sub-path, and every request stays on this origin.
import { detectSIMD, loadSIMD } from './loader.mjs';

function fail(message) {
  const el = document.getElementById('alert');
  el.textContent = message;
  el.hidden = false;
}

async function start() {
  if (typeof WebAssembly !== 'object') throw new Error('This browser cannot run WebAssembly.');
  globalThis.glimpseLearn = { sampleURL: 'sample.png' };
  const go = new Go();
  const res = await fetch('learn.wasm');
  if (!res.ok) throw new Error(`learn.wasm: HTTP ${res.status}`);
  const { instance } = await WebAssembly.instantiateStreaming(res, go.importObject);
  if (detectSIMD() !== 'none') {
    await loadSIMD(instance.exports.mem, (name) => fetch(name).then((r) => {
      if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
      return r.arrayBuffer();
    }));
  }
  go.run(instance).then(() => fail('The Glimpse program stopped. Reload the page.'));
}

if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js').catch((e) => console.warn('offline cache unavailable:', e.message));
}
start().catch((e) => fail(String((e && e.message) || e)));
