// Browser latency, one headless Chromium run: Glimpse with its WebAssembly
// SIMD kernels and with its pure-Go kernels, beside TensorFlow.js 4.22's
// wasm backend (XNNPACK) with and without SIMD, one thread, batch 1, on
// the same weights:
//
//   (a) nsfwjs's MobileNetV2 1.4, a TF.js graph model (batch norm folded);
//   (b) nsfwjs's MobileNetV2 1.0, a TF.js layers model (batch norm unfolded);
//       TF.js also runs a copy with batch norm folded (fold-bn-layers.js),
//       its best case on these weights (tfjs_wasm_folded_ms, ratio_folded).
//
// Glimpse runs the f32 .glimpse converted from the same files, heads kept;
// on (b) it also runs the same model calibrated to compute in int8
// (build/bench/mobilenet_v2_1.0_int8.glimpse, `make` builds it), in the
// same interleaved runs, beside TF.js on the folded f32 copy.
// Each engine goes from a 224x224 ImageData of a photograph to the
// classifier's probabilities (TF.js: fromPixels, /255, predict, data();
// Glimpse: classify), the median of RUNS runs after a warm-up, each engine
// and setting in its own page, the runs interleaved. Prints one line per model,
//
//   MODEL glimpse_ms=… glimpse_go_ms=… tfjs_wasm_ms=… tfjs_wasm_nosimd_ms=… ratio=…
//   mobilenet_v2_1.0_int8 glimpse_ms=… tfjs_wasm_folded_ms=… ratio=…
//
// (ratio = glimpse_ms / tfjs_wasm_ms; on the int8 line, Glimpse's int8 time
// over TF.js's on the folded f32 model, the figure of (b)'s line), then the wasm and model sizes and the
// time from navigation to the first classification, then the cold start of
// the default model (dist/models/mobilenet_v2_1.0_224.glimpse): navigation
// to its first embed() on a first visit (a fresh browser profile) and on a
// return visit (Chromium relaunched on the same profile),
//
//   startup first_visit_ms=… return_visit_ms=…
//   startup_phases visit=first compiled_ms=… kernels_ms=… started_ms=… read_ms=… planned_ms=… embedded_ms=…
//   startup_phases visit=return …
//
// (the phases: when glimpse.js's and the Go runtime's User Timing marks
// say each step ended, in ms from navigation start: see phases())
// and writes it all as JSON to build/bench/browser.json.
//
//   node tools/js/bench-browser.js [RUNS]      (needs make: dist/, bin/glimpse, build/nsfwjs)
//   node tools/js/bench-browser.js startup     (the startup line alone)
"use strict";

const fs = require("fs");
const path = require("path");
const zlib = require("zlib");
const { execFileSync } = require("child_process");
const os = require("os");
const { root, launch, launchPersistent, serve } = require("./browser");

const STARTUP_ONLY = process.argv[2] === "startup";
const RUNS = Math.max(30, Number(process.argv[2]) || 40);
const DEFAULT_MODEL = "models/mobilenet_v2_1.0_224.glimpse";
const WARMUP = 5;
const bin = path.join(root, "bin", "glimpse");
const dist = path.join(root, "dist");
const site = path.join(root, "build", "bench", "browser");
const out = path.join(root, "build", "bench", "browser.json");
const tfjsDist = path.join(__dirname, "node_modules", "@tensorflow", "tfjs", "dist");
const wasmDist = path.join(__dirname, "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist");
const photosDir = path.join(root, "tools", "convert", "testdata", "photos");
const photo = path.join(photosDir, "dog.png");
// The golden test's photographs, already 224x224: the int8 model's
// probabilities on them in the page are compared with the native engine's.
const PHOTOS = fs.readdirSync(photosDir).filter((f) => f.endsWith(".png")).sort();

const MODELS = [
  { name: "mobilenet_v2_1.4_graph", dir: "mobilenet_v2_mid", kind: "graph" },
  { name: "mobilenet_v2_1.0_layers", dir: "mobilenet_v2", kind: "layers", folded: "mobilenet_v2_folded",
    int8: { name: "mobilenet_v2_1.0_int8", file: path.join(root, "build", "bench", "mobilenet_v2_1.0_int8.glimpse") } },
];

const GLIMPSE_FILES = ["glimpse.js", "glimpse.wasm", "wasm_exec.js", "loader.mjs", "kernels.wasm", "kernels_relaxed.wasm"];

function dirSize(dir) {
  return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

// prepare lays out the benchmark's site: Glimpse's files from dist/,
// TF.js's from node_modules, the TF.js models and their .glimpse
// conversions.
function prepare() {
  fs.rmSync(site, { recursive: true, force: true });
  fs.mkdirSync(path.join(site, "tfjs"), { recursive: true });
  for (const f of GLIMPSE_FILES) fs.copyFileSync(path.join(dist, f), path.join(site, f));
  fs.copyFileSync(path.join(tfjsDist, "tf.min.js"), path.join(site, "tfjs", "tf.min.js"));
  for (const f of fs.readdirSync(wasmDist).filter((f) => f === "tf-backend-wasm.min.js" || f.endsWith(".wasm"))) {
    fs.copyFileSync(path.join(wasmDist, f), path.join(site, "tfjs", f));
  }
  fs.copyFileSync(photo, path.join(site, "photo.png"));
  fs.mkdirSync(path.join(site, "photos"));
  for (const f of PHOTOS) fs.copyFileSync(path.join(photosDir, f), path.join(site, "photos", f));
  fs.writeFileSync(path.join(site, "blank.html"), '<!doctype html><meta charset="utf-8"><title>bench</title><link rel="icon" href="data:,">');
  // The first-classification page: everything a user's page would do,
  // timed from navigation start.
  fs.writeFileSync(path.join(site, "first.html"), `<!doctype html><meta charset="utf-8"><title>first</title><link rel="icon" href="data:,">
<img id="photo" src="photo.png" alt="">
<script type="module">
import { load } from './glimpse.js';
const model = await load(new URLSearchParams(location.search).get('model'));
const img = document.getElementById('photo');
await img.decode();
await model.classify(img);
window.firstMs = performance.now();
</script>`);
  // The cold-start page: the default model's first embedding, timed from
  // navigation start, as a page of the library's users would get it.
  fs.mkdirSync(path.join(site, "models"));
  fs.copyFileSync(path.join(dist, DEFAULT_MODEL), path.join(site, DEFAULT_MODEL));
  // What make compressed once (glimpse serve sends FILE.gz for FILE when
  // it is not older), copied after the files themselves.
  for (const f of ["glimpse.wasm", DEFAULT_MODEL]) {
    if (fs.existsSync(path.join(dist, `${f}.gz`))) fs.copyFileSync(path.join(dist, `${f}.gz`), path.join(site, `${f}.gz`));
  }
  fs.writeFileSync(path.join(site, "startup.html"), `<!doctype html><meta charset="utf-8"><title>startup</title><link rel="icon" href="data:,">
<img id="photo" src="photo.png" alt="">
<script type="module">
import { load } from './glimpse.js';
try {
  const model = await load('${DEFAULT_MODEL}');
  const img = document.getElementById('photo');
  await img.decode();
  await model.embed(img);
  window.startupMs = performance.now();
  window.startupMarks = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('glimpse:')).map((m) => [m.name, m.startTime]);
} catch (e) {
  window.startupError = String(e);
}
</script>`);
  for (const m of STARTUP_ONLY ? [] : MODELS) {
    const src = path.join(root, "build", "nsfwjs", m.dir);
    fs.cpSync(src, path.join(site, "tfjs", m.dir), { recursive: true });
    m.tfjsBytes = dirSize(src);
    m.glimpse = `${m.name}.glimpse`;
    execFileSync(bin, ["convert", path.join(src, "model.json"), "--dtype", "f32", "-o", path.join(site, m.glimpse)]);
    m.glimpseBytes = fs.statSync(path.join(site, m.glimpse)).size;
    if (m.int8) {
      m.int8.glimpse = `${m.int8.name}.glimpse`;
      fs.copyFileSync(m.int8.file, path.join(site, m.int8.glimpse));
    }
    if (m.folded) {
      execFileSync(process.execPath, [path.join(__dirname, "fold-bn-layers.js"), path.join(src, "model.json"), path.join(site, "tfjs", m.folded)]);
    }
  }
}

// In the page: a 224x224 ImageData of the photograph.
const makeImageData = async () => {
  const bmp = await createImageBitmap(await (await fetch("/photo.png")).blob());
  const c = new OffscreenCanvas(224, 224);
  const ctx = c.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bmp, 0, 0, 224, 224);
  return ctx.getImageData(0, 0, 224, 224);
};

// Each engine and setting gets its own page, set up with window.benchRun,
// which times one run in the page and resolves to milliseconds. The runs
// are interleaved across the pages (round robin) so that whatever else the
// machine does weighs on every engine alike.

async function setUpGlimpse(browser, url, m, simd) {
  const page = await browser.newPage();
  await page.goto(`${url}blank.html`);
  const info = await page.evaluate(async ([file, simd, makeImageData]) => {
    const { load } = await import("/glimpse.js");
    const model = await load(`/${file}`, { simd });
    const x = await (0, eval)(makeImageData)();
    window.benchRun = async () => {
      const t = performance.now();
      await model.classify(x);
      return performance.now() - t;
    };
    const all = await model.classify(x, { topk: 1000000 });
    const k = globalThis.__glimpseSIMD;
    const tile = k ? (k.gemmProbe.done ? k.gemmTile : `${k.gemmTile}, probe still running`) : undefined;
    return { kernels: model.info().kernels, tile, top: all[0].className, probs: all };
  }, [m.glimpse, simd, `(${makeImageData})`]);
  return { page, info };
}

async function setUpTFJS(browser, url, m, simd) {
  const page = await browser.newPage();
  await page.goto(`${url}blank.html`);
  await page.addScriptTag({ url: "/tfjs/tf.min.js" });
  await page.addScriptTag({ url: "/tfjs/tf-backend-wasm.min.js" });
  const info = await page.evaluate(async ([m, simd, makeImageData]) => {
    const tf = window.tf;
    tf.env().set("WASM_HAS_SIMD_SUPPORT", simd);
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    tf.wasm.setWasmPaths("/tfjs/");
    await tf.setBackend("wasm");
    await tf.ready();
    const url = `/tfjs/${m.dir}/model.json`;
    const model = m.kind === "graph" ? await tf.loadGraphModel(url) : await tf.loadLayersModel(url);
    const x = await (0, eval)(makeImageData)();
    const run = async () => {
      const y = tf.tidy(() => model.predict(tf.browser.fromPixels(x).toFloat().div(255).expandDims(0)));
      const p = await y.data();
      y.dispose();
      return p;
    };
    window.benchRun = async () => {
      const t = performance.now();
      await run();
      return performance.now() - t;
    };
    const p = Array.from(await run());
    return { backend: tf.getBackend(), simd: tf.env().getBool("WASM_HAS_SIMD_SUPPORT"), top: p.indexOf(Math.max(...p)), probs: p };
  }, [{ dir: m.dir, kind: m.kind }, simd, `(${makeImageData})`]);
  return { page, info };
}

// timeAll warms every page up, then interleaves RUNS timed runs.
async function timeAll(engines) {
  for (const e of engines) for (let i = 0; i < WARMUP; i++) await e.page.evaluate(() => window.benchRun());
  for (const e of engines) e.times = [];
  for (let i = 0; i < RUNS; i++) {
    for (const e of engines) e.times.push(await e.page.evaluate(() => window.benchRun()));
  }
  for (const e of engines) await e.page.close();
}

// phases names when each step of a visit ended, in ms from navigation
// start, from glimpse.js's and the Go runtime's User Timing marks: the
// library's program compiled, the kernels compiled, Go started, the model
// file read, the model planned (decoded, batch norm folded, weights
// packed), and the first embedding.
function phases({ ms, marks }) {
  const at = (prefix) => {
    const m = marks.find(([name]) => name.startsWith(prefix));
    return m ? r2(m[1]) : null;
  };
  return {
    compiled_ms: at("glimpse:compiled glimpse.wasm"), kernels_ms: at("glimpse:kernels"), started_ms: at("glimpse:started glimpse.wasm"),
    read_ms: at("glimpse:read"), planned_ms: at("glimpse:planned"), embedded_ms: r2(ms),
  };
}

// timeStartup measures navigation to the default model's first embedding
// twice on one browser profile: a first visit (the profile fresh) and a
// return visit (Chromium closed, then launched again on the profile). The
// first visit stays on the page a few seconds, as a visitor would, which
// gives Chromium time to keep the WebAssembly it compiled optimized (V8
// writes its code cache 2 s after its last optimized function; Chromium
// 156 headless wrote none for glimpse.wasm within 15 s in our runs, so a
// return visit compiles and optimizes again: only the HTTP cache helps).
async function timeStartup(url) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "glimpse-startup-"));
  const visit = async (linger) => {
    const ctx = await launchPersistent(profile);
    try {
      const page = ctx.pages()[0] || await ctx.newPage();
      await page.goto(`${url}startup.html`);
      await page.waitForFunction(() => window.startupMs !== undefined || window.startupError !== undefined, null, { timeout: 120000 });
      const { ms, marks, error } = await page.evaluate(() => ({ ms: window.startupMs, marks: window.startupMarks, error: window.startupError }));
      if (error) throw new Error(`startup.html: ${error}`);
      await page.waitForTimeout(linger);
      return { ms, marks };
    } finally {
      await ctx.close();
    }
  };
  try {
    const first = await visit(5000);
    const ret = await visit(0);
    return { first: first.ms, ret: ret.ms, phases: { first: phases(first), return: phases(ret) } };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function timeFirst(browser, url, m) {
  const page = await browser.newPage();
  try {
    await page.goto(`${url}first.html?model=${encodeURIComponent(m.glimpse)}`);
    await page.waitForFunction(() => window.firstMs !== undefined, null, { timeout: 120000 });
    return await page.evaluate(() => window.firstMs);
  } finally {
    await page.close();
  }
}

// compareInt8 classifies the photographs with the int8 model in a page
// (pixels exactly as in the files: no colour conversion, no resampling)
// and natively (bin/glimpse predict), and reports the top-1 agreement and
// the largest difference of any class probability.
async function compareInt8(browser, url, q) {
  const page = await browser.newPage();
  let web;
  try {
    await page.goto(`${url}blank.html`);
    web = await page.evaluate(async ([file, photos]) => {
      const { load } = await import("/glimpse.js");
      const model = await load(`/${file}`);
      const out = [];
      for (const f of photos) {
        const bmp = await createImageBitmap(await (await fetch(`/photos/${f}`)).blob(), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
        const c = new OffscreenCanvas(bmp.width, bmp.height);
        const ctx = c.getContext("2d", { willReadFrequently: true });
        ctx.drawImage(bmp, 0, 0);
        out.push(await model.classify(ctx.getImageData(0, 0, bmp.width, bmp.height), { topk: 1000000 }));
      }
      return out;
    }, [q.glimpse, PHOTOS]);
  } finally {
    await page.close();
  }
  const native = JSON.parse(execFileSync(bin, ["predict", "-m", q.file, "--top", "0", "--json", ...PHOTOS.map((f) => path.join(photosDir, f))], { encoding: "utf8" }));
  let agree = 0;
  let maxDiff = 0;
  native.results.forEach((r, i) => {
    const byClass = new Map(web[i].map((p) => [p.className, p.probability]));
    if (r.predictions[0].className === web[i][0].className) agree++;
    for (const p of r.predictions) maxDiff = Math.max(maxDiff, Math.abs(p.probability - byClass.get(p.className)));
  });
  return { photos: PHOTOS.length, top1_agreement: agree, max_prob_diff: maxDiff };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r2 = (x) => Math.round(x * 100) / 100;

async function main() {
  for (const f of [bin, path.join(dist, "glimpse.js"), path.join(root, "build", "nsfwjs", "mobilenet_v2", "model.json"), ...(STARTUP_ONLY ? [] : MODELS.filter((m) => m.int8).map((m) => m.int8.file))]) {
    if (!fs.existsSync(f)) throw new Error(`${path.relative(root, f)} is missing: run make first`);
  }
  prepare();
  const sizes = {};
  for (const f of ["glimpse.wasm", "kernels.wasm", "kernels_relaxed.wasm", "glimpse.js", "wasm_exec.js", "loader.mjs"]) {
    const b = fs.readFileSync(path.join(dist, f));
    sizes[f] = { raw: b.length, gzip: zlib.gzipSync(b, { level: 9 }).length };
  }
  for (const f of fs.readdirSync(path.join(dist, "models")).filter((f) => !f.endsWith(".gz"))) sizes[`models/${f}`] = { raw: fs.statSync(path.join(dist, "models", f)).size };

  const server = await serve(site);
  const browser = await launch();
  const result = { chromium: browser.version(), runs: RUNS, warmup: WARMUP, input: "224x224 ImageData to probabilities", models: {}, sizes };
  try {
    for (const m of STARTUP_ONLY ? [] : MODELS) {
      const g = await setUpGlimpse(browser, server.url, m, true);
      const go = await setUpGlimpse(browser, server.url, m, false);
      const tf = await setUpTFJS(browser, server.url, m, true);
      const tfn = await setUpTFJS(browser, server.url, m, false);
      const tff = m.folded && await setUpTFJS(browser, server.url, { ...m, dir: m.folded }, true);
      const gi = m.int8 && await setUpGlimpse(browser, server.url, { glimpse: m.int8.glimpse }, true);
      await timeAll([g, go, tf, tfn, ...(tff ? [tff] : []), ...(gi ? [gi] : [])]);
      const first = await timeFirst(browser, server.url, m);
      const row = {
        glimpse_ms: r2(median(g.times)),
        glimpse_go_ms: r2(median(go.times)),
        tfjs_wasm_ms: r2(median(tf.times)),
        tfjs_wasm_nosimd_ms: r2(median(tfn.times)),
      };
      row.ratio = r2(row.glimpse_ms / row.tfjs_wasm_ms);
      if (tff) {
        row.tfjs_wasm_folded_ms = r2(median(tff.times));
        row.ratio_folded = r2(row.glimpse_ms / row.tfjs_wasm_folded_ms);
        row.folded_max_prob_diff = Math.max(...tff.info.probs.map((v, i) => Math.abs(v - tf.info.probs[i])));
      }
      row.go_vs_tfjs_nosimd = r2(row.glimpse_go_ms / row.tfjs_wasm_nosimd_ms);
      row.glimpse_kernels = g.info.kernels;
      if (g.info.tile) row.glimpse_gemm_tile = g.info.tile;
      row.glimpse_go_kernels = go.info.kernels;
      row.tfjs_simd = tf.info.simd;
      row.tfjs_nosimd = tfn.info.simd;
      row.glimpse_min_ms = r2(Math.min(...g.times));
      row.tfjs_wasm_min_ms = r2(Math.min(...tf.times));
      row.first_classification_ms = r2(first);
      row.glimpse_file_bytes = m.glimpseBytes;
      row.tfjs_files_bytes = m.tfjsBytes;
      row.top_class = { glimpse: g.info.top, tfjs: `class ${tf.info.top}` };
      result.models[m.name] = row;
      console.log(`${m.name} glimpse_ms=${row.glimpse_ms} glimpse_go_ms=${row.glimpse_go_ms} tfjs_wasm_ms=${row.tfjs_wasm_ms} tfjs_wasm_nosimd_ms=${row.tfjs_wasm_nosimd_ms} ratio=${row.ratio}` +
        (tff ? ` tfjs_wasm_folded_ms=${row.tfjs_wasm_folded_ms} ratio_folded=${row.ratio_folded}` : ""));
      if (gi && tff) {
        // The int8 model's probabilities beside the f32 model's, by class.
        const f32 = new Map(g.info.probs.map((p) => [p.className, p.probability]));
        const q = {
          glimpse_ms: r2(median(gi.times)),
          tfjs_wasm_folded_ms: row.tfjs_wasm_folded_ms,
          glimpse_min_ms: r2(Math.min(...gi.times)),
          glimpse_kernels: gi.info.kernels,
          glimpse_file_bytes: fs.statSync(m.int8.file).size,
          top_class: gi.info.top,
          same_top_as_f32: gi.info.top === g.info.top,
          max_prob_diff_vs_f32: r2(Math.max(...gi.info.probs.map((p) => Math.abs(p.probability - f32.get(p.className)))) * 1e4) / 1e4,
        };
        q.ratio = r2(q.glimpse_ms / q.tfjs_wasm_folded_ms);
        q.browser_vs_native = await compareInt8(browser, server.url, m.int8);
        result.models[m.int8.name] = q;
        console.log(`${m.int8.name} glimpse_ms=${q.glimpse_ms} tfjs_wasm_folded_ms=${q.tfjs_wasm_folded_ms} ratio=${q.ratio}`);
      }
    }
    await browser.close();
    const startup = await timeStartup(server.url);
    result.startup = { first_visit_ms: r2(startup.first), return_visit_ms: r2(startup.ret), model: DEFAULT_MODEL, until: "the first embed()", phases: startup.phases };
    console.log(`startup first_visit_ms=${result.startup.first_visit_ms} return_visit_ms=${result.startup.return_visit_ms}`);
    for (const [visit, p] of Object.entries(startup.phases)) {
      console.log(`startup_phases visit=${visit} ${Object.entries(p).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    }
  } finally {
    await browser.close();
    server.close();
  }
  if (STARTUP_ONLY) return;
  for (const [name, row] of Object.entries(result.models)) {
    if (row.glimpse_go_ms === undefined) {
      const bn = row.browser_vs_native;
      console.log(`  ${name}: kernels ${row.glimpse_kernels}; top class ${row.top_class} (f32's: ${row.same_top_as_f32 ? "same" : "different"}), largest probability difference from f32 ${row.max_prob_diff_vs_f32}; ` +
        `browser vs native int8 on ${bn.photos} photos: top-1 agreement ${bn.top1_agreement}/${bn.photos}, largest probability difference ${bn.max_prob_diff}; .glimpse ${row.glimpse_file_bytes} B`);
      continue;
    }
    console.log(`  ${name}: kernels ${row.glimpse_kernels}${row.glimpse_gemm_tile ? ` (GEMM tile ${row.glimpse_gemm_tile})` : ""}; pure Go ${row.go_vs_tfjs_nosimd}x TF.js without SIMD; first classification ${row.first_classification_ms} ms after navigation; files: .glimpse ${row.glimpse_file_bytes} B, TF.js ${row.tfjs_files_bytes} B`);
  }
  for (const [f, s] of Object.entries(sizes)) console.log(`  ${f}: ${s.raw} B${s.gzip ? `, ${s.gzip} B gzip` : ""}`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${path.relative(root, out)}`);
}

main().catch((e) => {
  console.error(`bench-browser: ${e.stack || e}`);
  process.exit(1);
});
