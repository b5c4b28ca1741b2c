// The LeNet-5 page: starts its Go program (lenet.wasm, which trains and
// reads digits on Glimpse's SIMD kernels) and draws what it reports. No
// arithmetic about the network lives here: this script only paints.
import { detectSIMD, loadSIMD } from './loader.mjs';

const $ = (id) => document.getElementById(id);
let lenet; // the program's functions, once it runs
let training = false;
let paused = false;
const losses = [];

// The page speaks the reader's language (lang.js chooses it): t picks the
// English or the Korean of a text written here. Lines that report
// progress are kept as functions, so a language switch rewrites them.
const korean = () => document.documentElement.lang === 'ko';
const t = (en, ko) => (korean() ? ko : en);
const n = (v) => v.toLocaleString('en');

// The program's messages are English; the ones a reader meets on this page
// are said in Korean under Korean.
const KOREAN_ERRORS = [
  [/^the drawing is blank/, '그림이 비어 있습니다: 먼저 숫자를 그리세요.'],
  [/^the loss turned (\S+) in epoch (\d+): lower the learning rate \(now (.+)\)$/,
    (m) => `${m[2]}번째 에포크에서 손실이 ${m[1]}이(가) 되었습니다: 학습률(지금 ${m[3]})을 낮추세요.`],
  [/^no model yet/, '아직 모델이 없습니다: 배포된 모델을 불러오는 중입니다.'],
  [/^the digits are not loaded yet/, '숫자 데이터를 아직 불러오지 못했습니다.'],
  [/^training is already running/, '이미 학습 중입니다.'],
];
function message(e) {
  const text = String((e && e.message) || e);
  if (!korean()) return text;
  for (const [re, ko] of KOREAN_ERRORS) {
    const m = text.match(re);
    if (m) return typeof ko === 'function' ? ko(m) : ko;
  }
  return text;
}

function fail(e) {
  $('alert').textContent = message(e);
  $('alert').hidden = false;
}

// Live lines: each holds a function that writes it in the current language.
const lines = { status: () => '', pad: () => '', note: () => '' };
function render() {
  $('status').textContent = lines.status() + (paused ? t(' (paused)', ' (일시 정지됨)') : '');
  $('pad-status').textContent = lines.pad();
  $('model-note').textContent = lines.note();
}
function status(fn) { lines.status = fn; render(); }
function padStatus(fn) { lines.pad = fn; render(); }

// label sets a button's text in both languages (lang.js swaps data-ko).
function label(el, en, ko) {
  el.dataset.en = en;
  el.dataset.ko = ko;
  el.textContent = t(en, ko);
}
document.addEventListener('glimpse-language', render);

async function start() {
  if (typeof WebAssembly !== 'object') throw new Error(t('This browser cannot run WebAssembly.', '이 브라우저는 WebAssembly를 실행할 수 없습니다.'));
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
  go.run(instance).then(() => fail(t('The Glimpse program stopped. Reload the page.',
    'Glimpse 프로그램이 멈췄습니다. 페이지를 새로 고치세요.')));
  lenet = await ready;
  lenet.loadModel('models/lenet5_mnist.glimpse').then((info) => {
    lines.note = () => t(`Shipped model: ${info.source}. Data licence: ${info.license}.`,
      `배포된 모델: ${info.source}. 데이터 라이선스: ${info.license}.`);
    render();
    predict();
  }, (e) => { lines.note = () => message(e); render(); });
  status(() => t('Loading the digits…', '숫자 데이터를 불러오는 중…'));
  await lenet.loadData('mnist/', (f) => {
    $('progress').value = f;
    status(() => t(`Loading the digits… ${Math.round(100 * f)}%`, `숫자 데이터를 불러오는 중… ${Math.round(100 * f)}%`));
  });
  keepDigits();
  $('progress').value = 0;
  const kernels = lenet.kernels();
  status(() => t(`60,000 training and 10,000 test digits loaded (kernels: ${kernels}). Press Train.`,
    `학습용 숫자 60,000개와 테스트용 숫자 10,000개를 불러왔습니다(커널: ${kernels}). 학습을 누르세요.`));
  $('train').disabled = false;
}

// The digits are kept by the service worker once fetched, so the page
// trains offline on later visits; on the first visit the worker did not
// see the fetches yet, so it is asked to keep them.
const DIGIT_FILES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'].map((f) => `mnist/${f}`);
function keepDigits() {
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.ready.then((reg) => {
    if (reg.active) reg.active.postMessage({ keep: DIGIT_FILES });
  }).catch(() => {});
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

async function train() {
  training = true;
  paused = false;
  losses.length = 0;
  $('history').replaceChildren();
  $('train').disabled = true;
  $('pause').disabled = false;
  label($('pause'), 'Pause', '일시 정지');
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
        status(() => t(`Epoch ${b.epoch} of ${epochs}: ${n(b.done)} of ${n(b.total)} digits, loss ${b.loss.toFixed(4)}`,
          `에포크 ${b.epoch}/${epochs}: 숫자 ${n(b.total)}개 중 ${n(b.done)}개, 손실 ${b.loss.toFixed(4)}`));
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
        // The epoch is whole, its test pass included: the bar says so.
        $('progress').value = e.epoch / epochs;
        const acc = (100 * e.testAccuracy).toFixed(2);
        const eps = n(Math.round(e.examplesPerSecond));
        status(() => t(`Epoch ${e.epoch} of ${epochs}: test accuracy ${acc}%, ${eps} examples/s`,
          `에포크 ${e.epoch}/${epochs}: 테스트 정확도 ${acc}%, 초당 ${eps}개`));
        predict();
      },
    });
    $('progress').value = 1;
  } catch (e) {
    status(() => message(e));
  } finally {
    training = false;
    paused = false;
    render();
    $('train').disabled = false;
    $('pause').disabled = true;
    label($('pause'), 'Pause', '일시 정지');
  }
}

$('train').onclick = () => { train(); };
$('pause').onclick = () => {
  paused = !paused;
  if (paused) lenet.pause(); else lenet.resume();
  if (paused) label($('pause'), 'Resume', '계속'); else label($('pause'), 'Pause', '일시 정지');
  render();
};

// The digit pad: bright ink on black, as MNIST's digits are; the program
// centres the drawing as MNIST did before reading it.
const pad = $('pad');
const pctx = pad.getContext('2d');
function clearPad() {
  pctx.fillStyle = '#000';
  pctx.fillRect(0, 0, pad.width, pad.height);
  showProbs(null);
  padStatus(() => t('Draw a digit.', '숫자를 그려 보세요.'));
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
    const digit = document.createElement('span');
    digit.textContent = String(d);
    const m = document.createElement('meter');
    m.min = 0; m.max = 1; m.value = p ? p[d] : 0;
    m.setAttribute('aria-label', t(`probability of ${d}`, `${d}일 확률`));
    const v = document.createElement('span');
    v.textContent = p ? `${(100 * p[d]).toFixed(1)}%` : '–';
    li.append(digit, m, v);
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
    const pct = (100 * p[best]).toFixed(1);
    padStatus(() => t(`It reads ${best} (${pct}%).`, `${best}(으)로 읽습니다(${pct}%).`));
  } catch (e) {
    showProbs(null);
    padStatus(() => message(e));
  } finally {
    pending = false;
  }
}

clearPad();
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('sw.js').catch((e) => console.warn('offline cache unavailable:', e.message));
}
start().catch(fail);
