//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// hasAVX2FMA reports whether the CPU runs the AVX2FMA kernels.
func hasAVX2FMA() bool { return archsimd.X86.AVX2() && archsimd.X86.FMA() }

// Best returns the fastest implementation this build can run: AVX2FMA when
// the CPU has AVX2 and FMA, the pure-Go one otherwise.
func Best() Kernels {
	if hasAVX2FMA() {
		return AVX2FMA{}
	}
	return Go{}
}

// Available lists every implementation this build can run on this machine,
// the reference first; tests run each against the naive reference.
func Available() []Kernels {
	if hasAVX2FMA() {
		return []Kernels{Go{}, AVX2FMA{}}
	}
	return []Kernels{Go{}}
}
