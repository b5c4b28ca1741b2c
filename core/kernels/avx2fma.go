//go:build goexperiment.simd && amd64

package kernels

// AVX2FMA is the amd64 fast path: microkernels written with simd/archsimd
// on 256-bit vectors and fused multiply-add. It embeds Go, so every kernel
// it does not override runs the reference. Use it only where the CPU has
// AVX2 and FMA (Best checks).
type AVX2FMA struct{ Go }

// Name implements Kernels.
func (AVX2FMA) Name() string { return "avx2fma" }
