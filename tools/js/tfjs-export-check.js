// Runs a TF.js layers model written by core/tfjsexport on one input with
// TF.js itself (the CPU backend), as the independent reference for the
// exporter's Go test.
//
// usage: node tools/js/tfjs-export-check.js DIR
// DIR holds model.json, weights.bin and input.bin (float32 HWC, little
// endian, one sample of the model's input shape). Prints
// {"outputs": [[...], ...]} in the model's output order, or exits non-zero
// with the error.
"use strict";

const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs");

async function main() {
  const dir = process.argv[2];
  const model = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  const bin = fs.readFileSync(path.join(dir, "weights.bin"));
  const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const handler = {
    load: async () => ({
      modelTopology: model.modelTopology,
      format: model.format,
      generatedBy: model.generatedBy,
      convertedBy: model.convertedBy,
      weightSpecs: model.weightsManifest.flatMap((g) => g.weights),
      weightData,
    }),
  };
  await tf.setBackend("cpu");
  const m = await tf.loadLayersModel(handler, { strict: true });
  const shape = m.inputs[0].shape.slice(1);
  const raw = fs.readFileSync(path.join(dir, "input.bin"));
  const x = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [1, ...shape]);
  let ys = m.predict(x);
  if (!Array.isArray(ys)) ys = [ys];
  const outputs = [];
  for (const y of ys) outputs.push(Array.from(await y.data()));
  process.stdout.write(JSON.stringify({ outputs }));
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
