// Training LeNet-5 in the browser, one headless Chromium run, one thread,
// batch 64, each engine in its own page and timed after a warm-up of 512
// examples:
//
//   Glimpse: the LeNet-5 page's own training loop (dist/lenet.wasm on the
//            WebAssembly SIMD kernels, core/scratch), Adam 1e-3;
//   TF.js 4.22, cpu backend: the same layers, Adam 1e-3, trainOnBatch;
//   ConvNetJS 0.3.0: conv 6@5x5 relu, pool 2, conv 16@5x5 relu, pool 2,
//            fc 120 relu, fc 84 relu, softmax 10, its trainer
//            {method: 'adam', learning_rate: 0.001, batch_size: 64}.
//
// TF.js and ConvNetJS train on the same random 32x32 grey pictures and
// labels; Glimpse's loop, as in the page, keeps 28x28 bytes and prepares
// each batch (resized to 32x32, x/255) as it trains, which its figure
// includes. Glimpse is timed over four times as many examples (its run is
// that much shorter, and a short run is at the mercy of one pause). Prints
//
//   lenet5_train glimpse_eps=… tfjs_cpu_eps=… convnetjs_eps=… ratio_convnetjs=…
//
// in training examples per second (ratio = glimpse / convnetjs), then the
// LeNet-5 page itself (dist/lenet.html) training on MNIST's 60,000 digits
// with its defaults, seed 1, until the test accuracy reaches 98.8% (at
// most 5 epochs):
//
//   lenet5_mnist_page seconds_to_98.8=… epochs=… test_accuracy=…
//
// seconds of training from the click on Train (loading excluded), the
// epoch's test pass included; "none" if 5 epochs fall short.
//
//   node tools/js/bench-lenet.js [EXAMPLES]   (needs make: dist/lenet.wasm)
"use strict";

const fs = require("fs");
const path = require("path");
const { root, launch, serve } = require("./browser");

const EXAMPLES = Math.max(512, Number(process.argv[2]) || 2048);
const WARM = 512;
const GLIMPSE_EXAMPLES = 4 * EXAMPLES;
const dist = path.join(root, "dist");
const site = path.join(root, "build", "bench", "lenet");

function prepare() {
  fs.rmSync(site, { recursive: true, force: true });
  fs.mkdirSync(site, { recursive: true });
  for (const f of ["lenet.wasm", "wasm_exec.js", "loader.mjs", "kernels.wasm", "kernels_relaxed.wasm"]) {
    fs.copyFileSync(path.join(dist, f), path.join(site, f));
  }
  fs.copyFileSync(path.join(__dirname, "node_modules", "@tensorflow", "tfjs", "dist", "tf.min.js"), path.join(site, "tf.min.js"));
  fs.copyFileSync(path.join(__dirname, "node_modules", "convnetjs", "build", "convnet.js"), path.join(site, "convnet.js"));
  fs.writeFileSync(path.join(site, "index.html"), "<!doctype html><meta charset=utf-8><title>bench</title>");
}

// data makes n random pictures and labels, the same in every page.
function data(n) {
  let s = 12345;
  const rnd = () => { s = (s * 1103515245 + 12345) >>> 0; return s / 4294967296; };
  const x = new Float32Array(n * 1024);
  const y = new Int32Array(n);
  for (let i = 0; i < x.length; i++) x[i] = rnd();
  for (let i = 0; i < n; i++) y[i] = Math.floor(rnd() * 10);
  return { x, y };
}

async function glimpse(page) {
  await page.addScriptTag({ url: "wasm_exec.js" });
  return page.evaluate(async ([warm, n]) => {
    const { detectSIMD, loadSIMD } = await import("./loader.mjs");
    const go = new Go();
    const ready = new Promise((resolve) => { globalThis.onGlimpseLenet = resolve; });
    const { instance } = await WebAssembly.instantiateStreaming(fetch("lenet.wasm"), go.importObject);
    if (detectSIMD() !== "none") await loadSIMD(instance.exports.mem, (f) => fetch(f).then((r) => r.arrayBuffer()));
    go.run(instance);
    const lenet = await ready;
    return { eps: await lenet.benchmark(warm, n), kernels: lenet.kernels() };
  }, [WARM, GLIMPSE_EXAMPLES]);
}

async function tfjs(page) {
  await page.addScriptTag({ url: "tf.min.js" });
  return page.evaluate(async ([warm, n, src]) => {
    await tf.setBackend("cpu");
    const { x, y } = (new Function(`return (${src})`))()(warm + n);
    const model = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [32, 32, 1], filters: 6, kernelSize: 5, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: "relu" }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 120, activation: "relu" }),
      tf.layers.dense({ units: 84, activation: "relu" }),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ] });
    model.compile({ optimizer: tf.train.adam(0.001), loss: "categoricalCrossentropy" });
    const batch = async (i) => {
      const xs = tf.tensor4d(x.subarray(i * 1024, (i + 64) * 1024), [64, 32, 32, 1]);
      const ys = tf.oneHot(tf.tensor1d(Array.from(y.subarray(i, i + 64)), "int32"), 10);
      await model.trainOnBatch(xs, ys);
      xs.dispose(); ys.dispose();
    };
    for (let i = 0; i < warm; i += 64) await batch(i);
    const t0 = performance.now();
    for (let i = warm; i < warm + n; i += 64) await batch(i);
    return { eps: n / ((performance.now() - t0) / 1000), backend: tf.getBackend() };
  }, [WARM, EXAMPLES, data.toString()]);
}

async function convnet(page) {
  await page.addScriptTag({ url: "convnet.js" });
  return page.evaluate(([warm, n, src]) => {
    const { x, y } = (new Function(`return (${src})`))()(warm + n);
    const net = new convnetjs.Net();
    net.makeLayers([
      { type: "input", out_sx: 32, out_sy: 32, out_depth: 1 },
      { type: "conv", sx: 5, filters: 6, stride: 1, pad: 0, activation: "relu" },
      { type: "pool", sx: 2, stride: 2 },
      { type: "conv", sx: 5, filters: 16, stride: 1, pad: 0, activation: "relu" },
      { type: "pool", sx: 2, stride: 2 },
      { type: "fc", num_neurons: 120, activation: "relu" },
      { type: "fc", num_neurons: 84, activation: "relu" },
      { type: "softmax", num_classes: 10 },
    ]);
    const trainer = new convnetjs.Trainer(net, { method: "adam", learning_rate: 0.001, batch_size: 64 });
    const vol = new convnetjs.Vol(32, 32, 1, 0);
    const one = (i) => {
      vol.w.set(x.subarray(i * 1024, (i + 1) * 1024));
      trainer.train(vol, y[i]);
    };
    for (let i = 0; i < warm; i++) one(i);
    const t0 = performance.now();
    for (let i = warm; i < warm + n; i++) one(i);
    return { eps: n / ((performance.now() - t0) / 1000) };
  }, [WARM, EXAMPLES, data.toString()]);
}

async function main() {
  prepare();
  const server = await serve(site);
  const browser = await launch();
  const res = {};
  try {
    for (const [name, run] of [["glimpse", glimpse], ["tfjs_cpu", tfjs], ["convnetjs", convnet]]) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(server.url + "index.html");
      res[name] = await run(page);
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  const r = (v) => Math.round(v);
  console.log(`lenet5_train glimpse_eps=${r(res.glimpse.eps)} tfjs_cpu_eps=${r(res.tfjs_cpu.eps)} convnetjs_eps=${r(res.convnetjs.eps)} ratio_convnetjs=${(res.glimpse.eps / res.convnetjs.eps).toFixed(2)}`);
  console.log(`  glimpse kernels ${res.glimpse.kernels}; TF.js backend ${res.tfjs_cpu.backend}; ${GLIMPSE_EXAMPLES} examples (Glimpse) and ${EXAMPLES} (others) timed after ${WARM}`);
  const mnist = await mnistPage();
  console.log(`lenet5_mnist_page seconds_to_98.8=${mnist.seconds === null ? "none" : mnist.seconds.toFixed(1)} epochs=${mnist.epochs} test_accuracy=${mnist.accuracy}`);
  console.log(`  per epoch (s from Train, test accuracy): ${mnist.history.map((h) => `${h.s.toFixed(1)} ${h.acc}`).join("; ")}`);
}

// mnistPage trains in dist/lenet.html as a student would and times each
// epoch's report from the click on Train.
async function mnistPage() {
  const server = await serve(dist);
  const browser = await launch();
  try {
    const page = await (await browser.newContext({ locale: "en-US" })).newPage();
    await page.goto(server.url + "lenet.html");
    await page.waitForFunction(() => !document.getElementById("train").disabled, null, { timeout: 300000 });
    await page.fill("#epochs", "5");
    await page.fill("#seed", "1");
    await page.evaluate(() => {
      globalThis.__epochs = [];
      new MutationObserver(() => {
        const rows = document.querySelectorAll("#history tr");
        if (rows.length > __epochs.length) __epochs.push({ s: (performance.now() - __t0) / 1000, acc: rows[rows.length - 1].cells[3].textContent });
      }).observe(document.getElementById("history"), { childList: true });
      globalThis.__t0 = performance.now();
      document.getElementById("train").click();
    });
    await page.waitForFunction(() => __epochs.some((e) => parseFloat(e.acc) >= 98.8) || __epochs.length >= 5, null, { timeout: 1800000, polling: 500 });
    const history = await page.evaluate(() => __epochs);
    const hit = history.find((h) => parseFloat(h.acc) >= 98.8);
    return { history, seconds: hit ? hit.s : null, epochs: hit ? history.indexOf(hit) + 1 : history.length,
      accuracy: (hit || history[history.length - 1]).acc };
  } finally {
    await browser.close();
    server.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
