package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkGEMMAtB runs the weight-gradient product on LeNet-5's shapes
// for a batch of 64: conv1 (25 taps x 6 channels over 50,176 pixels),
// conv2 (150 x 16 over 6,400), fc1 (400 x 120 over 64 samples).
func BenchmarkGEMMAtB(b *testing.B) {
	for _, ker := range Available() {
		for _, sh := range [][3]int{{25, 6, 50176}, {150, 16, 6400}, {400, 120, 64}} {
			m, n, k := sh[0], sh[1], sh[2]
			b.Run(fmt.Sprintf("%s/%dx%dx%d", ker.Name(), m, n, k), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				a, bb, c := randSlice(r, k*m), randSlice(r, k*n), make([]float32, m*n)
				for i := 0; i < b.N; i++ {
					ker.GEMMAtB(m, n, k, a, m, bb, n, c, n)
				}
				b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
