//go:build goexperiment.simd && amd64

package kernels

import (
	"sync"

	"simd/archsimd"
)

// Int8AVX2 is the int8 implementation for AVX2 CPUs without VNNI: the
// GEMM multiplies int16 pairs with vpmaddwd (exact: each pair sum of two
// int8 products fits int32), eight columns at a time. Other kernels are
// Int8Go's.
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
				var q [qs8AVX2NR]int32
				archsimd.LoadInt32x8(&sums[2*r]).Add(b0).ConvertToFloat32().Mul(m0).Max(lo).Min(hi).RoundToEven().ConvertToInt32().Store((*[8]int32)(q[:8]))
				archsimd.LoadInt32x8(&sums[2*r+1]).Add(b1).ConvertToFloat32().Mul(m1).Max(lo).Min(hi).RoundToEven().ConvertToInt32().Store((*[8]int32)(q[8:]))
				dst := c[(i0+r)*ldc+j0 : (i0+r)*ldc+j0+cols]
				for j := range dst {
					dst[j] = int8(q[j] + o.Zero)
				}
			}
		}
	}
	qs8PairPool.Put(buf)
}

// PackQS8DWConv implements Int8: the taps widened to int16, [KH*KW][C],
// so the kernel multiplies sixteen channels with one vpmullw (each
// product (x − z)·w fits int16 exactly).
func (Int8AVX2) PackQS8DWConv(w []int8, kh, kw, c int, bias []int32, mult []float32) *QS8DWWeights {
	p := Int8Go{}.PackQS8DWConv(w, kh, kw, c, bias, mult)
	p.W16 = make([]int16, len(p.W))
	for i, v := range p.W {
		p.W16[i] = int16(v)
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
	for oy := 0; oy < s.OutH; oy++ {
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
			for j := 0; j < c16; j += 16 {
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
