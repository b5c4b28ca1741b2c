#!/usr/bin/env node
// tm-import-check.js: a real Teachable Machine export, made by
// @teachablemachine/image 0.8.5 itself in headless Chromium, converted by
// `glimpse convert` and compared with the library's own predictions.
//
// The library's base model is fetched from its checkpointUrl, which here
// points at a locally served MobileNetV2 (nsfwjs's, decoded by make into
// build/nsfwjs/mobilenet_v2) truncated at out_relu, as Teachable Machine
// truncates its own. In the page the library records three classes from
// the test photos (each as itself, mirrored and shifted), trains its head
// (seeded; TF.js's wasm backend), and saves model.json, weights.bin and
// metadata.json, zipped as the Teachable Machine site exports them. The
// library then loads
// that export back (tmImage.load) and predicts every 224x224 test photo,
// which it sees pixel for pixel (its centred square is the whole picture).
// `glimpse convert` reads the zip and the unpacked folder, and `glimpse
// predict` on each converted file must give the library's probabilities
// within 1e-4, with its class names; so must glimpse.js's load() and
// classify() on the converted zip, in the same page on the same <img>s.
//
// usage: node tools/js/tm-import-check.js   (after make builds bin/glimpse
// and dist/ and decodes build/nsfwjs; needs Debian's chromium and python3)
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const net = require("net");
const { spawn, execFileSync } = require("child_process");
const { chromium } = require("playwright-core");
const { PNG } = require("pngjs");

const ROOT = path.resolve(__dirname, "..", "..");
const GLIMPSE = path.join(ROOT, "bin", "glimpse");
const BASE = path.join(ROOT, "build", "nsfwjs", "mobilenet_v2");
const PHOTOS = path.join(ROOT, "tools", "convert", "testdata", "photos");
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];
// The JavaScript library's files, as make builds them into dist/.
const DIST = path.join(ROOT, "dist");
const LIBRARY = ["glimpse.js", "glimpse.wasm", "wasm_exec.js", "loader.mjs", "kernels.wasm", "kernels_relaxed.wasm"];
const CLASSES = { cat: "chelsea.png", rocket: "rocket.png", coffee: "coffee.png" };

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ` (${detail})` : ""}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on("error", reject);
  });
}

async function serve(dir) {
  const port = await freePort();
  const srv = spawn(GLIMPSE, ["serve", dir, "--addr", `127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return { srv, origin: `http://127.0.0.1:${port}` };
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  srv.kill();
  throw new Error("the server did not start");
}

function glimpse(...args) {
  return execFileSync(GLIMPSE, args, { encoding: "utf8" });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "glimpse-tm-import-"));
  const mods = path.join(__dirname, "node_modules");
  fs.copyFileSync(path.join(mods, "@tensorflow", "tfjs", "dist", "tf.min.js"), path.join(dir, "tf.min.js"));
  fs.copyFileSync(path.join(mods, "@teachablemachine", "image", "dist", "teachablemachine-image.min.js"), path.join(dir, "tm.min.js"));
  // TF.js's wasm backend (XNNPACK), many times faster than its CPU
  // backend on MobileNetV2 and as exact for this comparison.
  const wasmDist = path.join(mods, "@tensorflow", "tfjs-backend-wasm", "dist");
  for (const f of fs.readdirSync(wasmDist).filter((f) => f === "tf-backend-wasm.min.js" || f.endsWith(".wasm"))) {
    fs.copyFileSync(path.join(wasmDist, f), path.join(dir, f));
  }
  fs.mkdirSync(path.join(dir, "base"));
  for (const f of fs.readdirSync(BASE)) fs.copyFileSync(path.join(BASE, f), path.join(dir, "base", f));
  // The photos are written again without their colour profiles (some
  // carry one): the browser applies a profile, Glimpse's decoder does
  // not, and the comparison is of the models, on the same pixels.
  const photos = fs.readdirSync(PHOTOS).filter((f) => f.endsWith(".png")).sort();
  for (const p of photos) {
    const png = PNG.sync.read(fs.readFileSync(path.join(PHOTOS, p)));
    fs.writeFileSync(path.join(dir, p), PNG.sync.write(png, { colorType: 2 }));
  }
  fs.writeFileSync(path.join(dir, "index.html"), "<!doctype html><meta charset=utf-8><link rel=icon href=data:,><title>TM</title><script src=tf.min.js></script><script src=tf-backend-wasm.min.js></script><script src=tm.min.js></script>");
  const { srv, origin } = await serve(dir);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: FLAGS });
  try {
    const page = await browser.newPage();
    page.on("console", (m) => { if (m.type() === "error") console.log("page:", m.text()); });
    // Nothing may be fetched from anywhere but the local server.
    await page.route("**/*", (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
    await page.goto(origin + "/");

    const t0 = Date.now();
    // Record, train and save, as the Teachable Machine site does.
    const saved = await page.evaluate(async (classes) => {
      tf.wasm.setWasmPaths(location.origin + "/");
      await tf.setBackend("wasm");
      const model = await tmImage.createTeachable(
        { tfjsVersion: tf.version.tfjs, tmVersion: "2.4.10", packageVersion: "0.8.5", packageName: "@teachablemachine/image", modelName: "tm-my-image-model", imageSize: 224 },
        { checkpointUrl: "base/model.json", trainingLayer: "out_relu" });
      model.setLabels(Object.keys(classes));
      model.setSeed("glimpse");
      const names = Object.values(classes);
      for (let c = 0; c < names.length; c++) {
        const img = new Image();
        img.src = names[c];
        await img.decode();
        for (const [flip, shift] of [[false, 0], [true, 0], [false, 16], [true, -16]]) {
          const canvas = document.createElement("canvas");
          canvas.width = canvas.height = 224;
          const ctx = canvas.getContext("2d");
          if (flip) { ctx.translate(224, 0); ctx.scale(-1, 1); }
          ctx.drawImage(img, shift, shift / 2);
          await model.addExample(c, canvas);
        }
      }
      await model.train({ denseUnits: 100, epochs: 30, learningRate: 0.001, batchSize: 16 });
      let artifacts;
      await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } }; }));
      const bytes = new Uint8Array(artifacts.weightData);
      let bin = "";
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return {
        model: { modelTopology: artifacts.modelTopology, format: artifacts.format, generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy,
          weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }] },
        weights: btoa(bin),
        metadata: model.getMetadata(),
      };
    }, CLASSES);
    console.log(`recorded, trained and saved in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const exp = path.join(dir, "export");
    fs.mkdirSync(exp);
    fs.writeFileSync(path.join(exp, "model.json"), JSON.stringify(saved.model));
    fs.writeFileSync(path.join(exp, "weights.bin"), Buffer.from(saved.weights, "base64"));
    fs.writeFileSync(path.join(exp, "metadata.json"), JSON.stringify(saved.metadata));
    const top = saved.model.modelTopology;
    const outer = (top.model_config || top).config.layers || [];
    check("the export nests models as Teachable Machine's do (a Sequential of a Sequential around a functional model, then the head)",
      (top.model_config || top).class_name === "Sequential" && outer.length === 2 && outer[0].class_name === "Sequential" &&
      outer[0].config.layers.some((l) => l.class_name === "Model" || l.class_name === "Functional"),
      outer.map((l) => l.class_name).join(", "));
    const zip = path.join(dir, "export.zip");
    execFileSync("python3", ["-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n  for f in ('model.json', 'weights.bin', 'metadata.json'): z.write(sys.argv[2] + '/' + f, f)", zip, exp]);

    // The library loads its export back and predicts every photo.
    const want = await page.evaluate(async (photos) => {
      const model = await tmImage.load("export/model.json", "export/metadata.json");
      const out = {};
      for (const name of photos) {
        const img = new Image();
        img.src = name;
        await img.decode();
        out[name] = await model.predict(img);
      }
      return out;
    }, photos);

    console.log(`the library predicted ${photos.length} photos; ${((Date.now() - t0) / 1000).toFixed(1)} s in all`);
    for (const [what, src] of [["the zip", zip], ["the unpacked folder's model.json", path.join(exp, "model.json")]]) {
      const out = path.join(dir, `tm-${path.basename(src)}.glimpse`);
      const summary = glimpse("convert", src, "-o", out);
      check(`glimpse convert reads ${what} with metadata.json's labels`, summary.includes("labels: metadata.json (3)") && summary.includes("from teachable-machine"), summary.trim());
      const got = JSON.parse(glimpse("predict", "-m", out, "--json", "--top", "3", ...photos.map((p) => path.join(dir, p))));
      let diff = 0;
      let names = true;
      let same = true;
      got.results.forEach((r, i) => {
        const ref = want[photos[i]];
        for (const p of ref) {
          const g = r.predictions.find((q) => q.className === p.className);
          if (!g) names = false;
          else diff = Math.max(diff, Math.abs(g.probability - p.probability));
        }
        const best = ref.reduce((a, b) => (b.probability > a.probability ? b : a));
        if (r.predictions[0].className !== best.className) same = false;
      });
      check(`... predicts with the export's class names (${what})`, names, JSON.stringify(got.results[0].predictions));
      check(`... the library's top-1 on all ${photos.length} photos (${what})`, same);
      check(`... and its probabilities within 1e-4 (${what})`, diff <= 1e-4, `largest difference ${diff.toExponential(2)}`);
    }

    // The JavaScript API on the converted file, in the same page: load()
    // and classify() on the same <img> elements the library predicted.
    for (const f of LIBRARY) fs.copyFileSync(path.join(DIST, f), path.join(dir, f));
    const js = await page.evaluate(async (photos) => {
      const { load } = await import("/glimpse.js");
      const model = await load("tm-export.zip.glimpse");
      const out = {};
      for (const name of photos) {
        const img = new Image();
        img.src = name;
        await img.decode();
        out[name] = await model.classify(img, { topk: 0 });
      }
      model.dispose();
      return out;
    }, photos);
    let jsDiff = 0;
    let jsNames = true;
    for (const name of photos) {
      for (const p of want[name]) {
        const g = js[name].find((q) => q.className === p.className);
        if (!g) jsNames = false;
        else jsDiff = Math.max(jsDiff, Math.abs(g.probability - p.probability));
      }
    }
    check(`glimpse.js's load() and classify() on the converted file give the export's class names`, jsNames, JSON.stringify(js[photos[0]]));
    check(`... and the library's probabilities on all ${photos.length} photos within 1e-4`, jsDiff <= 1e-4, `largest difference ${jsDiff.toExponential(2)}`);
  } finally {
    await browser.close();
    srv.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
