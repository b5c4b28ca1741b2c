//go:build !(goexperiment.simd && amd64) && !(js && wasm)

package kernels

// fastInt8 lists the int8 implementations faster than Int8Go that this
// build can run here: none.
func fastInt8() []Int8 { return nil }
