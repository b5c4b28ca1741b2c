//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// hasAVX2FMA reports whether the CPU runs the AVX2FMA kernels.
func hasAVX2FMA() bool { return archsimd.X86.AVX2() && archsimd.X86.FMA() }

// hasAVX512 reports whether the CPU runs the AVX512 kernels: AVX-512
// F, CD, BW, DQ and VL, and the AVX2/FMA ones it falls back to.
func hasAVX512() bool { return archsimd.X86.AVX512() && hasAVX2FMA() }

// Best returns the fastest implementation this build can run: AVX512 when
// the CPU has AVX-512, AVX2FMA when it has AVX2 and FMA, the pure-Go one
// otherwise.
func Best() Kernels {
	switch {
	case hasAVX512():
		return AVX512{}
	case hasAVX2FMA():
		return AVX2FMA{}
	}
	return Go{}
}

// Available lists every implementation this build can run on this machine,
// the reference first; tests run each against the naive reference.
func Available() []Kernels {
	switch {
	case hasAVX512():
		return []Kernels{Go{}, AVX2FMA{}, AVX512{}}
	case hasAVX2FMA():
		return []Kernels{Go{}, AVX2FMA{}}
	}
	return []Kernels{Go{}}
}

// Exact returns kernels whose results are identical to Go{}'s bit for bit.
// The native SIMD kernels use fused multiply-adds and so round differently:
// this is Go{} itself. Training uses it so that a seed gives the same model
// on every platform.
func Exact() Kernels { return Go{} }
