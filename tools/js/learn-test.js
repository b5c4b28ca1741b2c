// Browser test of the course page, "Inside the CNN" (dist/learn.html), in
// headless Chromium with a fake webcam made from a real photograph. Per
// lesson: the picture and its channels drawn from the sample, an upload
// and a camera frame; the calculator's results for the course's examples
// and for a division that is not whole, with its receptive field drawn;
// the architecture explorer's totals against `glimpse inspect --json` for
// every architecture; pooling and softmax; the language chosen from the
// browser's, switched and remembered (the course and the app); inside a
// real network: filters, feature maps of any layer, and the class
// activation map of a cat-versus-rocket model trained by glimpse train,
// over a fake webcam showing the cat; offline through the service worker;
// bad input (a kernel larger than the input, an output cell or a layer out
// of range, a blank picture, an empty field, a model too big, a model with
// no classifier). No console error and no request outside the origin. Screenshots
// of every lesson in both languages at desktop and phone widths go to
// tools/js/artifacts/learn/.
//
// usage: node tools/js/learn-test.js [SITE_DIR]   (default dist)
"use strict";

const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { PNG } = require("pngjs");
const { root, launch, serve } = require("./browser");
const { writeY4M } = require("./y4m");

const SITE = path.resolve(process.argv[2] || path.join(root, "dist"));
const ART = path.join(__dirname, "artifacts", "learn");
const GLIMPSE = path.join(root, "bin", "glimpse");
const PHOTOS = path.join(root, "tools", "convert", "testdata", "photos");
const ALEXNET = path.join(root, "build", "fixtures", "alexnet_seeded.glimpse");
const SECTIONS = ["pixels", "convolution", "pooling", "architectures", "live"];

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ` (${detail})` : ""}`);
}

// open loads the page in a fresh context and waits for the sample picture.
async function open(browser, url, { locale = "en-US", width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ locale, viewport: { width, height }, permissions: ["camera"] });
  const page = await context.newPage();
  const errors = [];
  const foreign = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith(url) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) foreign.push(r.url()); });
  const t0 = Date.now();
  await page.goto(url + "learn.html");
  await page.waitForFunction(() => globalThis.__learnStats && __learnStats.ready && __learnStats.pictures >= 1, null, { timeout: 60000 });
  return { context, page, errors, foreign, ms: Date.now() - t0 };
}

function digits(s) { return Number(String(s).replace(/[^0-9]/g, "")); }

// crop writes the w x h region of a PNG at (x, y), mirrored if flip.
function crop(src, out, x, y, w, h, flip) {
  const img = PNG.sync.read(fs.readFileSync(src));
  const o = new PNG({ width: w, height: h });
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const si = flip ? x + w - 1 - i : x + i;
      img.data.copy(o.data, 4 * (j * w + i), 4 * ((y + j) * img.width + si), 4 * ((y + j) * img.width + si) + 4);
    }
  }
  fs.writeFileSync(out, PNG.sync.write(o));
}

// catRocket writes four crops of a cat photo and of a rocket photo, one
// folder per class, and returns the folder.
function catRocket() {
  const data = path.join(ART, "cat-rocket");
  for (const [cls, photo] of [["cat", "chelsea.png"], ["rocket", "rocket.png"]]) {
    fs.mkdirSync(path.join(data, cls), { recursive: true });
    const src = path.join(PHOTOS, photo);
    crop(src, path.join(data, cls, "a.png"), 0, 0, 224, 224, false);
    crop(src, path.join(data, cls, "b.png"), 0, 0, 224, 224, true);
    crop(src, path.join(data, cls, "c.png"), 20, 20, 180, 180, false);
    crop(src, path.join(data, cls, "d.png"), 40, 10, 170, 170, true);
  }
  return data;
}

async function camTest() {
  const data = catRocket();
  const model = path.join(ART, "cat-rocket.glimpse");
  execFileSync(GLIMPSE, ["train", "-m", path.join(SITE, "models", "mobilenet_v2_1.0_224.glimpse"), "-d", data, "-o", model,
    "--head", "tm", "--val", "0", "--seed", "1"], { stdio: "ignore" });
  // 640x480 grey frame; the model sees its centred 480x480 square, and the
  // cat fills a 300x300 square at its left edge (x 10 to 310 of 480).
  const cat = PNG.sync.read(fs.readFileSync(path.join(PHOTOS, "chelsea.png")));
  const frame = new PNG({ width: 640, height: 480 });
  frame.data.fill(128);
  for (let y = 0; y < 480; y++) for (let x = 0; x < 640; x++) frame.data[4 * (y * 640 + x) + 3] = 255;
  for (let y = 0; y < 300; y++) {
    for (let x = 0; x < 300; x++) {
      const sx = Math.floor(x * 224 / 300), sy = Math.floor(y * 224 / 300);
      cat.data.copy(frame.data, 4 * ((90 + y) * 640 + 90 + x), 4 * (sy * 224 + sx), 4 * (sy * 224 + sx) + 3);
    }
  }
  const framePNG = path.join(ART, "cat-left.png");
  fs.writeFileSync(framePNG, PNG.sync.write(frame));
  const cam = writeY4M(framePNG, path.join(ART, "cat-left.y4m"), { width: 640, height: 480, frames: 4 });
  const server = await serve(SITE);
  const browser = await launch(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    `--use-file-for-fake-video-capture=${cam}`]);
  try {
    const { context, page, errors } = await open(browser, server.url + "");
    await page.waitForFunction(() => __learnStats.liveUpdates >= 1, null, { timeout: 60000 });
    await page.locator("#live-file").setInputFiles(model);
    await page.waitForFunction(() => __learnStats.liveModel === "cat-rocket.glimpse" && __learnStats.cam === true, null, { timeout: 60000 });
    check("a trained model (tm head): Grad-CAM drawn", /Grad-CAM through the head's hidden layer/.test(await page.locator("#live-cam-cap").textContent()) &&
      await page.getByRole("img", { name: "Class activation map", exact: true }).count() === 1);
    const before = await page.evaluate(() => __learnStats.liveUpdates);
    await page.getByRole("button", { name: "Start the camera" }).click();
    await page.waitForFunction((n) => __learnStats.liveUpdates >= n + 3, before, { timeout: 30000 });
    const cam = await page.evaluate(() => ({ cls: __learnStats.camClass, x: __learnStats.camX, y: __learnStats.camY }));
    // The cat covers x in [10, 310] of the 480-pixel square: its centre is at 0.33.
    check("the class activation map peaks over the cat (centre of mass in the left half)", cam.cls === "cat" && cam.x < 0.45,
      `class ${cam.cls}, centre (${cam.x.toFixed(2)}, ${cam.y.toFixed(2)})`);
    const sm = await page.locator("#live-softmax").textContent();
    check("the trained model's logits, then softmax summing to 1", /cat/.test(sm) && /rocket/.test(sm) && /Σ = 1\.0000/.test(sm), sm);
    await page.locator("#live").screenshot({ path: path.join(ART, "en-1280-live-cam.png") });
    check("CAM page: no console error", errors.length === 0, errors.join(" | "));
    // Offline: once the service worker has the site, the course works with
    // the server gone, the live lesson included.
    await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      for (let i = 0; i < 600 && !(await caches.keys()).some((k) => k.startsWith("glimpse-")); i++) await new Promise((r) => setTimeout(r, 100));
      return reg.active && reg.active.state;
    });
    await page.evaluate(async () => {
      // wait until the precache holds the course's program and the model
      for (let i = 0; i < 600; i++) {
        const keys = await caches.keys();
        for (const k of keys) {
          const c = await caches.open(k);
          if (await c.match("learn.wasm") && await c.match("models/mobilenet_v2_1.0_224.glimpse")) return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    });
    server.close();
    await page.goto(page.url().split("#")[0] + "#live");
    await page.waitForFunction(() => globalThis.__learnStats && __learnStats.liveUpdates >= 1, null, { timeout: 60000 })
      .catch(() => {});
    check("offline: the course page and its live lesson work with the server gone",
      await page.evaluate(() => globalThis.__learnStats && __learnStats.liveUpdates >= 1 && __learnStats.pictures >= 1) === true);
    await context.close();
  } finally {
    await browser.close();
    server.close();
  }
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  catRocket();
  const cam = writeY4M(path.join(PHOTOS, "rocket.png"), path.join(ART, "rocket.y4m"), { width: 320, height: 240, frames: 4 });
  const blank = path.join(ART, "blank.png");
  const png = new PNG({ width: 64, height: 48 });
  png.data.fill(200);
  fs.writeFileSync(blank, PNG.sync.write(png));

  const server = await serve(SITE);
  const browser = await launch(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    `--use-file-for-fake-video-capture=${cam}`]);
  try {
    // English, desktop: every lesson's behaviour.
    const { context, page, errors, foreign, ms } = await open(browser, server.url);
    console.log(`learn.html to the sample picture drawn: ${ms} ms`);
    await page.waitForFunction(() => __learnStats.t_firstDraw > 0, null, { timeout: 60000 });
    const t = await page.evaluate(() => [__learnStats.t_program, __learnStats.t_sample, __learnStats.t_modelRead, __learnStats.t_firstDraw].map(Math.round));
    console.log(`navigation to the live lesson's first draw (filters, feature maps, CAM, logits of the sample): ${t[3]} ms ` +
      `(the Go program started at ${t[0]} ms, the other lessons drew the sample by ${t[1]} ms, the model was read and checked at ${t[2]} ms; ` +
      `load ${require("os").loadavg()[0].toFixed(1)})`);
    check("English is chosen from an English browser", await page.evaluate(() => document.documentElement.lang) === "en");
    for (const l of ["Input size (W)", "Kernel size (F)", "Padding (P)", "Stride (S)", "Output size", "Architecture", "Language"]) {
      check(`one control labelled "${l}"`, await page.getByLabel(l, { exact: true }).count() === 1);
    }
    check("the app is linked from the course", await page.getByRole("link", { name: "Glimpse app" }).count() === 1);

    // Pictures are numbers: the sample is drawn with its channels and facts.
    const facts = await page.locator("#pic-facts").textContent();
    check("the sample picture's size, bit depth and memory", /224×224 pixels.*bit depth 8: 256 levels.*150,528 bytes/.test(facts), facts);
    const matrix = await page.locator("#pic-matrix td").count();
    check("the pixel matrix under the magnifier", matrix === 64, `${matrix} cells`);
    const red = await page.evaluate(() => {
      const c = document.getElementById("pic-r");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let r = 0, g = 0;
      for (let i = 0; i < d.length; i += 4) { r += d[i]; g += d[i + 1]; }
      return { r, g };
    });
    check("the red channel is drawn in red only", red.r > 0 && red.g === 0, JSON.stringify(red));
    await page.getByRole("button", { name: "Take a camera frame" }).click();
    await page.waitForFunction(() => __learnStats.pictures >= 2, null, { timeout: 20000 });
    const camFacts = await page.locator("#pic-facts").textContent();
    check("a camera frame from the fake webcam", /a camera frame: 320×240 pixels/.test(camFacts), camFacts);
    await page.locator("#pic-file").setInputFiles(blank);
    await page.waitForFunction(() => __learnStats.blank === true, null, { timeout: 20000 });
    const blankMsg = await page.locator("#pic-message").textContent();
    check("a blank picture: a message, the last picture kept", /single colour/.test(blankMsg) && /camera frame/.test(await page.locator("#pic-facts").textContent()), blankMsg);
    await page.locator("#pic-file").setInputFiles(path.join(PHOTOS, "dog.png"));
    await page.waitForFunction(() => __learnStats.pictures >= 3, null, { timeout: 20000 });
    check("an upload", /dog\.png: 224×224/.test(await page.locator("#pic-facts").textContent()));

    // Convolution: the toy classifier and the calculator.
    await page.getByRole("button", { name: "Draw “/”" }).click();
    check("the toy classifier says “/” for a / drawing", /negative, so the classifier says “\/”/.test(await page.locator("#toy-result").textContent()));
    await page.getByRole("button", { name: "Draw “\\”" }).click();
    check("the toy classifier says “\\” for a \\ drawing", /positive, so the classifier says “\\”/.test(await page.locator("#toy-result").textContent()));
    await page.getByLabel("Kernel position").fill("6");
    const slide = await page.locator("#slide-sum").textContent();
    check("the sliding kernel shows its dot product", /Position 7 of 25 \(row 2, column 2\): \(1\)×1 \+/.test(slide), slide);
    const out = page.getByLabel("Output size", { exact: true });
    await page.getByRole("button", { name: "Example: 7×7 input, 3×3 kernel, stride 1" }).click();
    let text = await out.textContent();
    check("calculator: 7x7, 3x3, stride 1 → 5", /\(7 − 3 \+ 2×0\)\/1 \+ 1 = 4\/1 \+ 1 = 4 \+ 1 = 5/.test(text), text);
    await page.getByRole("button", { name: "Example: W=227, F=11, S=4, P=0" }).click();
    text = await out.textContent();
    check("calculator: W=227, F=11, S=4, P=0 → 55", /\(227 − 11 \+ 2×0\)\/4 \+ 1 = 216\/4 \+ 1 = 54 \+ 1 = 55/.test(text), text);
    await page.getByLabel("Input size (W)").fill("224");
    await page.getByLabel("Kernel size (F)").fill("3");
    await page.getByLabel("Stride (S)").fill("2");
    await page.getByLabel("Padding (P)").fill("0");
    text = await out.textContent();
    check("calculator: 224, 3, stride 2 is not whole; floor 111, ceil 112, SAME 112, VALID 111",
      /221\/2 \+ 1 = 110.5 \+ 1/.test(text) && /not whole/.test(text) && /Floor.*: 111/.test(text) && /Ceil mode.*: 112/.test(text) &&
      /SAME.*= 112/.test(text) && /VALID.*= 111/.test(text), text);
    await page.getByLabel("Output row").fill("110");
    await page.getByLabel("Output column").fill("3");
    const rfCap = await page.locator("#rf-in-cap").textContent();
    check("the receptive field of output cell (110, 3): rows 220–222, columns 6–8", /rows 220–222, columns 6–8/.test(rfCap), rfCap);
    await page.getByRole("button", { name: "Example: 7×7 input, 3×3 kernel, stride 1" }).click();
    await page.getByLabel("Output row").fill("2");
    await page.getByLabel("Output column").fill("4");
    check("the receptive field of output cell (2, 4) of 5x5: rows 2–4, columns 4–6", /rows 2–4, columns 4–6/.test(await page.locator("#rf-in-cap").textContent()));
    const lit = await page.evaluate(() => {
      const c = document.getElementById("rf-in");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let blue = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 200 && d[i] < 150) blue++;
      return blue;
    });
    check("the receptive field is highlighted: 3x3 of 7x7 cells", lit > 0.12 * 280 * 280 && lit < 0.2 * 280 * 280, `${lit} pixels`);
    await page.getByLabel("Output row").fill("5");
    check("an output cell out of range: a message", /rows and columns 0 to 4/.test(await page.locator("#rf-out-cap").textContent()));
    await page.getByLabel("Input size (W)").fill("3");
    await page.getByLabel("Kernel size (F)").fill("7");
    text = await out.textContent();
    check("a kernel larger than the input: a message", /larger than the padded input \(W \+ 2P = 3\)/.test(text), text);
    await page.getByLabel("Stride (S)").fill("");
    text = await out.textContent();
    check("an empty stride: a message", /must be a whole number/.test(text), text);

    // Pooling and softmax.
    await page.waitForFunction(() => __learnStats.liveUpdates >= 1, null, { timeout: 60000 });
    const pooled = await page.evaluate(() => [__learnStats.poolIn, __learnStats.pooled]);
    check("pooling a feature map by 2 halves it", pooled[1] === Math.floor(pooled[0] / 2), pooled.join(" → "));
    check("the pooled map is a real network's: a channel of MobileNetV2's first layer", /channel \d+ of layer .* of models\/mobilenet_v2_1\.0_224\.glimpse/.test(await page.locator("#pool-source").textContent()),
      await page.locator("#pool-source").textContent());
    const sm = await page.locator("#softmax-table").textContent();
    check("softmax of (2, 1, 0.1) is (0.6590, 0.2424, 0.0986), summing to 1", /0\.6590/.test(sm) && /0\.2424/.test(sm) && /0\.0986/.test(sm) && /Σ = 1\.0000/.test(sm), sm);

    // Architecture explorer: totals equal the CLI's for every architecture.
    const names = await page.locator("#arch option").evaluateAll((os) => os.map((o) => o.value));
    check("the explorer offers the nine zoo architectures and nsfwjs's InceptionV3", names.length === 10 && names.includes("inception_v3"), names.join(" "));
    for (const name of names) {
      await page.getByLabel("Architecture", { exact: true }).selectOption(name);
      // InceptionV3 is a model file, loaded on demand with its progress
      await page.waitForFunction(() => __learnStats.arch === document.getElementById("arch").value, null, { timeout: 60000 });
      const params = digits(await page.locator("#arch-params").textContent());
      const macs = digits(await page.locator("#arch-macs").textContent());
      const target = name === "inception_v3" ? path.join(SITE, "models", "inception_v3_299.glimpse") : name;
      const ref = JSON.parse(execFileSync(GLIMPSE, ["inspect", target, "--json"]));
      check(`${name}: ${params.toLocaleString("en")} parameters and ${macs.toLocaleString("en")} MACs as glimpse inspect --json`,
        params === ref.params && macs === ref.macs, `inspect: ${ref.params}, ${ref.macs}`);
      if (name === "mobilenet_v1") {
        const blocks = await page.locator("#arch-blocks tbody tr").count();
        const first = await page.locator("#arch-blocks tbody tr").first().textContent();
        check("MobileNet v1: 13 separable blocks, the first 1/64 + 1/9 = 0.1267", blocks === 13 && /1\/64 \+ 1\/9 = 0\.1267/.test(first), first);
      }
      if (name === "lenet5") {
        const row = await page.locator("#arch-sharing tbody tr").first().textContent();
        check("LeNet-5 conv1: 156 parameters against 4,821,600 for a dense layer", /156/.test(row) && /4,821,600/.test(row), row);
      }
    }
    check("the chart cites the papers", (await page.locator("#arch-cites li").count()) === 9);

    // Inside a real network: the default backbone on the sample, then the fake webcam.
    await page.waitForFunction(() => __learnStats.liveUpdates >= 1, null, { timeout: 60000 });
    check("first-layer filters of MobileNetV2 drawn", await page.evaluate(() => __learnStats.filters) === 32 &&
      await page.getByRole("img", { name: "First-layer filters", exact: true }).count() === 1);
    const spread = async (id) => page.evaluate((id) => {
      const c = document.getElementById(id);
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let i = 0; i < d.length; i += 4) seen.add(d[i] >> 3);
      return seen.size;
    }, id);
    check("feature maps drawn, not blank", await spread("live-maps") > 8 && await page.getByRole("img", { name: "Feature maps", exact: true }).count() === 1,
      await page.evaluate(() => __learnStats.mapsShape));
    check("a backbone: no class activation map, a message", /this model has no classifier/.test(await page.locator("#live-cam-cap").textContent()));
    const layers = await page.getByLabel("Layer", { exact: true }).locator("option").count();
    await page.getByLabel("Layer", { exact: true }).selectOption(String(layers - 1));
    await page.waitForFunction(() => __learnStats.mapsShape === "7×7×1280", null, { timeout: 20000 }).catch(() => {});
    check("the last layer's feature maps: 7×7×1280", await page.evaluate(() => __learnStats.mapsShape) === "7×7×1280", await page.evaluate(() => __learnStats.mapsShape));
    const before = await page.evaluate(() => __learnStats.liveUpdates);
    await page.getByRole("button", { name: "Start the camera" }).click();
    await page.waitForFunction((n) => __learnStats.liveUpdates >= n + 3, before, { timeout: 30000 });
    check("the feature maps follow the fake webcam", await spread("live-maps") > 8);
    await page.getByRole("button", { name: "Start the camera" }).click();
    // The shipped LeNet-5: six 5x5 filters, ten logits, and no class
    // activation map (it flattens its map into the dense layers).
    if (fs.existsSync(path.join(SITE, "models", "lenet5_mnist.glimpse"))) {
      const n = await page.evaluate(() => __learnStats.liveUpdates);
      await page.getByLabel("Model", { exact: true }).selectOption("models/lenet5_mnist.glimpse");
      await page.waitForFunction((n) => __learnStats.liveModel === "models/lenet5_mnist.glimpse" && __learnStats.liveUpdates > n, n, { timeout: 60000 });
      check("LeNet-5: 6 filters, 28×28×6 maps, 10 logits, no CAM and why", await page.evaluate(() => __learnStats.filters) === 6 &&
        await page.evaluate(() => __learnStats.mapsShape) === "28×28×6" &&
        await page.locator("#live-softmax tbody tr").count() === 10 &&
        /flattens its last feature map/.test(await page.locator("#live-cam-cap").textContent()));
    }
    // A big network the student brings: AlexNet (the real architecture,
    // its backbone as glimpse convert --drop-head writes it, untrained
    // seeded weights), read with its progress, checked for memory first.
    {
      check("the built-in models offer no backbone switch", !(await page.locator("#live-backbone").isVisible()) && !(await page.locator("#live-backbone-reset").isVisible()));
      const n = await page.evaluate(() => __learnStats.liveUpdates);
      await page.locator("#live-file").setInputFiles(ALEXNET);
      await page.waitForFunction((n) => __learnStats.liveModel === "alexnet_seeded.glimpse" && __learnStats.liveUpdates > n, n, { timeout: 120000 });
      const st = await page.evaluate(() => ({ p: __learnStats.liveProgress, steps: __learnStats.liveProgressSteps, need: __learnStats.liveNeed, budget: __learnStats.liveBudget }));
      check("AlexNet: the progress bar streamed to 100%", st.p === 1 && st.steps > 3, JSON.stringify(st));
      check("AlexNet: 64 first-layer filters of 11×11×3, 55×55×64 feature maps drawn", await page.evaluate(() => __learnStats.filters) === 64 &&
        await page.evaluate(() => __learnStats.mapsShape) === "55×55×64" && await spread("live-maps") > 8, await page.evaluate(() => __learnStats.mapsShape));
      const status = await page.locator("#live-status").textContent();
      check("AlexNet: the status names its 2,469,696 parameters and says its weights are untrained", /alexnet, 2,469,696 parameters/.test(status) &&
        /untrained alexnet: seeded random weights/.test(status), status);
      await page.locator("#live").screenshot({ path: path.join(ART, "en-1280-live-alexnet.png") });

      // AlexNet fine-tuning: the course hands the backbone to the app, which
      // trains only a new head on AlexNet's features (two classes of
      // photos) and predicts with it.
      await page.getByRole("button", { name: "Use as the app's backbone" }).click();
      await page.waitForFunction(() => __learnStats.backbone === "alexnet_seeded.glimpse", null, { timeout: 20000 });
      const app = await context.newPage();
      app.on("pageerror", (e) => errors.push(String(e)));
      app.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
      await app.goto(server.url);
      await app.waitForFunction(() => globalThis.__glimpseStats && __glimpseStats.ready, null, { timeout: 120000 });
      const appStatus = await app.locator("#status").textContent();
      check("the app takes AlexNet as its backbone", await app.evaluate(() => __glimpseStats.backbone) === "alexnet_seeded.glimpse" && /Model: alexnet/.test(appStatus), appStatus);
      const card = (name) => app.getByRole("group", { name });
      const crops = (cls) => ["a", "b", "c", "d"].map((k) => path.join(ART, "cat-rocket", cls, `${k}.png`));
      await card("Class 1").getByLabel("Upload images").setInputFiles(crops("cat"));
      await card("Class 2").getByLabel("Upload images").setInputFiles(crops("rocket"));
      await app.waitForFunction(() => [...document.querySelectorAll(".count")].map((e) => parseInt(e.textContent, 10)).join() === "4,4", null, { timeout: 60000 });
      await app.getByRole("button", { name: "Train" }).click();
      await app.waitForFunction(() => __glimpseStats.trained > 0, null, { timeout: 180000 });
      await app.getByLabel("Predict images").setInputFiles(path.join(PHOTOS, "rocket.png"));
      await app.waitForSelector(".prediction", { timeout: 60000 });
      const pred = await app.locator(".prediction").first().textContent();
      check("AlexNet fine-tuning: a head trained on AlexNet's features in the app predicts the rocket", /Class 2/.test(pred), pred);
      await app.screenshot({ path: path.join(ART, "en-1280-app-alexnet.png"), fullPage: true });
      await app.close();
      await page.getByRole("button", { name: "Back to the app's default backbone" }).click();
      await page.waitForFunction(() => __learnStats.backbone === "", null, { timeout: 20000 });
    }
    const big = path.join(ART, "big.glimpse");
    fs.closeSync(fs.openSync(big, "w"));
    fs.truncateSync(big, 600 << 20);
    await page.locator("#live-file").setInputFiles(big);
    await page.waitForFunction(() => __learnStats.liveRefused === true, null, { timeout: 20000 });
    check("a model too big: a message", /larger than any model this page can load/.test(await page.locator("#live-status").textContent()),
      await page.locator("#live-status").textContent());
    fs.unlinkSync(big);

    // The fragment reaches a lesson.
    await page.goto(server.url + "learn.html#architectures");
    await page.waitForFunction(() => globalThis.__learnStats && __learnStats.ready, null, { timeout: 60000 });
    const top = await page.evaluate(() => document.getElementById("architectures").getBoundingClientRect().top);
    check("learn.html#architectures opens at that lesson", Math.abs(top) < 120, `top ${top}`);

    // A layer out of range in the address.
    await page.goto(server.url + "learn.html?layer=999#live");
    await page.waitForFunction(() => globalThis.__learnStats && __learnStats.liveUpdates >= 1, null, { timeout: 60000 });
    const layerMsg = await page.locator("#live-maps-cap").textContent();
    check("a layer index out of range: a message, layer 0 shown", /There is no layer 999 in this model: its layers are numbered 0 to 96/.test(layerMsg), layerMsg);

    // The language: switched and remembered.
    await page.getByLabel("Language").selectOption("ko");
    check("switching to Korean", await page.evaluate(() => document.documentElement.lang) === "ko");
    await page.reload();
    await page.waitForFunction(() => globalThis.__learnStats && __learnStats.ready, null, { timeout: 60000 });
    check("Korean is remembered", await page.evaluate(() => document.documentElement.lang) === "ko" && await page.getByLabel("언어").count() === 1);
    await page.getByLabel("언어").selectOption("en");
    check("no console error", errors.length === 0, errors.join(" | "));
    check("no request outside the origin", foreign.length === 0, foreign.join(" "));
    await context.close();

    // A device with little memory (navigator.deviceMemory lowered): AlexNet
    // is refused before its file is read, in plain words; in Korean, and a
    // file that is not a model gets the reader's error in Korean too.
    for (const locale of ["en-US", "ko-KR"]) {
      const context = await browser.newContext({ locale, viewport: { width: 1280, height: 900 } });
      await context.addInitScript(() => Object.defineProperty(Navigator.prototype, "deviceMemory", { get: () => 0.0625 }));
      const page = await context.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
      await page.goto(server.url + "learn.html#live");
      await page.waitForFunction(() => globalThis.__learnStats && __learnStats.ready && __learnStats.liveUpdates >= 1, null, { timeout: 120000 });
      await page.locator("#live-file").setInputFiles(ALEXNET);
      await page.waitForFunction(() => __learnStats.liveRefused === true, null, { timeout: 30000 });
      const msg = await page.locator("#live-status").textContent();
      if (locale === "en-US") {
        check("too big for the device: AlexNet refused before reading, saying why", /alexnet_seeded\.glimpse will not fit on this device/.test(msg) &&
          /2,469,696 weights/.test(msg) && /this device reports 64\.00 MB of memory/.test(msg), msg);
      } else {
        check("too big for the device, in Korean", /alexnet_seeded\.glimpse은\(는\) 이 기기에 들어가지 않습니다/.test(msg) && /가중치 2,469,696개/.test(msg) &&
          !/\b(the|and|of|is|with)\b/.test(msg), msg);
        await page.locator("#live").screenshot({ path: path.join(ART, "ko-1280-live-too-big.png") });
        await page.evaluate(() => { __learnStats.liveError = ""; });
        await page.locator("#live-file").setInputFiles({ name: "not-a-model.glimpse", mimeType: "application/octet-stream", buffer: fs.readFileSync(path.join(PHOTOS, "dog.png")) });
        await page.waitForFunction(() => __learnStats.liveError !== "", null, { timeout: 30000 });
        const bad = await page.locator("#live-status").textContent();
        check("a file that is not a model: the reader's error in Korean", /모델을 불러오지 못했습니다: not-a-model\.glimpse: Glimpse 모델 파일이 아닙니다/.test(bad) &&
          !/\b(the|and|of|is|with)\b/.test(bad), bad);
      }
      check(`low memory (${locale}): no console error`, errors.length === 0, errors.join(" | "));
      await context.close();
    }

    // A class activation map for a two-class model (cat, rocket) trained
    // by glimpse train on photos, over a webcam that shows the cat on the
    // left of the square the model sees.
    await camTest();

    // The app in Korean from a Korean browser: its own text, its controls,
    // its link to the course; switched to English and remembered.
    {
      const context = await browser.newContext({ locale: "ko-KR", viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const errors = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
      await page.goto(server.url);
      await page.waitForFunction(() => globalThis.__glimpseStats && __glimpseStats.ready, null, { timeout: 60000 });
      const top = await page.locator("body").innerText();
      check("the app in Korean: 배우기, 클래스, 학습, 예측, 프로젝트", await page.getByRole("link", { name: "배우기" }).count() === 1 &&
        /클래스 추가/.test(top) && /누르고 있는 동안 녹화/.test(top) && /샘플 0개/.test(top) && /준비되었습니다/.test(top) &&
        await page.getByLabel("언어", { exact: true }).count() === 1);
      await page.screenshot({ path: path.join(ART, "ko-1280-app.png"), fullPage: true });
      await page.getByLabel("언어", { exact: true }).selectOption("en");
      const en = await page.locator("body").innerText();
      check("the app switched to English", /Add class/.test(en) && /Hold to record/.test(en) && /0 samples/.test(en) &&
        await page.getByRole("link", { name: "Learn" }).count() === 1);
      await page.reload();
      await page.waitForFunction(() => globalThis.__glimpseStats && __glimpseStats.ready, null, { timeout: 60000 });
      check("the app remembers English", await page.evaluate(() => document.documentElement.lang) === "en");
      check("the app in Korean: no console error", errors.length === 0, errors.join(" | "));
      await context.close();
    }

    // Korean from a Korean browser; screenshots of every lesson, both languages, two widths.
    // One page per language, shot at desktop then at phone width.
    for (const [lang, locale] of [["en", "en-US"], ["ko", "ko-KR"]]) {
      const s = await open(browser, server.url, { locale, width: 1280, height: 900 });
      await s.page.waitForFunction(() => __learnStats.liveUpdates >= 1, null, { timeout: 60000 });
      for (const [w, h] of [[1280, 900], [390, 844]]) {
        await s.page.setViewportSize({ width: w, height: h });
        if (lang === "ko" && w === 1280) {
          check("Korean is chosen from a Korean browser", await s.page.evaluate(() => document.documentElement.lang) === "ko");
          for (const l of ["입력 크기 (W)", "커널 크기 (F)", "패딩 (P)", "스트라이드 (S)", "출력 크기", "아키텍처", "언어"]) {
            check(`Korean: one control labelled "${l}"`, await s.page.getByLabel(l, { exact: true }).count() === 1);
          }
          await s.page.getByLabel("아키텍처", { exact: true }).selectOption("mobilenet_v2");
          const ops = await s.page.locator("#arch-layers").innerText();
          check("Korean table: 합성곱, 깊이별 합성곱, 점별 합성곱, 배치 정규화", /합성곱/.test(ops) && /깊이별 합성곱/.test(ops) && /점별 합성곱/.test(ops) && /배치 정규화/.test(ops) && !/Depthwise|Convolution|Batch/.test(ops));
          // Paper titles in the citations stay as published.
          const body = await s.page.evaluate(() => {
            const m = document.querySelector("main").cloneNode(true);
            m.querySelector("#arch-cites").remove();
            document.body.appendChild(m);
            const t = m.innerText;
            m.remove();
            return t;
          });
          const latin = body.match(/.{0,30}\b(the|and|of|is|with)\b.{0,30}/g) || [];
          check("Korean: no English prose in the lessons", latin.length === 0, latin.join(" | "));
          await s.page.getByLabel("아키텍처", { exact: true }).selectOption("lenet5");
        }
        for (const id of SECTIONS) {
          await s.page.locator(`#${id}`).screenshot({ path: path.join(ART, `${lang}-${w}-${id}.png`) });
        }
        await s.page.screenshot({ path: path.join(ART, `${lang}-${w}-top.png`) });
      }
      check(`${lang}: no console error`, s.errors.length === 0, s.errors.join(" | "));
      await s.context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed) process.exit(1);
}

main().catch((e) => { console.error(e); process.exit(1); });
