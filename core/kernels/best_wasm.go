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
// SIMD module loaded that is the probed kernels and the same kernels with
// the other GEMM tile, so both tiles are tested on every machine.
func Available() []Kernels {
	k, ok := NewWasmSIMD()
	if !ok {
		return []Kernels{Go{}}
	}
	other := "6x8"
	if k.GEMMTile() == "6x8" {
		other = "4x8"
	}
	alt, _ := NewWasmSIMDTile(other)
	return []Kernels{Go{}, k, alt}
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
