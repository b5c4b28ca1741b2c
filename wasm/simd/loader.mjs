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

// The module file of each variant.
const FILES = { relaxed: 'kernels_relaxed.wasm', simd: 'kernels.wasm' };

/**
 * Compiles the kernel module of variant ('relaxed' or 'simd') while the
 * Go module is still on its way: fetchResponse(fileName) returns (a
 * promise of) its fetch Response, compiled as it streams in. Resolves to
 * the WebAssembly.Module, which loadSIMD takes in place of bytes.
 */
export async function compileSIMD(variant, fetchResponse) {
  if (!FILES[variant]) throw new Error(`unknown SIMD variant ${JSON.stringify(variant)}`);
  const res = await fetchResponse(FILES[variant]);
  try {
    return await WebAssembly.compileStreaming(res.clone());
  } catch {
    // A server that labels .wasm with another MIME type defeats streaming.
    return WebAssembly.compile(await res.arrayBuffer());
  }
}

/**
 * Instantiates the kernels over memory (the Go instance's exports.mem) and
 * publishes them as globalThis.__glimpseSIMD, or as globalThis[global] for
 * a second Go program on the page, started with the environment variable
 * GLIMPSE_SIMD_GLOBAL naming that global (each instance imports one
 * program's memory). fetchBytes(fileName) returns
 * (a promise of) the module's bytes, or the module compileSIMD compiled.
 * variant forces 'relaxed', 'simd' or 'none' (throwing if the engine
 * lacks it); by default the best one is taken. tile forces the GEMM tile, '4x8' or '6x8'; by default the 4x8
 * tile runs until probeGEMMTile, started here and running in the
 * background, has picked one (gemmTile, with gemmProbe.done set; the Go
 * side looks again every few dozen products until then). Returns the
 * variant loaded.
 */
export async function loadSIMD(memory, fetchBytes, variant, tile, global = '__glimpseSIMD') {
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
  delete globalThis[global];
  if (want === 'none') return want;
  const source = await fetchBytes(FILES[want]);
  const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
  const instance = await WebAssembly.instantiate(module, { env: { mem: memory } });
  const simd = { variant: want, gemmTile: tile || '4x8', gemmProbe: { done: !!tile, forced: !!tile }, ...instance.exports };
  globalThis[global] = simd;
  if (!tile) {
    probeGEMMTile(module).then((probe) => {
      simd.gemmTile = probe.tile;
      simd.gemmProbe = probe;
    }, (err) => {
      simd.gemmProbe = { done: true, error: String(err) };
    });
  }
  return want;
}

/**
 * Resolves to {done, tile, reps, rounds, wins6x8, ms}: the GEMM register
 * tile this machine runs faster, '4x8' or '6x8', the rounds that decided
 * and how many 6x8 won, and each tile's best time for reps products.
 *
 * There is no way to ask a WebAssembly engine which CPU it runs on, and the
 * tiles' speeds depend on it and on the engine: 4x8 (8 accumulators, 11
 * live vectors) is the x86 default, the tile V8 keeps in registers
 * everywhere; 6x8 (12 accumulators, 15 live vectors: all V8 allocates on
 * x86, half of ARM's 32) loads 0.67 values per multiply-add instead of 0.75
 * and has 12 independent sums in flight instead of 8, which ARM's cores
 * favour, and so do x86 cores whose two FMA pipes need more than 8 sums to
 * stay busy. Measured on AMD Zen 5: in Chromium with relaxed SIMD 6x8 is
 * 5-15% faster; without relaxed SIMD (a multiply and an add, a register
 * more) it is 30% slower; in Node 20's older V8 it spills and runs at half
 * the speed of 4x8 either way.
 *
 * So both tiles run the same 96x64x128 product in a memory of their own (a
 * second instance of the module: V8 shares compiled code between
 * instances). V8 first runs baseline code, three to five times slower and
 * ranking the tiles differently, and compiles optimized code in the
 * background once a function is hot, which took up to 0.4 s on a loaded
 * machine here; a page's return visit may get optimized code from V8's
 * cache at once. So the probe does not block: rounds of about a millisecond
 * (both tiles back to back, alternating which goes first) run every 50 ms
 * for 1.5 s, yielding in between, and only the last eight decide: 6x8 when
 * its best round is 3% faster and it wins most of them, 4x8 otherwise.
 * Both tiles give the same bits, so the choice changes speed only.
 */
export async function probeGEMMTile(module) {
  const M = 96, N = 64, K = 128;
  const A = 0, B = A + M * K * 4, C = B + K * N * 4; // 48 + 32 + 24 KiB
  const mem = new WebAssembly.Memory({ initial: 2 });
  const k = (await WebAssembly.instantiate(module, { env: { mem } })).exports;
  new Float32Array(mem.buffer, 0, (C + M * N * 4) / 4).fill(0.5);
  const tiles = { '4x8': k.f32_gemm_4x8, '6x8': k.f32_gemm_6x8 };
  const run = (gemm) => gemm(M, N, K, A, K, B, 0, C, N, 0);
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  // Enough calls a round for at least a quarter of a millisecond, above
  // the 0.1 ms a page that is not cross-origin isolated may round its
  // clock to (doubled when optimized code makes the rounds shorter).
  const start = performance.now();
  let reps = 1;
  for (let t = 0; t < 0.25 && reps < 1 << 12; reps *= 2) {
    const s = performance.now();
    for (let i = 0; i < reps; i++) run(tiles['4x8']);
    t = performance.now() - s;
  }
  const last = [];
  for (let round = 0; last.length < 8 || performance.now() - start < 1500; round++) {
    await pause(50);
    const ms = {};
    for (const t of round % 2 ? ['6x8', '4x8'] : ['4x8', '6x8']) {
      const s = performance.now();
      for (let i = 0; i < reps; i++) run(tiles[t]);
      ms[t] = performance.now() - s;
    }
    if (ms['4x8'] < 0.25 && reps < 1 << 12) { // optimized code landed: longer rounds
      reps *= 2;
      last.length = 0;
      continue;
    }
    last.push(ms);
    if (last.length > 8) last.shift();
  }
  const best = (t) => Math.min(...last.map((ms) => ms[t]));
  const wins = last.filter((ms) => ms['6x8'] < ms['4x8']).length;
  const tile = best('6x8') < 0.97 * best('4x8') && 2 * wins > last.length ? '6x8' : '4x8';
  return { done: true, tile, reps, rounds: last.length, wins6x8: wins, ms: { '4x8': best('4x8'), '6x8': best('6x8') } };
}
