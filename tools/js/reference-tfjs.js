#!/usr/bin/env node
// reference-tfjs.js MODELDIR PHOTODIR OUT.json
//
// Computes the golden test's reference outputs with TensorFlow.js itself:
// for each decoded nsfwjs model (MODELDIR/mobilenet_v2, a layers model, and
// MODELDIR/mobilenet_v2_mid, a graph model; see decode-nsfwjs.js) and each
// PNG in PHOTODIR, the final probabilities and the pooled features (the
// output of the global average pooling before the classifier).
//
// The input is fed exactly as nsfwjs feeds it: the photos are already
// 224x224, so there is no resize; each channel value v becomes v/255 in
// float32 and the batch is [1, 224, 224, 3]. The graph model maps [0, 1] to
// [-1, 1] itself with its leading Mul/Sub.
//
// The CPU backend is plain JavaScript with a fixed evaluation order, so the
// output is the same on every run; numbers are written with 7 significant
// digits, far below the test's tolerances.
//
//   node tools/js/reference-tfjs.js build/nsfwjs tools/convert/testdata/photos tools/convert/testdata/reference-tfjs.json
'use strict';

const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { PNG } = require('pngjs');

const SIZE = 224;

// readArtifacts reads a TF.js model.json and its shards (paths relative to
// model.json, concatenated in manifest order) without any converter code.
function readArtifacts(modelJSON) {
  const m = JSON.parse(fs.readFileSync(modelJSON, 'utf8'));
  const dir = path.dirname(modelJSON);
  const specs = [];
  const bufs = [];
  for (const group of m.weightsManifest) {
    for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  return {
    json: m,
    artifacts: {
      modelTopology: m.modelTopology,
      format: m.format,
      generatedBy: m.generatedBy,
      convertedBy: m.convertedBy,
      weightSpecs: specs,
      weightData,
    },
  };
}

function readPhoto(file) {
  const png = PNG.sync.read(fs.readFileSync(file));
  if (png.width !== SIZE || png.height !== SIZE) {
    throw new Error(`${file}: ${png.width}x${png.height}, want ${SIZE}x${SIZE}`);
  }
  const x = new Float32Array(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) {
    for (let c = 0; c < 3; c++) x[i * 3 + c] = png.data[i * 4 + c] / 255;
  }
  return tf.tensor4d(x, [1, SIZE, SIZE, 3]);
}

const round = (a) => Array.from(a, (v) => Number(v.toPrecision(7)));

async function layersModel(dir) {
  const { artifacts } = readArtifacts(path.join(dir, 'model.json'));
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  // The pooled features: the last global pooling layer (an AveragePooling2D
  // whose window covers the whole 7x7 map in nsfwjs's MobileNetV2).
  const pools = model.layers.filter((l) =>
    ['GlobalAveragePooling2D', 'AveragePooling2D'].includes(l.getClassName()));
  const pool = pools[pools.length - 1];
  const both = tf.model({ inputs: model.inputs, outputs: [pool.output, model.outputs[0]] });
  return {
    info: { format: 'layers-model', pool: pool.name, output: model.outputs[0].name.replace(/\/.*$/, '') },
    run: (x) => both.predict(x),
  };
}

async function graphModel(dir) {
  const { json, artifacts } = readArtifacts(path.join(dir, 'model.json'));
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  const nodes = json.modelTopology.node;
  const pools = nodes.filter((n) => n.op === 'AvgPool' || n.op === 'Mean');
  const pool = pools[pools.length - 1].name;
  const output = model.outputNodes[0];
  return {
    info: { format: 'graph-model', pool, output },
    run: (x) => model.execute(x, [pool, output]),
  };
}

async function main() {
  const [modelDir, photoDir, out] = process.argv.slice(2);
  if (!out) {
    console.error('usage: node reference-tfjs.js MODELDIR PHOTODIR OUT.json');
    process.exit(2);
  }
  await tf.setBackend('cpu');
  const photos = fs.readdirSync(photoDir).filter((f) => f.endsWith('.png')).sort();
  const result = {
    generator: `tools/js/reference-tfjs.js, @tensorflow/tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}`,
    input: 'PNG channel values v as v/255, float32, [1, 224, 224, 3], no resize',
    models: {},
  };
  for (const [name, load] of [['mobilenet_v2', layersModel], ['mobilenet_v2_mid', graphModel]]) {
    const m = await load(path.join(modelDir, name));
    const entry = { ...m.info, photos: {} };
    for (const photo of photos) {
      const x = readPhoto(path.join(photoDir, photo));
      const [pooled, probs] = m.run(x);
      entry.photos[photo] = {
        probabilities: round(await probs.data()),
        features: round(await pooled.data()),
      };
      tf.dispose([x, pooled, probs]);
      console.error(`${name} ${photo}`);
    }
    result.models[name] = entry;
  }
  // One line per number array keeps the file small and its diffs readable.
  const text = JSON.stringify(result, null, 1)
    .replace(/\[\s*([-+0-9.e,\s]+?)\s*\]/g, (_, a) => `[${a.replace(/\s+/g, '')}]`);
  fs.writeFileSync(out, text + '\n');
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
