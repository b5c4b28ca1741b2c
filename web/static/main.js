// Starts the Go runtime, then loads the default model into it and shows
// what the model file says about itself. Everything is fetched from this
// site: no request leaves the origin.
'use strict';

const MODEL_URL = 'models/mobilenet_v2_1.0_224.glimpse';
const $ = (id) => document.getElementById(id);

function showError(message) {
  const el = $('error');
  el.textContent = message;
  el.hidden = false;
}

// fetchWithProgress streams a response body, reporting the fraction read.
async function fetchWithProgress(url, onProgress) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('Content-Length')) || 0;
  const reader = res.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    if (total) onProgress(Math.min(received / total, 1));
  }
  onProgress(1);
  const bytes = new Uint8Array(received);
  let off = 0;
  for (const c of chunks) { bytes.set(c, off); off += c.length; }
  return bytes;
}

async function start() {
  const go = new Go();
  const ready = new Promise((resolve) => { window.__glimpseReady = resolve; });
  const { instance } = await WebAssembly.instantiateStreaming(fetch('glimpse.wasm'), go.importObject);
  // The SIMD kernels share Go's memory; they must be in place before Go
  // plans its first model. Without SIMD the pure-Go kernels run.
  const { detectSIMD, loadSIMD } = await import('./loader.mjs');
  if (detectSIMD() !== 'none') {
    await loadSIMD(instance.exports.mem, (name) => fetch(name).then((r) => r.arrayBuffer()));
  }
  go.run(instance);
  await ready;
  const g = window.__glimpse;
  $('runtime-status').textContent = `WebAssembly runtime ready (${g.version}, kernels: ${g.kernels}).`;
  const bytes = await fetchWithProgress(MODEL_URL, (f) => { $('model-progress').value = f; });
  const res = g.load(bytes, MODEL_URL);
  if (res.error) throw new Error(res.error);
  const info = res.value;
  const rows = [
    ['Architecture', info.architecture],
    ['Parameters', Number(info.params).toLocaleString('en')],
    ['Multiply-adds', `${(Number(info.macs) / 1e6).toFixed(1)} M`],
    ['Input', info.input.join(' × ')],
    ['Embedding', `${info.embeddingSize} features`],
    ['Kernels', info.kernels],
  ];
  const dl = $('model-info');
  for (const [k, v] of rows) {
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v;
    dl.append(dt, dd);
  }
}

start().catch((e) => showError(String(e.message || e)));
