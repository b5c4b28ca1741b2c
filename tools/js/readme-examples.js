// Runs the README's two JavaScript API examples in headless Chromium as a
// user would: each page saved beside glimpse.js in a served site that
// holds models/mobilenet_v2_1.0_224.glimpse. The first one's answer is
// checked against the CLI's embeddings, the second one trains on a cat
// and a dog and must tell a cropped cat. package-test.js runs them on the
// npm package's files.
"use strict";

const fs = require("fs");
const path = require("path");
const { execFileSync } = require("child_process");
const { root, launch } = require("./browser");

const bin = path.join(root, "bin", "glimpse");
const photos = path.join(root, "tools", "convert", "testdata", "photos");

/** The html blocks of the README's JavaScript API section, in order. */
function readmeExamples() {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const start = readme.indexOf("\n## JavaScript API");
  const end = readme.indexOf("\n## ", start + 1);
  if (start < 0) return [];
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```html\n([\s\S]*?)```/g)].map((m) => m[1]);
}

function embeddings(model, ...images) {
  const out = execFileSync(bin, ["predict", "-m", model, "--json", ...images], { maxBuffer: 64 << 20 });
  return JSON.parse(out.toString()).results.map((r) => r.embedding);
}

// watch collects a page's uncaught errors and console errors.
function watch(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (msg) => { if (msg.type() === "error") errors.push(msg.text()); });
  return errors;
}

/**
 * Runs the first example (how alike two pictures look) from url, the site
 * at directory site, and checks its cosine similarity against the CLI's
 * embeddings of the same two photos with model (a path).
 */
async function similarityExample(url, site, model, check) {
  const [html] = readmeExamples();
  check("the README has a JavaScript API example", !!html);
  if (!html) return;
  fs.writeFileSync(path.join(site, "example.html"), html);
  const a = path.join(photos, "dog.png");
  const b = path.join(photos, "chelsea.png");
  const [ea, eb] = embeddings(model, a, b);
  let dot = 0;
  let na = 0;
  let nb = 0;
  ea.forEach((v, i) => { dot += v * eb[i]; na += v * v; nb += eb[i] * eb[i]; });
  const want = dot / Math.sqrt(na * nb);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = watch(page);
    // The example has no icon: the browser's request for one is not its error.
    await page.route("**/favicon.ico", (r) => r.fulfill({ status: 204 }));
    await page.goto(`${url}example.html`);
    await page.waitForFunction(() => document.getElementById("bar").value === 1 && document.getElementById("b").onchange, null, { timeout: 60000 });
    await page.setInputFiles("#a", a);
    await page.setInputFiles("#b", b);
    await page.waitForFunction(() => /cosine/.test(document.getElementById("out").textContent), null, { timeout: 30000 });
    const text = await page.$eval("#out", (e) => e.textContent);
    const got = Number(/(-?[\d.]+)$/.exec(text)[1]);
    check("the README example runs and agrees with the CLI's embeddings", Math.abs(got - want) < 1.5e-3 && errors.length === 0,
      `${text}; CLI ${want.toFixed(3)}${errors.length ? `; errors: ${errors.join(" | ")}` : ""}`);
  } finally {
    await browser.close();
  }
}

/**
 * Runs the second example (a classifier of cats and dogs): a cat and a
 * dog picked, trained, the model offered for saving, and the centre of
 * the cat, cropped by the browser, told apart.
 */
async function classifierExample(url, site, check) {
  const [, html] = readmeExamples();
  check("the README has a classifier example", !!html);
  if (!html) return;
  fs.writeFileSync(path.join(site, "example-classifier.html"), html);
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors = watch(page);
    await page.route("**/favicon.ico", (r) => r.fulfill({ status: 204 }));
    await page.goto(`${url}example-classifier.html`);
    await page.waitForFunction(() => document.getElementById("test").onchange, null, { timeout: 60000 });
    await page.setInputFiles("#cat", path.join(photos, "chelsea.png"));
    await page.setInputFiles("#dog", path.join(photos, "dog.png"));
    await page.click("#train");
    await page.waitForFunction(() => /trained|class/.test(document.getElementById("out").textContent), null, { timeout: 60000 });
    const trained = await page.$eval("#out", (e) => e.textContent);
    const saveShown = await page.$eval("#save", (e) => !e.hidden && e.href.startsWith("blob:"));
    const cat = fs.readFileSync(path.join(photos, "chelsea.png")).toString("base64");
    const crop = await page.evaluate(async (png) => {
      const bmp = await createImageBitmap(await (await fetch(`data:image/png;base64,${png}`)).blob());
      const c = new OffscreenCanvas(bmp.width, bmp.height);
      c.getContext("2d").drawImage(bmp, bmp.width / 4, bmp.height / 4, bmp.width / 2, bmp.height / 2, 0, 0, bmp.width, bmp.height);
      const b = new Uint8Array(await (await c.convertToBlob({ type: "image/png" })).arrayBuffer());
      let s = "";
      for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
      return btoa(s);
    }, cat);
    await page.setInputFiles("#test", { name: "chelsea_crop.png", mimeType: "image/png", buffer: Buffer.from(crop, "base64") });
    await page.waitForFunction(() => /%\)$/.test(document.getElementById("out").textContent), null, { timeout: 30000 });
    const text = await page.$eval("#out", (e) => e.textContent);
    check("the README classifier example trains and tells a cropped cat from a dog", /^trained/.test(trained) && /^cat /.test(text) && saveShown && errors.length === 0,
      `${trained}; ${text}${errors.length ? `; errors: ${errors.join(" | ")}` : ""}`);
  } finally {
    await browser.close();
  }
}

module.exports = { readmeExamples, similarityExample, classifierExample };
