package kernels

// Depthwise convolution in pure Go. Activations are NHWC and weights
// [KH*KW][C], so for one output pixel every tap is a contiguous run of C
// inputs times a contiguous run of C weights: all loops run over channels
// innermost, which needs no gather and suits SIMD implementations too.
//
// The 3x3 kernels split the output into an interior, where the whole
// window lies inside the input and the nine input rows are sliced once per
// pixel with no per-tap tests, and a border of at most a pixel or two on
// each side, done by the general per-pixel kernel that skips padded taps.

// f32DWConvGo is f32_dwconv__go: any window, stride, dilation and padding.
func f32DWConvGo(s *ConvShape, in, w, bias, out []float32, act Act) {
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			dwConvPixelGo(s, in, w, bias, out, oy, ox, act)
		}
	}
}

// dwConvPixelGo computes one output pixel of a depthwise convolution,
// leaving out the taps that fall in the padding.
func dwConvPixelGo(s *ConvShape, in, w, bias, out []float32, oy, ox int, act Act) {
	c := s.InC
	o := out[(oy*s.OutW+ox)*c : (oy*s.OutW+ox)*c+c]
	if bias != nil {
		copy(o, bias[:c])
	} else {
		clear(o)
	}
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
			wt := w[(ky*s.KW+kx)*c : (ky*s.KW+kx)*c+c]
			for j := range o {
				o[j] += x[j] * wt[j]
			}
		}
	}
	f32ActivateGo(o, act)
}

// interior returns the half-open range [lo, hi) of output positions along
// one axis whose window of k taps (dilation 1) lies wholly inside an input
// of size n, for stride st and leading padding pad. The range may be empty
// (lo >= hi).
func interior(n, k, st, pad, out int) (lo, hi int) {
	lo = (pad + st - 1) / st
	// Position o is inside when o*st - pad + k - 1 <= n - 1.
	last := n - k + pad
	if last < 0 {
		return lo, lo
	}
	hi = min(out, last/st+1)
	return lo, max(lo, hi)
}

// f32DWConv3x3s1Go is f32_dwconv_3x3s1__go.
func f32DWConv3x3s1Go(s *ConvShape, in, w, bias, out []float32, act Act) {
	f32DWConv3x3Go(s, 1, in, w, bias, out, act)
}

// f32DWConv3x3s2Go is f32_dwconv_3x3s2__go.
func f32DWConv3x3s2Go(s *ConvShape, in, w, bias, out []float32, act Act) {
	f32DWConv3x3Go(s, 2, in, w, bias, out, act)
}

// f32DWConv3x3Go runs a 3x3 depthwise convolution of stride st with the
// interior/border split described above.
func f32DWConv3x3Go(s *ConvShape, st int, in, w, bias, out []float32, act Act) {
	c := s.InC
	yLo, yHi := interior(s.InH, 3, st, s.PadTop, s.OutH)
	xLo, xHi := interior(s.InW, 3, st, s.PadLeft, s.OutW)
	for oy := 0; oy < s.OutH; oy++ {
		if oy < yLo || oy >= yHi {
			for ox := 0; ox < s.OutW; ox++ {
				dwConvPixelGo(s, in, w, bias, out, oy, ox, act)
			}
			continue
		}
		for ox := 0; ox < xLo; ox++ {
			dwConvPixelGo(s, in, w, bias, out, oy, ox, act)
		}
		iy := oy*st - s.PadTop
		for ox := xLo; ox < xHi; ox++ {
			ix := ox*st - s.PadLeft
			r0 := in[(iy*s.InW+ix)*c:]
			r1 := in[((iy+1)*s.InW+ix)*c:]
			r2 := in[((iy+2)*s.InW+ix)*c:]
			o := out[(oy*s.OutW+ox)*c : (oy*s.OutW+ox)*c+c]
			dwConv3x3PixelGo(o, r0, r1, r2, w, bias)
			f32ActivateGo(o, act)
		}
		for ox := xHi; ox < s.OutW; ox++ {
			dwConvPixelGo(s, in, w, bias, out, oy, ox, act)
		}
	}
}

// dwConv3x3PixelGo computes one interior pixel: r0, r1 and r2 start at the
// window's top-left, middle-left and bottom-left input pixels. Each
// channel's nine products are summed in one expression, so every output
// is written once.
func dwConv3x3PixelGo(o, r0, r1, r2, w, bias []float32) {
	c := len(o)
	i00, i01, i02 := r0[:c], r0[c:2*c], r0[2*c:3*c]
	i10, i11, i12 := r1[:c], r1[c:2*c], r1[2*c:3*c]
	i20, i21, i22 := r2[:c], r2[c:2*c], r2[2*c:3*c]
	w = w[:9*c]
	w00, w01, w02 := w[:c], w[c:2*c], w[2*c:3*c]
	w10, w11, w12 := w[3*c:4*c], w[4*c:5*c], w[5*c:6*c]
	w20, w21, w22 := w[6*c:7*c], w[7*c:8*c], w[8*c:9*c]
	if bias != nil {
		bias = bias[:c]
		for j := range o {
			o[j] = bias[j] +
				i00[j]*w00[j] + i01[j]*w01[j] + i02[j]*w02[j] +
				i10[j]*w10[j] + i11[j]*w11[j] + i12[j]*w12[j] +
				i20[j]*w20[j] + i21[j]*w21[j] + i22[j]*w22[j]
		}
		return
	}
	for j := range o {
		o[j] = i00[j]*w00[j] + i01[j]*w01[j] + i02[j]*w02[j] +
			i10[j]*w10[j] + i11[j]*w11[j] + i12[j]*w12[j] +
			i20[j]*w20[j] + i21[j]*w21[j] + i22[j]*w22[j]
	}
}
