#!/usr/bin/env node
// study-tfjs.js SPEC.json OUT.json
//
// Trains Teachable Machine's image head with TensorFlow.js itself, on every
// sample (no hold-out), for tools/study: the reference its heads are held
// to. The recipe is @teachablemachine/image 0.8.5's TeachableMobileNet.train
// (dist/teachable-mobilenet.js) with the web app's defaults: Dense(100,
// ReLU, bias) then Dense(K, softmax, no bias), both initialized by
// tf.initializers.varianceScaling, Adam with learning rate 0.001,
// categorical cross-entropy, batch 16, 50 epochs, the training samples
// shuffled once (Fisher-Yates) and then fed in that order every epoch
// (fitDataset over an unshuffled tf.data batch). The one change: its 15%
// hold-out (VALIDATION_FRACTION) is not taken, so every sample trains.
// Seed s seeds both the shuffle and the initializer (Teachable Machine's
// fixed seed 3.14 would give every run the same weights).
//
// SPEC (written by tools/study) names float32 files of the plain embeddings
// of a task's training pool and test set, relative to SPEC's folder, and
// their labels:
//   {classes, dim, protocols: [10, 50, 200], seeds, seedsFor: {"200": 1}, trainLabels, testLabels, train, test}
// (seedsFor, optional, runs fewer seeds for some protocols: on a busy
// machine TF.js takes minutes a run at 200 a class.)
// Protocol N trains on the first N pool samples of each class. OUT gets
// {"N": [accuracy for seed 1, 2, ...]} for every protocol.
//
//   node tools/js/study-tfjs.js build/study/fashion-pillow-...-tfjs-spec.json out.json
//
// With two more arguments, N SEED, it runs that one protocol and seed and
// writes {"N": [accuracy]}: seeds of a slow protocol can then run side by
// side, one process each.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

// mulberry32: a small seeded generator for the shuffle.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// fisherYates is @teachablemachine/image's shuffle with a seeded source.
function fisherYates(array, random) {
  const shuffled = array.slice();
  for (let i = shuffled.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return shuffled;
}

function readF32(file, rows, dim) {
  const buf = fs.readFileSync(file);
  if (buf.length !== 4 * rows * dim) {
    throw new Error(`${file}: ${buf.length} bytes, want ${rows} rows of ${dim} float32`);
  }
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

async function trainTM(x, labels, k, dim, seed) {
  // Per class in the order added, shuffled per class, then all together
  // (the per-class split is skipped: nothing is held out).
  const random = rng(seed);
  const perClass = Array.from({ length: k }, () => []);
  labels.forEach((y, i) => perClass[y].push(i));
  let order = [];
  for (const rows of perClass) order = order.concat(fisherYates(rows, random));
  order = fisherYates(order, random);
  const xs = new Float32Array(order.length * dim);
  const ys = new Float32Array(order.length * k);
  order.forEach((r, i) => {
    xs.set(x.subarray(r * dim, (r + 1) * dim), i * dim);
    ys[i * k + labels[r]] = 1;
  });
  const init = tf.initializers.varianceScaling({ seed });
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [dim], units: 100, activation: 'relu', kernelInitializer: init, useBias: true }),
      tf.layers.dense({ kernelInitializer: init, useBias: false, activation: 'softmax', units: k }),
    ],
  });
  const optimizer = tf.train.adam(0.001);
  // What model.fit does for each batch (Keras's categorical cross-entropy
  // on the softmax output, averaged over the batch, one Adam step), in
  // the same batch order, without its per-batch callbacks and metrics:
  // those cost more than the step itself for a head this small.
  const n = order.length;
  const batches = [];
  for (let b = 0; b < n; b += 16) {
    const m = Math.min(16, n - b);
    batches.push([tf.tensor2d(xs.subarray(b * dim, (b + m) * dim), [m, dim]), tf.tensor2d(ys.subarray(b * k, (b + m) * k), [m, k])]);
  }
  for (let epoch = 0; epoch < 50; epoch++) {
    for (const [bx, by] of batches) {
      tf.tidy(() => {
        optimizer.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(by, model.apply(bx, { training: true }))));
      });
    }
  }
  for (const [bx, by] of batches) tf.dispose([bx, by]);
  optimizer.dispose();
  return model;
}

async function main() {
  const [specPath, outPath, onlyN, onlySeed] = process.argv.slice(2);
  if (!specPath || !outPath) {
    console.error('usage: study-tfjs.js SPEC.json OUT.json');
    process.exit(2);
  }
  // TF.js's wasm backend (XNNPACK) trains dense layers many times faster
  // than its JavaScript cpu backend, with the same float32 arithmetic up to
  // summation order.
  const backend = process.env.TFJS_BACKEND || 'wasm';
  if (backend === 'wasm') {
    const wasm = require('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/'));
  }
  if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} did not start`);
  const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
  const dir = path.dirname(specPath);
  const { classes: k, dim } = spec;
  const train = readF32(path.join(dir, spec.train), spec.trainLabels.length, dim);
  const test = readF32(path.join(dir, spec.test), spec.testLabels.length, dim);
  const testX = tf.tensor2d(test, [spec.testLabels.length, dim]);
  // Results already in OUT are kept (a long run can be resumed); each
  // protocol's are written as soon as they are measured.
  let out = {};
  if (fs.existsSync(outPath)) out = JSON.parse(fs.readFileSync(outPath, 'utf8'));
  const protocols = onlyN ? [Number(onlyN)] : spec.protocols;
  for (const n of protocols) {
    const seeds = (spec.seedsFor && spec.seedsFor[n]) || spec.seeds;
    if (out[n] && out[n].length >= seeds) continue;
    // The first n of each class, in pool order.
    const count = new Array(k).fill(0);
    const rows = [];
    spec.trainLabels.forEach((y, i) => { if (count[y] < n) { count[y]++; rows.push(i); } });
    const x = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => x.set(train.subarray(r * dim, (r + 1) * dim), i * dim));
    const labels = rows.map((r) => spec.trainLabels[r]);
    out[n] = [];
    for (let seed = onlySeed ? Number(onlySeed) : 1; seed <= (onlySeed ? Number(onlySeed) : seeds); seed++) {
      const t0 = Date.now();
      const model = await trainTM(x, labels, k, dim, seed);
      const pred = tf.tidy(() => model.predict(testX).argMax(-1).dataSync());
      let correct = 0;
      pred.forEach((p, i) => { if (p === spec.testLabels[i]) correct++; });
      model.dispose();
      out[n].push(correct / spec.testLabels.length);
      console.error(`tfjs-tm ${path.basename(specPath)} ${n} a class, seed ${seed}: ${(100 * correct / spec.testLabels.length).toFixed(1)}% (${((Date.now() - t0) / 1000).toFixed(1)} s, ${tf.getBackend()})`);
    }
    fs.writeFileSync(outPath + '.tmp', JSON.stringify(out) + '\n');
    fs.renameSync(outPath + '.tmp', outPath);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
