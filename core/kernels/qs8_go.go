package kernels

import (
	"math"
	"sync"
)

// Int8Go is the pure-Go implementation of Int8: the reference the others
// are tested against and the fallback everywhere.
type Int8Go struct{}

// Name implements Int8.
func (Int8Go) Name() string { return "go" }

// qs8GoNR is the panel width of Int8Go's packed GEMM weights.
const qs8GoNR = 4

// qs8ColumnBias is the bias a packed GEMM starts from: the layer's bias
// minus aZero times each column's weight sum, so that Σ (a − aZero)·w =
// Σ a·w + bias' and the inner loop multiplies raw int8 values.
func qs8ColumnBias(b []int8, k, n int, bias []int32, aZero int32) []int32 {
	out := make([]int32, n)
	for j := 0; j < n; j++ {
		var sum int32
		for p := 0; p < k; p++ {
			sum += int32(b[p*n+j])
		}
		if bias != nil {
			out[j] = bias[j]
		}
		out[j] -= aZero * sum
	}
	return out
}

// PackQS8GEMM implements Int8: panels of qs8GoNR columns, each [K][NR]
// with the last panel padded with zero weights.
func (Int8Go) PackQS8GEMM(b []int8, k, n int, bias []int32, mult []float32, aZero int32) *QS8GEMMWeights {
	panels := (n + qs8GoNR - 1) / qs8GoNR
	w := make([]int8, panels*k*qs8GoNR)
	for pj := 0; pj < panels; pj++ {
		for p := 0; p < k; p++ {
			for r := 0; r < qs8GoNR; r++ {
				if j := pj*qs8GoNR + r; j < n {
					w[(pj*k+p)*qs8GoNR+r] = b[p*n+j]
				}
			}
		}
	}
	return &QS8GEMMWeights{K: k, N: n, W: w, Bias: qs8ColumnBias(b, k, n, bias, aZero), Mult: append([]float32(nil), mult[:n]...)}
}

// QS8GEMM implements Int8 with qs8_gemm_2x4__go, a tile of two rows by
// one panel of four columns (eight int32 accumulators), and a one-row tile
// for an odd last row.
func (Int8Go) QS8GEMM(m int, a []int8, lda int, w *QS8GEMMWeights, c []int8, ldc int, o QS8Out) {
	qs8GEMM2x4Go(m, a, lda, w, c, ldc, o)
}

func qs8GEMM2x4Go(m int, a []int8, lda int, w *QS8GEMMWeights, c []int8, ldc int, o QS8Out) {
	k, n := w.K, w.N
	panels := (n + qs8GoNR - 1) / qs8GoNR
	for pj := 0; pj < panels; pj++ {
		j0 := pj * qs8GoNR
		cols := min(qs8GoNR, n-j0)
		var bias [qs8GoNR]int32
		var mult [qs8GoNR]float32
		copy(bias[:], w.Bias[j0:j0+cols])
		copy(mult[:], w.Mult[j0:j0+cols])
		b := w.W[pj*k*qs8GoNR : (pj+1)*k*qs8GoNR]
		i := 0
		for ; i+2 <= m; i += 2 {
			a0 := a[i*lda : i*lda+k]
			a1 := a[(i+1)*lda : (i+1)*lda+k]
			c00, c01, c02, c03 := bias[0], bias[1], bias[2], bias[3]
			c10, c11, c12, c13 := bias[0], bias[1], bias[2], bias[3]
			for p := range a0 {
				bp := b[p*qs8GoNR : p*qs8GoNR+qs8GoNR : p*qs8GoNR+qs8GoNR]
				x0, x1 := int32(a0[p]), int32(a1[p])
				w0, w1, w2, w3 := int32(bp[0]), int32(bp[1]), int32(bp[2]), int32(bp[3])
				c00 += x0 * w0
				c01 += x0 * w1
				c02 += x0 * w2
				c03 += x0 * w3
				c10 += x1 * w0
				c11 += x1 * w1
				c12 += x1 * w2
				c13 += x1 * w3
			}
			qs8Store4(c[i*ldc+j0:], cols, [4]int32{c00, c01, c02, c03}, &mult, o)
			qs8Store4(c[(i+1)*ldc+j0:], cols, [4]int32{c10, c11, c12, c13}, &mult, o)
		}
		if i < m {
			a0 := a[i*lda : i*lda+k]
			c00, c01, c02, c03 := bias[0], bias[1], bias[2], bias[3]
			for p := range a0 {
				bp := b[p*qs8GoNR : p*qs8GoNR+qs8GoNR : p*qs8GoNR+qs8GoNR]
				x0 := int32(a0[p])
				c00 += x0 * int32(bp[0])
				c01 += x0 * int32(bp[1])
				c02 += x0 * int32(bp[2])
				c03 += x0 * int32(bp[3])
			}
			qs8Store4(c[i*ldc+j0:], cols, [4]int32{c00, c01, c02, c03}, &mult, o)
		}
	}
}

// qs8Store4 requantizes and stores the first cols of four accumulators.
func qs8Store4(dst []int8, cols int, acc [4]int32, mult *[4]float32, o QS8Out) {
	for r := 0; r < cols; r++ {
		dst[r] = Requantize(acc[r], mult[r], o)
	}
}

// QS8Im2Col implements Int8.
func (Int8Go) QS8Im2Col(s *ConvShape, in []int8, zero int8, c0, cin int, cols []int8) {
	row := s.KH * s.KW * cin
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			dst := cols[(oy*s.OutW+ox)*row : (oy*s.OutW+ox+1)*row]
			d := 0
			for ky := 0; ky < s.KH; ky++ {
				iy := oy*s.SH - s.PadTop + ky*s.DH
				for kx := 0; kx < s.KW; kx++ {
					ix := ox*s.SW - s.PadLeft + kx*s.DW
					seg := dst[d : d+cin]
					if iy < 0 || iy >= s.InH || ix < 0 || ix >= s.InW {
						for j := range seg {
							seg[j] = zero
						}
					} else {
						at := (iy*s.InW+ix)*s.InC + c0
						copy(seg, in[at:at+cin])
					}
					d += cin
				}
			}
		}
	}
}

// PackQS8DWConv implements Int8: the HWIO layout as given, [KH*KW][C].
func (Int8Go) PackQS8DWConv(w []int8, kh, kw, c int, bias []int32, mult []float32) *QS8DWWeights {
	b := make([]int32, c)
	if bias != nil {
		copy(b, bias[:c])
	}
	return &QS8DWWeights{KH: kh, KW: kw, C: c, W: append([]int8(nil), w[:kh*kw*c]...), Bias: b, Mult: append([]float32(nil), mult[:c]...)}
}

// qs8AccPool recycles the depthwise accumulators, so a run allocates
// nothing once warm.
var qs8AccPool = sync.Pool{New: func() any { return new([]int32) }}

// QS8DWConv implements Int8 with qs8_dwconv__go: per output pixel, every
// tap inside the input adds its run of C products to C accumulators.
func (Int8Go) QS8DWConv(s *ConvShape, in []int8, inZero int32, w *QS8DWWeights, out []int8, o QS8Out) {
	c := s.InC
	buf := qs8AccPool.Get().(*[]int32)
	if cap(*buf) < c {
		*buf = make([]int32, c)
	}
	defer qs8AccPool.Put(buf)
	acc := (*buf)[:c]
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			copy(acc, w.Bias)
			for ky := 0; ky < s.KH; ky++ {
				iy := oy*s.SH - s.PadTop + ky*s.DH
				if iy < 0 || iy >= s.InH {
					continue
				}
				for kx := 0; kx < s.KW; kx++ {
					ix := ox*s.SW - s.PadLeft + kx*s.DW
					if ix < 0 || ix >= s.InW {
						continue
					}
					x := in[(iy*s.InW+ix)*c : (iy*s.InW+ix)*c+c]
					wt := w.W[(ky*s.KW+kx)*c : (ky*s.KW+kx)*c+c]
					for j := range acc {
						acc[j] += (int32(x[j]) - inZero) * int32(wt[j])
					}
				}
			}
			dst := out[(oy*s.OutW+ox)*c : (oy*s.OutW+ox)*c+c]
			for j := range dst {
				dst[j] = Requantize(acc[j], w.Mult[j], o)
			}
		}
	}
}

// QS8Add implements Int8.
func (Int8Go) QS8Add(x, y, out []int8, p *QS8AddParams) {
	lo, hi := float32(int32(p.Out.Min)-p.Out.Zero), float32(int32(p.Out.Max)-p.Out.Zero)
	y = y[:len(x)]
	out = out[:len(x)]
	for i := range x {
		f := float32(float32(int32(x[i])-p.XZero)*p.XMult) + float32(float32(int32(y[i])-p.YZero)*p.YMult)
		f = min(max(f, lo), hi)
		out[i] = int8(int32(math.RoundToEven(float64(f))) + p.Out.Zero)
	}
}

// QS8GlobalAvgPool implements Int8.
func (Int8Go) QS8GlobalAvgPool(hw, c int, in []int8, inZero int32, mult float32, out []int8, o QS8Out) {
	for ch := 0; ch < c; ch++ {
		acc := -inZero * int32(hw)
		for i := 0; i < hw; i++ {
			acc += int32(in[i*c+ch])
		}
		out[ch] = Requantize(acc, mult, o)
	}
}

// QuantizeF32 implements Int8. NaN becomes the zero point's lower bound
// (−128); the engine never feeds it one.
func (Int8Go) QuantizeF32(x []float32, inv float32, zero int32, out []int8) {
	lo, hi := float32(-128-zero), float32(127-zero)
	out = out[:len(x)]
	for i, v := range x {
		f := v * inv
		if !(f >= lo) {
			f = lo
		}
		f = min(f, hi)
		out[i] = int8(int32(math.RoundToEven(float64(f))) + zero)
	}
}

// DequantizeF32 implements Int8.
func (Int8Go) DequantizeF32(q []int8, scale float32, zero int32, out []float32) {
	out = out[:len(q)]
	for i, v := range q {
		out[i] = float32(int32(v)-zero) * scale
	}
}
