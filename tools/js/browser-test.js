// End-to-end test of the JavaScript API (dist/glimpse.js) in headless
// Chromium, against the native CLI as the reference:
//
//   - a classifier converted from nsfwjs's MobileNetV2 (its content-moderation
//     head is fine inside a test, never shown in a page) classifies real
//     photographs through every input type the API takes; PNGs of several
//     sizes must match `glimpse predict --json --top 0` within 1e-4, JPEGs
//     must agree on the top class and within 1e-2 (Chromium's and Go's JPEG
//     decoders differ slightly), and only glimpse.wasm is fetched for it
//     (glimpse-classifier.wasm waits for the first model.classifier());
//   - the default backbone's embed() matches the CLI's embedding, and its
//     classify() is refused;
//   - bad input (a 404, a truncated model, a zero-size image, a video not
//     yet playing) rejects with a clear message and the next call works;
//   - the wasm memory stays flat across 1,000 classifications;
//   - model.classifier() on the default backbone, trained on photos and
//     flipped and cropped copies, gives the probabilities of `glimpse train`
//     on the same pictures with the same seed within 1e-4; its export loads
//     back and classifies as its predict() does within 1e-5; bad calls
//     reject clearly; and training on 2 x 100 cached samples is timed;
//   - (the README's two examples run in package-test.js, on the npm
//     package's files);
//   - the demo page loads the default model, embeds a picked image and the
//     (fake) webcam, logs no console error and requests nothing from another
//     origin.
//
// Needs `make` (dist/, bin/glimpse) and the decoded nsfwjs models. Prints
// one line per check and "N passed, N failed" last; exits 1 on a failure.
//
//   node tools/js/browser-test.js [--keep]   (--keep leaves the temp site)
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { execFileSync } = require("child_process");
const { root, launch, serve } = require("./browser");

const bin = path.join(root, "bin", "glimpse");
const dist = path.join(root, "dist");
const photos = path.join(root, "tools", "convert", "testdata", "photos");
const nsfwModel = path.join(root, "build", "nsfwjs", "mobilenet_v2", "model.json");
const defaultModel = "models/mobilenet_v2_1.0_224.glimpse";
const screenshot = path.join(root, "build", "browser-test", "demo.png");

let passed = 0;
let failed = 0;

function check(name, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`ok   ${name}${detail ? ` (${detail})` : ""}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ""}`);
  }
}

// maxDiff compares two prediction lists class by class.
function maxDiff(got, want) {
  const g = new Map(got.map((p) => [p.className, p.probability]));
  if (g.size !== want.length) return Infinity;
  let d = 0;
  for (const p of want) {
    if (!g.has(p.className)) return Infinity;
    d = Math.max(d, Math.abs(g.get(p.className) - p.probability));
  }
  return d;
}

function cli(...args) {
  return JSON.parse(execFileSync(bin, args, { maxBuffer: 64 << 20 }).toString());
}

async function main() {
  for (const f of [bin, path.join(dist, "glimpse.js"), path.join(dist, defaultModel), nsfwModel]) {
    if (!fs.existsSync(f)) throw new Error(`${path.relative(root, f)} is missing: run make (and the nsfwjs decode) first`);
  }
  const site = fs.mkdtempSync(path.join(os.tmpdir(), "glimpse-browser-"));
  fs.cpSync(dist, site, { recursive: true });
  const t = path.join(site, "t");
  fs.mkdirSync(path.join(t, "img"), { recursive: true });
  fs.writeFileSync(path.join(t, "blank.html"), '<!doctype html><meta charset="utf-8"><title>glimpse test</title><link rel="icon" href="data:,">');

  // The classifier under test, converted as a user would, head kept.
  const model = path.join(t, "classifier.glimpse");
  const labels = path.join(t, "labels.txt");
  fs.writeFileSync(labels, "Drawing\nHentai\nNeutral\nPorn\nSexy\n"); // nsfwjs's class order
  execFileSync(bin, ["convert", nsfwModel, "--dtype", "f32", "--labels", labels, "-o", model]);
  const bytes = fs.readFileSync(model);
  fs.writeFileSync(path.join(t, "truncated.glimpse"), bytes.subarray(0, bytes.length >> 1));

  const server = await serve(site);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => check("no uncaught page error", false, e.message));
    await page.goto(`${server.url}t/blank.html`);

    // Test images: the photos as they are (224x224 PNG), and re-encoded
    // by the browser at other sizes as PNG (lossless) and JPEG.
    const names = fs.readdirSync(photos).filter((f) => f.endsWith(".png")).map((f) => f.slice(0, -4)).sort();
    for (const n of names) fs.copyFileSync(path.join(photos, `${n}.png`), path.join(t, "img", `${n}.png`));
    const made = await page.evaluate(async (names) => {
      const out = [];
      for (const n of names) {
        const bmp = await createImageBitmap(await (await fetch(`img/${n}.png`)).blob());
        for (const [w, h, type] of [[300, 200, "png"], [150, 170, "png"], [224, 224, "jpeg"], [300, 200, "jpeg"]]) {
          const c = new OffscreenCanvas(w, h);
          c.getContext("2d").drawImage(bmp, 0, 0, w, h);
          const blob = await c.convertToBlob({ type: `image/${type}`, quality: 0.9 });
          const b = new Uint8Array(await blob.arrayBuffer());
          let s = "";
          for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
          out.push({ file: `${n}_${w}x${h}.${type === "jpeg" ? "jpg" : "png"}`, data: btoa(s) });
        }
      }
      return out;
    }, names);
    for (const m of made) fs.writeFileSync(path.join(t, "img", m.file), Buffer.from(m.data, "base64"));
    const files = fs.readdirSync(path.join(t, "img")).sort();

    // The reference: the native CLI on the very same files.
    const ref = new Map();
    for (const r of cli("predict", "-m", model, "--json", "--top", "0", ...files.map((f) => path.join(t, "img", f))).results) {
      ref.set(path.basename(r.image), r.predictions);
    }

    // Load with progress; classify every file through an <img>.
    const loaded = await page.evaluate(async () => {
      const { load, runtimeInfo } = await import("/glimpse.js");
      const progress = [];
      window.classifier = await load("classifier.glimpse", { onProgress: (f) => progress.push(f) });
      window.glimpseAPI = { load, runtimeInfo };
      return { progress, info: window.classifier.info(), rt: await runtimeInfo() };
    });
    const pr = loaded.progress;
    check("load reports progress from 0 to 1, never backwards",
      pr.length >= 2 && pr[0] === 0 && pr[pr.length - 1] === 1 && pr.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= pr[i - 1])) &&
      pr.filter((f) => f === 1).length === 1, `${pr.length} calls`);
    check("info() describes the model",
      loaded.info.labels.join() === "Drawing,Hentai,Neutral,Porn,Sexy" && loaded.info.inputSize.join() === "224,224,3" && loaded.info.params > 2e6 &&
      loaded.info.embeddingSize === 1280 && loaded.info.hasClassifier, JSON.stringify({ ...loaded.info, labels: undefined }));
    check("the SIMD kernels run in Chromium", loaded.rt.simd !== "none" && /simd/.test(loaded.info.kernels),
      `${loaded.rt.simd}, ${loaded.info.kernels}, ${loaded.rt.goVersion}`);

    const classifyURL = (file, via) => page.evaluate(async ([file, via]) => {
      const img = new Image();
      img.src = `img/${file}`;
      await img.decode();
      let x = img;
      if (via === "bitmap") x = await createImageBitmap(await (await fetch(img.src)).blob(), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
      if (via === "canvas" || via === "imagedata") {
        const c = document.createElement("canvas");
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        c.getContext("2d").drawImage(x, 0, 0);
        x = via === "canvas" ? c : c.getContext("2d").getImageData(0, 0, c.width, c.height);
      }
      if (via === "blob") x = await (await fetch(img.src)).blob();
      return window.classifier.classify(x, { topk: 0 });
    }, [file, via]);

    let worstPNG = 0;
    let worstJPEG = 0;
    for (const f of files) {
      const got = await classifyURL(f, "img");
      const want = ref.get(f);
      const d = maxDiff(got, want);
      if (f.endsWith(".png")) {
        worstPNG = Math.max(worstPNG, d);
        if (!(d <= 1e-4)) check(`PNG ${f} matches the CLI within 1e-4`, false, `max difference ${d}`);
      } else {
        worstJPEG = Math.max(worstJPEG, d);
        const sameTop = got[0].className === want[0].className;
        if (!(d <= 1e-2 && sameTop)) check(`JPEG ${f} has the CLI's top class, within 1e-2`, false, `top ${got[0].className} vs ${want[0].className}, max difference ${d}`);
      }
    }
    const nPNG = files.filter((f) => f.endsWith(".png")).length;
    check(`${nPNG} PNGs (224x224, 300x200, 150x170) match the CLI within 1e-4`, worstPNG <= 1e-4, `worst ${worstPNG.toExponential(2)}`);
    check(`${files.length - nPNG} JPEGs have the CLI's top class and match within 1e-2`, worstJPEG <= 1e-2, `worst ${worstJPEG.toExponential(2)}`);

    for (const via of ["bitmap", "canvas", "imagedata", "blob"]) {
      const f = files.find((x) => x.endsWith("_300x200.png"));
      const d = maxDiff(await classifyURL(f, via), ref.get(f));
      check(`classify(${via}) of ${f} matches the CLI within 1e-4`, d <= 1e-4, `max difference ${d.toExponential(2)}`);
    }
    const top3 = await page.evaluate(async () => {
      const img = new Image();
      img.src = "img/dog.png";
      await img.decode();
      return [await window.classifier.classify(img), await window.classifier.classify(img, { topk: 3 })];
    });
    check("topk defaults to 5 and is honoured", top3[0].length === 5 && top3[1].length === 3 &&
      top3[1].every((p, i) => p.className === top3[0][i].className && (i === 0 || p.probability <= top3[1][i - 1].probability)));
    // Loading and classifying take glimpse.wasm alone: the classifier's
    // program (training, export) comes with the first model.classifier().
    const lean = await page.evaluate(() => performance.getEntriesByType("resource").map((r) => new URL(r.name).pathname));
    check("load() and classify() fetch glimpse.wasm, not glimpse-classifier.wasm",
      lean.includes("/glimpse.wasm") && !lean.includes("/glimpse-classifier.wasm"), lean.filter((p) => p.endsWith(".wasm")).join(" "));

    // The pure-Go kernels agree with the SIMD ones.
    {
      const f = files.find((x) => x.endsWith("_150x170.png"));
      const got = await page.evaluate(async (file) => {
        const m = await window.glimpseAPI.load("classifier.glimpse", { simd: false });
        const img = new Image();
        img.src = `img/${file}`;
        await img.decode();
        const r = await m.classify(img, { topk: 0 });
        const k = m.info().kernels;
        m.dispose();
        return { r, k };
      }, f);
      const d = maxDiff(got.r, ref.get(f));
      check("load({simd: false}) runs the pure-Go kernels and matches the CLI within 1e-4", got.k === "go" && d <= 1e-4, `${got.k}, ${d.toExponential(2)}`);
    }

    // The default backbone: embed() against the CLI's embedding.
    {
      const f = files.find((x) => x.endsWith("_300x200.png"));
      const want = cli("predict", "-m", path.join(dist, defaultModel), "--json", f && path.join(t, "img", f)).results[0].embedding;
      const got = await page.evaluate(async ([url, file]) => {
        const m = await window.glimpseAPI.load(url);
        const img = new Image();
        img.src = `img/${file}`;
        await img.decode();
        const e = await m.embed(img);
        let refused = "";
        await m.classify(img).catch((err) => { refused = err.message; });
        const info = m.info();
        m.dispose();
        return { e: Array.from(e), isF32: e instanceof Float32Array, refused, info };
      }, [`/${defaultModel}`, f]);
      let d = 0;
      let scale = 0;
      for (let i = 0; i < want.length; i++) {
        d = Math.max(d, Math.abs(got.e[i] - want[i]));
        scale = Math.max(scale, Math.abs(want[i]));
      }
      check("the default backbone's embed() matches the CLI within 1e-4 of its largest feature",
        got.isF32 && got.e.length === want.length && got.e.length === got.info.embeddingSize && d <= 1e-4 * scale,
        `${got.e.length} features, max difference ${d.toExponential(2)} of ${scale.toFixed(2)}`);
      // The runtime runs in a dedicated Worker too: glimpse.js imported
      // there embeds the same file, handed over as a Blob, as the CLI does.
      const inWorker = await page.evaluate(async ([url, file]) => {
        const src = `import { load } from '${location.origin}/glimpse.js';
          onmessage = async (e) => {
            try { const m = await load('${location.origin}${url}'); postMessage(Array.from(await m.embed(e.data))); }
            catch (err) { postMessage(String(err.message)); }
          };`;
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: "text/javascript" })), { type: "module" });
        const blob = await (await fetch(`img/${file}`)).blob();
        const r = await new Promise((resolve) => { w.onmessage = (e) => resolve(e.data); w.postMessage(blob); });
        w.terminate();
        return r;
      }, [`/${defaultModel}`, f]);
      let dw = Array.isArray(inWorker) ? 0 : Infinity;
      if (Array.isArray(inWorker)) want.forEach((v, i) => { dw = Math.max(dw, Math.abs(inWorker[i] - v)); });
      check("the runtime runs in a dedicated Worker: embed() there matches the CLI within 1e-4 of its largest feature",
        dw <= 1e-4 * scale, Array.isArray(inWorker) ? `max difference ${dw.toExponential(2)}` : inWorker);
      check("classify() on a backbone rejects: no classes", /this model has no classes; use embed\(\) or train a classifier/.test(got.refused), got.refused);
      check("the backbone's info() has no labels and no classifier", got.info.labels.length === 0 && !got.info.hasClassifier);
    }

    // Bad input rejects with a clear message; the next call still works.
    const bad = await page.evaluate(async () => {
      const { load } = window.glimpseAPI;
      const img = new Image();
      img.src = "img/dog.png";
      await img.decode();
      const out = {};
      const attempt = async (name, f) => {
        try {
          await f();
          out[name] = { message: null };
        } catch (e) {
          out[name] = { message: e.message, isError: e instanceof Error };
        }
        const after = await window.classifier.classify(img, { topk: 1 });
        out[name].after = after[0];
      };
      await attempt("404", () => load("no-such-model.glimpse"));
      await attempt("truncated", () => load("truncated.glimpse"));
      await attempt("not a model", () => load("blank.html"));
      await attempt("empty Blob", () => load(new Blob([])));
      await attempt("zero-size canvas", () => window.classifier.classify(Object.assign(document.createElement("canvas"), { width: 0, height: 0 })));
      await attempt("image without pixels", () => window.classifier.classify(new Image()));
      await attempt("video not playing", () => window.classifier.classify(document.createElement("video")));
      await attempt("not an image", () => window.classifier.classify({ width: 10, height: 10 }));
      await attempt("undecodable Blob", () => window.classifier.classify(new Blob(["not an image"], { type: "image/png" })));
      await attempt("negative topk", () => window.classifier.classify(img, { topk: -1 }));
      const disposed = await load("classifier.glimpse");
      disposed.dispose();
      await attempt("disposed model", () => disposed.classify(img));
      out.reference = (await window.classifier.classify(img, { topk: 1 }))[0];
      return out;
    });
    const expect = {
      "404": /no-such-model\.glimpse.*404/,
      "truncated": /truncated\.glimpse/,
      "not a model": /blank\.html/,
      "empty Blob": /empty/,
      "zero-size canvas": /0x0 pixels/,
      "image without pixels": /no pixels/,
      "video not playing": /video has no frame yet.*playing/,
      "not an image": /expected an HTMLImageElement/,
      "undecodable Blob": /could not decode/,
      "negative topk": /topk/,
      "disposed model": /disposed/,
    };
    for (const [name, re] of Object.entries(expect)) {
      const r = bad[name];
      check(`${name}: rejects with a clear message, and the next call works`,
        r && r.isError && re.test(r.message) && r.after && r.after.className === bad.reference.className &&
        Math.abs(r.after.probability - bad.reference.probability) < 1e-9, r && r.message);
    }

    // load(url, {worker: true}): the same runtime in a dedicated Worker,
    // held to the page's own: every kind of picture gives the same numbers,
    // a classifier trains there as here, bad input the same messages.
    const wk = await page.evaluate(async ([backbone, files]) => {
      const { load } = window.glimpseAPI;
      const out = { errors: {}, diffs: {} };
      const progress = [];
      const wb = await load(backbone, { worker: true, onProgress: (f) => progress.push(f) });
      out.progress = progress;
      const pb = await load(backbone);
      const wc = await load("classifier.glimpse", { worker: true });
      out.info = wc.info();
      const maxDiff = (a, b) => a.length === b.length ? a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i])), 0) : Infinity;
      const probs = (r) => r.slice().sort((a, b) => a.className < b.className ? -1 : 1).map((p) => p.probability);
      const pictures = async (file) => {
        const img = new Image();
        img.src = `img/${file}`;
        await img.decode();
        const c = document.createElement("canvas");
        c.width = img.naturalWidth;
        c.height = img.naturalHeight;
        c.getContext("2d").drawImage(img, 0, 0);
        const blob = await (await fetch(img.src)).blob();
        return {
          img, canvas: c, imagedata: c.getContext("2d").getImageData(0, 0, c.width, c.height), blob,
          bitmap: await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" }),
        };
      };
      for (const file of files) {
        const xs = await pictures(file);
        const e0 = await pb.embed(xs.blob);
        const e1 = await wb.embed(xs.blob);
        out.diffs[`embed ${file}`] = e1 instanceof Float32Array && e1.length === 1280 ? maxDiff(e0, e1) : Infinity;
        for (const [via, x] of Object.entries(xs)) {
          out.diffs[`classify ${file} ${via}`] = maxDiff(probs(await window.classifier.classify(x, { topk: 0 })), probs(await wc.classify(x, { topk: 0 })));
        }
        out.bitmapKept = xs.bitmap.width > 0; // the caller's ImageBitmap is not detached
      }
      // A classifier, trained in the Worker and on the page from the same examples and seed.
      const train = async (m) => {
        const clf = m.classifier({ head: "linear" });
        for (const [i, file] of files.entries()) {
          const xs = await pictures(file);
          await clf.addExample(xs.img, `c${i}`);
          await clf.addExample(xs.canvas, `c${i}`);
        }
        const epochs = [];
        const report = await clf.train({ seed: 1, epochs: 20, onEpoch: (e) => { epochs.push(e.epoch); } });
        const blob = await clf.export();
        const xs = await pictures(files[0]);
        const predicted = await clf.predict(xs.blob);
        clf.dispose();
        return { epochs, kept: report.kept, blob, predicted };
      };
      const tw = await train(wb);
      const tp = await train(pb);
      out.epochs = tw.epochs.length;
      out.predictDiff = maxDiff(probs(tw.predicted), probs(tp.predicted));
      const reloaded = await load(tw.blob, { worker: true });
      out.reloaded = { labels: reloaded.info().labels, top: (await reloaded.classify((await pictures(files[0])).blob, { topk: 1 }))[0].className };
      const exportedP = await load(tp.blob);
      out.exportDiff = maxDiff(probs(await reloaded.classify((await pictures(files[1])).img, { topk: 0 })), probs(await exportedP.classify((await pictures(files[1])).img, { topk: 0 })));
      reloaded.dispose();
      exportedP.dispose();
      // Bad input: the message the page's runtime gives, word for word.
      const img = (await pictures(files[0])).img;
      const disposedW = await load("classifier.glimpse", { worker: true });
      const disposedP = await load("classifier.glimpse");
      disposedW.dispose();
      disposedP.dispose();
      const bad = {
        "404": (m, w) => load("no-such-model.glimpse", { worker: w }),
        "zero-size canvas": (m) => m.classify(Object.assign(document.createElement("canvas"), { width: 0, height: 0 })),
        "image without pixels": (m) => m.classify(new Image()),
        "video not playing": (m) => m.classify(document.createElement("video")),
        "not an image": (m) => m.classify({ width: 10, height: 10 }),
        "a number": (m) => m.classify(42),
        "undecodable Blob": (m) => m.classify(new Blob(["not an image"], { type: "image/png" })),
        "negative topk": (m) => m.classify(img, { topk: -1 }),
        "disposed model": (m, w) => (w ? disposedW : disposedP).classify(img),
        "train with no examples": (m) => m.classifier().train(),
      };
      const message = async (f) => { try { await f(); return null; } catch (e) { return e instanceof Error ? e.message : `not an Error: ${e}`; } };
      for (const [name, f] of Object.entries(bad)) {
        out.errors[name] = [await message(() => f(window.classifier, false)), await message(() => f(wc, true))];
        if (name === "train with no examples") out.errors[name] = [await message(() => f(pb, false)), await message(() => f(wb, true))];
      }
      out.after = (await wc.classify(img, { topk: 1 }))[0].className === (await window.classifier.classify(img, { topk: 1 }))[0].className;
      wb.dispose();
      wc.dispose();
      pb.dispose();
      return out;
    }, [`/${defaultModel}`, ["dog.png", "eagle_300x200.png"]]);
    const wp = wk.progress;
    check("worker: load reports progress from 0 to 1", wp.length >= 2 && wp[0] === 0 && wp[wp.length - 1] === 1, `${wp.length} calls`);
    check("worker: info() as on the page", wk.info.labels.join() === "Drawing,Hentai,Neutral,Porn,Sexy" && wk.info.hasClassifier);
    for (const [name, d] of Object.entries(wk.diffs)) {
      check(`worker: ${name} equals the page's within 1e-6`, d <= 1e-6, `max difference ${d.toExponential(2)}`);
    }
    check("worker: the caller's ImageBitmap stays usable", wk.bitmapKept);
    check("worker: a classifier trains there (onEpoch each epoch) as on the page, and exports",
      wk.epochs === 20 && wk.predictDiff <= 1e-6 && wk.exportDiff <= 1e-6 && wk.reloaded.labels.join() === "c0,c1" && wk.reloaded.top === "c0",
      `${wk.epochs} epochs, predict differs by ${wk.predictDiff}, the export's classify by ${wk.exportDiff}, ${JSON.stringify(wk.reloaded)}`);
    for (const [name, [page, worker]] of Object.entries(wk.errors)) {
      check(`worker: ${name} rejects with the page's message`, page !== null && page === worker, `page: ${page}; worker: ${worker}`);
    }
    check("worker: the next call works after bad input", wk.after);

    // The wasm memory stays flat across 1,000 classifications (after a
    // warm-up that lets Go's heap reach its working size).
    const mem = await page.evaluate(async () => {
      const img = new Image();
      img.src = "img/eagle_300x200.png";
      await img.decode();
      const c = new OffscreenCanvas(150, 170);
      c.getContext("2d").drawImage(img, 0, 0, 150, 170);
      const data = c.getContext("2d").getImageData(0, 0, 150, 170);
      const inputs = [img, data];
      // Warm up past two of the runtime's periodic collections (every 100 calls).
      for (let i = 0; i < 200; i++) await window.classifier.classify(inputs[i % 2]);
      const before = (await window.glimpseAPI.runtimeInfo()).memoryBytes;
      const first = [];
      let same = true;
      for (let i = 0; i < 1000; i++) {
        const r = (await window.classifier.classify(inputs[i % 2], { topk: 2 }))[0];
        if (i < 2) first.push(r);
        else same = same && r.className === first[i % 2].className && r.probability === first[i % 2].probability;
      }
      const after = (await window.glimpseAPI.runtimeInfo()).memoryBytes;
      return { before, after, same };
    });
    check("wasm memory flat across 1,000 classifications", mem.after === mem.before,
      `${(mem.before / 2 ** 20).toFixed(1)} MB before, ${(mem.after / 2 ** 20).toFixed(1)} MB after`);
    check("1,000 classifications give identical answers", mem.same);
    await page.close();

    await classifierTest(server.url, site);
    await demoPage(server.url);
  } finally {
    await browser.close();
    server.close();
    if (!process.argv.includes("--keep")) fs.rmSync(site, { recursive: true, force: true });
    else console.log(`site kept in ${site}`);
  }
}

// classifierTest builds a classifier on the default backbone from the
// photos and flipped and cropped copies of them, and holds it to the CLI:
// `glimpse train` on the same pictures in class folders, with the same
// head, seed, epochs and validation fraction, must give the same
// probabilities (the head trains on the pure-Go kernels in both; only the
// embeddings differ in their last bits between the SIMD kernels and the
// native ones). The exported Blob, loaded back, must classify as predict()
// does. Also times training on 2 x 100 cached samples.
async function classifierTest(url, site) {
  const classes = { animal: ["chelsea", "dog", "eagle", "horses"], thing: ["astronaut", "coffee", "fruits", "rocket"] };
  const seed = 7;
  const epochs = 30;
  const browser = await launch();
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => check("no uncaught page error (classifier)", false, e.message));
    await page.goto(`${url}t/blank.html`);
    // The training pictures: each photo as it is, mirrored, and cropped
    // to its centre, written by the browser as PNG (lossless, so the CLI
    // reads the same pixels).
    const made = await page.evaluate(async (classes) => {
      const out = [];
      for (const [label, names] of Object.entries(classes)) {
        for (const n of names) {
          const bmp = await createImageBitmap(await (await fetch(`img/${n}.png`)).blob());
          for (const kind of ["flip", "crop"]) {
            const c = new OffscreenCanvas(bmp.width, bmp.height);
            const ctx = c.getContext("2d");
            if (kind === "flip") {
              ctx.translate(bmp.width, 0);
              ctx.scale(-1, 1);
              ctx.drawImage(bmp, 0, 0);
            } else {
              ctx.drawImage(bmp, bmp.width / 4, bmp.height / 4, bmp.width / 2, bmp.height / 2, 0, 0, bmp.width, bmp.height);
            }
            const b = new Uint8Array(await (await c.convertToBlob({ type: "image/png" })).arrayBuffer());
            let s = "";
            for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
            out.push({ label, file: `${n}_${kind}.png`, data: btoa(s) });
          }
        }
      }
      return out;
    }, classes);
    const data = path.join(site, "t", "train");
    for (const [label, names] of Object.entries(classes)) {
      fs.mkdirSync(path.join(data, label), { recursive: true });
      for (const n of names) fs.copyFileSync(path.join(photos, `${n}.png`), path.join(data, label, `${n}.png`));
    }
    for (const m of made) fs.writeFileSync(path.join(data, m.label, m.file), Buffer.from(m.data, "base64"));
    // Examples in the order `glimpse train` reads them: by class, then by file name.
    const examples = [];
    for (const label of Object.keys(classes).sort()) {
      for (const f of fs.readdirSync(path.join(data, label)).sort()) examples.push({ label, url: `train/${label}/${f}`, file: path.join(data, label, f) });
    }

    // Pictures of other shapes than the training ones: wide and tall.
    const shapes = fs.readdirSync(path.join(site, "t", "img")).filter((f) => /_(300x200|150x170)\.png$/.test(f)).sort();
    const got = await page.evaluate(async ([modelURL, examples, seed, epochs, shapes]) => {
      const { load } = await import("/glimpse.js");
      const fetchBlob = async (u) => (await fetch(u)).blob();
      const m = await load(modelURL);
      const out = { errors: {} };
      const attempt = async (name, f) => {
        try {
          await f();
          out.errors[name] = null;
        } catch (e) {
          out.errors[name] = e.message;
        }
      };
      const clf = m.classifier({ head: "tm" });
      await attempt("train with no examples", () => clf.train({ seed }));
      await attempt("predict before training", async () => clf.predict(await fetchBlob(examples[0].url)));
      await attempt("export before training", () => clf.export());
      await clf.addExample(await fetchBlob(examples[0].url), examples[0].label);
      await attempt("train with one class", () => clf.train({ seed }));
      await attempt("augment at train time", () => clf.train({ seed, augment: true }));
      await attempt("bad epochs", () => clf.train({ seed, epochs: 1.5 }));
      await attempt("unknown head", async () => m.classifier({ head: "huge" }));
      for (const e of examples.slice(1)) out.counts = await clf.addExample(await fetchBlob(e.url), e.label);
      const history = [];
      let painted = 0;
      const tick = () => { painted++; };
      out.report = await clf.train({ seed, epochs, onEpoch: (e) => { history.push(e); setTimeout(tick, 0); } });
      out.history = history;
      out.painted = painted;
      out.predict = [];
      for (const e of examples) out.predict.push(await clf.predict(await fetchBlob(e.url)));
      out.top1 = (await clf.predict(await fetchBlob(examples[0].url), { topk: 1 })).length;
      const blob = await clf.export();
      out.blobBytes = blob.size;
      // The export and predict() on pictures that are not square.
      const exported = new Uint8Array(await blob.arrayBuffer());
      let bin = "";
      for (let i = 0; i < exported.length; i += 0x8000) bin += String.fromCharCode(...exported.subarray(i, i + 0x8000));
      out.exported = btoa(bin);
      out.shapes = [];
      for (const f of shapes) out.shapes.push(await clf.predict(await fetchBlob(`img/${f}`)));
      const back = await load(blob);
      out.info = back.info();
      out.classify = [];
      for (const e of examples) out.classify.push(await back.classify(await fetchBlob(e.url), { topk: 0 }));
      // Training stops when onEpoch returns false; a throwing onEpoch rejects.
      out.stopped = (await clf.train({ seed, epochs, onEpoch: (e) => e.epoch < 3 })).history.length;
      await attempt("onEpoch throws", () => clf.train({ seed, onEpoch: () => { throw new Error("chart broke"); } }));
      out.after = (await clf.train({ seed, epochs: 2 })).history.length;
      back.dispose();
      clf.dispose();
      m.dispose();
      return out;
    }, [`/${defaultModel}`, examples, seed, epochs, shapes]);

    const expectErr = {
      "train with no examples": /no examples/,
      "predict before training": /not been trained/,
      "export before training": /not been trained/,
      "train with one class": /only 1 class/,
      "augment at train time": /model\.classifier\(\{augment\}\)/,
      "bad epochs": /epochs 1\.5/,
      "unknown head": /unknown head "huge"/,
      "onEpoch throws": /onEpoch threw.*chart broke/,
    };
    for (const [name, re] of Object.entries(expectErr)) {
      check(`classifier: ${name} rejects with a clear message`, re.test(got.errors[name] || ""), got.errors[name]);
    }
    check("classifier: training goes on after a rejected train()", got.after === 2);
    check("classifier: addExample counts the examples of each class", got.counts.animal === 12 && got.counts.thing === 12, JSON.stringify(got.counts));
    const h = got.history;
    check("classifier: onEpoch hears every epoch, with validation figures, and the page runs in between",
      h.length === epochs && h.every((e, i) => e.epoch === i + 1 && e.epochs === epochs && e.loss > 0 && e.accuracy >= 0 && e.valLoss > 0 && e.valAccuracy >= 0) &&
      got.painted >= epochs - 1, `${h.length} epochs, ${got.painted} timers ran, last ${JSON.stringify(h[h.length - 1])}`);
    check("classifier: onEpoch returning false stops training", got.stopped === 3, `${got.stopped} epochs`);
    let own = 0;
    got.predict.forEach((p, i) => { if (p[0].className === examples[i].label) own++; });
    check("classifier: each training picture's own class wins", own === examples.length, `${own} of ${examples.length}`);
    check("classifier: predict({topk: 1}) gives one class, the default every class", got.top1 === 1 && got.predict[0].length === 2);
    let dExport = 0;
    got.predict.forEach((p, i) => { dExport = Math.max(dExport, maxDiff(got.classify[i], p)); });
    check("classifier: export() loads back and classifies as predict() within 1e-5",
      got.info.hasClassifier && got.info.labels.join() === "animal,thing" && dExport <= 1e-5,
      `${(got.blobBytes / 2 ** 20).toFixed(1)} MB, max difference ${dExport.toExponential(2)}`);

    // The file export() gives, run by the command line, predicts as
    // predict() does on wide and tall pictures (its head is stored in f16).
    const exportedFile = path.join(site, "t", "exported.glimpse");
    fs.writeFileSync(exportedFile, Buffer.from(got.exported, "base64"));
    const onExport = cli("predict", "-m", exportedFile, "--json", "--top", "0", ...shapes.map((f) => path.join(site, "t", "img", f))).results;
    let dShapes = 0;
    onExport.forEach((r, i) => { dShapes = Math.max(dShapes, maxDiff(got.shapes[i], r.predictions)); });
    check(`classifier: glimpse predict on the exported file gives predict()'s probabilities on ${shapes.length} wide and tall PNGs within 1e-4`,
      shapes.length >= 8 && dShapes <= 1e-4, `max difference ${dShapes.toExponential(2)}`);

    // The same pictures, seed, head, epochs and validation natively.
    const out = path.join(site, "t", "trained.glimpse");
    execFileSync(bin, ["train", "-m", path.join(dist, defaultModel), "-d", data, "-o", out, "--head", "tm", "--seed", String(seed),
      "--epochs", String(epochs), "--val", "0.15"], { stdio: "pipe" });
    const native = cli("predict", "-m", out, "--json", "--top", "0", ...examples.map((e) => e.file)).results;
    let dNative = 0;
    native.forEach((r, i) => { dNative = Math.max(dNative, maxDiff(got.classify[i], r.predictions)); });
    check("classifier: the same seed gives the CLI's head (glimpse train, then predict) within 1e-4", dNative <= 1e-4,
      `max difference ${dNative.toExponential(2)} over ${examples.length} pictures`);

    // The default head (strong: standardized multi-level features) with
    // no head named on either side: the browser computes the features as
    // the CLI does, and the exported file carries them.
    const strongEpochs = 20;
    const strong = await page.evaluate(async ([modelURL, examples, seed, epochs]) => {
      const { load } = await import("/glimpse.js");
      const fetchBlob = async (u) => (await fetch(u)).blob();
      const m = await load(modelURL);
      const clf = m.classifier();
      for (const e of examples) await clf.addExample(await fetchBlob(e.url), e.label);
      await clf.train({ seed, epochs });
      const back = await load(await clf.export());
      const out = { predict: [], classify: [] };
      for (const e of examples) {
        out.predict.push(await clf.predict(await fetchBlob(e.url)));
        out.classify.push(await back.classify(await fetchBlob(e.url), { topk: 0 }));
      }
      back.dispose();
      clf.dispose();
      m.dispose();
      return out;
    }, [`/${defaultModel}`, examples, seed, strongEpochs]);
    const strongOut = path.join(site, "t", "strong.glimpse");
    execFileSync(bin, ["train", "-m", path.join(dist, defaultModel), "-d", data, "-o", strongOut, "--seed", String(seed),
      "--epochs", String(strongEpochs)], { stdio: "pipe" });
    const strongNative = cli("predict", "-m", strongOut, "--json", "--top", "0", ...examples.map((e) => e.file)).results;
    let dStrong = 0, dStrongExport = 0;
    strongNative.forEach((r, i) => {
      dStrong = Math.max(dStrong, maxDiff(strong.classify[i], r.predictions));
      dStrongExport = Math.max(dStrongExport, maxDiff(strong.classify[i], strong.predict[i]));
    });
    // The exported file stores the head in f16, as the backbone's file
    // does; predict() uses the head in float32: 1,856 rounded weights a
    // class move a probability by ~1e-5.
    check("classifier: the default head (strong, multi-level features) gives the CLI's default within 1e-4, and its export predicts as it does within 1e-4",
      dStrong <= 1e-4 && dStrongExport <= 1e-4, `CLI ${dStrong.toExponential(2)}, export ${dStrongExport.toExponential(2)}`);

    // Training time on 2 x 100 cached samples: 4 photos a class, each with
    // 24 augmented views, the default head (strong, 200 epochs, nothing
    // held out, so the training accuracy is what there is to check).
    const timing = await page.evaluate(async ([modelURL, classes]) => {
      const { load } = await import("/glimpse.js");
      const m = await load(modelURL);
      const clf = m.classifier({ augment: 24 });
      let counts;
      for (const [label, names] of Object.entries(classes)) {
        for (const n of names) counts = await clf.addExample(await (await fetch(`img/${n}.png`)).blob(), label);
      }
      const t0 = performance.now();
      const r = await clf.train({ seed: 1, onEpoch: () => {} });
      const ms = performance.now() - t0;
      clf.dispose();
      m.dispose();
      return { ms, counts, train: r.train, epochs: r.history.length, acc: r.history[r.history.length - 1].accuracy };
    }, [`/${defaultModel}`, classes]);
    check("classifier: 2 x 100 cached samples train with the default head", timing.epochs === 200 && timing.acc === 1,
      `2 x ${timing.counts.animal} pictures x 25 views, ${timing.train} rows trained on, ${timing.epochs} epochs in ${(timing.ms / 1000).toFixed(2)} s, training acc ${timing.acc}`);
    await page.close();
  } finally {
    await browser.close();
  }
}

// demoPage opens the `make serve` page with a fake webcam and a picked
// photo, and screenshots it.
async function demoPage(url) {
  const browser = await launch(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]);
  try {
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    await ctx.grantPermissions(["camera"], { origin: url });
    const page = await ctx.newPage();
    const errors = [];
    const foreign = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) foreign.push(r.url()); });
    await page.goto(`${url}demo.html`);
    await page.waitForSelector("#model-info dd", { timeout: 60000 });
    const progress = await page.$eval("#model-progress", (p) => p.value);
    check("demo page loads the default model (progress bar full)", progress === 1, `progress ${progress}`);
    await page.setInputFiles("#file", path.join(photos, "coffee.png"));
    await page.waitForFunction(() => /features/.test(document.querySelector("#image-result").textContent), null, { timeout: 30000 });
    const imgResult = await page.$eval("#image-result", (e) => e.textContent);
    check("demo page embeds a picked image and shows the time", /1280 features/.test(imgResult) && /ms/.test(imgResult), imgResult.trim());
    await page.click("#camera-start");
    await page.waitForFunction(() => /ms/.test(document.querySelector("#camera-result").textContent), null, { timeout: 30000 });
    await page.waitForTimeout(1500);
    const camResult = await page.$eval("#camera-result", (e) => e.textContent);
    check("demo page embeds the live webcam", /features/.test(camResult), camResult.trim());
    const text = await page.evaluate(() => document.body.innerText);
    check("demo page shows no content-moderation labels", !/porn|hentai|sexy|neutral|drawing/i.test(text));
    fs.mkdirSync(path.dirname(screenshot), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    await page.click("#camera-stop");
    check("demo page logs no console error", errors.length === 0, errors.join(" | "));
    check("demo page requests nothing from another origin", foreign.length === 0, foreign.join(" "));
  } finally {
    await browser.close();
  }
}

main()
  .catch((e) => {
    failed++;
    console.log(`FAIL ${e.stack || e}`);
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  });
