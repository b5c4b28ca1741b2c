//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// hasAVX512VNNI reports whether the CPU runs Int8AVX512VNNI: AVX-512 VNNI
// beside everything AVX512 needs.
func hasAVX512VNNI() bool { return hasAVX512() && archsimd.X86.AVX512VNNI() }

// hasAVXVNNI reports whether the CPU runs Int8AVXVNNI: the VEX-encoded
// 256-bit vpdpbusd beside AVX2.
func hasAVXVNNI() bool { return hasAVX2FMA() && archsimd.X86.AVXVNNI() }

// fastInt8 lists the int8 implementations faster than Int8Go that this
// build can run here, slowest first.
func fastInt8() []Int8 {
	if !hasAVX2FMA() {
		return nil
	}
	out := []Int8{Int8AVX2{}}
	if hasAVXVNNI() {
		out = append(out, Int8AVXVNNI{})
	}
	if hasAVX512VNNI() {
		out = append(out, Int8AVX512VNNI{})
	}
	return out
}
