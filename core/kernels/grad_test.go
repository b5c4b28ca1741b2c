package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestGEMMAtB(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(21, 22))
		idx := 0
		// Depths below, at and across the row chunk, and a batch's worth.
		for _, k := range []int{0, 1, 3, 17, atbChunk - 1, atbChunk, atbChunk + 1, 700} {
			for _, m := range sweep {
				for _, n := range sweep {
					idx++
					if k > 17 && idx%4 != 0 {
						continue // deep cases on a quarter of the shapes
					}
					lda, ldb := m+idx%3, n+idx%5*2
					ldc := n + idx%4
					a, b := randSlice(r, max(k*lda, 1)), randSlice(r, max(k*ldb, 1))
					c := guarded((m-1)*ldc+n, 17)
					ker.GEMMAtB(m, n, k, a, lda, b, ldb, c, ldc)
					want := naiveGEMMAtB(m, n, k, a, lda, b, ldb)
					ch := newChecker(t, fmt.Sprintf("m=%d n=%d k=%d lda=%d ldb=%d ldc=%d", m, n, k, lda, ldb, ldc), c)
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							ch.expect(i*ldc+j, want[i*n+j], k)
						}
					}
					ch.done()
				}
			}
		}
	})
}

// convShapes yields convolution shapes over kernel sizes, strides,
// dilations, padding styles, odd map sizes and group counts.
func convShapes(f func(s *ConvShape, groups int)) {
	idx := 0
	for _, kk := range [][2]int{{1, 1}, {3, 3}, {5, 5}, {3, 2}} {
		for _, st := range []int{1, 2, 3} {
			for _, dil := range []int{1, 2} {
				for style := 0; style < 4; style++ {
					for _, gc := range [][3]int{{1, 1, 1}, {1, 3, 6}, {2, 4, 6}, {3, 3, 9}, {1, 8, 17}, {4, 4, 4}} {
						idx++
						groups, cin, cout := gc[0], gc[1], gc[2]
						inH, inW := 5+idx%4, 6+idx%3
						pt, pb := pads(style, inH, kk[0], st, dil)
						pl, pr := pads((style+idx)%4, inW, kk[1], st, dil)
						s := &ConvShape{InH: inH, InW: inW, InC: cin, OutC: cout, KH: kk[0], KW: kk[1],
							SH: st, SW: st, DH: dil, DW: dil, PadTop: pt, PadLeft: pl, PadBottom: pb, PadRight: pr}
						s.OutH = outSize(inH, kk[0], st, dil, pt, pb, false)
						s.OutW = outSize(inW, kk[1], st, dil, pl, pr, false)
						if s.OutH > 0 && s.OutW > 0 {
							f(s, groups)
						}
					}
				}
			}
		}
	}
}

func TestCol2Im(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(23, 24))
		convShapes(func(s *ConvShape, groups int) {
			cin := s.InC / groups
			for g := 0; g < groups; g++ {
				cols := randSlice(r, s.OutH*s.OutW*s.KH*s.KW*cin)
				dx := guarded(s.InH*s.InW*s.InC, 11)
				ker.Col2Im(s, cols, g*cin, cin, dx)
				ch := newChecker(t, fmt.Sprintf("%+v c0=%d cin=%d", *s, g*cin, cin), dx)
				for i, v := range naiveCol2Im(s, cols, cin) {
					ch.expect(i/cin*s.InC+g*cin+i%cin, v, s.KH*s.KW)
				}
				ch.done()
			}
		})
	})
}

func TestConvBackward(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(25, 26))
		idx := 0
		convShapes(func(s *ConvShape, groups int) {
			idx++
			n := 1 + idx%3
			kg := s.KH * s.KW * (s.InC / groups)
			inLen, outLen := s.InH*s.InW*s.InC, s.OutH*s.OutW*s.OutC
			x := randSlice(r, n*inLen)
			w := randSlice(r, kg*s.OutC)
			var bias []float32
			if idx%2 == 0 {
				bias = randSlice(r, s.OutC)
			}
			dy := randSlice(r, n*outLen)
			name := fmt.Sprintf("%+v groups=%d n=%d", *s, groups, n)

			cols := make([]float32, ConvColsLen(s, groups, n))
			ConvIm2Col(ker, s, groups, n, x, cols)
			y := guarded(n*outLen, 7)
			ConvForward(ker, s, groups, n, cols, PackConvWeights(ker, s, groups, w), bias, y, ActNone)
			ch := newChecker(t, "forward "+name, y)
			for i, v := range naiveConv(s, groups, n, x, w, bias) {
				ch.expect(i, v, kg+1)
			}
			ch.done()

			wantW, wantX := naiveConvGrads(s, groups, n, x, w, dy)
			dw := guarded(len(w), 7)
			ConvBackwardFilter(ker, s, groups, n, cols, dy, dw)
			ch = newChecker(t, "filter "+name, dw)
			for i, v := range wantW {
				ch.expect(i, v, n*s.OutH*s.OutW)
			}
			ch.done()

			dx := guarded(n*inLen, 7)
			scratch := make([]float32, ConvDataScratchLen(s, groups, n))
			ConvBackwardData(ker, s, groups, n, dy, PackConvDataWeights(ker, s, groups, w), dx, scratch)
			ch = newChecker(t, "data "+name, dx)
			for i, v := range wantX {
				ch.expect(i, v, s.KH*s.KW*s.OutC)
			}
			ch.done()
		})
	})
}

func TestMaxPoolGrad(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(27, 28))
		poolShapes(func(s *ConvShape) {
			x := randSlice(r, s.InH*s.InW*s.InC)
			if s.InC == 8 {
				// Ties, as ReLU makes them: the first cell must win.
				for i := range x {
					x[i] = max(x[i], 0)
				}
			}
			dy := randSlice(r, s.OutH*s.OutW*s.InC)
			dx := guarded(len(x), 7)
			ker.MaxPoolGrad(s, x, dy, dx)
			ch := newChecker(t, fmt.Sprintf("%+v", *s), dx)
			for i, v := range naiveMaxPoolGrad(s, x, dy) {
				ch.expect(i, v, s.KH*s.KW)
			}
			ch.done()
		})
	})
}

func TestAvgPoolGrad(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(29, 30))
		for _, countPad := range []bool{false, true} {
			poolShapes(func(s *ConvShape) {
				dy := randSlice(r, s.OutH*s.OutW*s.InC)
				dx := guarded(s.InH*s.InW*s.InC, 7)
				ker.AvgPoolGrad(s, dy, dx, countPad)
				ch := newChecker(t, fmt.Sprintf("%+v countPad=%v", *s, countPad), dx)
				for i, v := range naiveAvgPoolGrad(s, dy, countPad) {
					ch.expect(i, v, s.KH*s.KW)
				}
				ch.done()
			})
		}
	})
}

// TestGradFiniteDifferences checks the naive gradients themselves against
// central differences of the naive forward loops: the loss is sum(dy*y),
// whose derivative in any input is what the gradient kernels compute.
func TestGradFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	const h = 1e-3
	dot := func(a []float64, b []float32) float64 {
		s := 0.0
		for i, v := range a {
			s += v * float64(b[i])
		}
		return s
	}
	// fd returns d(loss)/d(v[i]) by central differences.
	fd := func(v []float32, i int, loss func() float64) float64 {
		old := v[i]
		v[i] = old + h
		up := loss()
		v[i] = old - h
		down := loss()
		v[i] = old
		return (up - down) / (2 * h)
	}
	near := func(got, want float64) bool { return math.Abs(got-want) <= 1e-3*(1+math.Abs(want)) }

	for _, c := range []struct {
		s      ConvShape
		groups int
	}{
		{ConvShape{InH: 7, InW: 6, InC: 4, OutC: 6, KH: 3, KW: 3, SH: 2, SW: 2, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}, 2},
		{ConvShape{InH: 9, InW: 8, InC: 3, OutC: 2, KH: 3, KW: 2, SH: 1, SW: 2, DH: 2, DW: 1, PadTop: 0, PadLeft: 1, PadBottom: 1, PadRight: 0}, 1},
	} {
		s := c.s
		s.OutH = outSize(s.InH, s.KH, s.SH, s.DH, s.PadTop, s.PadBottom, false)
		s.OutW = outSize(s.InW, s.KW, s.SW, s.DW, s.PadLeft, s.PadRight, false)
		n := 2
		x := randSlice(r, n*s.InH*s.InW*s.InC)
		w := randSlice(r, s.KH*s.KW*(s.InC/c.groups)*s.OutC)
		dy := randSlice(r, n*s.OutH*s.OutW*s.OutC)
		loss := func() float64 { return dot(naiveConv(&s, c.groups, n, x, w, nil), dy) }
		dw, dx := naiveConvGrads(&s, c.groups, n, x, w, dy)
		for i := range w {
			if want := fd(w, i, loss); !near(dw[i], want) {
				t.Errorf("conv %+v: dw[%d] = %v, finite difference %v", s, i, dw[i], want)
			}
		}
		for i := range x {
			if want := fd(x, i, loss); !near(dx[i], want) {
				t.Errorf("conv %+v: dx[%d] = %v, finite difference %v", s, i, dx[i], want)
			}
		}
	}

	s := ConvShape{InH: 7, InW: 7, InC: 3, OutC: 3, KH: 3, KW: 3, SH: 2, SW: 2, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	s.OutH, s.OutW = 4, 4
	x := randSlice(r, s.InH*s.InW*s.InC)
	dy := randSlice(r, s.OutH*s.OutW*s.InC)
	for _, countPad := range []bool{false, true} {
		g := naiveAvgPoolGrad(&s, dy, countPad)
		for i := range x {
			if want := fd(x, i, func() float64 { return dot(naiveAvgPool(&s, x, countPad), dy) }); !near(g[i], want) {
				t.Errorf("avg pool countPad=%v: dx[%d] = %v, finite difference %v", countPad, i, g[i], want)
			}
		}
	}
	// Random values are distinct, so every window's maximum is unique and
	// the max pool is differentiable at x.
	g := naiveMaxPoolGrad(&s, x, dy)
	for i := range x {
		if want := fd(x, i, func() float64 { return dot(naiveMaxPool(&s, x), dy) }); !near(g[i], want) {
			t.Errorf("max pool: dx[%d] = %v, finite difference %v", i, g[i], want)
		}
	}
}

func TestGradNoAllocs(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(33, 34))
		s := &ConvShape{InH: 9, InW: 8, InC: 11, OutH: 9, OutW: 8, OutC: 11, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1,
			PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
		x, dy, dx := randSlice(r, 9*8*11), randSlice(r, 9*8*11), make([]float32, 9*8*11)
		cols := randSlice(r, 9*8*9*11)
		c := make([]float32, 99*11)
		if got := testing.AllocsPerRun(3, func() {
			ker.GEMMAtB(99, 11, 72, cols, 99, dy, 11, c, 11)
			ker.Col2Im(s, cols, 0, 11, dx)
			ker.MaxPoolGrad(s, x, dy, dx)
			ker.AvgPoolGrad(s, dy, dx, true)
		}); got != 0 {
			t.Errorf("%v allocations per run, want 0", got)
		}
	})
}
