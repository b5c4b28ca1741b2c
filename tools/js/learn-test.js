// Browser test of the course page, "Inside the CNN" (dist/learn.html), in
// headless Chromium with a fake webcam made from a real photograph. Per
// lesson: the picture and its channels drawn from the sample, an upload
// and a camera frame; the calculator's results for the course's examples
// and for a division that is not whole, with its receptive field drawn;
// the architecture explorer's totals against `glimpse inspect --json` for
// every architecture; pooling and softmax; the language chosen from the
// browser's, switched and remembered; bad input (a kernel larger than the
// input, an output cell out of range, a blank picture, text for a
// number). No console error and no request outside the origin. Screenshots
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

async function main() {
  fs.mkdirSync(ART, { recursive: true });
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
    const pooled = await page.evaluate(() => __learnStats.pooled);
    check("pooling a 32x32 feature map by 2 gives 16x16", pooled === 16, String(pooled));
    const sm = await page.locator("#softmax-table").textContent();
    check("softmax of (2, 1, 0.1) is (0.6590, 0.2424, 0.0986), summing to 1", /0\.6590/.test(sm) && /0\.2424/.test(sm) && /0\.0986/.test(sm) && /Σ = 1\.0000/.test(sm), sm);

    // Architecture explorer: totals equal the CLI's for every architecture.
    const names = await page.locator("#arch option").evaluateAll((os) => os.map((o) => o.value));
    check("the explorer offers the nine architectures", names.length === 9, names.join(" "));
    for (const name of names) {
      await page.getByLabel("Architecture", { exact: true }).selectOption(name);
      const params = digits(await page.locator("#arch-params").textContent());
      const macs = digits(await page.locator("#arch-macs").textContent());
      const ref = JSON.parse(execFileSync(GLIMPSE, ["inspect", name, "--json"]));
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
    check("the chart cites the papers", (await page.locator("#arch-cites li").count()) === 8);

    // The fragment reaches a lesson.
    await page.goto(server.url + "learn.html#architectures");
    await page.waitForFunction(() => globalThis.__learnStats && __learnStats.ready, null, { timeout: 60000 });
    const top = await page.evaluate(() => document.getElementById("architectures").getBoundingClientRect().top);
    check("learn.html#architectures opens at that lesson", Math.abs(top) < 120, `top ${top}`);

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

    // Korean from a Korean browser; screenshots of every lesson, both languages, two widths.
    for (const [lang, locale] of [["en", "en-US"], ["ko", "ko-KR"]]) {
      for (const [w, h] of [[1280, 900], [390, 844]]) {
        const s = await open(browser, server.url, { locale, width: w, height: h });
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
        check(`${lang} at ${w}px: no console error`, s.errors.length === 0, s.errors.join(" | "));
        await s.context.close();
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  if (failed) process.exit(1);
}

main().catch((e) => { console.error(e); process.exit(1); });
