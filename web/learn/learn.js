// Starts the course page: the Go program (learn.wasm) with Glimpse's SIMD
// kernels over its memory, and the service worker that keeps the site for
// offline use. All URLs are relative, so the site works from any
// sub-path, and every request stays on this origin.
//
// The first picture of the live lesson waits on three downloads: the
// program, the sample picture and the default model. All three start here
// at once, while the program compiles as it streams in; the Go program
// takes the two others as promises. The service worker, whose install
// downloads the whole site again, is registered only once that first
// picture is drawn (or has failed), so it never competes with it.
import { detectSIMD, loadSIMD } from './loader.mjs';

function fail(message) {
  const el = document.getElementById('alert');
  el.textContent = message;
  el.hidden = false;
  settled();
}

let registered = false;
// settled registers the service worker, once: the Go program calls it when
// the live lesson has drawn its first picture or given up.
function settled() {
  if (registered || !('serviceWorker' in navigator)) return;
  registered = true;
  navigator.serviceWorker.register('sw.js').catch((e) => console.warn('offline cache unavailable:', e.message));
}

async function start() {
  if (typeof WebAssembly !== 'object') throw new Error('This browser cannot run WebAssembly.');
  const modelURL = document.getElementById('live-model').value;
  globalThis.glimpseLearn = {
    sampleURL: 'sample.png',
    sample: fetch('sample.png'),
    modelURL,
    model: fetch(modelURL),
    settled,
  };
  // Nobody may wait on these yet: keep an early failure from being reported
  // as unhandled (the Go program reports it when it awaits).
  globalThis.glimpseLearn.sample.catch(() => {});
  globalThis.glimpseLearn.model.catch(() => {});
  const go = new Go();
  const simd = detectSIMD();
  const fetchBytes = (name) => fetch(name).then((r) => {
    if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
    return r.arrayBuffer();
  });
  // The kernels download beside the program, not after it.
  const kernels = simd === 'none' ? null : fetchBytes(simd === 'relaxed' ? 'kernels_relaxed.wasm' : 'kernels.wasm');
  if (kernels) kernels.catch(() => {});
  const res = await fetch('learn.wasm');
  if (!res.ok) throw new Error(`learn.wasm: HTTP ${res.status}`);
  const { instance } = await WebAssembly.instantiateStreaming(res, go.importObject);
  if (kernels) await loadSIMD(instance.exports.mem, () => kernels, simd);
  go.run(instance).then(() => fail('The Glimpse program stopped. Reload the page.'));
}

start().catch((e) => fail(String((e && e.message) || e)));
// Should the program never report (a browser without WebAssembly SIMD
// that is very slow), the site is still kept for offline use.
setTimeout(settled, 30000);
