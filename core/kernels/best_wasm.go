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
// reference first; tests run each against the naive reference.
func Available() []Kernels {
	if k, ok := NewWasmSIMD(); ok {
		return []Kernels{Go{}, k}
	}
	return []Kernels{Go{}}
}
