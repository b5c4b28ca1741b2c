package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkInt8Layers times each int8 implementation's GEMM and depthwise
// convolution at MobileNetV2 1.0's sizes (benchGEMMShapes; the depthwise
// layers at 112, 56, 28, 14 and 7 pixels a side), in GOP/s (two
// operations a multiply-add) over the fastest run.
func BenchmarkInt8Layers(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, impl := range AvailableInt8() {
		for _, sh := range benchGEMMShapes {
			m, k, n := sh[0], sh[1], sh[2]
			b.Run(fmt.Sprintf("%s/gemm/m=%d,k=%d,n=%d", impl.Name(), m, k, n), func(b *testing.B) {
				a := randInt8(r, m*k, -128, 127)
				w := impl.PackQS8GEMM(randInt8(r, k*n, -127, 127), k, n, nil, qs8Mults(r, n, k), -128)
				c := make([]int8, m*n)
				o := QS8Out{Zero: -128, Min: -128, Max: 127}
				best := bestOf(b, func() { impl.QS8GEMM(m, a, k, w, c, n, o) })
				b.ReportMetric(2*float64(m*n*k)/best/1e9, "best_GOP/s")
			})
		}
		for _, sh := range [][3]int{{112, 32, 1}, {112, 96, 2}, {56, 144, 1}, {28, 192, 1}, {14, 576, 1}, {7, 960, 1}} {
			hw, c, st := sh[0], sh[1], sh[2]
			s := ConvShape{InH: hw, InW: hw, InC: c, OutH: hw / st, OutW: hw / st, OutC: c, KH: 3, KW: 3, SH: st, SW: st, DH: 1, DW: 1,
				PadTop: 2 - st, PadLeft: 2 - st, PadBottom: 1, PadRight: 1}
			b.Run(fmt.Sprintf("%s/dwconv/%dx%dx%d,s%d", impl.Name(), hw, hw, c, st), func(b *testing.B) {
				in := randInt8(r, hw*hw*c, -128, 127)
				w := impl.PackQS8DWConv(randInt8(r, 9*c, -127, 127), 3, 3, c, nil, qs8Mults(r, c, 9))
				out := make([]int8, s.OutH*s.OutW*c)
				o := QS8Out{Zero: -128, Min: -128, Max: 127}
				best := bestOf(b, func() { impl.QS8DWConv(&s, in, -128, w, out, o) })
				b.ReportMetric(2*float64(s.OutH*s.OutW*c*9)/best/1e9, "best_GOP/s")
			})
		}
	}
}
