//go:build goexperiment.simd && amd64

package kernels

import (
	"sync"
	"unsafe"

	"simd/archsimd"
)

// Int8AVX2 is the int8 implementation for AVX2 CPUs without VNNI: the
// GEMM multiplies int16 pairs with vpmaddwd (exact: each pair sum of two
// int8 products fits int32), eight columns at a time; depthwise
// convolutions, sums, pools and the float32 conversions run on 256-bit
// vectors too. Im2col is Int8Go's.
type Int8AVX2 struct{ Int8Go }

// Name implements Int8.
func (Int8AVX2) Name() string { return "avx2" }

// qs8AVX2NR is the panel width of the AVX2 GEMM: two vectors of eight
// int32 accumulators per row.
const qs8AVX2NR = 16

// PackQS8GEMM implements Int8: panels of 16 columns; for each pair of
// rows of B (K padded to even with zeros), 16 columns of int16 pairs
// (B[2p][j], B[2p+1][j]), so one vpmaddwd against a broadcast pair of A
// gives eight columns' sums of two products.
func (Int8AVX2) PackQS8GEMM(b []int8, k, n int, bias []int32, mult []float32, aZero int32) *QS8GEMMWeights {
	kp := (k + 1) / 2
	panels := (n + qs8AVX2NR - 1) / qs8AVX2NR
	w := make([]int16, panels*kp*qs8AVX2NR*2)
	for pj := 0; pj < panels; pj++ {
		for p := 0; p < kp; p++ {
			for r := 0; r < qs8AVX2NR; r++ {
				j := pj*qs8AVX2NR + r
				if j >= n {
					continue
				}
				at := ((pj*kp+p)*qs8AVX2NR + r) * 2
				w[at] = int16(b[2*p*n+j])
				if 2*p+1 < k {
					w[at+1] = int16(b[(2*p+1)*n+j])
				}
			}
		}
	}
	cb := qs8ColumnBias(b, k, n, bias, aZero)
	b16 := make([]int32, panels*qs8AVX2NR)
	m16 := make([]float32, panels*qs8AVX2NR)
	copy(b16, cb)
	copy(m16, mult[:n])
	return &QS8GEMMWeights{K: k, N: n, W16: w, Bias: cb, Mult: append([]float32(nil), mult[:n]...), Bias16: b16, Mult16: m16}
}

// qs8GEMM4x16c2AVX2 sums, over kp pairs, four rows of A (widened to
// int16, rows lda int16s apart) times a 16-column panel of B packed by
// PackQS8GEMM into acc: acc[2r] columns 0-7 and acc[2r+1] columns 8-15 of
// row r. In qs8_avx2_amd64.s.
//
//go:noescape
func qs8GEMM4x16c2AVX2(kp int, a *int16, lda int, b *int16, acc *[8][8]int32)

// qs8PairPool recycles the rows of A widened to int16, so the GEMM
// allocates nothing once warm.
var qs8PairPool = sync.Pool{New: func() any { return new([]int16) }}

// QS8GEMM implements Int8 with qs8_gemm_4x16c2__avx2: four rows of A,
// sign-extended to int16 sixteen at a time (vpmovsxbw), each pair
// broadcast against a 16-column panel in qs8GEMM4x16c2AVX2; the epilogue
// converts to float32, multiplies, clamps and rounds to nearest even in
// vectors.
func (Int8AVX2) QS8GEMM(m int, a []int8, lda int, w *QS8GEMMWeights, c []int8, ldc int, o QS8Out) {
	k, n := w.K, w.N
	kp := (k + 1) / 2
	stride := (2*kp + 15) &^ 15 // int16s per widened row, whole vectors
	buf := qs8PairPool.Get().(*[]int16)
	if cap(*buf) < 4*stride {
		*buf = make([]int16, 4*stride)
	}
	wide := (*buf)[:4*stride]
	panels := (n + qs8AVX2NR - 1) / qs8AVX2NR
	lo := archsimd.BroadcastFloat32x8(float32(int32(o.Min) - o.Zero))
	hi := archsimd.BroadcastFloat32x8(float32(int32(o.Max) - o.Zero))
	zo := archsimd.BroadcastInt32x8(o.Zero)
	k16 := k &^ 15
	for i0 := 0; i0 < m; i0 += 4 {
		rows := min(4, m-i0)
		for r := 0; r < 4; r++ {
			row := wide[r*stride : (r+1)*stride]
			if r >= rows {
				clear(row)
				continue
			}
			ar := a[(i0+r)*lda : (i0+r)*lda+k]
			p := 0
			for ; p < k16; p += 16 {
				archsimd.LoadInt8x16((*[16]int8)(ar[p : p+16])).ExtendToInt16().Store((*[16]int16)(row[p : p+16]))
			}
			for ; p < k; p++ {
				row[p] = int16(ar[p])
			}
			if k%2 == 1 {
				row[k] = 0 // the padding of an odd K
			}
		}
		for pj := 0; pj < panels; pj++ {
			j0 := pj * qs8AVX2NR
			bw := w.W16[pj*kp*qs8AVX2NR*2 : (pj+1)*kp*qs8AVX2NR*2]
			var sums [8][8]int32
			qs8GEMM4x16c2AVX2(kp, &wide[0], stride, &bw[0], &sums)
			cols := min(qs8AVX2NR, n-j0)
			b0 := archsimd.LoadInt32x8((*[8]int32)(w.Bias16[j0 : j0+8]))
			b1 := archsimd.LoadInt32x8((*[8]int32)(w.Bias16[j0+8 : j0+16]))
			m0 := archsimd.LoadFloat32x8((*[8]float32)(w.Mult16[j0 : j0+8]))
			m1 := archsimd.LoadFloat32x8((*[8]float32)(w.Mult16[j0+8 : j0+16]))
			for r := 0; r < rows; r++ {
				v0 := qs8Requant8(archsimd.LoadInt32x8(&sums[2*r]).Add(b0), m0, lo, hi, zo)
				v1 := qs8Requant8(archsimd.LoadInt32x8(&sums[2*r+1]).Add(b1), m1, lo, hi, zo)
				dst := c[(i0+r)*ldc+j0 : (i0+r)*ldc+j0+cols]
				if cols == qs8AVX2NR {
					qs8Narrow16(v0, v1, (*[16]int8)(dst))
					continue
				}
				var q [qs8AVX2NR]int8
				qs8Narrow16(v0, v1, &q)
				copy(dst, q[:cols])
			}
		}
	}
	qs8PairPool.Put(buf)
}

// PackQS8DWConv implements Int8: the taps widened to int16, [KH*KW][C],
// so the kernel multiplies sixteen channels with one vpmullw (each
// product (x − z)·w fits int16 exactly), and each channel's sum of taps.
func (Int8AVX2) PackQS8DWConv(w []int8, kh, kw, c int, bias []int32, mult []float32) *QS8DWWeights {
	p := Int8Go{}.PackQS8DWConv(w, kh, kw, c, bias, mult)
	p.W16 = make([]int16, len(p.W))
	p.TapSum = make([]int32, c)
	for i, v := range p.W {
		p.W16[i] = int16(v)
		p.TapSum[i%c] += int32(v)
	}
	return p
}

// QS8DWConv implements Int8 with qs8_dwconv__avx2: per output pixel,
// sixteen channels at a time, each tap inside the input sign-extends its
// inputs to int16, subtracts the zero point, multiplies in int16 and adds
// the products to int32 accumulators; channels past
// the last multiple of 16 take the pure-Go loop.
func (Int8AVX2) QS8DWConv(s *ConvShape, in []int8, inZero int32, w *QS8DWWeights, out []int8, o QS8Out) {
	c := s.InC
	c16 := c &^ 15
	zv := archsimd.BroadcastInt16x16(int16(inZero))
	lo := archsimd.BroadcastFloat32x8(float32(int32(o.Min) - o.Zero))
	hi := archsimd.BroadcastFloat32x8(float32(int32(o.Max) - o.Zero))
	var q [16]int32
	yLo, yHi := interior(s.InH, s.DH*(s.KH-1)+1, s.SH, s.PadTop, s.OutH)
	xLo, xHi := interior(s.InW, s.DW*(s.KW-1)+1, s.SW, s.PadLeft, s.OutW)
	fast := s.KH == 3 && s.KW == 3 && xLo < xHi && w.TapSum != nil
	for oy := 0; oy < s.OutH; oy++ {
		if fast && oy >= yLo && oy < yHi {
			for j := 0; j < c16; j += 16 {
				qs8DWRow3x3AVX2(s, in, inZero, w, out, oy, xLo, xHi, j, lo, hi, o.Zero)
			}
		}
		ky0, ky1 := 0, s.KH
		for ky0 < ky1 && oy*s.SH-s.PadTop+ky0*s.DH < 0 {
			ky0++
		}
		for ky1 > ky0 && oy*s.SH-s.PadTop+(ky1-1)*s.DH >= s.InH {
			ky1--
		}
		for ox := 0; ox < s.OutW; ox++ {
			kx0, kx1 := 0, s.KW
			for kx0 < kx1 && ox*s.SW-s.PadLeft+kx0*s.DW < 0 {
				kx0++
			}
			for kx1 > kx0 && ox*s.SW-s.PadLeft+(kx1-1)*s.DW >= s.InW {
				kx1--
			}
			dst := out[(oy*s.OutW+ox)*c : (oy*s.OutW+ox)*c+c]
			inside := fast && oy >= yLo && oy < yHi && ox >= xLo && ox < xHi
			for j := 0; j < c16 && !inside; j += 16 {
				a0 := archsimd.LoadInt32x8((*[8]int32)(w.Bias[j : j+8]))
				a1 := archsimd.LoadInt32x8((*[8]int32)(w.Bias[j+8 : j+16]))
				for ky := ky0; ky < ky1; ky++ {
					iy := oy*s.SH - s.PadTop + ky*s.DH
					for kx := kx0; kx < kx1; kx++ {
						ix := ox*s.SW - s.PadLeft + kx*s.DW
						at := (iy*s.InW+ix)*c + j
						t := (ky*s.KW+kx)*c + j
						// (x − z)·w fits int16: |x − z| ≤ 255, |w| ≤ 127.
						prod := archsimd.LoadInt8x16((*[16]int8)(in[at : at+16])).ExtendToInt16().Sub(zv).
							Mul(archsimd.LoadInt16x16((*[16]int16)(w.W16[t : t+16])))
						a0 = a0.Add(prod.GetLo().ExtendToInt32())
						a1 = a1.Add(prod.GetHi().ExtendToInt32())
					}
				}
				m0 := archsimd.LoadFloat32x8((*[8]float32)(w.Mult[j : j+8]))
				m1 := archsimd.LoadFloat32x8((*[8]float32)(w.Mult[j+8 : j+16]))
				a0.ConvertToFloat32().Mul(m0).Max(lo).Min(hi).RoundToEven().ConvertToInt32().Store((*[8]int32)(q[:8]))
				a1.ConvertToFloat32().Mul(m1).Max(lo).Min(hi).RoundToEven().ConvertToInt32().Store((*[8]int32)(q[8:]))
				d := dst[j : j+16]
				for r := range d {
					d[r] = int8(q[r] + o.Zero)
				}
			}
			for j := c16; j < c; j++ {
				acc := w.Bias[j]
				for ky := ky0; ky < ky1; ky++ {
					iy := oy*s.SH - s.PadTop + ky*s.DH
					for kx := kx0; kx < kx1; kx++ {
						ix := ox*s.SW - s.PadLeft + kx*s.DW
						acc += (int32(in[(iy*s.InW+ix)*c+j]) - inZero) * int32(w.W[(ky*s.KW+kx)*c+j])
					}
				}
				dst[j] = Requantize(acc, w.Mult[j], o)
			}
		}
	}
}

// qs8Widen16 sign-extends sixteen int8 values to two vectors of eight
// int32.
func qs8Widen16(v archsimd.Int8x16) (lo, hi archsimd.Int32x8) {
	w := v.ExtendToInt16()
	return w.GetLo().ExtendToInt32(), w.GetHi().ExtendToInt32()
}

// qs8Requant8 is Requantize on eight lanes up to the zero point's offset:
// acc to float32, times mult, clamped to [lo, hi], rounded to nearest even,
// plus the zero point.
func qs8Requant8(acc archsimd.Int32x8, mult, lo, hi archsimd.Float32x8, zero archsimd.Int32x8) archsimd.Int32x8 {
	return acc.ConvertToFloat32().Mul(mult).Max(lo).Min(hi).RoundToEven().ConvertToInt32().Add(zero)
}

// QS8Add implements Int8 sixteen lanes at a time (two vectors of eight):
// each input widened, offset by its zero point, converted and multiplied
// in float32, the two products added (no fused multiply-add, as the
// reference rounds each), clamped, rounded to nearest even and offset; a
// tail of fewer than sixteen takes Int8Go's loop.
func (Int8AVX2) QS8Add(x, y, out []int8, p *QS8AddParams) {
	n := len(x)
	y, out = y[:n], out[:n]
	xz, yz := archsimd.BroadcastInt32x8(p.XZero), archsimd.BroadcastInt32x8(p.YZero)
	xm, ym := archsimd.BroadcastFloat32x8(p.XMult), archsimd.BroadcastFloat32x8(p.YMult)
	lo := archsimd.BroadcastFloat32x8(float32(int32(p.Out.Min) - p.Out.Zero))
	hi := archsimd.BroadcastFloat32x8(float32(int32(p.Out.Max) - p.Out.Zero))
	zo := archsimd.BroadcastInt32x8(p.Out.Zero)
	sum := func(a, b archsimd.Int32x8) archsimd.Int32x8 {
		fa := a.Sub(xz).ConvertToFloat32().Mul(xm)
		fb := b.Sub(yz).ConvertToFloat32().Mul(ym)
		return fa.Add(fb).Max(lo).Min(hi).RoundToEven().ConvertToInt32().Add(zo)
	}
	i := 0
	for ; i+16 <= n; i += 16 {
		x0, x1 := qs8Widen16(archsimd.LoadInt8x16((*[16]int8)(x[i : i+16])))
		y0, y1 := qs8Widen16(archsimd.LoadInt8x16((*[16]int8)(y[i : i+16])))
		qs8Narrow16(sum(x0, y0), sum(x1, y1), (*[16]int8)(out[i:i+16]))
	}
	if i < n {
		Int8Go{}.QS8Add(x[i:], y[i:], out[i:], p)
	}
}

// QS8GlobalAvgPool implements Int8: sixteen channels at a time, the
// inputs widened and summed in int32 down the hw rows, then requantized.
func (Int8AVX2) QS8GlobalAvgPool(hw, c int, in []int8, inZero int32, mult float32, out []int8, o QS8Out) {
	c16 := c &^ 15
	if hw > 0 {
		_ = in[hw*c-1]
	}
	m := archsimd.BroadcastFloat32x8(mult)
	lo := archsimd.BroadcastFloat32x8(float32(int32(o.Min) - o.Zero))
	hi := archsimd.BroadcastFloat32x8(float32(int32(o.Max) - o.Zero))
	zo := archsimd.BroadcastInt32x8(o.Zero)
	start := archsimd.BroadcastInt32x8(-inZero * int32(hw))
	for j := 0; j < c16; j += 16 {
		a0, a1 := start, start
		for i := 0; i < hw; i++ {
			v0, v1 := qs8Widen16(archsimd.LoadInt8x16((*[16]int8)(in[i*c+j : i*c+j+16])))
			a0, a1 = a0.Add(v0), a1.Add(v1)
		}
		qs8Narrow16(qs8Requant8(a0, m, lo, hi, zo), qs8Requant8(a1, m, lo, hi, zo), (*[16]int8)(out[j:j+16]))
	}
	for ch := c16; ch < c; ch++ {
		acc := -inZero * int32(hw)
		for i := 0; i < hw; i++ {
			acc += int32(in[i*c+ch])
		}
		out[ch] = Requantize(acc, mult, o)
	}
}

// QuantizeF32 implements Int8 sixteen lanes at a time; a tail of fewer
// than sixteen takes Int8Go's loop. As there, NaN is not expected.
func (Int8AVX2) QuantizeF32(x []float32, inv float32, zero int32, out []int8) {
	n := len(x)
	out = out[:n]
	iv := archsimd.BroadcastFloat32x8(inv)
	lo, hi := archsimd.BroadcastFloat32x8(float32(-128-zero)), archsimd.BroadcastFloat32x8(float32(127-zero))
	z := archsimd.BroadcastInt32x8(zero)
	q := func(v archsimd.Float32x8) archsimd.Int32x8 {
		return v.Mul(iv).Max(lo).Min(hi).RoundToEven().ConvertToInt32().Add(z)
	}
	i := 0
	for ; i+16 <= n; i += 16 {
		qs8Narrow16(q(archsimd.LoadFloat32x8((*[8]float32)(x[i:i+8]))), q(archsimd.LoadFloat32x8((*[8]float32)(x[i+8:i+16]))),
			(*[16]int8)(out[i:i+16]))
	}
	if i < n {
		Int8Go{}.QuantizeF32(x[i:], inv, zero, out[i:])
	}
}

// DequantizeF32 implements Int8 sixteen lanes at a time.
func (Int8AVX2) DequantizeF32(q []int8, scale float32, zero int32, out []float32) {
	n := len(q)
	out = out[:n]
	s := archsimd.BroadcastFloat32x8(scale)
	z := archsimd.BroadcastInt32x8(zero)
	i := 0
	for ; i+16 <= n; i += 16 {
		v0, v1 := qs8Widen16(archsimd.LoadInt8x16((*[16]int8)(q[i : i+16])))
		v0.Sub(z).ConvertToFloat32().Mul(s).Store((*[8]float32)(out[i : i+8]))
		v1.Sub(z).ConvertToFloat32().Mul(s).Store((*[8]float32)(out[i+8 : i+16]))
	}
	if i < n {
		Int8Go{}.DequantizeF32(q[i:], scale, zero, out[i:])
	}
}

// qs8Narrow16 stores sixteen int32 lanes already within −128…127 as bytes.
// AVX2 has no narrowing store: vpackssdw packs the two vectors to int16
// within each 128-bit half ([v0 0-3, v1 0-3 | v0 4-7, v1 4-7]), vpshufb
// gathers each half's low bytes into its share of the sixteen places
// (qs8NarrowIndex, the rest zero), and the halves OR together in order.
func qs8Narrow16(v0, v1 archsimd.Int32x8, dst *[16]int8) {
	r := v0.SaturateToInt16ConcatGrouped(v1).AsInt8x32().PermuteOrZeroGrouped(archsimd.LoadInt8x32(&qs8NarrowIndex))
	r.GetLo().Or(r.GetHi()).Store(dst)
}

// qs8NarrowIndex is qs8Narrow16's byte shuffle: in the low half, v0's
// lanes 0-3 to places 0-3 and v1's to 8-11; in the high half, v0's lanes
// 4-7 to places 4-7 and v1's to 12-15; −1 zeroes a place.
var qs8NarrowIndex = [32]int8{
	0, 2, 4, 6, -1, -1, -1, -1, 8, 10, 12, 14, -1, -1, -1, -1,
	-1, -1, -1, -1, 0, 2, 4, 6, -1, -1, -1, -1, 8, 10, 12, 14,
}

// qs8DWRow3x3AVX2 computes channels j..j+15 of output pixels ox0..ox1-1
// of row oy, whose 3x3 windows lie inside the input: the nine taps (int16)
// and the bias with the zero point folded in (b − z·Σw) stay in
// registers. x·w fits int16 (|x| ≤ 128, |w| ≤ 127) and so does the sum of
// two such products (at most 32,512), so taps are multiplied in int16
// (vpmullw) and added in pairs before widening to int32. The window's
// bounds are checked once for the row's first and last pixels; the loads
// inside address the input from its base.
func qs8DWRow3x3AVX2(s *ConvShape, in []int8, inZero int32, w *QS8DWWeights, out []int8, oy, ox0, ox1, j int, lo, hi archsimd.Float32x8, zero int32) {
	c := s.InC
	tap := func(t int) archsimd.Int16x16 {
		return archsimd.LoadInt16x16((*[16]int16)(w.W16[t*c+j : t*c+j+16]))
	}
	w0, w1, w2, w3, w4, w5, w6, w7, w8 := tap(0), tap(1), tap(2), tap(3), tap(4), tap(5), tap(6), tap(7), tap(8)
	zi := archsimd.BroadcastInt32x8(inZero)
	b0 := archsimd.LoadInt32x8((*[8]int32)(w.Bias[j : j+8])).Sub(archsimd.LoadInt32x8((*[8]int32)(w.TapSum[j : j+8])).Mul(zi))
	b1 := archsimd.LoadInt32x8((*[8]int32)(w.Bias[j+8 : j+16])).Sub(archsimd.LoadInt32x8((*[8]int32)(w.TapSum[j+8 : j+16])).Mul(zi))
	m0 := archsimd.LoadFloat32x8((*[8]float32)(w.Mult[j : j+8]))
	m1 := archsimd.LoadFloat32x8((*[8]float32)(w.Mult[j+8 : j+16]))
	zo := archsimd.BroadcastInt32x8(zero)
	rowStep, colStep := s.DH*s.InW*c, s.DW*c
	first := ((oy*s.SH-s.PadTop)*s.InW+ox0*s.SW-s.PadLeft)*c + j
	last := ((oy*s.SH-s.PadTop)*s.InW+(ox1-1)*s.SW-s.PadLeft)*c + j
	_ = in[first : last+2*rowStep+2*colStep+16]
	_ = out[(oy*s.OutW+ox0)*c+j : (oy*s.OutW+ox1-1)*c+j+16]
	base := unsafe.Pointer(&in[first])
	dst := unsafe.Pointer(&out[(oy*s.OutW+ox0)*c+j])
	x := func(off int) archsimd.Int16x16 {
		return archsimd.LoadInt8x16((*[16]int8)(unsafe.Add(base, off))).ExtendToInt16()
	}
	step := s.SW * c
	for n := 0; n < ox1-ox0; n++ {
		at := n * step
		r1, r2 := at+rowStep, at+2*rowStep
		p0 := x(at).Mul(w0).Add(x(at + colStep).Mul(w1))
		p1 := x(at + 2*colStep).Mul(w2).Add(x(r1).Mul(w3))
		p2 := x(r1 + colStep).Mul(w4).Add(x(r1 + 2*colStep).Mul(w5))
		p3 := x(r2).Mul(w6).Add(x(r2 + colStep).Mul(w7))
		p4 := x(r2 + 2*colStep).Mul(w8)
		a0 := b0.Add(p0.GetLo().ExtendToInt32()).Add(p1.GetLo().ExtendToInt32()).Add(p2.GetLo().ExtendToInt32()).
			Add(p3.GetLo().ExtendToInt32()).Add(p4.GetLo().ExtendToInt32())
		a1 := b1.Add(p0.GetHi().ExtendToInt32()).Add(p1.GetHi().ExtendToInt32()).Add(p2.GetHi().ExtendToInt32()).
			Add(p3.GetHi().ExtendToInt32()).Add(p4.GetHi().ExtendToInt32())
		qs8Narrow16(qs8Requant8(a0, m0, lo, hi, zo), qs8Requant8(a1, m1, lo, hi, zo), (*[16]int8)(unsafe.Add(dst, n*c)))
	}
}

// QS8Im2Col implements Int8: where a window row's taps are adjacent in
// the input (dilation 1, every input channel taken) and inside it, the
// row's KW·cin bytes go in one copy (a 3-channel stem copies 9 bytes
// where Int8Go copies 3 three times); other taps as Int8Go does.
func (Int8AVX2) QS8Im2Col(s *ConvShape, in []int8, zero int8, c0, cin int, cols []int8) {
	if s.DW != 1 || cin != s.InC {
		Int8Go{}.QS8Im2Col(s, in, zero, c0, cin, cols)
		return
	}
	row := s.KH * s.KW * cin
	run := s.KW * cin
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			dst := cols[(oy*s.OutW+ox)*row : (oy*s.OutW+ox+1)*row]
			ix0 := ox*s.SW - s.PadLeft
			inside := ix0 >= 0 && ix0+s.KW <= s.InW
			for ky := 0; ky < s.KH; ky++ {
				iy := oy*s.SH - s.PadTop + ky*s.DH
				seg := dst[ky*run : (ky+1)*run]
				switch {
				case iy < 0 || iy >= s.InH:
					for j := range seg {
						seg[j] = zero
					}
				case inside:
					at := (iy*s.InW + ix0) * cin
					copy(seg, in[at:at+run])
				default:
					for kx := 0; kx < s.KW; kx++ {
						tap := seg[kx*cin : (kx+1)*cin]
						if ix := ix0 + kx; ix < 0 || ix >= s.InW {
							for j := range tap {
								tap[j] = zero
							}
						} else {
							copy(tap, in[(iy*s.InW+ix)*cin:(iy*s.InW+ix+1)*cin])
						}
					}
				}
			}
		}
	}
}
