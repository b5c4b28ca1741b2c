// Starts the course page: the Go program (learn.wasm) with Glimpse's SIMD
// kernels over its memory, and the service worker that keeps the site for
// offline use. All URLs are relative, so the site works from any
// sub-path, and every request stays on this origin.
//
// The first picture of the live lesson waits on three downloads: the
// program, the sample picture and the default model. The page's head
// starts compiling the program as it streams in; this script, loaded from
// the head too (async), asks for the other two as soon as the browser
// runs it, and reads them whole while the program compiles. Only running
// the program waits for the document. The Go
// program takes the picture and the model as promises. The service
// worker, whose install downloads the whole site again, is registered
// only once that first picture is drawn (or has failed), so it never
// competes with it.
import { detectSIMD, loadSIMD } from './loader.mjs';

// The model the live lesson starts with: the Model select's first option
// (the Go program checks that they agree, and fetches the select's own
// otherwise).
const DEFAULT_MODEL = 'models/mobilenet_v2_1.0_224.glimpse';

let registered = false;
// settled registers the service worker, once: the Go program calls it when
// the live lesson has drawn its first picture or given up.
function settled() {
  if (registered || !('serviceWorker' in navigator)) return;
  registered = true;
  navigator.serviceWorker.register('sw.js').catch((e) => console.warn('offline cache unavailable:', e.message));
}

const documentRead = new Promise((resolve) => {
  if (document.readyState !== 'loading') resolve();
  else document.addEventListener('DOMContentLoaded', () => resolve(), { once: true });
});

async function fail(message) {
  await documentRead;
  const el = document.getElementById('alert');
  el.textContent = message;
  el.hidden = false;
  settled();
}

// Nobody may wait on these yet: keep an early failure from being reported
// as unhandled (the Go program reports it when it awaits).
function quiet(p) {
  p.catch(() => {});
  return p;
}

// fetchBytes reads a file whole, asking twice: headless Chromium failed a
// fetch made this early about once in 25 first visits ("TypeError:
// Failed to fetch").
function fetchBytes(name) {
  const once = () => fetch(name).then((r) => {
    if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
    return r.arrayBuffer();
  });
  return once().catch(() => once());
}

async function start() {
  if (typeof WebAssembly !== 'object') throw new Error('This browser cannot run WebAssembly.');
  // The program first: its compilation is the longest of the three. The
  // page's head started it (see learn.html), unless this browser cannot
  // compile a stream.
  const compile = () => fetchBytes('learn.wasm').then((b) => WebAssembly.compile(b));
  const program = globalThis.glimpseLearnProgram ? globalThis.glimpseLearnProgram.catch(compile) : compile();
  quiet(program);
  const simd = detectSIMD();
  // The kernels download beside the program, not after it.
  const kernels = simd === 'none' ? null : quiet(fetchBytes(simd === 'relaxed' ? 'kernels_relaxed.wasm' : 'kernels.wasm'));
  globalThis.glimpseLearn = {
    sampleURL: 'sample.png',
    // the picture's bytes, read while the program compiles
    sample: quiet(fetch('sample.png').then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.blob();
    })),
    modelURL: DEFAULT_MODEL,
    // the model file whole: read here while the program compiles, it is
    // one copy for the Go program, not a stream read chunk by chunk
    model: quiet(fetchBytes(DEFAULT_MODEL)),
    settled,
  };
  const module = await program;
  // wasm_exec.js (a classic script at the end of the body) and the
  // elements the program draws in are there once the document is read.
  await documentRead;
  const go = new Go();
  const instance = await WebAssembly.instantiate(module, go.importObject);
  if (kernels) await loadSIMD(instance.exports.mem, () => kernels, simd);
  go.run(instance).then(() => fail('The Glimpse program stopped. Reload the page.'));
}

start().catch((e) => fail(String((e && e.message) || e)));
// Should the program never report (a browser without WebAssembly SIMD
// that is very slow), the site is still kept for offline use.
setTimeout(settled, 30000);
