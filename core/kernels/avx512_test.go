package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// tileSweep straddles the AVX512 GEMM's tile (14 rows, two and more
// panels of 32 columns) as well as the smaller ones, with every size up to
// 17 and each side of 14, 28, 32, 42 and 64.
var tileSweep = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
	27, 28, 29, 31, 32, 33, 41, 42, 43, 63, 64, 65}

// TestGEMMTileEdges runs every implementation over all m, n, k in
// tileSweep against the naive GEMM, with guard cells after every row (ldc >
// n, as a grouped convolution's column slice has) and after the output.
func TestGEMMTileEdges(t *testing.T) {
	if testing.Short() {
		t.Skip("long sweep")
	}
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(21, 22))
		idx := 0
		for _, m := range tileSweep {
			for _, n := range tileSweep {
				for _, k := range tileSweep {
					idx++
					lda := k + idx%2
					ldc := n + idx%3*5
					act := acts[idx%len(acts)]
					a := randSlice(r, (m-1)*lda+k)
					b := randSlice(r, k*n)
					var bias []float32
					if idx%4 != 0 {
						bias = randSlice(r, n)
					}
					c := guarded((m-1)*ldc+n, 17)
					ker.GEMM(m, n, k, a, lda, ker.PackGEMMWeights(b, k, n), bias, c, ldc, act)
					want := naiveGEMM(m, n, k, a, lda, b, bias, act)
					ch := newChecker(t, fmt.Sprintf("m=%d n=%d k=%d lda=%d ldc=%d act=%d bias=%v", m, n, k, lda, ldc, act, bias != nil), c)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							ch.expect(i*ldc+j, want[i*n+j], k+1)
						}
					}
					ch.done()
					if ch.fails > 0 {
						return
					}
				}
			}
		}
	})
}

// TestDWConv3x3Wide covers the 3x3 depthwise fast paths on channel counts
// that are multiples of 16 (the AVX512 path; the others take them too),
// from maps smaller than the window to ones with long interior runs, for
// every padding style and both strides.
func TestDWConv3x3Wide(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(23, 24))
		idx := 0
		for _, st := range []int{1, 2} {
			for style := 0; style < 4; style++ {
				for _, hw := range [][2]int{{1, 1}, {1, 4}, {2, 2}, {3, 5}, {4, 3}, {7, 7}, {8, 9}, {14, 14}} {
					for _, c := range []int{16, 32, 48} {
						idx++
						pt, pb := pads(style, hw[0], 3, st, 1)
						pl, pr := pads((style+idx)%4, hw[1], 3, st, 1)
						s := &ConvShape{InH: hw[0], InW: hw[1], InC: c, OutC: c, KH: 3, KW: 3, SH: st, SW: st, DH: 1, DW: 1,
							PadTop: pt, PadLeft: pl, PadBottom: pb, PadRight: pr}
						s.OutH = outSize(s.InH, 3, st, 1, pt, pb, false)
						s.OutW = outSize(s.InW, 3, st, 1, pl, pr, false)
						if s.OutH == 0 || s.OutW == 0 {
							continue
						}
						act := acts[idx%len(acts)]
						in := randSlice(r, s.InH*s.InW*c)
						w := randSlice(r, 9*c)
						var bias []float32
						if idx%3 != 0 {
							bias = randSlice(r, c)
						}
						out := guarded(s.OutH*s.OutW*c, 13)
						ker.DWConv(s, in, ker.PackDWConvWeights(w, 3, 3, c), bias, out, act)
						ch := newChecker(t, fmt.Sprintf("%+v act=%d bias=%v", *s, act, bias != nil), out)
						for i, v := range naiveDWConv(s, in, w, bias, act) {
							ch.expect(i, v, 10)
						}
						ch.done()
					}
				}
			}
		}
	})
}

// BenchmarkIm2Col is MobileNet's first convolution: 3x3, stride 2, over a
// 224x224 RGB input padded as torch pads it.
func BenchmarkIm2Col(b *testing.B) {
	s := &ConvShape{InH: 224, InW: 224, InC: 3, OutH: 112, OutW: 112, KH: 3, KW: 3, SH: 2, SW: 2, DH: 1, DW: 1,
		PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	for _, ker := range Available() {
		b.Run(ker.Name(), func(b *testing.B) {
			in := randSlice(rand.New(rand.NewPCG(5, 5)), 224*224*3)
			cols := make([]float32, 112*112*27)
			b.SetBytes(int64(4 * len(cols)))
			for b.Loop() {
				ker.Im2Col(s, in, 0, 3, cols)
			}
		})
	}
}
