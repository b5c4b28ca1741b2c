//go:build goexperiment.simd && amd64

package kernels

// fastInt8 lists the int8 implementations faster than Int8Go that this
// build can run here.
func fastInt8() []Int8 {
	if hasAVX2FMA() {
		return []Int8{Int8AVX2{}}
	}
	return nil
}
