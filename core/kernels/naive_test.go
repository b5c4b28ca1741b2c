package kernels

import "math"

// The naive reference: the textbook definition of each kernel, written
// without regard to speed or to the optimised code, computing in float64.
// Weights are taken in their unpacked source layout (row-major B[K][N],
// HWIO depthwise weights), so packing is tested too.

func naiveAct(x float64, act Act) float64 {
	switch act {
	case ActReLU:
		return math.Max(x, 0)
	case ActReLU6:
		return math.Min(math.Max(x, 0), 6)
	case ActHardSwish:
		return x * math.Min(math.Max(x+3, 0), 6) / 6
	case ActHardSigmoid:
		return math.Min(math.Max(x+3, 0), 6) / 6
	case ActSigmoid:
		return 1 / (1 + math.Exp(-x))
	}
	return x
}

// naiveGEMM returns the m x n result, row-major with stride n.
func naiveGEMM(m, n, k int, a []float32, lda int, b []float32, bias []float32, act Act) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum float64
			if bias != nil {
				sum = float64(bias[j])
			}
			for p := 0; p < k; p++ {
				sum += float64(a[i*lda+p]) * float64(b[p*n+j])
			}
			c[i*n+j] = naiveAct(sum, act)
		}
	}
	return c
}

// at reads input pixel (y, x), channel ch, or 0 in the padding.
func at(s *ConvShape, in []float32, y, x, ch int) (float64, bool) {
	if y < 0 || y >= s.InH || x < 0 || x >= s.InW {
		return 0, false
	}
	return float64(in[(y*s.InW+x)*s.InC+ch]), true
}

func naiveIm2Col(s *ConvShape, in []float32, c0, cin int) []float64 {
	var cols []float64
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			for ky := 0; ky < s.KH; ky++ {
				for kx := 0; kx < s.KW; kx++ {
					for ch := 0; ch < cin; ch++ {
						v, _ := at(s, in, oy*s.SH-s.PadTop+ky*s.DH, ox*s.SW-s.PadLeft+kx*s.DW, c0+ch)
						cols = append(cols, v)
					}
				}
			}
		}
	}
	return cols
}

// naiveDWConv takes HWIO weights [KH][KW][1][C].
func naiveDWConv(s *ConvShape, in, w, bias []float32, act Act) []float64 {
	out := make([]float64, s.OutH*s.OutW*s.OutC)
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			for ch := 0; ch < s.OutC; ch++ {
				var sum float64
				if bias != nil {
					sum = float64(bias[ch])
				}
				for ky := 0; ky < s.KH; ky++ {
					for kx := 0; kx < s.KW; kx++ {
						v, _ := at(s, in, oy*s.SH-s.PadTop+ky*s.DH, ox*s.SW-s.PadLeft+kx*s.DW, ch)
						sum += v * float64(w[(ky*s.KW+kx)*s.OutC+ch])
					}
				}
				out[(oy*s.OutW+ox)*s.OutC+ch] = naiveAct(sum, act)
			}
		}
	}
	return out
}

func naiveMaxPool(s *ConvShape, in []float32) []float64 {
	out := make([]float64, s.OutH*s.OutW*s.InC)
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			for ch := 0; ch < s.InC; ch++ {
				best, any := math.Inf(-1), false
				for ky := 0; ky < s.KH; ky++ {
					for kx := 0; kx < s.KW; kx++ {
						if v, ok := at(s, in, oy*s.SH-s.PadTop+ky, ox*s.SW-s.PadLeft+kx, ch); ok {
							best, any = math.Max(best, v), true
						}
					}
				}
				if !any {
					best = 0
				}
				out[(oy*s.OutW+ox)*s.InC+ch] = best
			}
		}
	}
	return out
}

// naiveAvgPool counts, with countPad, the window cells that lie inside the
// input grown by its declared padding on each side.
func naiveAvgPool(s *ConvShape, in []float32, countPad bool) []float64 {
	out := make([]float64, s.OutH*s.OutW*s.InC)
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			for ch := 0; ch < s.InC; ch++ {
				var sum float64
				inside, padded := 0, 0
				for ky := 0; ky < s.KH; ky++ {
					for kx := 0; kx < s.KW; kx++ {
						y, x := oy*s.SH-s.PadTop+ky, ox*s.SW-s.PadLeft+kx
						if y >= -s.PadTop && y < s.InH+s.PadBottom && x >= -s.PadLeft && x < s.InW+s.PadRight {
							padded++
						}
						if v, ok := at(s, in, y, x, ch); ok {
							sum += v
							inside++
						}
					}
				}
				n := inside
				if countPad {
					n = padded
				}
				if inside > 0 {
					out[(oy*s.OutW+ox)*s.InC+ch] = sum / float64(n)
				}
			}
		}
	}
	return out
}

func naiveGlobalAvgPool(hw, c int, in []float32) []float64 {
	out := make([]float64, c)
	for ch := 0; ch < c; ch++ {
		var sum float64
		for i := 0; i < hw; i++ {
			sum += float64(in[i*c+ch])
		}
		out[ch] = sum / float64(hw)
	}
	return out
}

func naiveSoftmax(hw, c int, x []float32) []float64 {
	out := make([]float64, hw*c)
	for i := 0; i < hw; i++ {
		var sum float64
		for j := 0; j < c; j++ {
			sum += math.Exp(float64(x[i*c+j]))
		}
		for j := 0; j < c; j++ {
			out[i*c+j] = math.Exp(float64(x[i*c+j])) / sum
		}
	}
	return out
}
