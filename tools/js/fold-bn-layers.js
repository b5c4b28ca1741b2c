// fold-bn-layers.js IN/model.json OUTDIR
//
// Writes a copy of a Keras-style TF.js layers model with every
// BatchNormalization folded into the Conv2D or DepthwiseConv2D before it
// (kernel times gamma/sqrt(variance+epsilon) per output channel, and a
// bias), as TF.js's graph converter does for graph models. The browser
// benchmark runs TF.js on it to compare with TF.js at its best: folding
// alone about halves TF.js's time on nsfwjs's MobileNetV2 layers model.
// Weights are written dequantized, as float32, in one shard.
"use strict";

const fs = require("fs");
const path = require("path");

function readWeights(modelJSON, m) {
  const dir = path.dirname(modelJSON);
  const weights = new Map();
  for (const group of m.weightsManifest) {
    const buf = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    let off = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const q = w.quantization;
      const out = new Float32Array(n);
      if (q) {
        const bytes = q.dtype === "uint8" ? 1 : 2;
        for (let i = 0; i < n; i++) {
          const v = bytes === 1 ? buf[off + i] : buf.readUInt16LE(off + 2 * i);
          out[i] = v * q.scale + q.min;
        }
        off += n * bytes;
      } else {
        if (w.dtype !== "float32") throw new Error(`${modelJSON}: weight ${w.name} has dtype ${w.dtype}`);
        for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(off + 4 * i);
        off += 4 * n;
      }
      weights.set(w.name, { shape: w.shape, data: out });
    }
  }
  return weights;
}

function main() {
  const [input, outDir] = process.argv.slice(2);
  if (!input || !outDir) {
    console.error("usage: node fold-bn-layers.js IN/model.json OUTDIR");
    process.exit(2);
  }
  const m = JSON.parse(fs.readFileSync(input, "utf8"));
  const weights = readWeights(input, m);
  const config = m.modelTopology.model_config.config;
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  const consumers = new Map();
  for (const l of config.layers) {
    for (const node of l.inbound_nodes) for (const [src] of node) consumers.set(src, (consumers.get(src) || 0) + 1);
  }
  const rename = new Map(); // folded BN name -> the convolution now producing its value
  let folded = 0;
  config.layers = config.layers.filter((bn) => {
    if (bn.class_name !== "BatchNormalization" || bn.inbound_nodes.length !== 1 || bn.inbound_nodes[0].length !== 1) return true;
    const conv = byName.get(bn.inbound_nodes[0][0][0]);
    if (!conv || !["Conv2D", "DepthwiseConv2D"].includes(conv.class_name) || consumers.get(conv.name) !== 1 ||
        conv.config.activation !== "linear" || ![-1, 3].includes(bn.config.axis)) return true;
    const kname = `${conv.name}/${conv.class_name === "Conv2D" ? "kernel" : "depthwise_kernel"}`;
    const k = weights.get(kname);
    const get = (n) => weights.get(`${bn.name}/${n}`).data;
    const [gamma, beta, mean, variance] = ["gamma", "beta", "moving_mean", "moving_variance"].map(get);
    const channels = gamma.length;
    const s = new Float32Array(channels);
    for (let c = 0; c < channels; c++) s[c] = gamma[c] / Math.sqrt(variance[c] + bn.config.epsilon);
    // The output channel is the flat index modulo the channel count (HWIO,
    // or HW C M for a depthwise kernel with multiplier M).
    for (let i = 0; i < k.data.length; i++) k.data[i] *= s[i % channels];
    const bias = new Float32Array(channels);
    const old = conv.config.use_bias ? weights.get(`${conv.name}/bias`).data : new Float32Array(channels);
    for (let c = 0; c < channels; c++) bias[c] = (old[c] - mean[c]) * s[c] + beta[c];
    weights.set(`${conv.name}/bias`, { shape: [channels], data: bias });
    conv.config.use_bias = true;
    conv.config.bias_initializer = conv.config.bias_initializer || { class_name: "Zeros", config: {} };
    for (const n of ["gamma", "beta", "moving_mean", "moving_variance"]) weights.delete(`${bn.name}/${n}`);
    rename.set(bn.name, conv.name);
    folded++;
    return false;
  });
  const fix = (ref) => { if (rename.has(ref[0])) ref[0] = rename.get(ref[0]); };
  for (const l of config.layers) for (const node of l.inbound_nodes) node.forEach(fix);
  config.output_layers.forEach(fix);

  fs.mkdirSync(outDir, { recursive: true });
  const specs = [];
  const bufs = [];
  for (const [name, w] of weights) {
    specs.push({ name, shape: w.shape, dtype: "float32" });
    bufs.push(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength));
  }
  fs.writeFileSync(path.join(outDir, "group1-shard1of1.bin"), Buffer.concat(bufs));
  m.weightsManifest = [{ paths: ["group1-shard1of1.bin"], weights: specs }];
  fs.writeFileSync(path.join(outDir, "model.json"), JSON.stringify(m));
  console.log(`${path.join(outDir, "model.json")}: ${folded} batch norms folded`);
}

main();
