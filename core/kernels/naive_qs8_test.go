package kernels

import "math"

// The naive integer reference for the int8 kernels: textbook loops over
// unpacked weights, sums in int64 (a test asserts they fit int32), and the
// requantization written out from its definition in qs8.go.

// naiveRequant is q = clamp(roundEven(float32(acc)·mult) + zero, lo, hi),
// rounding before clamping (the kernels clamp first; the bounds are
// integers, so both orders agree).
func naiveRequant(acc int64, mult float32, o QS8Out) int8 {
	if acc > math.MaxInt32 || acc < math.MinInt32 {
		panic("accumulator overflows int32")
	}
	r := int64(math.RoundToEven(float64(float32(acc)*mult))) + int64(o.Zero)
	return int8(min(max(r, int64(o.Min)), int64(o.Max)))
}

// naiveQS8GEMM: c[i][j] = requant(Σ_p (a[i][p] − aZero)·b[p][j] + bias[j]).
func naiveQS8GEMM(m, n, k int, a []int8, lda int, aZero int32, b []int8, bias []int32, mult []float32, o QS8Out) []int8 {
	c := make([]int8, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var acc int64
			if bias != nil {
				acc = int64(bias[j])
			}
			for p := 0; p < k; p++ {
				acc += int64(int32(a[i*lda+p])-aZero) * int64(b[p*n+j])
			}
			c[i*n+j] = naiveRequant(acc, mult[j], o)
		}
	}
	return c
}

// naiveQS8DWConv: every tap inside the input adds (x − inZero)·w.
func naiveQS8DWConv(s *ConvShape, in []int8, inZero int32, w []int8, bias []int32, mult []float32, o QS8Out) []int8 {
	out := make([]int8, s.OutH*s.OutW*s.OutC)
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			for ch := 0; ch < s.InC; ch++ {
				acc := int64(bias[ch])
				for ky := 0; ky < s.KH; ky++ {
					for kx := 0; kx < s.KW; kx++ {
						iy, ix := oy*s.SH-s.PadTop+ky*s.DH, ox*s.SW-s.PadLeft+kx*s.DW
						if iy < 0 || iy >= s.InH || ix < 0 || ix >= s.InW {
							continue
						}
						acc += int64(int32(in[(iy*s.InW+ix)*s.InC+ch])-inZero) * int64(w[(ky*s.KW+kx)*s.InC+ch])
					}
				}
				out[(oy*s.OutW+ox)*s.OutC+ch] = naiveRequant(acc, mult[ch], o)
			}
		}
	}
	return out
}

// naiveQS8Im2Col: each output pixel's window in (kh, kw, c) order, the
// zero point in the padding.
func naiveQS8Im2Col(s *ConvShape, in []int8, zero int8, c0, cin int) []int8 {
	var cols []int8
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			for ky := 0; ky < s.KH; ky++ {
				for kx := 0; kx < s.KW; kx++ {
					for ch := 0; ch < cin; ch++ {
						iy, ix := oy*s.SH-s.PadTop+ky*s.DH, ox*s.SW-s.PadLeft+kx*s.DW
						v := zero
						if iy >= 0 && iy < s.InH && ix >= 0 && ix < s.InW {
							v = in[(iy*s.InW+ix)*s.InC+c0+ch]
						}
						cols = append(cols, v)
					}
				}
			}
		}
	}
	return cols
}

func naiveQS8Add(x, y []int8, p *QS8AddParams) []int8 {
	out := make([]int8, len(x))
	for i := range x {
		fx := float32(float32(int32(x[i])-p.XZero) * p.XMult)
		fy := float32(float32(int32(y[i])-p.YZero) * p.YMult)
		r := int64(math.RoundToEven(float64(fx+fy))) + int64(p.Out.Zero)
		out[i] = int8(min(max(r, int64(p.Out.Min)), int64(p.Out.Max)))
	}
	return out
}

func naiveQS8GlobalAvgPool(hw, c int, in []int8, inZero int32, mult float32, o QS8Out) []int8 {
	out := make([]int8, c)
	for ch := 0; ch < c; ch++ {
		var acc int64
		for i := 0; i < hw; i++ {
			acc += int64(int32(in[i*c+ch]) - inZero)
		}
		out[ch] = naiveRequant(acc, mult, o)
	}
	return out
}
