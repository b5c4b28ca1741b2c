//go:build !js && !(goexperiment.simd && amd64)

package kernels

// Best returns the fastest implementation this build can run. Without the
// simd experiment on amd64 that is the pure-Go one.
func Best() Kernels { return Go{} }

// Available lists every implementation this build can run on this machine,
// the reference first; tests run each against the naive reference.
func Available() []Kernels { return []Kernels{Go{}} }

// Exact returns kernels whose results are identical to Go{}'s bit for bit.
// The native SIMD kernels use fused multiply-adds and so round differently:
// this is Go{} itself. Training uses it so that a seed gives the same model
// on every platform.
func Exact() Kernels { return Go{} }
