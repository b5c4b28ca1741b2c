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

//go:generate go run ./avx2fmagen -o .

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

// dwMaxTaps bounds the depthwise windows the AVX2FMA kernels take (7x7);
// larger ones run the reference.
const dwMaxTaps = 49

// DWConv implements Kernels with two assembly kernels over groups of eight
// channels: f32_dwconv_3x3_row__avx2fma runs each row's interior pixels of
// a 3x3 window (stride 1 or 2) with the weights in registers, and
// f32_dwconv_taps__avx2fma every other pixel (the borders, and any other
// window) over a list of the taps that lie inside the input, so padded
// taps cost nothing. A ragged last group of channels goes through
// dwConvPixelTailAVX2FMA with masked loads and stores. ReLU and ReLU6 are
// the kernels' clamp; other activations run over each output afterwards.
func (AVX2FMA) DWConv(s *ConvShape, in, w, bias, out []float32, act Act) {
	taps := s.KH * s.KW
	if taps > dwMaxTaps {
		Go{}.DWConv(s, in, w, bias, out, act)
		return
	}
	if s.OutH <= 0 || s.OutW <= 0 || s.InC <= 0 {
		return
	}
	c := s.InC
	full := c &^ 7
	groups := full / 8
	lo, hi, rest := clampBounds(act)
	clamp := [2]float32{lo, hi}
	// Bounds: the assembly reads within these (every tap it is given lies
	// inside the input) and writes within the output.
	_ = in[s.InH*s.InW*c-1]
	_ = w[taps*c-1]
	_ = out[s.OutH*s.OutW*c-1]
	var bp *float32
	var zero [8]float32
	if bias != nil {
		_ = bias[c-1]
		bp = &bias[0]
	}
	row3x3 := s.KH == 3 && s.KW == 3 && s.DH == 1 && s.DW == 1 && s.SH == s.SW && (s.SH == 1 || s.SH == 2)
	yLo, yHi := interior(s.InH, 3, s.SH, s.PadTop, s.OutH)
	xLo, xHi := interior(s.InW, 3, s.SW, s.PadLeft, s.OutW)
	if !row3x3 {
		yLo, yHi, xLo, xHi = 0, 0, 0, 0
	}
	var tin, tw [dwMaxTaps]*float32
	pixel := func(oy, ox int) {
		o := (oy*s.OutW + ox) * c
		if groups > 0 {
			n := 0
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
					tin[n], tw[n] = &in[(iy*s.InW+ix)*c], &w[(ky*s.KW+kx)*c]
					n++
				}
			}
			f32DWConvTapsAVX2FMA(groups, n, &tin[0], &tw[0], bp, &out[o], &clamp)
			if rest {
				activate8(out[o:o+full], act)
			}
		}
		if full < c {
			dwConvPixelTailAVX2FMA(s, in, w, bias, out, oy, ox, full, act)
		}
	}
	for oy := 0; oy < s.OutH; oy++ {
		if oy < yLo || oy >= yHi || xLo >= xHi {
			for ox := 0; ox < s.OutW; ox++ {
				pixel(oy, ox)
			}
			continue
		}
		for ox := 0; ox < xLo; ox++ {
			pixel(oy, ox)
		}
		n := xHi - xLo
		iy, ix := oy*s.SH-s.PadTop, xLo*s.SW-s.PadLeft
		r0 := (iy*s.InW + ix) * c
		o := (oy*s.OutW + xLo) * c
		for j := 0; j < full; j += 8 {
			b := &zero
			if bias != nil {
				b = (*[8]float32)(bias[j : j+8])
			}
			f32DWConv3x3RowAVX2FMA(n, &in[r0+j], &in[r0+s.InW*c+j], &in[r0+2*s.InW*c+j], s.SW*c, c,
				&w[j], &b[0], &out[o+j], &clamp)
		}
		for ox := xLo; ox < xHi; ox++ {
			if rest && groups > 0 {
				q := (oy*s.OutW + ox) * c
				activate8(out[q:q+full], act)
			}
			if full < c {
				dwConvPixelTailAVX2FMA(s, in, w, bias, out, oy, ox, full, act)
			}
		}
		for ox := xHi; ox < s.OutW; ox++ {
			pixel(oy, ox)
		}
	}
}

// Im2Col implements Kernels as AVX512's does, eight lanes at a time: where
// a window lies wholly inside the input horizontally and reads every
// channel, each of its rows is KW*cin contiguous input values (9 floats
// per window row for a first convolution on RGB), copied in whole vectors
// instead of one copy call per tap, which made the first convolution of
// MobileNetV2 spend more time arranging its input than multiplying it. The
// vectors may run past the values they are for: the windows are written
// in order, so anything past is rewritten later, and only the end of cols
// and of in take a masked tail. Other windows go tap by tap.
func (AVX2FMA) Im2Col(s *ConvShape, in []float32, c0, cin int, cols []float32) {
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
					copyOver8(cols[at+ky*span:], in[(iy*s.InW+ix)*cin:], span)
				default:
					for kx := 0; kx < s.KW; kx++ {
						t := d[kx*cin : (kx+1)*cin]
						if x := ix + kx; x < 0 || x >= s.InW {
							clear(t)
						} else {
							copy(t, in[(iy*s.InW+x)*cin:])
						}
					}
				}
			}
		}
	}
}

// copyOver8 copies n values from src to dst in whole vectors, which may
// write up to 7 values past n (but never past the end of dst) and read
// past n in src (but never past its end).
func copyOver8(dst, src []float32, n int) {
	for i := 0; i < n; i += 8 {
		if i+8 <= len(dst) && i+8 <= len(src) {
			archsimd.LoadFloat32x8((*[8]float32)(src[i : i+8])).Store((*[8]float32)(dst[i : i+8]))
			continue
		}
		e := min(i+8, n)
		archsimd.LoadFloat32x8SlicePart(src[i:e]).StoreSlicePart(dst[i:e])
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
