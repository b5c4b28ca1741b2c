package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The int8 kernels must equal the naive integer reference exactly, for
// every implementation, over sizes that straddle each tile and vector
// width, zero points at both ends of the range, multipliers that saturate
// and clamps that stand for fused activations.

// qs8Guard fills the cells around and between outputs; they must hold it
// afterwards.
const qs8Guard = int8(0x5a)

var qs8Zeros = []int32{-128, -3, 0, 41, 127}

func randInt8(r *rand.Rand, n, lo, hi int) []int8 {
	s := make([]int8, n)
	for i := range s {
		s[i] = int8(lo + r.IntN(hi-lo+1))
	}
	return s
}

// qs8Mults are per-channel multipliers making outputs of a sum of k
// products spread over about ±100, so some saturate.
func qs8Mults(r *rand.Rand, n, k int) []float32 {
	m := make([]float32, n)
	for i := range m {
		m[i] = float32((0.3 + 1.5*r.Float64()) * 100 / (math.Sqrt(float64(k)) * 5400))
	}
	return m
}

func qs8Outs(r *rand.Rand) []QS8Out {
	z := int32(r.IntN(256) - 128)
	lo := int8(max(-128, min(127, z)))
	return []QS8Out{
		{Zero: z, Min: -128, Max: 127},
		{Zero: z, Min: lo, Max: int8(min(127, int32(lo)+40))}, // a ReLU6-like clamp from the zero point
	}
}

func guardedInt8(n int) []int8 {
	s := make([]int8, n)
	for i := range s {
		s[i] = qs8Guard
	}
	return s
}

// checkInt8 compares got at the given positions with want and every
// other cell with the guard.
func checkInt8(t *testing.T, name string, got []int8, pos func(i int) int, want []int8) {
	t.Helper()
	written := make([]bool, len(got))
	fails := 0
	for i, w := range want {
		p := pos(i)
		written[p] = true
		if got[p] != w && fails < 5 {
			fails++
			t.Errorf("%s: out[%d] = %d, want %d", name, p, got[p], w)
		}
	}
	for i, w := range written {
		if !w && got[i] != qs8Guard && fails < 5 {
			fails++
			t.Errorf("%s: guard cell %d overwritten with %d", name, i, got[i])
		}
	}
}

func TestQS8GEMM(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ks := append([]int{}, sweep...)
	ks = append(ks, 64, 127, 1280)
	for _, impl := range AvailableInt8() {
		for _, m := range sweep {
			for _, n := range sweep {
				for _, k := range ks {
					if m*n*k > 40000 && k != 1280 || k == 1280 && (m > 5 || n > 17) {
						continue
					}
					aZero := qs8Zeros[r.IntN(len(qs8Zeros))]
					lda, ldc := k+r.IntN(3), n+r.IntN(3)
					a := randInt8(r, m*lda, -128, 127)
					b := randInt8(r, k*n, -127, 127)
					var bias []int32
					if r.IntN(4) != 0 {
						bias = make([]int32, n)
						for j := range bias {
							bias[j] = int32(r.IntN(200001) - 100000)
						}
					}
					mult := qs8Mults(r, n, k)
					w := impl.PackQS8GEMM(b, k, n, bias, mult, aZero)
					for _, o := range qs8Outs(r) {
						c := guardedInt8(m*ldc + 7)
						impl.QS8GEMM(m, a, lda, w, c, ldc, o)
						want := naiveQS8GEMM(m, n, k, a, lda, aZero, b, bias, mult, o)
						checkInt8(t, fmt.Sprintf("%s m=%d n=%d k=%d za=%d out=%+v", impl.Name(), m, n, k, aZero, o), c,
							func(i int) int { return i/n*ldc + i%n }, want)
					}
				}
			}
		}
	}
}

// TestQS8GEMMExtremes drives every product to its largest magnitude
// (−128·−127 summed over k), where an implementation that saturates an
// intermediate (16-bit pair sums) would go wrong.
func TestQS8GEMMExtremes(t *testing.T) {
	for _, impl := range AvailableInt8() {
		for _, k := range []int{1, 3, 4, 8, 16, 33, 100} {
			for _, av := range []int8{-128, 127} {
				for _, bv := range []int8{-127, 127} {
					m, n := 3, 9
					a := make([]int8, m*k)
					b := make([]int8, k*n)
					for i := range a {
						a[i] = av
					}
					for i := range b {
						b[i] = bv
					}
					mult := make([]float32, n)
					for j := range mult {
						mult[j] = 1 / float32(128*127*k) * 100
					}
					o := QS8Out{Zero: 0, Min: -128, Max: 127}
					w := impl.PackQS8GEMM(b, k, n, nil, mult, 0)
					c := guardedInt8(m * n)
					impl.QS8GEMM(m, a, k, w, c, n, o)
					checkInt8(t, fmt.Sprintf("%s k=%d a=%d b=%d", impl.Name(), k, av, bv), c, func(i int) int { return i },
						naiveQS8GEMM(m, n, k, a, k, 0, b, nil, mult, o))
				}
			}
		}
	}
}

// qs8ConvShapes are windows MobileNets use and odd ones around them.
func qs8ConvShapes() []ConvShape {
	var out []ConvShape
	for _, c := range []int{1, 3, 8, 15, 16, 17, 32, 33} {
		for _, hw := range [][2]int{{1, 1}, {5, 7}, {8, 8}, {9, 6}} {
			for _, win := range []struct{ k, s, d, p int }{{3, 1, 1, 1}, {3, 2, 1, 1}, {3, 2, 1, 0}, {1, 1, 1, 0}, {5, 1, 1, 2}, {3, 1, 2, 2}, {3, 2, 1, 2}} {
				s := ConvShape{InH: hw[0], InW: hw[1], InC: c, OutC: c, KH: win.k, KW: win.k, SH: win.s, SW: win.s, DH: win.d, DW: win.d,
					PadTop: win.p, PadLeft: win.p, PadBottom: win.p, PadRight: win.p}
				s.OutH = (s.InH+2*win.p-win.d*(win.k-1)-1)/win.s + 1
				s.OutW = (s.InW+2*win.p-win.d*(win.k-1)-1)/win.s + 1
				if s.OutH < 1 || s.OutW < 1 {
					continue
				}
				out = append(out, s)
			}
		}
	}
	// TF's SAME padding for stride 2 pads only the bottom and right.
	out = append(out, ConvShape{InH: 8, InW: 8, InC: 24, OutH: 4, OutW: 4, OutC: 24, KH: 3, KW: 3, SH: 2, SW: 2, DH: 1, DW: 1, PadBottom: 1, PadRight: 1})
	return out
}

func TestQS8DWConv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, impl := range AvailableInt8() {
		for _, s := range qs8ConvShapes() {
			inZero := qs8Zeros[r.IntN(len(qs8Zeros))]
			in := randInt8(r, s.InH*s.InW*s.InC, -128, 127)
			taps := s.KH * s.KW
			w := randInt8(r, taps*s.InC, -127, 127)
			bias := make([]int32, s.InC)
			for j := range bias {
				bias[j] = int32(r.IntN(20001) - 10000)
			}
			mult := qs8Mults(r, s.InC, taps)
			pw := impl.PackQS8DWConv(w, s.KH, s.KW, s.InC, bias, mult)
			for _, o := range qs8Outs(r) {
				out := guardedInt8(s.OutH*s.OutW*s.OutC + 5)
				impl.QS8DWConv(&s, in, inZero, pw, out, o)
				checkInt8(t, fmt.Sprintf("%s %+v zin=%d out=%+v", impl.Name(), s, inZero, o), out, func(i int) int { return i },
					naiveQS8DWConv(&s, in, inZero, w, bias, mult, o))
			}
		}
	}
}

// TestQS8DWConvRowWidths sweeps the output row widths of the 3x3
// depthwise fast paths (1 to 19 pixels at strides 1 and 2, every padding
// style), so that rows split into every mix of tile widths, with a padded
// first and last column in tiles of each width, on channel counts with
// and without a partial group of eight.
func TestQS8DWConvRowWidths(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, impl := range AvailableInt8() {
		for _, st := range []int{1, 2} {
			for style := 0; style < 4; style++ {
				for ow := 1; ow < 20; ow++ {
					iw := ow * st
					c := []int{8, 11, 24}[(ow+style)%3]
					pt, pb := pads(style, 4, 3, st, 1)
					pl, pr := pads(style, iw, 3, st, 1)
					s := ConvShape{InH: 4, InW: iw, InC: c, OutC: c, KH: 3, KW: 3, SH: st, SW: st, DH: 1, DW: 1,
						PadTop: pt, PadLeft: pl, PadBottom: pb, PadRight: pr}
					s.OutH = outSize(4, 3, st, 1, pt, pb, false)
					s.OutW = outSize(iw, 3, st, 1, pl, pr, false)
					if s.OutH == 0 || s.OutW == 0 {
						continue
					}
					inZero := qs8Zeros[r.IntN(len(qs8Zeros))]
					in := randInt8(r, s.InH*s.InW*c, -128, 127)
					w := randInt8(r, 9*c, -127, 127)
					bias := make([]int32, c)
					for j := range bias {
						bias[j] = int32(r.IntN(20001) - 10000)
					}
					mult := qs8Mults(r, c, 9)
					outs := qs8Outs(r)
					o := outs[ow%len(outs)]
					out := guardedInt8(s.OutH*s.OutW*c + 5)
					impl.QS8DWConv(&s, in, inZero, impl.PackQS8DWConv(w, 3, 3, c, bias, mult), out, o)
					checkInt8(t, fmt.Sprintf("%s %+v zin=%d out=%+v", impl.Name(), s, inZero, o), out, func(i int) int { return i },
						naiveQS8DWConv(&s, in, inZero, w, bias, mult, o))
				}
			}
		}
	}
}

func TestQS8Im2Col(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, impl := range AvailableInt8() {
		for _, s := range qs8ConvShapes() {
			for _, g := range []int{1, 3} {
				if s.InC%g != 0 {
					continue
				}
				cin := s.InC / g
				c0 := (g - 1) * cin
				in := randInt8(r, s.InH*s.InW*s.InC, -128, 127)
				zero := int8(r.IntN(256) - 128)
				want := naiveQS8Im2Col(&s, in, zero, c0, cin)
				cols := guardedInt8(len(want) + 9)
				impl.QS8Im2Col(&s, in, zero, c0, cin, cols)
				checkInt8(t, fmt.Sprintf("%s %+v c0=%d cin=%d", impl.Name(), s, c0, cin), cols, func(i int) int { return i }, want)
			}
		}
	}
}

func TestQS8Add(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, impl := range AvailableInt8() {
		for _, n := range append(append([]int{}, sweep...), 63, 64, 65, 100, 1000) {
			for _, o := range qs8Outs(r) {
				p := QS8AddParams{XZero: qs8Zeros[r.IntN(5)], YZero: qs8Zeros[r.IntN(5)],
					XMult: float32(0.2 + 1.5*r.Float64()), YMult: float32(0.2 + 1.5*r.Float64()), Out: o}
				x, y := randInt8(r, n, -128, 127), randInt8(r, n, -128, 127)
				out := guardedInt8(n + 5)
				impl.QS8Add(x, y, out[:n], &p)
				checkInt8(t, fmt.Sprintf("%s n=%d %+v", impl.Name(), n, p), out, func(i int) int { return i }, naiveQS8Add(x, y, &p))
			}
		}
	}
}

func TestQS8GlobalAvgPool(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, impl := range AvailableInt8() {
		for _, hw := range []int{1, 2, 7, 49, 50, 196} {
			for _, c := range append(append([]int{}, sweep...), 64, 1280) {
				inZero := qs8Zeros[r.IntN(5)]
				in := randInt8(r, hw*c, -128, 127)
				mult := float32((0.5 + r.Float64()) * 3 / float64(hw))
				for _, o := range qs8Outs(r) {
					out := guardedInt8(c + 3)
					impl.QS8GlobalAvgPool(hw, c, in, inZero, mult, out, o)
					checkInt8(t, fmt.Sprintf("%s hw=%d c=%d", impl.Name(), hw, c), out, func(i int) int { return i },
						naiveQS8GlobalAvgPool(hw, c, in, inZero, mult, o))
				}
			}
		}
	}
}

func TestQS8QuantizeDequantize(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, impl := range AvailableInt8() {
		for _, n := range append(append([]int{}, sweep...), 100, 1001) {
			zero := qs8Zeros[r.IntN(5)]
			scale := float32(0.01 + r.Float64()*0.1)
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * 3) // some beyond the range: saturation
			}
			q := guardedInt8(n + 3)
			impl.QuantizeF32(x, 1/scale, zero, q[:n])
			want := make([]int8, n)
			for i, v := range x {
				rq := int64(math.RoundToEven(float64(v*(1/scale)))) + int64(zero)
				want[i] = int8(min(max(rq, -128), 127))
			}
			checkInt8(t, fmt.Sprintf("%s quantize n=%d", impl.Name(), n), q, func(i int) int { return i }, want)
			f := make([]float32, n)
			impl.DequantizeF32(q[:n], scale, zero, f)
			for i := range f {
				if w := float32(int32(q[i])-zero) * scale; f[i] != w {
					t.Fatalf("%s dequantize n=%d: out[%d] = %v, want %v", impl.Name(), n, i, f[i], w)
				}
			}
		}
	}
}
