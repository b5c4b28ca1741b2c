// Runs a TF.js layers model written by core/tfjsexport on one input with
// TF.js itself (the CPU backend), as the independent reference for the
// exporter's Go test.
//
// usage: node tools/js/tfjs-export-check.js DIR...
// Each DIR holds model.json, weights.bin and input.bin (float32 HWC, little
// endian, one sample of the model's input shape). Prints one line per DIR,
// {"outputs": [[...], ...]} in the model's output order, or exits non-zero
// with the error (naming the DIR). Several DIRs share one start of TF.js.
"use strict";

const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs");

async function run(dir) {
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
  const m = await tf.loadLayersModel(handler, { strict: true });
  const shape = m.inputs[0].shape.slice(1);
  const raw = fs.readFileSync(path.join(dir, "input.bin"));
  const x = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [1, ...shape]);
  let ys = m.predict(x);
  if (!Array.isArray(ys)) ys = [ys];
  const outputs = [];
  for (const y of ys) outputs.push(Array.from(await y.data()));
  process.stdout.write(JSON.stringify({ outputs }) + "\n");
}

async function main() {
  await tf.setBackend("cpu");
  for (const dir of process.argv.slice(2)) {
    try {
      await run(dir);
    } catch (e) {
      e.message = `${dir}: ${e.message}`;
      throw e;
    }
  }
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
