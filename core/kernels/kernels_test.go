package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// sentinelBits is a NaN with a payload no arithmetic produces: guard cells
// around and between outputs hold it, and must still hold it afterwards.
const sentinelBits = 0x7fc0dead

var acts = []Act{ActNone, ActReLU, ActReLU6, ActHardSwish, ActHardSigmoid, ActSigmoid}

// sweep straddles every block size the implementations use (tiles of 1, 4,
// 6 rows; panels of 8 and 16 columns; 8-channel vectors) with odd edges.
var sweep = []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// guarded returns a buffer of n+guard sentinels.
func guarded(n, guard int) []float32 {
	s := make([]float32, n+guard)
	for i := range s {
		s[i] = math.Float32frombits(sentinelBits)
	}
	return s
}

// closeEnough is the tolerance: relative 1e-5, with an absolute floor that
// grows with the number of terms summed into the value.
func closeEnough(got float32, want float64, terms int) bool {
	d := math.Abs(float64(got) - want)
	return d <= 1e-5*math.Abs(want)+1e-6*float64(max(terms, 1))
}

// checker compares outputs at given positions with the naive values and
// verifies that every other cell of the buffer is an untouched sentinel.
type checker struct {
	t       *testing.T
	name    string
	buf     []float32
	written []bool
	fails   int
}

func newChecker(t *testing.T, name string, buf []float32) *checker {
	return &checker{t: t, name: name, buf: buf, written: make([]bool, len(buf))}
}

func (c *checker) expect(i int, want float64, terms int) {
	c.written[i] = true
	if got := c.buf[i]; !closeEnough(got, want, terms) {
		c.fail("%s: out[%d] = %v, want %v", c.name, i, got, want)
	}
}

func (c *checker) fail(format string, args ...any) {
	c.t.Helper()
	c.fails++
	if c.fails <= 5 {
		c.t.Errorf(format, args...)
	}
}

func (c *checker) done() {
	c.t.Helper()
	for i, w := range c.written {
		if !w && math.Float32bits(c.buf[i]) != sentinelBits {
			c.fail("%s: guard cell %d overwritten with %v", c.name, i, c.buf[i])
		}
	}
}

func forEach(t *testing.T, f func(t *testing.T, k Kernels)) {
	for _, k := range Available() {
		t.Run(k.Name(), func(t *testing.T) { f(t, k) })
	}
}

func TestGEMM(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(1, 2))
		type shape struct{ m, n, k int }
		var shapes []shape
		for _, m := range sweep {
			for _, n := range sweep {
				for _, k := range sweep {
					shapes = append(shapes, shape{m, n, k})
				}
			}
		}
		// Shapes that cross the row blocking and the panel count of
		// real layers, including an empty depth (bias only).
		shapes = append(shapes, shape{37, 21, 1000}, shape{70, 40, 300}, shape{200, 24, 96},
			shape{49, 33, 160}, shape{13, 5, 0}, shape{0, 8, 8}, shape{8, 0, 8})
		for idx, sh := range shapes {
			m, n, k := sh.m, sh.n, sh.k
			lda := k + idx%3*2 + 1 // odd leading dimensions, larger than k
			ldc := n + idx%4*3     // sometimes exactly n
			act := acts[idx%len(acts)]
			a := randSlice(r, max(m*lda, 1))
			b := randSlice(r, k*n)
			var bias []float32
			if idx%5 != 0 {
				bias = randSlice(r, n)
			}
			packed := ker.PackGEMMWeights(b, k, n)
			need := 0
			if m > 0 && n > 0 {
				need = (m-1)*ldc + n
			}
			c := guarded(need, 19)
			ker.GEMM(m, n, k, a, lda, packed, bias, c, ldc, act)
			want := naiveGEMM(m, n, k, a, lda, b, bias, act)
			ch := newChecker(t, fmt.Sprintf("m=%d n=%d k=%d lda=%d ldc=%d act=%d bias=%v", m, n, k, lda, ldc, act, bias != nil), c)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					ch.expect(i*ldc+j, want[i*n+j], k+1)
				}
			}
			ch.done()
		}
	})
}

// outSize is the output length of a window along one axis, with torch's
// ceil mode dropping a window that would start in the trailing padding.
func outSize(in, k, st, dil, before, after int, ceil bool) int {
	num := in + before + after - (dil*(k-1) + 1)
	if num < 0 {
		return 0
	}
	if !ceil {
		return num/st + 1
	}
	out := (num+st-1)/st + 1
	if (out-1)*st >= in+before {
		out--
	}
	return out
}

// padding styles: none (VALID), TF SAME (bottom/right get the odd cell),
// torch (symmetric, half the window) and Keras ZeroPadding2D((0,1),(0,1)).
func pads(style, in, k, st, dil int) (before, after int) {
	span := dil*(k-1) + 1
	switch style {
	case 1:
		out := (in + st - 1) / st
		total := max((out-1)*st+span-in, 0)
		return total / 2, total - total/2
	case 2:
		return span / 2, span / 2
	case 3:
		return 0, 1
	}
	return 0, 0
}

func TestDWConv(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(3, 4))
		sizes := [][2]int{{1, 1}, {2, 3}, {5, 7}, {8, 5}, {13, 9}}
		idx := 0
		for _, kk := range []int{1, 3, 5, 7, 9} {
			for _, st := range []int{1, 2} {
				for _, dil := range []int{1, 2} {
					for style := 0; style < 4; style++ {
						for _, hw := range sizes {
							for _, c := range []int{1, 3, 8, 9, 17, 24} {
								idx++
								pt, pb := pads(style, hw[0], kk, st, dil)
								pl, pr := pads((style+idx)%4, hw[1], kk, st, dil)
								s := &ConvShape{InH: hw[0], InW: hw[1], InC: c, OutC: c,
									KH: kk, KW: kk, SH: st, SW: st, DH: dil, DW: dil,
									PadTop: pt, PadLeft: pl, PadBottom: pb, PadRight: pr}
								s.OutH = outSize(s.InH, kk, st, dil, pt, pb, false)
								s.OutW = outSize(s.InW, kk, st, dil, pl, pr, false)
								if s.OutH == 0 || s.OutW == 0 {
									continue
								}
								act := acts[idx%len(acts)]
								in := randSlice(r, s.InH*s.InW*c)
								w := randSlice(r, kk*kk*c)
								var bias []float32
								if idx%4 != 0 {
									bias = randSlice(r, c)
								}
								out := guarded(s.OutH*s.OutW*c, 11)
								ker.DWConv(s, in, ker.PackDWConvWeights(w, kk, kk, c), bias, out, act)
								want := naiveDWConv(s, in, w, bias, act)
								ch := newChecker(t, fmt.Sprintf("%+v act=%d bias=%v", *s, act, bias != nil), out)
								for i, v := range want {
									ch.expect(i, v, kk*kk+1)
								}
								ch.done()
							}
						}
					}
				}
			}
		}
	})
}

// TestDWConvLarge covers the 3x3 fast paths on maps wide enough for long
// interior runs and channel counts that are and are not multiples of 8.
func TestDWConvLarge(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, st := range []int{1, 2} {
			for style := 0; style < 4; style++ {
				for _, c := range []int{32, 37} {
					pt, pb := pads(style, 23, 3, st, 1)
					pl, pr := pads(3-style, 30, 3, st, 1)
					s := &ConvShape{InH: 23, InW: 30, InC: c, OutC: c, KH: 3, KW: 3, SH: st, SW: st, DH: 1, DW: 1,
						PadTop: pt, PadLeft: pl, PadBottom: pb, PadRight: pr}
					s.OutH = outSize(23, 3, st, 1, pt, pb, false)
					s.OutW = outSize(30, 3, st, 1, pl, pr, false)
					in := randSlice(r, s.InH*s.InW*c)
					w := randSlice(r, 9*c)
					bias := randSlice(r, c)
					out := guarded(s.OutH*s.OutW*c, 9)
					ker.DWConv(s, in, ker.PackDWConvWeights(w, 3, 3, c), bias, out, ActReLU6)
					ch := newChecker(t, fmt.Sprintf("%+v", *s), out)
					for i, v := range naiveDWConv(s, in, w, bias, ActReLU6) {
						ch.expect(i, v, 10)
					}
					ch.done()
				}
			}
		}
	})
}

// TestDWConvRowWidths sweeps the output row widths of the 3x3 fast
// paths (1 to 19 pixels at strides 1 and 2, every padding style), so that
// a row splits into every mix of tile widths the row-tile kernels have,
// with a padded first and last column in a tile of each width, on channel
// counts with and without a partial vector.
func TestDWConvRowWidths(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, st := range []int{1, 2} {
			for style := 0; style < 4; style++ {
				for ow := 1; ow < 20; ow++ {
					iw := ow * st
					c := []int{4, 5, 12}[(ow+style)%3]
					pt, pb := pads(style, 4, 3, st, 1)
					pl, pr := pads(style, iw, 3, st, 1)
					s := &ConvShape{InH: 4, InW: iw, InC: c, OutC: c, KH: 3, KW: 3, SH: st, SW: st, DH: 1, DW: 1,
						PadTop: pt, PadLeft: pl, PadBottom: pb, PadRight: pr}
					s.OutH = outSize(4, 3, st, 1, pt, pb, false)
					s.OutW = outSize(iw, 3, st, 1, pl, pr, false)
					if s.OutH == 0 || s.OutW == 0 {
						continue
					}
					act := acts[(ow+st)%len(acts)]
					in := randSlice(r, s.InH*s.InW*c)
					w := randSlice(r, 9*c)
					var bias []float32
					if ow%3 != 0 {
						bias = randSlice(r, c)
					}
					out := guarded(s.OutH*s.OutW*c, 7)
					ker.DWConv(s, in, ker.PackDWConvWeights(w, 3, 3, c), bias, out, act)
					ch := newChecker(t, fmt.Sprintf("%+v act=%d bias=%v", *s, act, bias != nil), out)
					for i, v := range naiveDWConv(s, in, w, bias, act) {
						ch.expect(i, v, 10)
					}
					ch.done()
				}
			}
		}
	})
}

func TestIm2Col(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(7, 8))
		idx := 0
		for _, kk := range [][2]int{{1, 1}, {3, 3}, {5, 3}, {7, 7}} {
			for _, st := range []int{1, 2} {
				for _, dil := range []int{1, 2} {
					for style := 0; style < 4; style++ {
						for _, cc := range [][3]int{{3, 0, 3}, {5, 1, 3}, {8, 4, 4}, {9, 0, 9}} {
							idx++
							inH, inW := 7+idx%3, 5+idx%4
							pt, pb := pads(style, inH, kk[0], st, dil)
							pl, pr := pads(style, inW, kk[1], st, dil)
							s := &ConvShape{InH: inH, InW: inW, InC: cc[0], KH: kk[0], KW: kk[1],
								SH: st, SW: st, DH: dil, DW: dil, PadTop: pt, PadLeft: pl, PadBottom: pb, PadRight: pr}
							s.OutH = outSize(inH, kk[0], st, dil, pt, pb, false)
							s.OutW = outSize(inW, kk[1], st, dil, pl, pr, false)
							if s.OutH == 0 || s.OutW == 0 {
								continue
							}
							in := randSlice(r, inH*inW*cc[0])
							want := naiveIm2Col(s, in, cc[1], cc[2])
							cols := guarded(len(want), 13)
							ker.Im2Col(s, in, cc[1], cc[2], cols)
							ch := newChecker(t, fmt.Sprintf("%+v c0=%d cin=%d", *s, cc[1], cc[2]), cols)
							for i, v := range want {
								ch.expect(i, v, 0)
							}
							ch.done()
						}
					}
				}
			}
		}
	})
}

// poolShapes yields pool shapes over window sizes, strides, per-side
// padding up to half the window and both rounding modes.
func poolShapes(f func(s *ConvShape)) {
	for _, kk := range [][2]int{{1, 1}, {2, 2}, {3, 3}, {3, 2}, {5, 5}} {
		for _, st := range []int{1, 2, 3} {
			for _, pad := range [][4]int{{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 0, 1, 1}, {1, 0, 0, 1}, {2, 2, 2, 2}} {
				if pad[0] > kk[0]/2 || pad[2] > kk[0]/2 || pad[1] > kk[1]/2 || pad[3] > kk[1]/2 {
					continue
				}
				for _, hw := range [][2]int{{1, 1}, {4, 4}, {7, 6}, {9, 11}} {
					for _, ceil := range []bool{false, true} {
						for _, c := range []int{1, 8, 11} {
							s := &ConvShape{InH: hw[0], InW: hw[1], InC: c, OutC: c, KH: kk[0], KW: kk[1],
								SH: st, SW: st, DH: 1, DW: 1,
								PadTop: pad[0], PadLeft: pad[1], PadBottom: pad[2], PadRight: pad[3]}
							s.OutH = outSize(hw[0], kk[0], st, 1, pad[0], pad[2], ceil)
							s.OutW = outSize(hw[1], kk[1], st, 1, pad[1], pad[3], ceil)
							if s.OutH > 0 && s.OutW > 0 {
								f(s)
							}
						}
					}
				}
			}
		}
	}
}

func TestMaxPool(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(9, 10))
		poolShapes(func(s *ConvShape) {
			in := randSlice(r, s.InH*s.InW*s.InC)
			out := guarded(s.OutH*s.OutW*s.InC, 7)
			ker.MaxPool(s, in, out)
			ch := newChecker(t, fmt.Sprintf("%+v", *s), out)
			for i, v := range naiveMaxPool(s, in) {
				ch.expect(i, v, 0)
			}
			ch.done()
		})
	})
}

func TestAvgPool(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, countPad := range []bool{false, true} {
			poolShapes(func(s *ConvShape) {
				in := randSlice(r, s.InH*s.InW*s.InC)
				out := guarded(s.OutH*s.OutW*s.InC, 7)
				ker.AvgPool(s, in, out, countPad)
				ch := newChecker(t, fmt.Sprintf("%+v countPad=%v", *s, countPad), out)
				for i, v := range naiveAvgPool(s, in, countPad) {
					ch.expect(i, v, s.KH*s.KW)
				}
				ch.done()
			})
		}
	})
}

// TestAvgPoolCountPadCeil pins torch's divisor on a case worked by hand:
// a 3x3 window, stride 2, padding 1, ceil mode over a 4x4 input of ones
// gives 3x3 outputs; the corner window covers 4 input cells out of 9 padded
// ones, and the last window overhangs the padding by one row and column,
// so it counts 2x2 cells inside the padded input, 1 of them in the input.
func TestAvgPoolCountPadCeil(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		s := &ConvShape{InH: 4, InW: 4, InC: 1, OutH: 3, OutW: 3, OutC: 1, KH: 3, KW: 3, SH: 2, SW: 2,
			DH: 1, DW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
		in := make([]float32, 16)
		for i := range in {
			in[i] = 1
		}
		out := make([]float32, 9)
		ker.AvgPool(s, in, out, true)
		want := []float32{4. / 9, 6. / 9, 2. / 6, 6. / 9, 1, 3. / 6, 2. / 6, 3. / 6, 1. / 4}
		for i := range want {
			if !closeEnough(out[i], float64(want[i]), 1) {
				t.Errorf("out[%d] = %v, want %v", i, out[i], want[i])
			}
		}
	})
}

func TestGlobalAvgPool(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, hw := range []int{1, 3, 49, 196} {
			for _, c := range append([]int{0}, sweep...) {
				in := randSlice(r, hw*c)
				out := guarded(c, 9)
				ker.GlobalAvgPool(hw, c, in, out)
				ch := newChecker(t, fmt.Sprintf("hw=%d c=%d", hw, c), out)
				for i, v := range naiveGlobalAvgPool(hw, c, in) {
					ch.expect(i, v, hw)
				}
				ch.done()
			}
		}
	})
}

func TestElementwise(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(15, 16))
		for _, n := range append([]int{0, 100, 1001}, sweep...) {
			for _, act := range acts {
				x, y := randSlice(r, n), randSlice(r, n)
				for i := range x { // reach every activation's kinks
					x[i] *= 8
				}
				out := guarded(n, 9)
				ker.Add(x, y, out[:n], act)
				ch := newChecker(t, fmt.Sprintf("Add n=%d act=%d", n, act), out)
				for i := range x {
					ch.expect(i, naiveAct(float64(x[i])+float64(y[i]), act), 2)
				}
				ch.done()

				got := guarded(n, 0)
				copy(got, x)
				ker.Activate(got, act)
				ch = newChecker(t, fmt.Sprintf("Activate n=%d act=%d", n, act), got)
				for i := range x {
					ch.expect(i, naiveAct(float64(x[i]), act), 1)
				}
				ch.done()
			}

			x := randSlice(r, n)
			for i := range x {
				x[i] *= 8
			}
			for _, ab := range [][2]float32{{0.2, 0.5}, {1. / 6, 0.5}} {
				got := append([]float32(nil), x...)
				ker.HardSigmoid(got, ab[0], ab[1])
				for i := range x {
					want := math.Min(math.Max(float64(x[i])*float64(ab[0])+float64(ab[1]), 0), 1)
					if !closeEnough(got[i], want, 1) {
						t.Errorf("HardSigmoid(%v, %v)(%v) = %v, want %v", ab[0], ab[1], x[i], got[i], want)
					}
				}
			}
		}
		for _, hw := range []int{1, 3, 49} {
			for _, c := range sweep {
				x, scale := randSlice(r, hw*c), randSlice(r, c)
				out := guarded(hw*c, 9)
				ker.MulChannels(hw, c, x, scale, out[:hw*c])
				ch := newChecker(t, fmt.Sprintf("MulChannels hw=%d c=%d", hw, c), out)
				for i := range x {
					ch.expect(i, float64(x[i])*float64(scale[i%c]), 1)
				}
				ch.done()
			}
		}
	})
}

func TestSoftmax(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(17, 18))
		for _, hw := range []int{1, 3} {
			for _, c := range []int{1, 2, 5, 10, 1000} {
				for _, scale := range []float32{1, 80} { // 80: float32 exp would overflow
					x := randSlice(r, hw*c)
					for i := range x {
						x[i] *= scale
					}
					want := naiveSoftmax(hw, c, x)
					got := append([]float32(nil), x...)
					ker.Softmax(hw, c, got)
					for i := range want {
						if !closeEnough(got[i], want[i], 1) {
							t.Errorf("hw=%d c=%d scale=%v: p[%d] = %v, want %v", hw, c, scale, i, got[i], want[i])
							break
						}
					}
				}
			}
		}
	})
}

// TestActApply checks the scalar reference of the activations against the
// naive float64 definitions at and around their kinks.
func TestActApply(t *testing.T) {
	for _, act := range acts {
		for _, x := range []float32{-7, -3, -2.5, -1, -0.1, 0, 0.1, 1, 2.9, 3, 5.9, 6, 6.1, 50} {
			if got, want := act.Apply(x), naiveAct(float64(x), act); !closeEnough(got, want, 1) {
				t.Errorf("act %d (%v) = %v, want %v", act, x, got, want)
			}
		}
	}
}

// TestNoAllocs checks the contract that kernels allocate nothing at call
// time (packing, done at load, may).
func TestNoAllocs(t *testing.T) {
	forEach(t, func(t *testing.T, ker Kernels) {
		r := rand.New(rand.NewPCG(19, 20))
		m, n, k := 13, 21, 19
		a, w, bias, c := randSlice(r, m*k), ker.PackGEMMWeights(randSlice(r, k*n), k, n), randSlice(r, n), make([]float32, m*n)
		s := &ConvShape{InH: 9, InW: 8, InC: 11, OutH: 9, OutW: 8, OutC: 11, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1,
			PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
		in, out := randSlice(r, 9*8*11), make([]float32, 9*8*11)
		dw := ker.PackDWConvWeights(randSlice(r, 9*11), 3, 3, 11)
		cols := make([]float32, 9*8*9*11)
		for _, act := range acts {
			if got := testing.AllocsPerRun(3, func() {
				ker.GEMM(m, n, k, a, k, w, bias, c, n, act)
				ker.DWConv(s, in, dw, bias[:11], out, act)
				ker.Im2Col(s, in, 0, 11, cols)
				ker.MaxPool(s, in, out)
				ker.AvgPool(s, in, out, true)
				ker.GlobalAvgPool(72, 11, in, out)
				ker.Add(in, in, out, act)
				ker.MulChannels(72, 11, in, bias[:11], out)
				ker.Activate(out, act)
				ker.HardSigmoid(out, 0.2, 0.5)
				ker.Softmax(72, 11, out)
			}); got != 0 {
				t.Errorf("act %d: %v allocations per run, want 0", act, got)
			}
		}
	})
}
