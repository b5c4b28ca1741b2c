//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// hasAVX512VNNI reports whether the CPU runs Int8AVX512VNNI: AVX-512 VNNI
// beside everything AVX512 needs.
func hasAVX512VNNI() bool { return hasAVX512() && archsimd.X86.AVX512VNNI() }

// fastInt8 lists the int8 implementations faster than Int8Go that this
// build can run here, slowest first.
func fastInt8() []Int8 {
	switch {
	case hasAVX512VNNI():
		return []Int8{Int8AVX2{}, Int8AVX512VNNI{}}
	case hasAVX2FMA():
		return []Int8{Int8AVX2{}}
	}
	return nil
}
