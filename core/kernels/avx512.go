//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// AVX512 is the amd64 fast path for CPUs with AVX-512 (F, CD, BW, DQ, VL):
// the GEMM, where a MobileNet spends most of its time, runs a 14x32
// microkernel on 512-bit vectors; everything else comes from the embedded
// AVX2FMA (and, through it, Go).
//
// The GEMM microkernels are Go assembly (avx512_gemm_amd64.s, written by
// the generator in avx512gen) rather than simd/archsimd: the
// compiler's register allocator only hands out Z0-Z14 (X15 is its zero
// register and Z16-Z31 are not allocatable), and archsimd's MulAdd is the
// 213 form that overwrites a multiplicand, so a 512-bit tile written with
// archsimd is capped at 6x32 and copies or spills a register per FMA
// (measured about 70 GFLOP/s on this kernel alone, against about 150 for
// the 14x32 assembly tile that keeps all 28 accumulators in registers and
// accumulates with the 231 form).
type AVX512 struct{ AVX2FMA }

// Name implements Kernels.
func (AVX512) Name() string { return "avx512" }

// GEMM register tile: up to 14 rows by 32 columns (two zmm vectors), 28
// accumulators; the microkernels are generated for every row count, so a
// short last tile does no wasted work, and a last panel of at most 16
// columns has kernels of one vector.
const (
	avx512GEMMMR = 14
	avx512GEMMNR = 32
)

//go:generate go run ./avx512gen -o .

// PackGEMMWeights implements Kernels: panels of 32 columns, as
// packGEMMPanels lays them out, except that a last panel of at most 16
// columns is 16 wide.
func (AVX512) PackGEMMWeights(b []float32, k, n int) []float32 {
	if k < 0 || n < 0 || len(b) < k*n {
		panic("kernels: PackGEMMWeights: weights shorter than k*n")
	}
	const nr = avx512GEMMNR
	out := make([]float32, avx512PackedLen(k, n))
	for j0 := 0; j0 < n; j0 += nr {
		w := min(nr, n-j0)
		pw := avx512PanelWidth(w)
		dst := out[j0*k : j0*k+k*pw]
		for p := 0; p < k; p++ {
			copy(dst[p*pw:p*pw+w], b[p*n+j0:p*n+j0+w])
		}
	}
	return out
}

// avx512PanelWidth is the packed width of a panel holding cols columns.
func avx512PanelWidth(cols int) int {
	if cols <= 16 {
		return 16
	}
	return avx512GEMMNR
}

// avx512PackedLen is the length of a k x n matrix packed by AVX512.
func avx512PackedLen(k, n int) int {
	full := n / avx512GEMMNR * avx512GEMMNR
	if full == n {
		return k * n
	}
	return k * (full + avx512PanelWidth(n-full))
}

// GEMM implements Kernels with f32_gemm_14x32__avx512 and its smaller
// siblings. Blocking is the same as the other GEMMs' (rows in blocks that
// stay in L2, then panels, then tiles). A ragged last panel reads a
// zero-padded copy of the bias and stores through a column mask; a short
// last tile runs the kernel for its row count.
func (AVX512) GEMM(m, n, k int, a []float32, lda int, b []float32, bias []float32, c []float32, ldc int, act Act) {
	if m <= 0 || n <= 0 {
		return
	}
	const mr, nr = avx512GEMMMR, avx512GEMMNR
	lo, hi, rest := clampBounds(act)
	block := gemmRowBlock(m, k, mr)
	var bbuf [nr]float32
	// Bounds: every row of A the tiles read, the packed panels and the
	// last output cell; the tiles below index within these.
	_ = a[(m-1)*lda : (m-1)*lda+k]
	_ = b[:avx512PackedLen(k, n)]
	_ = c[(m-1)*ldc+n-1]
	for i0 := 0; i0 < m; i0 += block {
		i1 := min(m, i0+block)
		for j0 := 0; j0 < n; j0 += nr {
			cols := min(nr, n-j0)
			var bp *float32
			if k > 0 {
				bp = &b[j0*k]
			}
			bb := &bbuf
			switch {
			case bias == nil:
				bbuf = [nr]float32{}
			case cols == nr:
				bb = (*[nr]float32)(bias[j0 : j0+nr])
			default:
				bbuf = [nr]float32{}
				copy(bbuf[:], bias[j0:j0+cols])
			}
			mask := uint32(1<<cols - 1)
			for i := i0; i < i1; i += mr {
				rn := min(mr, i1-i)
				var ap *float32
				if k > 0 {
					ap = &a[i*lda]
				}
				if cols <= 16 {
					f32GEMMx16AVX512(rn, k, ap, lda, bp, &bb[0], &c[i*ldc+j0], ldc, mask, lo, hi)
				} else {
					f32GEMMx32AVX512(rn, k, ap, lda, bp, &bb[0], &c[i*ldc+j0], ldc, mask, lo, hi)
				}
				if rest {
					for r := i; r < i+rn; r++ {
						activate16(c[r*ldc+j0:r*ldc+j0+cols], act)
					}
				}
			}
		}
	}
}

// activate16 applies act in place, sixteen lanes at a time.
func activate16(x []float32, act Act) {
	for i := 0; i < len(x); i += 16 {
		e := min(i+16, len(x))
		act16(archsimd.LoadFloat32x16SlicePart(x[i:e]), act).StoreSlicePart(x[i:e])
	}
}

// act16 is act8 on sixteen lanes. Sigmoid has no vector exponential here
// and goes lane by lane through the scalar reference.
func act16(v archsimd.Float32x16, act Act) archsimd.Float32x16 {
	var zero archsimd.Float32x16
	switch act {
	case ActReLU:
		return v.Max(zero)
	case ActReLU6:
		return v.Max(zero).Min(archsimd.BroadcastFloat32x16(6))
	case ActHardSwish:
		t := v.Add(archsimd.BroadcastFloat32x16(3)).Max(zero).Min(archsimd.BroadcastFloat32x16(6))
		return v.Mul(t).Mul(archsimd.BroadcastFloat32x16(1.0 / 6))
	case ActHardSigmoid:
		t := v.Add(archsimd.BroadcastFloat32x16(3)).Max(zero).Min(archsimd.BroadcastFloat32x16(6))
		return t.Mul(archsimd.BroadcastFloat32x16(1.0 / 6))
	case ActSigmoid:
		var lanes [16]float32
		v.Store(&lanes)
		for i, x := range lanes {
			lanes[i] = ActSigmoid.Apply(x)
		}
		return archsimd.LoadFloat32x16(&lanes)
	}
	return v
}

// load16 loads s[i:i+16].
func load16(s []float32, i int) archsimd.Float32x16 {
	return archsimd.LoadFloat32x16((*[16]float32)(s[i : i+16]))
}

// DWConv implements Kernels: f32_dwconv_3x3s1__avx512 and
// f32_dwconv_3x3s2__avx512, sixteen channels per vector, when the channel
// count is a multiple of 16 and the padding at most one cell on the top and
// left (every MobileNet v1/v2 layer); anything else runs AVX2FMA's.
func (k AVX512) DWConv(s *ConvShape, in, w, bias, out []float32, act Act) {
	st := s.SH
	if s.KH != 3 || s.KW != 3 || s.DH != 1 || s.DW != 1 || s.SW != st || (st != 1 && st != 2) ||
		s.InC%16 != 0 || s.PadTop > 1 || s.PadLeft > 1 {
		k.AVX2FMA.DWConv(s, in, w, bias, out, act)
		return
	}
	c := s.InC
	w = w[:9*c]
	yLo, yHi := interior(s.InH, 3, st, s.PadTop, s.OutH)
	xLo, xHi := interior(s.InW, 3, st, s.PadLeft, s.OutW)
	for oy := 0; oy < s.OutH; oy++ {
		if oy < yLo || oy >= yHi {
			for ox := 0; ox < s.OutW; ox++ {
				dwConvPixel16(s, in, w, bias, out, oy, ox, act)
			}
			continue
		}
		for ox := 0; ox < xLo; ox++ {
			dwConvPixel16(s, in, w, bias, out, oy, ox, act)
		}
		if xLo < xHi {
			iy := oy*st - s.PadTop
			ix := xLo*st - s.PadLeft
			n := xHi - xLo
			// The interior run reads its three input rows up to the
			// last window's right column and writes n pixels.
			span := (n-1)*st*c + 2*c
			r0 := in[(iy*s.InW+ix)*c:][:span]
			r1 := in[((iy+1)*s.InW+ix)*c:][:span]
			r2 := in[((iy+2)*s.InW+ix)*c:][:span]
			o := out[(oy*s.OutW+xLo)*c:][:n*c]
			for j := 0; j < c; j += 16 {
				var b archsimd.Float32x16
				if bias != nil {
					b = load16(bias, j)
				}
				dwConv3x3Row16(n, st*c, c, r0[j:], r1[j:], r2[j:], w[j:], b, o[j:], act)
			}
		}
		for ox := xHi; ox < s.OutW; ox++ {
			dwConvPixel16(s, in, w, bias, out, oy, ox, act)
		}
	}
}

// dwConv3x3Row16 runs sixteen channels of n consecutive interior output
// pixels with the nine weight vectors and the bias held in registers: nine
// loads and nine FMAs per output vector. Each FMA's first operand is the
// freshly loaded input, which dies there, so archsimd's 213 form needs no
// copy. r0, r1, r2 start at the first window's three input rows, step is
// the distance between windows, c the pixel pitch.
func dwConv3x3Row16(n, step, c int, r0, r1, r2, w []float32, b archsimd.Float32x16, o []float32, act Act) {
	w00, w01, w02 := load16(w, 0), load16(w, c), load16(w, 2*c)
	w10, w11, w12 := load16(w, 3*c), load16(w, 4*c), load16(w, 5*c)
	w20, w21, w22 := load16(w, 6*c), load16(w, 7*c), load16(w, 8*c)
	for x := 0; x < n; x++ {
		p := x * step
		acc := load16(r0, p).MulAdd(w00, b)
		acc = load16(r0, p+c).MulAdd(w01, acc)
		acc = load16(r0, p+2*c).MulAdd(w02, acc)
		acc = load16(r1, p).MulAdd(w10, acc)
		acc = load16(r1, p+c).MulAdd(w11, acc)
		acc = load16(r1, p+2*c).MulAdd(w12, acc)
		acc = load16(r2, p).MulAdd(w20, acc)
		acc = load16(r2, p+c).MulAdd(w21, acc)
		acc = load16(r2, p+2*c).MulAdd(w22, acc)
		act16(acc, act).Store((*[16]float32)(o[x*c : x*c+16]))
	}
}

// dwConvPixel16 computes one output pixel of a 3x3 depthwise convolution
// whose window overhangs the input, skipping the padded taps, sixteen
// channels at a time (the channel count is a multiple of 16).
func dwConvPixel16(s *ConvShape, in, w, bias, out []float32, oy, ox int, act Act) {
	c := s.InC
	o := out[(oy*s.OutW+ox)*c : (oy*s.OutW+ox)*c+c]
	y0, x0 := oy*s.SH-s.PadTop, ox*s.SW-s.PadLeft
	ky0, ky1 := max(0, -y0), min(3, s.InH-y0)
	kx0, kx1 := max(0, -x0), min(3, s.InW-x0)
	for j := 0; j < c; j += 16 {
		var acc archsimd.Float32x16
		if bias != nil {
			acc = load16(bias, j)
		}
		for ky := ky0; ky < ky1; ky++ {
			for kx := kx0; kx < kx1; kx++ {
				acc = load16(in, ((y0+ky)*s.InW+x0+kx)*c+j).MulAdd(load16(w, (ky*3+kx)*c+j), acc)
			}
		}
		act16(acc, act).Store((*[16]float32)(o[j : j+16]))
	}
}

// Im2Col implements Kernels. Where a window lies wholly inside the input
// horizontally and reads every channel, each of its rows is KW*cin
// contiguous input values (27 floats per window for a first convolution
// on RGB), copied sixteen lanes at a time with a masked tail instead of
// one copy call per tap; the other windows go tap by tap. Copies are
// whole vectors that may run past the values they are for: the windows are
// written in order, so anything past is rewritten later, and only the end
// of cols and of in take a masked tail.
func (AVX512) Im2Col(s *ConvShape, in []float32, c0, cin int, cols []float32) {
	if s.DW != 1 || c0 != 0 || cin != s.InC {
		f32Im2ColGo(s, in, c0, cin, cols)
		return
	}
	row := s.KH * s.KW * cin
	span := s.KW * cin
	cols = cols[:s.OutH*s.OutW*row]
	xLo, xHi := interior(s.InW, s.KW, s.SW, s.PadLeft, s.OutW)
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			at := (oy*s.OutW + ox) * row
			dst := cols[at : at+row]
			ix := ox*s.SW - s.PadLeft
			for ky := 0; ky < s.KH; ky++ {
				iy := oy*s.SH - s.PadTop + ky*s.DH
				d := dst[ky*span : (ky+1)*span]
				switch {
				case iy < 0 || iy >= s.InH:
					clear(d)
				case ox >= xLo && ox < xHi:
					copyOver16(cols[at+ky*span:], in[(iy*s.InW+ix)*cin:], span)
				default:
					for kx := 0; kx < s.KW; kx++ {
						t := d[kx*cin : (kx+1)*cin]
						if x := ix + kx; x < 0 || x >= s.InW {
							clear(t)
						} else {
							copy16(t, in[(iy*s.InW+x)*cin:])
						}
					}
				}
			}
		}
	}
}

// copyOver16 copies n values from src to dst in whole vectors, which may
// write up to 15 values past n (but never past the end of dst) and read
// past n in src (but never past its end).
func copyOver16(dst, src []float32, n int) {
	for i := 0; i < n; i += 16 {
		if i+16 <= len(dst) && i+16 <= len(src) {
			load16(src, i).Store((*[16]float32)(dst[i : i+16]))
			continue
		}
		e := min(i+16, n)
		archsimd.LoadFloat32x16SlicePart(src[i:e]).StoreSlicePart(dst[i:e])
	}
}

// copy16 copies len(dst) values from src, sixteen lanes at a time.
func copy16(dst, src []float32) {
	src = src[:len(dst)]
	for i := 0; i < len(dst); i += 16 {
		e := min(i+16, len(dst))
		archsimd.LoadFloat32x16SlicePart(src[i:e]).StoreSlicePart(dst[i:e])
	}
}
