// The LeNet-5 page: starts its Go program (lenet.wasm, which trains and
// reads digits on Glimpse's SIMD kernels) and draws what it reports. No
// arithmetic about the network lives here: this script only paints.
import { detectSIMD, loadSIMD } from './loader.mjs';

const $ = (id) => document.getElementById(id);
let lenet; // the program's functions, once it runs
let training = false;
let paused = false;
const losses = [];

function fail(message) {
  $('alert').textContent = message;
  $('alert').hidden = false;
}

async function start() {
  if (typeof WebAssembly !== 'object') throw new Error('This browser cannot run WebAssembly.');
  const go = new Go();
  const ready = new Promise((resolve) => { globalThis.onGlimpseLenet = resolve; });
  const res = await fetch('lenet.wasm');
  if (!res.ok) throw new Error(`lenet.wasm: HTTP ${res.status}`);
  const { instance } = await WebAssembly.instantiateStreaming(res, go.importObject);
  if (detectSIMD() !== 'none') {
    await loadSIMD(instance.exports.mem, (name) => fetch(name).then((r) => {
      if (!r.ok) throw new Error(`${name}: HTTP ${r.status}`);
      return r.arrayBuffer();
    }));
  }
  go.run(instance).then(() => fail('The Glimpse program stopped. Reload the page.'));
  lenet = await ready;
  lenet.loadModel('models/lenet5_mnist.glimpse').then((info) => {
    $('model-note').textContent = `Shipped model: ${info.source}. Data licence: ${info.license}.`;
    predict();
  }, (e) => { $('model-note').textContent = e.message; });
  await lenet.loadData('mnist/', (f) => {
    $('progress').value = f;
    $('status').textContent = `Loading the digits… ${Math.round(100 * f)}%`;
  });
  $('progress').value = 0;
  $('status').textContent = `60,000 training and 10,000 test digits loaded (kernels: ${lenet.kernels()}). Press Train.`;
  $('train').disabled = false;
}

function drawFilters(f) {
  const c = $('filters');
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(30, 5);
  for (let o = 0; o < 6; o++) {
    let m = 1e-6;
    for (let k = 0; k < 25; k++) m = Math.max(m, Math.abs(f[o * 25 + k]));
    for (let k = 0; k < 25; k++) {
      const v = f[o * 25 + k] / m;
      const i = ((k / 5 | 0) * 30 + o * 5 + (k % 5)) * 4;
      img.data[i] = v > 0 ? 255 : 255 * (1 + v);
      img.data[i + 1] = 255 * (1 - Math.abs(v));
      img.data[i + 2] = v < 0 ? 255 : 255 * (1 - v);
      img.data[i + 3] = 255;
    }
  }
  const tmp = new OffscreenCanvas(30, 5);
  tmp.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.clearRect(0, 0, c.width, c.height);
  for (let o = 0; o < 6; o++) ctx.drawImage(tmp, o * 5, 0, 5, 5, o * 30 + 2, 2, 26, 26);
}

function drawCurve() {
  const c = $('curve');
  const ctx = c.getContext('2d');
  ctx.clearRect(0, 0, c.width, c.height);
  if (losses.length < 2) return;
  const top = Math.max(...losses);
  ctx.strokeStyle = '#1f6feb';
  ctx.beginPath();
  losses.forEach((l, i) => {
    const x = (i / (losses.length - 1)) * (c.width - 4) + 2;
    const y = c.height - 2 - (l / top) * (c.height - 4);
    if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
  });
  ctx.stroke();
}

// status writes the training line; while paused it says so, even when an
// epoch's test pass, already under way at the click, reports after it.
function status(text) {
  $('status').textContent = paused ? `${text} (paused)` : text;
}

async function train() {
  training = true;
  paused = false;
  losses.length = 0;
  $('history').replaceChildren();
  $('train').disabled = true;
  $('pause').disabled = false;
  $('pause').textContent = 'Pause';
  const epochs = Number($('epochs').value) || 2;
  // ?limit=N trains on the first N digits of each class (tests, slow machines).
  const limit = Number(new URLSearchParams(location.search).get('limit')) || 0;
  try {
    await lenet.train({
      epochs,
      limit,
      seed: Number($('seed').value) || 0,
      onBatch: (b) => {
        losses.push(b.loss);
        drawCurve();
        drawFilters(b.filters);
        $('progress').value = ((b.epoch - 1) + b.done / b.total) / epochs;
        status(`Epoch ${b.epoch} of ${epochs}: ${b.done.toLocaleString('en')} of ${b.total.toLocaleString('en')} digits, loss ${b.loss.toFixed(4)}`);
      },
      onEpoch: (e) => {
        drawFilters(e.filters);
        const row = document.createElement('tr');
        for (const v of [e.epoch, e.loss.toFixed(4), (100 * e.accuracy).toFixed(2) + '%',
          (100 * e.testAccuracy).toFixed(2) + '%', Math.round(e.examplesPerSecond).toLocaleString('en')]) {
          const td = document.createElement('td');
          td.textContent = v;
          row.append(td);
        }
        $('history').append(row);
        status(`Epoch ${e.epoch} of ${epochs}: test accuracy ${(100 * e.testAccuracy).toFixed(2)}%, ${Math.round(e.examplesPerSecond).toLocaleString('en')} examples/s`);
        predict();
      },
    });
    $('progress').value = 1;
  } catch (e) {
    $('status').textContent = e.message;
  } finally {
    training = false;
    if (paused) {
      paused = false;
      status($('status').textContent.replace(/ \(paused\)$/, ''));
    }
    $('train').disabled = false;
    $('pause').disabled = true;
  }
}

$('train').onclick = () => { train(); };
$('pause').onclick = () => {
  paused = !paused;
  if (paused) lenet.pause(); else lenet.resume();
  $('pause').textContent = paused ? 'Resume' : 'Pause';
  const text = $('status').textContent.replace(/ \(paused\)$/, '');
  status(text);
};

// The digit pad: bright ink on black, as MNIST's digits are; the program
// centres the drawing as MNIST did before reading it.
const pad = $('pad');
const pctx = pad.getContext('2d');
function clearPad() {
  pctx.fillStyle = '#000';
  pctx.fillRect(0, 0, pad.width, pad.height);
  showProbs(null);
  $('pad-status').textContent = 'Draw a digit.';
}
let drawing = false;
let last = null;
function at(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}
pad.addEventListener('pointerdown', (e) => {
  drawing = true;
  last = at(e);
  pad.setPointerCapture(e.pointerId);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const p = at(e);
  pctx.strokeStyle = '#fff';
  pctx.lineWidth = 20;
  pctx.lineCap = 'round';
  pctx.beginPath();
  pctx.moveTo(...last);
  pctx.lineTo(...p);
  pctx.stroke();
  last = p;
  predict();
});
const stop = () => { if (drawing) { drawing = false; predict(); } };
pad.addEventListener('pointerup', stop);
pad.addEventListener('pointercancel', stop);
$('clear').onclick = clearPad;
$('shipped').onchange = () => predict();

function showProbs(p) {
  const list = $('probs');
  list.replaceChildren();
  const best = p ? p.indexOf(Math.max(...p)) : -1;
  for (let d = 0; d < 10; d++) {
    const li = document.createElement('li');
    if (d === best) li.className = 'best';
    const label = document.createElement('span');
    label.textContent = String(d);
    const m = document.createElement('meter');
    m.min = 0; m.max = 1; m.value = p ? p[d] : 0;
    m.setAttribute('aria-label', `probability of ${d}`);
    const v = document.createElement('span');
    v.textContent = p ? `${(100 * p[d]).toFixed(1)}%` : '–';
    li.append(label, m, v);
    list.append(li);
  }
}

let pending = false;
async function predict() {
  if (!lenet || pending) return;
  pending = true;
  try {
    const p = await lenet.predict(pad, $('shipped').checked || training);
    showProbs(p);
    const best = p.indexOf(Math.max(...p));
    $('pad-status').textContent = `It reads ${best} (${(100 * p[best]).toFixed(1)}%).`;
  } catch (e) {
    showProbs(null);
    $('pad-status').textContent = e.message;
  } finally {
    pending = false;
  }
}

clearPad();
start().catch((e) => fail(String((e && e.message) || e)));
