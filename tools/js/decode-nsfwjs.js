#!/usr/bin/env node
// decode-nsfwjs.js OUTDIR
//
// nsfwjs@4.4.0 ships its models as JavaScript bundles: model.min.js holds
// the model.json object and each group1-shardNofM.min.js holds one weight
// shard as a base64 string. This script writes them back out in the
// standard TF.js layout (OUTDIR/<name>/model.json and the binary shards
// beside it) so that the converter and tf.loadLayersModel/loadGraphModel
// read the very same files.
//
//   mobilenet_v2      nsfwjs's "MobileNetV2": a Keras layers model, MobileNetV2 1.0 at 224
//   mobilenet_v2_mid  nsfwjs's "MobileNetV2Mid": a graph model, MobileNetV2 1.4 at 224
//   inception_v3      nsfwjs's "InceptionV3": a Keras layers model at 299, the Inception family's real weights
//
// The package's "exports" field blocks require.resolve of these files, so
// they are read by path under node_modules.
'use strict';

const fs = require('fs');
const path = require('path');

const MODELS = ['mobilenet_v2', 'mobilenet_v2_mid', 'inception_v3'];

function main() {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node decode-nsfwjs.js OUTDIR');
    process.exit(2);
  }
  const src = path.join(__dirname, 'node_modules', 'nsfwjs', 'dist', 'models');
  for (const name of MODELS) {
    const dir = path.join(src, name);
    const model = require(path.join(dir, 'model.min.js'));
    if (!model || !model.modelTopology || !Array.isArray(model.weightsManifest)) {
      throw new Error(`${dir}/model.min.js: no modelTopology or weightsManifest`);
    }
    const dst = path.join(out, name);
    fs.mkdirSync(dst, { recursive: true });
    let bytes = 0;
    for (const group of model.weightsManifest) {
      for (const shard of group.paths) {
        const b64 = require(path.join(dir, `${shard}.min.js`));
        if (typeof b64 !== 'string') {
          throw new Error(`${dir}/${shard}.min.js: not a base64 string`);
        }
        const buf = Buffer.from(b64, 'base64');
        writeAtomic(path.join(dst, shard), buf);
        bytes += buf.length;
      }
    }
    writeAtomic(path.join(dst, 'model.json'), JSON.stringify(model));
    console.log(`${dst}: model.json + ${bytes} bytes of weights`);
  }
}

// writeAtomic writes to a temporary file and renames it, so an interrupted
// run never leaves a truncated shard that looks complete.
function writeAtomic(file, data) {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

main();
