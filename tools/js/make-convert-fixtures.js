#!/usr/bin/env node
// make-convert-fixtures.js OUTDIR
//
// Writes the TF.js front end's unit-test fixtures: two tiny models in the
// standard TF.js layout, each with the outputs TF.js itself computes for a
// fixed input, so the Go converter is checked against the source framework
// on exactly the semantics it must reproduce:
//
//   OUTDIR/layers_small/  a Keras functional model (uneven ZeroPadding2D,
//       "same" convolutions with stride 2, DepthwiseConv2D with a depth
//       multiplier, BatchNormalization with and without scale/center,
//       ReLU(max_value=6), Add, AveragePooling2D "same" (padding left out
//       of the count), MaxPooling2D, Flatten, Dropout, Dense with fused
//       activations, GlobalAveragePooling2D, Activation softmax) with two
//       outputs;
//   OUTDIR/graph_small/   a hand-written TensorFlow graph in the form
//       tensorflowjs_converter emits (leading Mul/Sub, _FusedConv2D,
//       FusedDepthwiseConv2dNative, Conv2D + BiasAdd, AddV2, Pad, MaxPool and
//       AvgPool "SAME", Mean, _FusedMatMul, Softmax, Identity).
//
// Weights are stored uint8-, uint16- and float16-quantized and as float32,
// split over two shards at a point inside a tensor; the reference outputs
// come from loading those very files back into TF.js, so dequantization is
// part of what is compared. Everything is seeded: reruns give the same
// files.
//
// Each folder gets expected.json: the input as pixel values v in 0..255
// (TF.js is fed v/255), and each output by its name in the TF.js model.
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const H = 9;
const W = 8;

// A small linear congruential generator: the fixtures must not depend on
// the platform's Math.random.
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function pixels(h = H, w = W) {
  const r = rng(7);
  return Array.from({ length: h * w * 3 }, () => Math.floor(r() * 256));
}

// quantize stores values as TF.js's converter does: uint8/uint16 with
// scale = (max-min)/(2^bits-1), or float16.
function quantize(values, dtype) {
  if (dtype === 'float32') return { bytes: Buffer.from(new Float32Array(values).buffer) };
  if (dtype === 'float16') {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i]);
    return { bytes: Buffer.from(out.buffer), quantization: { dtype: 'float16' } };
  }
  const levels = dtype === 'uint8' ? 255 : 65535;
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (max === min) max = min + 1;
  const scale = (max - min) / levels;
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) q[i] = Math.round((values[i] - min) / scale);
  return { bytes: Buffer.from(q.buffer), quantization: { dtype, min, scale } };
}

function toHalf(v) {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  let exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) return sign; // tiny values flush to zero; none occur here
  if (exp >= 31) return sign | 0x7c00;
  const round = mant & 0x1fff;
  mant >>>= 13;
  if (round > 0x1000 || (round === 0x1000 && (mant & 1))) {
    mant++;
    if (mant === 0x400) { mant = 0; exp++; }
  }
  return sign | (exp << 10) | mant;
}

// writeModel writes model.json and two shards; tensors are [{name, shape,
// dtype, values, store}] with store the stored type.
function writeModel(dir, json, tensors) {
  fs.mkdirSync(dir, { recursive: true });
  const specs = [];
  const parts = [];
  for (const t of tensors) {
    const { bytes, quantization } = t.dtype === 'int32'
      ? { bytes: Buffer.from(new Int32Array(t.values).buffer) }
      : quantize(t.values, t.store);
    const spec = { name: t.name, shape: t.shape, dtype: t.dtype || 'float32' };
    if (quantization) spec.quantization = quantization;
    specs.push(spec);
    parts.push(bytes);
  }
  const all = Buffer.concat(parts);
  const cut = Math.floor(all.length * 0.6) | 1; // odd: inside some tensor
  fs.writeFileSync(path.join(dir, 'group1-shard1of2.bin'), all.subarray(0, cut));
  fs.writeFileSync(path.join(dir, 'group1-shard2of2.bin'), all.subarray(cut));
  json.weightsManifest = [{ paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], weights: specs }];
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json, null, 1) + '\n');
  return json;
}

function artifactsFrom(dir) {
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const bufs = m.weightsManifest[0].paths.map((p) => fs.readFileSync(path.join(dir, p)));
  const all = Buffer.concat(bufs);
  return {
    modelTopology: m.modelTopology,
    format: m.format,
    weightSpecs: m.weightsManifest[0].weights,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
  };
}

function input(px, h = H, w = W) {
  return tf.tensor4d(px.map((v) => v / 255), [1, h, w, 3]);
}

async function layersFixture(dir) {
  const L = tf.layers;
  const x = L.input({ shape: [H, W, 3], name: 'image' });
  let y = L.zeroPadding2d({ padding: [[0, 1], [0, 1]], name: 'pad' }).apply(x); // 10x9
  y = L.conv2d({ filters: 6, kernelSize: 3, strides: 2, useBias: false, name: 'stem' }).apply(y); // 4x4
  y = L.batchNormalization({ epsilon: 1e-3, name: 'stem_bn' }).apply(y);
  const stem = L.reLU({ maxValue: 6, name: 'stem_relu' }).apply(y);
  y = L.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, useBias: true, name: 'dw' }).apply(stem);
  y = L.batchNormalization({ scale: false, center: false, epsilon: 1e-2, name: 'dw_bn' }).apply(y);
  y = L.reLU({ name: 'dw_relu' }).apply(y);
  y = L.conv2d({ filters: 6, kernelSize: 1, activation: 'relu6', name: 'project' }).apply(y);
  y = L.add({ name: 'residual' }).apply([stem, y]);
  // 4x4 -> 2x2 with TF's uneven SAME padding (one row and column after).
  y = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'down' }).apply(y);
  y = L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name: 'avg' }).apply(y);
  const pooled = L.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same', name: 'max' }).apply(y);
  let a = L.globalAveragePooling2d({ name: 'gap' }).apply(pooled);
  a = L.dense({ units: 7, activation: 'relu', name: 'fc1' }).apply(a);
  a = L.dropout({ rate: 0.5, name: 'drop' }).apply(a);
  a = L.dense({ units: 5, name: 'logits' }).apply(a);
  a = L.activation({ activation: 'softmax', name: 'probs' }).apply(a);
  let b = L.flatten({ name: 'flat' }).apply(pooled);
  b = L.dense({ units: 3, activation: 'sigmoid', name: 'side' }).apply(b);
  const model = tf.model({ inputs: x, outputs: [a, b], name: 'small' });

  const r = rng(11);
  const tensors = [];
  for (const w of model.weights) {
    const n = w.shape.reduce((p, d) => p * d, 1);
    const isVar = /moving_variance/.test(w.name);
    const values = Array.from({ length: n }, () => (isVar ? 0.2 + r() : (r() - 0.5) * (/gamma/.test(w.name) ? 1 : 1.6)));
    const store = /kernel/.test(w.name) ? 'uint8' : /moving/.test(w.name) ? 'uint16' : /gamma/.test(w.name) ? 'float16' : 'float32';
    tensors.push({ name: w.originalName || w.name, shape: w.shape, values, store });
  }
  const topology = model.toJSON(null, false);
  writeModel(dir, { format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`, convertedBy: null, modelTopology: topology }, tensors);

  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifactsFrom(dir)));
  const px = pixels();
  const embed = tf.model({ inputs: loaded.inputs, outputs: loaded.getLayer('gap').output });
  const [p, s] = loaded.predict(input(px));
  const e = embed.predict(input(px));
  return { input: px, outputs: { probs: Array.from(await p.data()), side: Array.from(await s.data()), gap: Array.from(await e.data()) } };
}

// Graph-model node helpers in protobuf's JSON mapping.
// randomTensors gives every weight of model seeded random values, stored
// in a mix of quantizations as layersFixture's are.
function randomTensors(model, seed) {
  const r = rng(seed);
  const tensors = [];
  for (const w of model.weights) {
    const n = w.shape.reduce((p, d) => p * d, 1);
    const isVar = /moving_variance/.test(w.name);
    const values = Array.from({ length: n }, () => (isVar ? 0.2 + r() : (r() - 0.5) * (/gamma/.test(w.name) ? 1 : 1.6)));
    const store = /kernel/.test(w.name) ? 'uint8' : /moving/.test(w.name) ? 'uint16' : 'float32';
    tensors.push({ name: w.originalName || w.name, shape: w.shape, values, store });
  }
  return tensors;
}

// nestedFunctionalFixture: a functional model that calls a functional
// model (a residual block) and a Sequential (pooling and a dense head) as
// layers.
async function nestedFunctionalFixture(dir) {
  const L = tf.layers;
  const bx = L.input({ shape: [5, 4, 6], name: 'block_in' });
  let by = L.depthwiseConv2d({ kernelSize: 3, padding: 'same', name: 'block_dw' }).apply(bx);
  by = L.batchNormalization({ name: 'block_bn' }).apply(by);
  by = L.reLU({ maxValue: 6, name: 'block_relu' }).apply(by);
  by = L.conv2d({ filters: 6, kernelSize: 1, name: 'block_project' }).apply(by);
  by = L.add({ name: 'block_add' }).apply([bx, by]);
  const block = tf.model({ inputs: bx, outputs: by, name: 'block' });
  const head = tf.sequential({ name: 'head', layers: [
    L.globalAveragePooling2d({ inputShape: [5, 4, 6], name: 'head_gap' }),
    L.dense({ units: 4, activation: 'softmax', name: 'head_fc' }),
  ] });
  const x = L.input({ shape: [H, W, 3], name: 'image' });
  let y = L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'stem' }).apply(x); // 5x4
  y = block.apply(y);
  y = head.apply(y);
  const model = tf.model({ inputs: x, outputs: y, name: 'nested' });
  return saveAndRun(dir, model, randomTensors(model, 31));
}

// nestedSequentialFixture is shaped like a Teachable Machine export: a
// Sequential of a Sequential (a truncated functional backbone, then global
// pooling) and a Sequential head (Dense relu, Dense softmax without bias),
// on a square input as Teachable Machine's are.
async function nestedSequentialFixture(dir) {
  const L = tf.layers;
  const x = L.input({ shape: [W, W, 3], name: 'input_1' });
  let y = L.conv2d({ filters: 8, kernelSize: 3, strides: 2, useBias: false, name: 'Conv1' }).apply(x);
  y = L.batchNormalization({ name: 'bn_Conv1' }).apply(y);
  y = L.reLU({ maxValue: 6, name: 'out_relu' }).apply(y);
  const backbone = tf.model({ inputs: x, outputs: y, name: 'model_1' });
  const truncated = tf.sequential({ name: 'sequential_1' });
  truncated.add(backbone);
  truncated.add(L.globalAveragePooling2d({}));
  const head = tf.sequential({ name: 'sequential_3', layers: [
    L.dense({ inputShape: [8], units: 5, activation: 'relu', name: 'dense_Dense1' }),
    L.dense({ units: 3, activation: 'softmax', useBias: false, name: 'dense_Dense2' }),
  ] });
  const model = tf.sequential({ name: 'sequential_4' });
  model.add(truncated);
  model.add(head);
  return saveAndRun(dir, model, randomTensors(model, 37), W, W);
}

// saveAndRun writes model with the given weights, loads the files back
// into TF.js and returns its output on the fixture's pixels.
async function saveAndRun(dir, model, tensors, h = H, w = W) {
  writeModel(dir, { format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`, convertedBy: null, modelTopology: model.toJSON(null, false) }, tensors);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifactsFrom(dir)));
  const px = pixels(h, w);
  const out = loaded.predict(input(px, h, w));
  return { input: px, outputs: { output: Array.from(await out.data()) } };
}

const b64 = (s) => Buffer.from(s).toString('base64');
const ints = (l) => ({ list: { i: l.map(String) } });
const T = { T: { type: 'DT_FLOAT' } };
function konst(name, shape, dtype = 'DT_FLOAT') {
  return {
    name, op: 'Const',
    attr: { value: { tensor: { dtype, tensorShape: { dim: shape.map((d) => ({ size: String(d) })) } } }, dtype: { type: dtype } },
  };
}
function conv(name, op, inputs, strides, padding, fused) {
  const attr = { ...T, strides: ints(strides), padding: { s: b64(padding) }, data_format: { s: b64('NHWC') }, dilations: ints([1, 1, 1, 1]) };
  if (fused) {
    attr.fused_ops = { list: { s: fused.map(b64) } };
    attr.num_args = { i: '1' };
    attr.epsilon = { f: 0 };
  }
  if (op !== 'FusedDepthwiseConv2dNative' && op !== 'DepthwiseConv2dNative') {
    attr.explicit_paddings = { list: {} };
    attr.use_cudnn_on_gpu = { b: true };
  }
  return { name, op, input: inputs, attr };
}
function pool(name, op, input, k, s, padding) {
  return { name, op, input: [input], attr: { ...T, ksize: ints([1, k, k, 1]), strides: ints([1, s, s, 1]), padding: { s: b64(padding) }, data_format: { s: b64('NHWC') } } };
}

async function graphFixture(dir) {
  const r = rng(23);
  const rand = (n, scale = 1.2) => Array.from({ length: n }, () => (r() - 0.5) * scale);
  const tensors = [
    { name: 'prep/mul_y', shape: [], values: [2], store: 'float32' },
    { name: 'prep/sub_y', shape: [], values: [1], store: 'float32' },
    { name: 'conv1/w', shape: [3, 3, 3, 6], values: rand(162), store: 'uint8' },
    { name: 'conv1/b', shape: [6], values: rand(6), store: 'uint16' },
    { name: 'dw/w', shape: [3, 3, 6, 1], values: rand(54), store: 'float16' },
    { name: 'dw/b', shape: [6], values: rand(6), store: 'float32' },
    { name: 'pw/w', shape: [1, 1, 6, 6], values: rand(36), store: 'uint8' },
    { name: 'pw/b', shape: [6], values: rand(6), store: 'float32' },
    { name: 'pad/paddings', shape: [4, 2], values: [0, 0, 0, 1, 1, 0, 0, 0], dtype: 'int32' },
    { name: 'mean/axes', shape: [2], values: [1, 2], dtype: 'int32' },
    { name: 'fc/w', shape: [6, 5], values: rand(30, 2), store: 'uint16' },
    { name: 'fc/b', shape: [5], values: rand(5), store: 'float32' },
  ];
  const nodes = [
    { name: 'image', op: 'Placeholder', attr: { shape: { shape: { dim: [{ size: '-1' }, { size: String(H) }, { size: String(W) }, { size: '3' }] } }, dtype: { type: 'DT_FLOAT' } } },
    ...tensors.map((t) => konst(t.name, t.shape, t.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT')),
    { name: 'prep/mul', op: 'Mul', input: ['prep/mul_y', 'image'], attr: T },
    { name: 'prep/sub', op: 'Sub', input: ['prep/mul', 'prep/sub_y'], attr: T },
    // 9x8 -> 5x4, SAME with stride 2: rows pad 1+1, columns 0+1.
    conv('conv1', '_FusedConv2D', ['prep/sub', 'conv1/w', 'conv1/b'], [1, 2, 2, 1], 'SAME', ['BiasAdd', 'Relu6']),
    conv('dw', 'FusedDepthwiseConv2dNative', ['conv1', 'dw/w', 'dw/b'], [1, 1, 1, 1], 'SAME', ['BiasAdd', 'Relu']),
    conv('pw', 'Conv2D', ['dw', 'pw/w'], [1, 1, 1, 1], 'VALID', null),
    { name: 'pw/bias', op: 'BiasAdd', input: ['pw', 'pw/b'], attr: { ...T, data_format: { s: b64('NHWC') } } },
    { name: 'res', op: 'AddV2', input: ['conv1', 'pw/bias'], attr: T },
    { name: 'res/relu', op: 'Relu', input: ['res'], attr: T },
    { name: 'pad', op: 'Pad', input: ['res/relu', 'pad/paddings'], attr: { ...T, Tpaddings: { type: 'DT_INT32' } } },
    pool('maxpool', 'MaxPool', 'pad', 3, 2, 'SAME'), // 6x5 -> 3x3
    pool('avgpool', 'AvgPool', 'maxpool', 2, 1, 'SAME'),
    { name: 'mean', op: 'Mean', input: ['avgpool', 'mean/axes'], attr: { ...T, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } } },
    { name: 'fc', op: '_FusedMatMul', input: ['mean', 'fc/w', 'fc/b'], attr: { ...T, transpose_a: { b: false }, transpose_b: { b: false }, fused_ops: { list: { s: [b64('BiasAdd')] } }, num_args: { i: '1' }, epsilon: { f: 0 } } },
    { name: 'probs', op: 'Softmax', input: ['fc'], attr: T },
    { name: 'Identity', op: 'Identity', input: ['probs'], attr: T },
  ];
  writeModel(dir, {
    format: 'graph-model', generatedBy: 'tools/js/make-convert-fixtures.js', convertedBy: 'hand-written in the form of TensorFlow.js Converter output',
    modelTopology: { node: nodes, library: {}, versions: { producer: 175 } },
  }, tensors);

  const model = await tf.loadGraphModel(tf.io.fromMemory(artifactsFrom(dir)));
  const px = pixels();
  const [p, m] = model.execute(input(px), ['Identity', 'mean']);
  return { input: px, outputs: { Identity: Array.from(await p.data()), mean: Array.from(await m.data()) } };
}

async function main() {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node make-convert-fixtures.js OUTDIR');
    process.exit(2);
  }
  await tf.setBackend('cpu');
  for (const [name, make] of [['layers_small', layersFixture], ['graph_small', graphFixture],
    ['nested_functional', nestedFunctionalFixture], ['nested_sequential', nestedSequentialFixture]]) {
    const dir = path.join(out, name);
    const expected = await make(dir);
    expected.generator = `tools/js/make-convert-fixtures.js, @tensorflow/tfjs ${tf.version.tfjs}, backend cpu; input is pixel values v, fed to TF.js as v/255`;
    fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify(expected) + '\n');
    console.log(dir);
  }
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
