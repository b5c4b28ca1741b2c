//go:build js && wasm

package kernels

// Best returns the fastest implementation this build can run: the
// WebAssembly SIMD kernels when the page (or the Node runner) loaded their
// module, the pure-Go ones otherwise.
func Best() Kernels {
	if k, ok := NewWasmSIMD(); ok {
		return k
	}
	return Go{}
}

// Available lists every implementation this build can run here, the
// reference first; tests run each against the naive reference. With the
// SIMD module loaded that is its kernels with each GEMM tile
// ("wasmrelaxedsimd_4x8", "wasmrelaxedsimd_6x8"), so both tiles are
// tested, and benchmarked, whichever the loader's probe picks.
func Available() []Kernels {
	k4, ok := NewWasmSIMDTile("4x8")
	if !ok {
		return []Kernels{Go{}}
	}
	k6, _ := NewWasmSIMDTile("6x8")
	return []Kernels{Go{}, k4, k6}
}

// Exact returns kernels whose results are identical to Go{}'s bit for bit,
// as fast as this build allows: here Go{} with the GEMM of the SIMD module
// (f32_gemm_4x8_exact, which both its variants export) when a loader
// published one, Go{} itself otherwise. Training uses it so that a seed
// gives the same model in the browser as natively.
func Exact() Kernels {
	if k, ok := newWasmExact(); ok {
		return k
	}
	return Go{}
}
