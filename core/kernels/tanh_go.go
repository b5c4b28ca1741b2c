package kernels

import "math"

// Tanh implements Kernels. The hyperbolic tangent is computed in float64
// from one exponential, tanh(z) = 1 - 2/(e^(2z)+1), which saturates to ±1
// without overflow; every implementation runs this one.
func (Go) Tanh(x []float32, alpha, beta float32) {
	a, b := float64(alpha), float64(beta)
	for i, v := range x {
		x[i] = float32(a * tanh64(b*float64(v)))
	}
}

// tanh64 is tanh(z) for any float64, NaN for NaN.
func tanh64(z float64) float64 {
	if z > 20 {
		return 1
	}
	if z < -20 {
		return -1
	}
	return 1 - 2/(math.Exp(2*z)+1)
}
