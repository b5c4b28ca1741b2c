// The page `make serve` shows until the app arrives: it loads the default
// model through the JavaScript API (glimpse.js) with a progress bar, then
// embeds a picked or dropped image and the live webcam, timing each
// inference. The default model is a backbone without classes, so what it
// shows is its feature vector. Everything comes from this site: no
// request leaves the origin.

import { load, runtimeInfo } from './glimpse.js';

const MODEL_URL = 'models/mobilenet_v2_1.0_224.glimpse';
const $ = (id) => document.getElementById(id);

function showError(e) {
  const el = $('error');
  el.textContent = String((e && e.message) || e);
  el.hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

// drawFeatures paints a feature vector as a strip of bars, tallest the
// largest feature: a picture of what the backbone sees.
function drawFeatures(canvas, features) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  let max = 0;
  for (const v of features) max = Math.max(max, v);
  if (!(max > 0)) return;
  ctx.fillStyle = '#1f6feb';
  const bars = Math.min(features.length, width);
  const per = features.length / bars;
  for (let i = 0; i < bars; i++) {
    let v = 0;
    for (let j = Math.floor(i * per); j < Math.floor((i + 1) * per); j++) v = Math.max(v, features[j]);
    const h = Math.round((v / max) * height);
    ctx.fillRect(i * (width / bars), height - h, Math.max(1, width / bars - 0.5), h);
  }
}

function describe(features, ms) {
  let norm = 0;
  for (const v of features) norm += v * v;
  return `${features.length} features, length ${Math.sqrt(norm).toFixed(2)}: ${ms.toFixed(1)} ms`;
}

async function embedImage(model, file) {
  clearError();
  const url = URL.createObjectURL(file);
  const img = $('preview');
  try {
    img.src = url;
    img.alt = `The picked image, ${file.name}`;
    img.hidden = false;
    await img.decode();
    const t0 = performance.now();
    const features = await model.embed(img);
    const ms = performance.now() - t0;
    drawFeatures($('image-features'), features);
    $('image-result').textContent = `${file.name}: ${describe(features, ms)}`;
  } catch (e) {
    $('image-result').textContent = '';
    showError(`${file.name}: ${e.message || e}`);
  } finally {
    URL.revokeObjectURL(url);
  }
}

function setUpImage(model) {
  const input = $('file');
  input.disabled = false;
  input.addEventListener('change', () => {
    if (input.files.length) embedImage(model, input.files[0]);
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const file = [...e.dataTransfer.files].find((f) => f.type.startsWith('image/'));
    if (file) embedImage(model, file);
    else showError('Drop an image file.');
  });
}

function setUpCamera(model) {
  const video = $('camera');
  const start = $('camera-start');
  const stop = $('camera-stop');
  let stream = null;
  let frames = 0;
  let total = 0;
  start.disabled = false;

  async function loop() {
    if (!stream) return;
    try {
      const t0 = performance.now();
      const features = await model.embed(video);
      const ms = performance.now() - t0;
      frames++;
      total += ms;
      drawFeatures($('camera-features'), features);
      $('camera-result').textContent = `${describe(features, ms)} (mean ${(total / frames).toFixed(1)} ms over ${frames} frames)`;
    } catch (e) {
      showError(e);
      halt();
      return;
    }
    requestAnimationFrame(loop);
  }

  function halt() {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    video.srcObject = null;
    video.classList.remove('live');
    start.disabled = false;
    stop.disabled = true;
  }

  start.addEventListener('click', async () => {
    clearError();
    start.disabled = true;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
      video.srcObject = stream;
      video.classList.add('live');
      await video.play();
      stop.disabled = false;
      frames = 0;
      total = 0;
      loop();
    } catch (e) {
      halt();
      showError(`The camera could not start: ${e.message || e}`);
    }
  });
  stop.addEventListener('click', halt);
}

async function start() {
  const progress = $('model-progress');
  const model = await load(MODEL_URL, {
    onProgress: (f, { loaded }) => {
      progress.value = f;
      progress.textContent = `${Math.round(f * 100)}%`;
      $('runtime-status').textContent = `Loading the default model: ${(loaded / 2 ** 20).toFixed(1)} MB…`;
    },
  });
  $('model-label').textContent = 'Default model, loaded';
  const info = model.info();
  const rt = await runtimeInfo();
  $('runtime-status').textContent = `Ready: ${rt.goVersion}, ${rt.simd === 'none' ? 'no WebAssembly SIMD' : `WebAssembly ${rt.simd} SIMD`}.`;
  const rows = [
    ['Architecture', info.architecture],
    ['Parameters', Number(info.params).toLocaleString('en')],
    ['Multiply-adds', `${(Number(info.macs) / 1e6).toFixed(1)} M`],
    ['Input', info.inputSize.join(' × ')],
    ['Features', `${info.embeddingSize} (no classes: a backbone)`],
    ['Kernels', info.kernels],
  ];
  const dl = $('model-info');
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    dl.append(dt, dd);
  }
  setUpImage(model);
  setUpCamera(model);
}

start().catch(showError);
