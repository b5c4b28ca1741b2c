#!/usr/bin/env node
// bench-native.js MODEL.onnx [RUNS]
//
// ONNX Runtime's native CPU latency on one thread, batch 1: the yardstick
// for `glimpse bench` on the same file. Prints one line with the median.
'use strict';

const ort = require('onnxruntime-node');

async function main() {
  const [file, runsArg] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench-native.js MODEL.onnx [RUNS]');
    process.exit(2);
  }
  const runs = Number(runsArg || 50);
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const input = session.inputNames[0];
  const data = new Float32Array(3 * 224 * 224).map((_, i) => (i % 255) / 255);
  const feeds = { [input]: new ort.Tensor('float32', data, [1, 3, 224, 224]) };
  for (let i = 0; i < 5; i++) await session.run(feeds);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`${file}: onnxruntime-node ${require('onnxruntime-node/package.json').version} threads=1 median_ms=${times[times.length >> 1].toFixed(2)} min_ms=${times[0].toFixed(2)} runs=${runs}`);
}

main().catch((e) => { console.error(String(e.message || e)); process.exit(1); });
