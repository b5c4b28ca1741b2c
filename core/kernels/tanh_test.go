package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestTanh(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(35, 36))
		for _, ab := range [][2]float32{{1, 1}, {1.7159, 2.0 / 3}} {
			x := randSlice(r, 1000)
			for i := range x {
				x[i] *= 30 // saturating both ways
			}
			x = append(x, 0, -0.0, 1e-8, -1e-8, float32(math.Inf(1)), float32(math.Inf(-1)))
			got := append([]float32(nil), x...)
			ker.Tanh(got, ab[0], ab[1])
			ch := newChecker(t, fmt.Sprintf("alpha=%v beta=%v", ab[0], ab[1]), got)
			for i, v := range x {
				ch.expect(i, float64(ab[0])*math.Tanh(float64(ab[1])*float64(v)), 1)
			}
			ch.done()
		}
	})
}
