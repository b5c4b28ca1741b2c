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
 * taken. tile forces the GEMM tile, '4x8' or '6x8'; by default
 * probeGEMMTile picks it. Returns the variant loaded.
 */
export async function loadSIMD(memory, fetchBytes, variant, tile) {
  const best = detectSIMD();
  const want = variant || best;
  if (want !== 'relaxed' && want !== 'simd' && want !== 'none') {
    throw new Error(`unknown SIMD variant ${JSON.stringify(want)}`);
  }
  if (want === 'relaxed' && best !== 'relaxed' || want === 'simd' && best === 'none') {
    throw new Error(`this WebAssembly engine lacks ${want} SIMD`);
  }
  if (tile !== undefined && tile !== '' && tile !== '4x8' && tile !== '6x8') {
    throw new Error(`unknown GEMM tile ${JSON.stringify(tile)} (4x8 or 6x8)`);
  }
  delete globalThis.__glimpseSIMD;
  if (want === 'none') return want;
  const bytes = await fetchBytes(want === 'relaxed' ? 'kernels_relaxed.wasm' : 'kernels.wasm');
  const module = await WebAssembly.compile(bytes);
  const instance = await WebAssembly.instantiate(module, { env: { mem: memory } });
  const probe = tile ? { tile } : await probeGEMMTile(module);
  globalThis.__glimpseSIMD = { variant: want, gemmTile: probe.tile, gemmProbe: probe, ...instance.exports };
  return want;
}

/**
 * Resolves to {tile, reps, ms}: the GEMM register tile this machine runs
 * faster, '4x8' or '6x8', and each tile's best time for reps products.
 * There is no way to ask a WebAssembly engine which CPU it runs on, and
 * the tiles' speeds depend on it: 4x8 (8 accumulators, 11 live vectors)
 * is the x86 default, the tile V8 keeps in registers everywhere; 6x8 (12
 * accumulators, 15 live vectors: all V8 allocates on x86, half of ARM's
 * 32) loads 0.67 values per multiply-add instead of 0.75 and has 12
 * independent sums in flight instead of 8, which ARM's cores favour, and
 * so do x86 cores whose two FMA pipes need more than 8 sums to stay busy
 * (measured on AMD Zen 5 in Chromium: 6x8 10-15% faster). So both tiles
 * run the same 48x64x128 product, once, at load, in a memory of their own
 * (a second instance of the module: V8 shares compiled code between
 * instances, so the warm-up also readies the functions the Go program
 * calls), and 6x8 is taken only when it is at least 5% faster; otherwise
 * 4x8 stays. It costs about 15 ms. Both tiles give the same bits, so the
 * choice changes speed only.
 */
export async function probeGEMMTile(module) {
  const M = 48, N = 64, K = 128;
  const A = 0, B = A + M * K * 4, C = B + K * N * 4; // 24 + 32 + 12 KiB
  const mem = new WebAssembly.Memory({ initial: 2 });
  const k = (await WebAssembly.instantiate(module, { env: { mem } })).exports;
  new Float32Array(mem.buffer, 0, (C + M * N * 4) / 4).fill(0.5);
  const tiles = { '4x8': k.f32_gemm_4x8, '6x8': k.f32_gemm_6x8 };
  const run = (gemm) => gemm(M, N, K, A, K, B, 0, C, N, 0);
  for (let i = 0; i < 20; i++) for (const t in tiles) run(tiles[t]);
  // Rounds of enough calls for at least half a millisecond, well above the
  // 0.1 ms a page that is not cross-origin isolated may round its clock to,
  // alternating which tile goes first; the best round of each counts. V8
  // compiles the optimized code in the background once the warm-up has
  // made a function hot, and until it lands a tile runs its baseline code
  // three to four times slower: so the rounds go on for 10 ms (and at
  // least five rounds), by when both have their optimized code.
  const start = performance.now();
  let reps = 1;
  for (let t = 0; t < 0.5 && reps < 1 << 16; reps *= 2) {
    const s = performance.now();
    for (let i = 0; i < reps; i++) run(tiles['4x8']);
    t = performance.now() - s;
  }
  const best = { '4x8': Infinity, '6x8': Infinity };
  for (let round = 0; round < 40 && (round < 5 || performance.now() - start < 10); round++) {
    for (const t of round % 2 ? ['6x8', '4x8'] : ['4x8', '6x8']) {
      const s = performance.now();
      for (let i = 0; i < reps; i++) run(tiles[t]);
      best[t] = Math.min(best[t], performance.now() - s);
    }
  }
  return { tile: best['6x8'] < 0.95 * best['4x8'] ? '6x8' : '4x8', reps, ms: best };
}
