// Measures the app with a large project: writes a project file of 5,000
// samples (two classes; random embeddings of MobileNetV2's size, each with
// a real thumbnail taken from the end-to-end test's exported project when
// there is one), imports it in headless Chromium, and prints the wasm
// memory before and after, the import time, a training's time and
// the longest stall of the page while it trains.
//
// usage: node tools/js/app-memory.js [SITE_DIR] [SAMPLES] [EPOCHS]
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const net = require("net");
const zlib = require("zlib");
const { spawn } = require("child_process");
const { chromium } = require("playwright-core");
const { PNG } = require("pngjs");

const ROOT = path.resolve(__dirname, "..", "..");
const SITE = path.resolve(process.argv[2] || path.join(ROOT, "dist"));
const N = Number(process.argv[3]) || 5000;
const EPOCHS = Number(process.argv[4]) || 5;
const ART = path.join(__dirname, "artifacts");
const DIM = 1280;

// thumbnail returns a JPEG from the exported project, or a small PNG.
function thumbnail() {
  const f = path.join(ART, "project.glimpseproj");
  if (fs.existsSync(f)) {
    const b = fs.readFileSync(f);
    const hl = b.readUInt32LE(12);
    const h = JSON.parse(b.subarray(16, 16 + hl).toString());
    const off = 16 + hl + 4 * h.embeddingSize;
    return b.subarray(off + 4, off + 4 + b.readUInt32LE(off));
  }
  const png = new PNG({ width: 64, height: 64 });
  png.data.fill(128);
  return PNG.sync.write(png);
}

// project writes a project file as web/project documents it.
function project(n) {
  const thumb = thumbnail();
  const header = Buffer.from(JSON.stringify({
    backbone: "models/mobilenet_v2_1.0_224.glimpse", embeddingSize: DIM,
    settings: { epochs: EPOCHS, batchSize: 16, learningRate: 0.001, augment: false, captureRate: 10 },
    classes: [{ name: "Class 1", samples: n / 2 }, { name: "Class 2", samples: n / 2 }], headLen: 0,
  }));
  const parts = [Buffer.from("GLIMPSEP"), u32(1), u32(header.length), header];
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < n; i++) {
    const emb = new Float32Array(DIM);
    for (let j = 0; j < DIM; j++) emb[j] = rnd() * 3 + (i < n / 2 ? (j % 2) : 1 - (j % 2));
    parts.push(Buffer.from(emb.buffer), u32(thumb.length), thumb, u32(0));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, u32(zlib.crc32(body))]);
}

function u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; }

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const file = path.join(ART, `project-${N}.glimpseproj`);
  fs.writeFileSync(file, project(N));
  const port = await freePort();
  const srv = spawn(path.join(ROOT, "bin", "glimpse"), ["serve", SITE, "--addr", `127.0.0.1:${port}`], { stdio: "ignore" });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "glimpse-mem-"));
  try {
    await new Promise((r) => setTimeout(r, 500));
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium", headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    ctx.setDefaultTimeout(600000);
    const page = ctx.pages()[0] || await ctx.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => window.__glimpseStats && window.__glimpseStats.ready, null, { timeout: 90000 });
    const mem = () => page.evaluate(() => window.glimpseApp.wasmMemoryBytes());
    const m0 = await mem();
    let t = Date.now();
    await page.getByLabel("Import project").setInputFiles(file);
    await page.waitForFunction((n) => window.__glimpseStats.samples === n, N);
    const importMs = Date.now() - t;
    await page.waitForFunction(() => /^Saved/.test(document.getElementById("save-status").textContent));
    const m1 = await mem();
    // The longest gap between timer ticks while training: how long the
    // page is unresponsive at worst.
    await page.evaluate(() => {
      window.__gap = 0;
      let last = performance.now();
      window.__probe = setInterval(() => { const now = performance.now(); window.__gap = Math.max(window.__gap, now - last); last = now; }, 10);
    });
    t = Date.now();
    await page.getByRole("button", { name: "Train" }).click();
    await page.waitForFunction(() => window.__glimpseStats.trained > 0);
    const trainMs = (await page.evaluate(() => window.__glimpseStats.trainMs));
    const gap = await page.evaluate(() => { clearInterval(window.__probe); return window.__gap; });
    const m2 = await mem();
    await page.screenshot({ path: path.join(ART, `memory-${N}.png`), fullPage: false });
    await ctx.close();
    const mb = (b) => (b / 2 ** 20).toFixed(1);
    console.log(`samples=${N} project_file_mb=${mb(fs.statSync(file).size)} wasm_memory_mb_start=${mb(m0)} ` +
      `wasm_memory_mb_after_import=${mb(m1)} wasm_memory_mb_after_training=${mb(m2)} import_ms=${importMs} ` +
      `train_${EPOCHS}_epochs_ms=${trainMs} longest_stall_while_training_ms=${gap.toFixed(0)}`);
  } finally {
    srv.kill();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
