// Runs a GOOS=js GOARCH=wasm program (a test binary, as go test -exec) in
// headless Chromium with Glimpse's SIMD kernels loaded, as
// go-wasm-exec.js does under Node: benchmarks then measure the engine the
// browser build meets (Chromium's V8, not Node 20's). The page is served
// cross-origin isolated (COOP and COEP headers), so performance.now(),
// which Go's clock reads, ticks in microseconds rather than Chromium's
// coarsened 100 µs, and per-layer timings mean something.
//
//   GOOS=js GOARCH=wasm go test -exec="$PWD/tools/js/go-wasm-chromium" -run '^$' -bench . ./core/engine
//
// The program's output (stdout and stderr, which wasm_exec.js's browser
// shim sends to console.log line by line) is printed on stdout, and its
// exit status becomes this process's. The program has no file system:
// go test's -test.testlogfile is dropped. GLIMPSE_SIMD=relaxed|simd|none
// forces a kernel variant and GLIMPSE_GEMM_TILE=4x8|6x8 the GEMM tile, as
// for go-wasm-exec; GLIMPSE_SIMD_DIR takes the
// kernel modules from another directory than wasm/simd (to compare two
// builds of them); GO_WASM_CHROMIUM_FLAGS adds Chromium flags, separated by
// spaces.
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");
const { execFileSync } = require("child_process");
const { launch } = require("./browser");

if (process.argv.length < 3) {
  console.error("usage: go-wasm-chromium WASM [ARGS...]");
  process.exit(1);
}

const simdDir = process.env.GLIMPSE_SIMD_DIR || path.join(__dirname, "..", "..", "wasm", "simd");
const goroot = execFileSync("go", ["env", "GOROOT"], { encoding: "utf8" }).trim();

const files = {
  "/test.wasm": [process.argv[2], "application/wasm"],
  "/wasm_exec.js": [path.join(goroot, "lib", "wasm", "wasm_exec.js"), "text/javascript"],
  "/loader.mjs": [path.join(simdDir, "loader.mjs"), "text/javascript"],
  "/kernels.wasm": [path.join(simdDir, "kernels.wasm"), "application/wasm"],
  "/kernels_relaxed.wasm": [path.join(simdDir, "kernels_relaxed.wasm"), "application/wasm"],
};

const page = `<!doctype html><meta charset="utf-8"><title>go test</title><link rel="icon" href="data:,">
<script src="/wasm_exec.js"></script>
<script type="module">
import { loadSIMD } from '/loader.mjs';
const { argv, variant, tile } = await (await fetch('/args.json')).json();
const go = new Go();
go.argv = argv;
go.exit = (code) => { window.goExit = code; };
try {
  const { instance } = await WebAssembly.instantiateStreaming(fetch('/test.wasm'), go.importObject);
  const loaded = await loadSIMD(instance.exports.mem, async (name) => new Uint8Array(await (await fetch('/' + name)).arrayBuffer()), variant, tile);
  go.env = { GLIMPSE_SIMD_LOADED: loaded, GLIMPSE_WASM_HOST: "chromium" };
  await go.run(instance);
} catch (e) {
  console.error(String(e && e.stack || e));
  window.goExit = 1;
}
window.goExit ??= go.exited ? 0 : 1;
</script>`;

async function main() {
  const argv = ["test.wasm", ...process.argv.slice(3).filter((a) => !a.startsWith("-test.testlogfile"))];
  const args = JSON.stringify({ argv, variant: process.env.GLIMPSE_SIMD || undefined, tile: process.env.GLIMPSE_GEMM_TILE || undefined });
  const server = http.createServer((req, res) => {
    const headers = {
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "Cache-Control": "no-store",
    };
    const url = req.url.split("?")[0];
    if (url === "/") {
      res.writeHead(200, { ...headers, "Content-Type": "text/html" });
      res.end(page);
    } else if (url === "/args.json") {
      res.writeHead(200, { ...headers, "Content-Type": "application/json" });
      res.end(args);
    } else if (files[url]) {
      res.writeHead(200, { ...headers, "Content-Type": files[url][1] });
      fs.createReadStream(files[url][0]).pipe(res);
    } else {
      res.writeHead(404, headers);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const browser = await launch(process.env.GO_WASM_CHROMIUM_FLAGS ? process.env.GO_WASM_CHROMIUM_FLAGS.split(" ") : []);
  let code = 1;
  try {
    const p = await browser.newPage();
    p.on("console", (msg) => {
      if (msg.type() === "log" || msg.type() === "error" || msg.type() === "warning") {
        process.stdout.write(`${msg.text()}\n`);
      }
    });
    p.on("pageerror", (e) => process.stdout.write(`page error: ${e}\n`));
    await p.goto(`http://127.0.0.1:${server.address().port}/`);
    if (!await p.evaluate(() => self.crossOriginIsolated)) {
      process.stdout.write("go-wasm-chromium: the page is not cross-origin isolated; timings are coarse\n");
    }
    await p.waitForFunction(() => window.goExit !== undefined, null, { timeout: 0, polling: 200 });
    code = await p.evaluate(() => window.goExit);
  } finally {
    await browser.close();
    server.close();
  }
  process.exit(code);
}

main().catch((e) => {
  console.error(`go-wasm-chromium: ${e.stack || e}`);
  process.exit(1);
});
