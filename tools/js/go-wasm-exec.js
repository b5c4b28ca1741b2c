// Runs a GOOS=js GOARCH=wasm program (a test binary, as go test -exec)
// under Node with Glimpse's SIMD kernels loaded, like the Go toolchain's
// wasm_exec_node.js plus one step: between instantiating the Go module and
// running it, the kernel module is instantiated over Go's memory.
//
// GLIMPSE_SIMD=relaxed|simd|none forces a variant (failing if Node lacks
// it); unset, the best one Node runs is taken. GLIMPSE_GEMM_TILE=4x8|6x8
// forces the GEMM tile instead of the loader's probe. GO_WASM_EXEC_JS is the
// toolchain's wasm_exec.js (the shell wrapper sets it).
"use strict";

const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

if (process.argv.length < 3) {
  console.error("usage: go-wasm-exec WASM [ARGS...]");
  process.exit(1);
}

globalThis.require = require;
globalThis.fs = fs;
globalThis.path = path;
globalThis.TextEncoder = require("util").TextEncoder;
globalThis.TextDecoder = require("util").TextDecoder;
globalThis.performance ??= require("perf_hooks").performance;
globalThis.crypto ??= require("crypto");

require(process.env.GO_WASM_EXEC_JS);

const simdDir = path.join(__dirname, "..", "..", "wasm", "simd");

async function main() {
  const { loadSIMD } = await import(pathToFileURL(path.join(simdDir, "loader.mjs")).href);
  const go = new Go();
  go.argv = process.argv.slice(2);
  go.exit = process.exit;
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject);
  const variant = await loadSIMD(instance.exports.mem, (name) => fs.promises.readFile(path.join(simdDir, name)),
    process.env.GLIMPSE_SIMD, process.env.GLIMPSE_GEMM_TILE);
  // Tell the tests which kernels they must find (core/kernels wasmsimd_test.go).
  go.env = Object.assign({ TMPDIR: require("os").tmpdir() }, process.env, { GLIMPSE_SIMD_LOADED: variant });
  process.on("exit", (code) => { // Node exits when no event is pending
    if (code === 0 && !go.exited) {
      // deadlock: make Go print the error and stack traces
      go._pendingEvent = { id: 0 };
      go._resume();
    }
  });
  await go.run(instance);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
