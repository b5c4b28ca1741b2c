package kernels

import "math"

// f32Im2ColGo is f32_im2col__go: for each output pixel, the window's
// KH*KW runs of cin channels, copied whole from the NHWC input (each run
// is contiguous) or zero-filled where the window covers padding.
func f32Im2ColGo(s *ConvShape, in []float32, c0, cin int, cols []float32) {
	row := s.KH * s.KW * cin
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			dst := cols[(oy*s.OutW+ox)*row : (oy*s.OutW+ox+1)*row]
			for ky := 0; ky < s.KH; ky++ {
				iy := oy*s.SH - s.PadTop + ky*s.DH
				for kx := 0; kx < s.KW; kx++ {
					ix := ox*s.SW - s.PadLeft + kx*s.DW
					d := dst[(ky*s.KW+kx)*cin : (ky*s.KW+kx+1)*cin]
					if iy < 0 || iy >= s.InH || ix < 0 || ix >= s.InW {
						clear(d)
						continue
					}
					off := (iy*s.InW+ix)*s.InC + c0
					copy(d, in[off:off+cin])
				}
			}
		}
	}
}

// windowRange clips the window of output position o along one axis to the
// input [0, n): it returns the first and one-past-last input positions.
// Pools have no dilation.
func windowRange(o, st, pad, k, n int) (lo, hi int) {
	start := o*st - pad
	return max(start, 0), min(start+k, n)
}

// f32MaxPoolGo is f32_maxpool__go. Windows are clipped to the input first,
// so padded cells never take part, and the inner loop is a channel-wise
// maximum over whole pixels (a comparison, not the max builtin: see
// f32ActivateGo).
func f32MaxPoolGo(s *ConvShape, in, out []float32) {
	c := s.InC
	for oy := 0; oy < s.OutH; oy++ {
		y0, y1 := windowRange(oy, s.SH, s.PadTop, s.KH, s.InH)
		for ox := 0; ox < s.OutW; ox++ {
			x0, x1 := windowRange(ox, s.SW, s.PadLeft, s.KW, s.InW)
			o := out[(oy*s.OutW+ox)*c : (oy*s.OutW+ox)*c+c]
			if y0 >= y1 || x0 >= x1 {
				clear(o)
				continue
			}
			for j := range o {
				o[j] = float32(math.Inf(-1))
			}
			for iy := y0; iy < y1; iy++ {
				for ix := x0; ix < x1; ix++ {
					x := in[(iy*s.InW+ix)*c : (iy*s.InW+ix)*c+c]
					for j, v := range x {
						if v > o[j] {
							o[j] = v
						}
					}
				}
			}
		}
	}
}

// f32AvgPoolGo is f32_avgpool__go. With countPad the divisor is the window
// clipped to the padded input [-PadTop, InH+PadBottom) (torch's rule);
// otherwise it is the window clipped to the input.
func f32AvgPoolGo(s *ConvShape, in, out []float32, countPad bool) {
	c := s.InC
	for oy := 0; oy < s.OutH; oy++ {
		y0, y1 := windowRange(oy, s.SH, s.PadTop, s.KH, s.InH)
		py0, py1 := windowRange(oy, s.SH, 0, s.KH, s.InH+s.PadTop+s.PadBottom)
		for ox := 0; ox < s.OutW; ox++ {
			x0, x1 := windowRange(ox, s.SW, s.PadLeft, s.KW, s.InW)
			o := out[(oy*s.OutW+ox)*c : (oy*s.OutW+ox)*c+c]
			clear(o)
			if y0 >= y1 || x0 >= x1 {
				continue
			}
			for iy := y0; iy < y1; iy++ {
				for ix := x0; ix < x1; ix++ {
					x := in[(iy*s.InW+ix)*c : (iy*s.InW+ix)*c+c]
					for j, v := range x {
						o[j] += v
					}
				}
			}
			n := (y1 - y0) * (x1 - x0)
			if countPad {
				px0, px1 := windowRange(ox, s.SW, 0, s.KW, s.InW+s.PadLeft+s.PadRight)
				n = (py1 - py0) * (px1 - px0)
			}
			inv := 1 / float32(n)
			for j := range o {
				o[j] *= inv
			}
		}
	}
}
