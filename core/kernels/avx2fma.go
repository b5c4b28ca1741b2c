//go:build goexperiment.simd && amd64

package kernels

import (
	"math"
	"simd/archsimd"
)

// AVX2FMA is the amd64 fast path: microkernels written with simd/archsimd
// on 256-bit vectors (eight float32 lanes) with fused multiply-add. It
// embeds Go, so every kernel it does not override (Im2Col, the pools,
// Softmax, HardSigmoid) runs the reference. Use it only where the CPU has
// AVX2 and FMA; Best checks.
type AVX2FMA struct{ Go }

// Name implements Kernels.
func (AVX2FMA) Name() string { return "avx2fma" }

// GEMM register tile: 6 rows by 16 columns is 12 accumulators of eight
// lanes, plus two vectors of B and two broadcasts of A: all 16 ymm
// registers. Each step of the K loop does 12 FMAs for 2 loads of B and 6
// broadcasts of A. The microkernels are Go assembly (avx2fma_gemm_amd64.s,
// written by avx2fma_gen.go) rather than simd/archsimd: the compiler gives
// archsimd code 15 vector registers and its MulAdd is the 213 form, which
// overwrites a multiplicand, so the same tile written with archsimd copied
// a register per FMA and spilled accumulators to the stack every step
// (measured on MobileNetV2: the GEMM ran about 29 GFLOP/s that way).
const (
	avxGEMMMR = 6
	avxGEMMNR = 16
)

//go:generate go run avx2fma_gen.go

// PackGEMMWeights implements Kernels: panels of 16 columns, as
// packGEMMPanels lays them out, except that a last panel of at most 8
// columns is 8 wide (read by the one-vector kernels).
func (AVX2FMA) PackGEMMWeights(b []float32, k, n int) []float32 {
	if k < 0 || n < 0 || len(b) < k*n {
		panic("kernels: PackGEMMWeights: weights shorter than k*n")
	}
	const nr = avxGEMMNR
	out := make([]float32, avxPackedLen(k, n))
	for j0 := 0; j0 < n; j0 += nr {
		w := min(nr, n-j0)
		pw := avxPanelWidth(w)
		dst := out[j0*k : j0*k+k*pw]
		for p := 0; p < k; p++ {
			copy(dst[p*pw:p*pw+w], b[p*n+j0:p*n+j0+w])
		}
	}
	return out
}

// avxPanelWidth is the packed width of a panel holding cols columns.
func avxPanelWidth(cols int) int {
	if cols <= 8 {
		return 8
	}
	return avxGEMMNR
}

// avxPackedLen is the length of a k x n matrix packed by AVX2FMA.
func avxPackedLen(k, n int) int {
	full := n / avxGEMMNR * avxGEMMNR
	if full == n {
		return k * n
	}
	return k * (full + avxPanelWidth(n-full))
}

// clampBounds gives the clamp that a GEMM microkernel's epilogue applies
// for act, and whether act still needs a pass of its own afterwards. ReLU
// and ReLU6 are pure clamps; the others run unclamped and then through a
// vector pass.
func clampBounds(act Act) (lo, hi float32, rest bool) {
	inf := float32(math.Inf(1))
	switch act {
	case ActNone:
		return -inf, inf, false
	case ActReLU:
		return 0, inf, false
	case ActReLU6:
		return 0, 6, false
	}
	return -inf, inf, true
}

// GEMM implements Kernels with f32_gemm_6x16__avx2fma and its smaller
// siblings. Blocking is the same as the pure-Go GEMM's (rows in blocks that
// stay in L2, then panels, then tiles). A short last tile runs the kernel
// for its row count; a last panel of at most 8 columns runs the one-vector
// kernels; a ragged last panel reads a zero-padded copy of the bias and
// stores through lane masks, so nothing past column n is touched.
func (AVX2FMA) GEMM(m, n, k int, a []float32, lda int, b []float32, bias []float32, c []float32, ldc int, act Act) {
	if m <= 0 || n <= 0 {
		return
	}
	const mr, nr = avxGEMMMR, avxGEMMNR
	lo, hi, rest := clampBounds(act)
	block := gemmRowBlock(m, k, mr)
	var bbuf [nr]float32
	var mbuf [nr]int32
	// Bounds: every row of A the tiles read, the packed panels and the
	// last output cell; the tiles below index within these.
	_ = a[(m-1)*lda : (m-1)*lda+k]
	_ = b[:avxPackedLen(k, n)]
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
			var mask *int32
			if cols != avxPanelWidth(cols) {
				for j := range mbuf {
					mbuf[j] = 0
					if j < cols {
						mbuf[j] = -1
					}
				}
				mask = &mbuf[0]
			}
			for i := i0; i < i1; i += mr {
				rn := min(mr, i1-i)
				var ap *float32
				if k > 0 {
					ap = &a[i*lda]
				}
				if cols <= 8 {
					f32GEMMx8AVX2FMA(rn, k, ap, lda, bp, &bb[0], &c[i*ldc+j0], ldc, mask, lo, hi)
				} else {
					f32GEMMx16AVX2FMA(rn, k, ap, lda, bp, &bb[0], &c[i*ldc+j0], ldc, mask, lo, hi)
				}
				if rest {
					for r := i; r < i+rn; r++ {
						activate8(c[r*ldc+j0:r*ldc+j0+cols], act)
					}
				}
			}
		}
	}
}

// activate8 applies act in place, eight lanes at a time.
func activate8(x []float32, act Act) {
	for i := 0; i < len(x); i += 8 {
		e := min(i+8, len(x))
		act8(archsimd.LoadFloat32x8SlicePart(x[i:e]), act).StoreSlicePart(x[i:e])
	}
}

// act8 applies a fused activation to eight lanes. Sigmoid has no vector
// exponential here and goes lane by lane through the scalar reference.
func act8(v archsimd.Float32x8, act Act) archsimd.Float32x8 {
	var zero archsimd.Float32x8
	switch act {
	case ActReLU:
		return v.Max(zero)
	case ActReLU6:
		return v.Max(zero).Min(archsimd.BroadcastFloat32x8(6))
	case ActHardSwish:
		t := v.Add(archsimd.BroadcastFloat32x8(3)).Max(zero).Min(archsimd.BroadcastFloat32x8(6))
		return v.Mul(t).Mul(archsimd.BroadcastFloat32x8(1.0 / 6))
	case ActHardSigmoid:
		t := v.Add(archsimd.BroadcastFloat32x8(3)).Max(zero).Min(archsimd.BroadcastFloat32x8(6))
		return t.Mul(archsimd.BroadcastFloat32x8(1.0 / 6))
	case ActSigmoid:
		var lanes [8]float32
		v.Store(&lanes)
		for i, x := range lanes {
			lanes[i] = ActSigmoid.Apply(x)
		}
		return archsimd.LoadFloat32x8(&lanes)
	}
	return v
}

// DWConv implements Kernels: f32_dwconv_3x3s1__avx2fma and
// f32_dwconv_3x3s2__avx2fma for the common cases, f32_dwconv__avx2fma for
// any other window. All vectorise over channels, eight at a time, with
// masked loads and stores for a ragged last group.
func (AVX2FMA) DWConv(s *ConvShape, in, w, bias, out []float32, act Act) {
	if s.KH == 3 && s.KW == 3 && s.DH == 1 && s.DW == 1 {
		switch {
		case s.SH == 1 && s.SW == 1:
			f32DWConv3x3AVX2FMA(s, 1, in, w, bias, out, act)
			return
		case s.SH == 2 && s.SW == 2:
			f32DWConv3x3AVX2FMA(s, 2, in, w, bias, out, act)
			return
		}
	}
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			dwConvPixelAVX2FMA(s, in, w, bias, out, oy, ox, act)
		}
	}
}

// dwConvPixelAVX2FMA computes one output pixel, skipping padded taps: the
// border of the 3x3 kernels and every pixel of f32_dwconv__avx2fma. Whole
// groups of eight channels use plain loads; a ragged last group goes
// through dwConvPixelTailAVX2FMA.
func dwConvPixelAVX2FMA(s *ConvShape, in, w, bias, out []float32, oy, ox int, act Act) {
	c := s.InC
	full := c &^ 7
	o := out[(oy*s.OutW+ox)*c : (oy*s.OutW+ox)*c+c]
	y0, x0 := oy*s.SH-s.PadTop, ox*s.SW-s.PadLeft
	for j := 0; j < full; j += 8 {
		var acc archsimd.Float32x8
		if bias != nil {
			acc = load8(bias, j)
		}
		for ky := 0; ky < s.KH; ky++ {
			iy := y0 + ky*s.DH
			if iy < 0 || iy >= s.InH {
				continue
			}
			for kx := 0; kx < s.KW; kx++ {
				ix := x0 + kx*s.DW
				if ix < 0 || ix >= s.InW {
					continue
				}
				acc = load8(in, (iy*s.InW+ix)*c+j).MulAdd(load8(w, (ky*s.KW+kx)*c+j), acc)
			}
		}
		act8(acc, act).Store((*[8]float32)(o[j : j+8]))
	}
	if full < c {
		dwConvPixelTailAVX2FMA(s, in, w, bias, out, oy, ox, full, act)
	}
}

// load8 loads s[i:i+8].
func load8(s []float32, i int) archsimd.Float32x8 {
	return archsimd.LoadFloat32x8((*[8]float32)(s[i : i+8]))
}

// f32DWConv3x3AVX2FMA is the 3x3 depthwise convolution of stride st. For
// each output row of the interior and each group of eight channels, the
// nine weight vectors and the bias are loaded once into registers and the
// loop runs along the row, so each output vector costs nine input loads
// and nine FMAs. (Cutting the row into shorter runs, to keep its three
// input rows in L1 across the groups of channels, measured no faster: the
// rows stream from L2 well enough.)
func f32DWConv3x3AVX2FMA(s *ConvShape, st int, in, w, bias, out []float32, act Act) {
	c := s.InC
	yLo, yHi := interior(s.InH, 3, st, s.PadTop, s.OutH)
	xLo, xHi := interior(s.InW, 3, st, s.PadLeft, s.OutW)
	full := c &^ 7
	for oy := 0; oy < s.OutH; oy++ {
		if oy < yLo || oy >= yHi {
			for ox := 0; ox < s.OutW; ox++ {
				dwConvPixelAVX2FMA(s, in, w, bias, out, oy, ox, act)
			}
			continue
		}
		for ox := 0; ox < xLo; ox++ {
			dwConvPixelAVX2FMA(s, in, w, bias, out, oy, ox, act)
		}
		if xLo < xHi {
			iy := oy*st - s.PadTop
			ix := xLo*st - s.PadLeft
			r0 := in[(iy*s.InW+ix)*c:]
			r1 := in[((iy+1)*s.InW+ix)*c:]
			r2 := in[((iy+2)*s.InW+ix)*c:]
			o := out[(oy*s.OutW+xLo)*c:]
			for j := 0; j < full; j += 8 {
				dwConv3x3RowAVX2FMA(xHi-xLo, st*c, c, r0[j:], r1[j:], r2[j:], w[j:], bias, j, o[j:], act)
			}
			if full < c {
				for ox := xLo; ox < xHi; ox++ {
					dwConvPixelTailAVX2FMA(s, in, w, bias, out, oy, ox, full, act)
				}
			}
		}
		for ox := xHi; ox < s.OutW; ox++ {
			dwConvPixelAVX2FMA(s, in, w, bias, out, oy, ox, act)
		}
	}
}

// dwConv3x3RowAVX2FMA runs eight channels of n consecutive interior output
// pixels. r0, r1, r2 start at the first window's three input rows, step is
// the distance between successive windows (stride times channels), c the
// pixel pitch; w and o start at the channel group, bias at index j.
func dwConv3x3RowAVX2FMA(n, step, c int, r0, r1, r2, w, bias []float32, j int, o []float32, act Act) {
	w00, w01, w02 := load8(w, 0), load8(w, c), load8(w, 2*c)
	w10, w11, w12 := load8(w, 3*c), load8(w, 4*c), load8(w, 5*c)
	w20, w21, w22 := load8(w, 6*c), load8(w, 7*c), load8(w, 8*c)
	var b archsimd.Float32x8
	if bias != nil {
		b = load8(bias, j)
	}
	for x := 0; x < n; x++ {
		p := x * step
		acc := load8(r0, p).MulAdd(w00, b)
		acc = load8(r0, p+c).MulAdd(w01, acc)
		acc = load8(r0, p+2*c).MulAdd(w02, acc)
		acc = load8(r1, p).MulAdd(w10, acc)
		acc = load8(r1, p+c).MulAdd(w11, acc)
		acc = load8(r1, p+2*c).MulAdd(w12, acc)
		acc = load8(r2, p).MulAdd(w20, acc)
		acc = load8(r2, p+c).MulAdd(w21, acc)
		acc = load8(r2, p+2*c).MulAdd(w22, acc)
		act8(acc, act).Store((*[8]float32)(o[x*c : x*c+8]))
	}
}

// dwConvPixelTailAVX2FMA computes channels [j0, C) of one pixel, fewer
// than eight, with masked loads and stores, skipping padded taps.
func dwConvPixelTailAVX2FMA(s *ConvShape, in, w, bias, out []float32, oy, ox, j0 int, act Act) {
	c := s.InC
	var acc archsimd.Float32x8
	if bias != nil {
		acc = archsimd.LoadFloat32x8SlicePart(bias[j0:c])
	}
	y0, x0 := oy*s.SH-s.PadTop, ox*s.SW-s.PadLeft
	for ky := 0; ky < s.KH; ky++ {
		iy := y0 + ky*s.DH
		if iy < 0 || iy >= s.InH {
			continue
		}
		for kx := 0; kx < s.KW; kx++ {
			ix := x0 + kx*s.DW
			if ix < 0 || ix >= s.InW {
				continue
			}
			p := (iy*s.InW + ix) * c
			t := (ky*s.KW + kx) * c
			acc = archsimd.LoadFloat32x8SlicePart(in[p+j0:p+c]).MulAdd(archsimd.LoadFloat32x8SlicePart(w[t+j0:t+c]), acc)
		}
	}
	q := (oy*s.OutW + ox) * c
	act8(acc, act).StoreSlicePart(out[q+j0 : q+c])
}

// Add implements Kernels: out = act(x + y), sixteen lanes per step.
func (AVX2FMA) Add(x, y, out []float32, act Act) {
	n := len(x)
	y, out = y[:n], out[:n]
	i := 0
	for ; i+16 <= n; i += 16 {
		a0 := archsimd.LoadFloat32x8((*[8]float32)(x[i : i+8]))
		a1 := archsimd.LoadFloat32x8((*[8]float32)(x[i+8 : i+16]))
		b0 := archsimd.LoadFloat32x8((*[8]float32)(y[i : i+8]))
		b1 := archsimd.LoadFloat32x8((*[8]float32)(y[i+8 : i+16]))
		act8(a0.Add(b0), act).Store((*[8]float32)(out[i : i+8]))
		act8(a1.Add(b1), act).Store((*[8]float32)(out[i+8 : i+16]))
	}
	for ; i < n; i += 8 {
		e := min(i+8, n)
		v := archsimd.LoadFloat32x8SlicePart(x[i:e]).Add(archsimd.LoadFloat32x8SlicePart(y[i:e]))
		act8(v, act).StoreSlicePart(out[i:e])
	}
}

// Activate implements Kernels.
func (AVX2FMA) Activate(x []float32, act Act) {
	if act == ActNone {
		return
	}
	for i := 0; i < len(x); i += 8 {
		e := min(i+8, len(x))
		act8(archsimd.LoadFloat32x8SlicePart(x[i:e]), act).StoreSlicePart(x[i:e])
	}
}

// MulChannels implements Kernels.
func (AVX2FMA) MulChannels(hw, c int, x, scale, out []float32) {
	for j := 0; j < c; j += 8 {
		e := min(j+8, c)
		s := archsimd.LoadFloat32x8SlicePart(scale[j:e])
		for i := 0; i < hw; i++ {
			archsimd.LoadFloat32x8SlicePart(x[i*c+j : i*c+e]).Mul(s).StoreSlicePart(out[i*c+j : i*c+e])
		}
	}
}

// GlobalAvgPool implements Kernels: each group of channels is summed over
// all pixels in four independent accumulators (so that the adds pipeline)
// and scaled once.
func (AVX2FMA) GlobalAvgPool(hw, c int, in, out []float32) {
	inv := archsimd.BroadcastFloat32x8(1 / float32(max(hw, 1)))
	for j := 0; j < c; j += 8 {
		e := min(j+8, c)
		var s0, s1, s2, s3 archsimd.Float32x8
		i := 0
		for ; i+4 <= hw; i += 4 {
			s0 = s0.Add(archsimd.LoadFloat32x8SlicePart(in[i*c+j : i*c+e]))
			s1 = s1.Add(archsimd.LoadFloat32x8SlicePart(in[(i+1)*c+j : (i+1)*c+e]))
			s2 = s2.Add(archsimd.LoadFloat32x8SlicePart(in[(i+2)*c+j : (i+2)*c+e]))
			s3 = s3.Add(archsimd.LoadFloat32x8SlicePart(in[(i+3)*c+j : (i+3)*c+e]))
		}
		for ; i < hw; i++ {
			s0 = s0.Add(archsimd.LoadFloat32x8SlicePart(in[i*c+j : i*c+e]))
		}
		s0.Add(s1).Add(s2.Add(s3)).Mul(inv).StoreSlicePart(out[j:e])
	}
}
