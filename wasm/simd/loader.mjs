// Instantiates Glimpse's SIMD kernel module over the Go program's memory.
//
// The module (kernels.wasm, or kernels_relaxed.wasm with fused
// multiply-adds) imports the Go instance's exported memory as env.mem, so
// it reads and writes Go slices in place; core/kernels finds its exports on
// globalThis.__glimpseSIMD. Call loadSIMD after instantiating the Go module
// and before go.run(instance): Go's kernels.Best() looks once, when an
// engine is built, and falls back to the pure-Go kernels when the global
// is absent. No view of the memory is kept here, so the Go memory may grow
// freely.
//
// Used by the Node test runner (tools/js/go-wasm-exec.js) and the browser
// loader.

// Smallest modules using a v128 constant and f32x4.relaxed_madd: engines
// validate them only if they run plain and relaxed SIMD respectively.
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);
const RELAXED_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
  10, 61, 1, 59, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 133, 2, 11,
]);

/** The best variant this engine runs: 'relaxed', 'simd' or 'none'. */
export function detectSIMD() {
  if (WebAssembly.validate(RELAXED_PROBE)) return 'relaxed';
  if (WebAssembly.validate(SIMD_PROBE)) return 'simd';
  return 'none';
}

/**
 * Instantiates the kernels over memory (the Go instance's exports.mem) and
 * publishes them as globalThis.__glimpseSIMD. fetchBytes(fileName) returns
 * (a promise of) the module's bytes. variant forces 'relaxed', 'simd' or
 * 'none' (throwing if the engine lacks it); by default the best one is
 * taken. Returns the variant loaded.
 */
export async function loadSIMD(memory, fetchBytes, variant) {
  const best = detectSIMD();
  const want = variant || best;
  if (want !== 'relaxed' && want !== 'simd' && want !== 'none') {
    throw new Error(`unknown SIMD variant ${JSON.stringify(want)}`);
  }
  if (want === 'relaxed' && best !== 'relaxed' || want === 'simd' && best === 'none') {
    throw new Error(`this WebAssembly engine lacks ${want} SIMD`);
  }
  delete globalThis.__glimpseSIMD;
  if (want === 'none') return want;
  const bytes = await fetchBytes(want === 'relaxed' ? 'kernels_relaxed.wasm' : 'kernels.wasm');
  const { instance } = await WebAssembly.instantiate(bytes, { env: { mem: memory } });
  globalThis.__glimpseSIMD = { variant: want, ...instance.exports };
  return want;
}
