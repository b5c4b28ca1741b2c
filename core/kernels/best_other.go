//go:build !js && !(goexperiment.simd && amd64)

package kernels

// Best returns the fastest implementation this build can run. Without the
// simd experiment on amd64 that is the pure-Go one.
func Best() Kernels { return Go{} }

// Available lists every implementation this build can run on this machine,
// the reference first; tests run each against the naive reference.
func Available() []Kernels { return []Kernels{Go{}} }
