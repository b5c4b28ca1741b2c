package kernels

import "math"

// The naive reference of the gradient kernels: each gradient written from
// its definition, as the derivative of the naive forward loop, in float64.

func naiveGEMMAtB(m, n, k int, a []float32, lda int, b []float32, ldb int) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var sum float64
			for p := 0; p < k; p++ {
				sum += float64(a[p*lda+i]) * float64(b[p*ldb+j])
			}
			c[i*n+j] = sum
		}
	}
	return c
}

// naiveCol2Im returns the InH x InW x cin gradient that cols sends back.
func naiveCol2Im(s *ConvShape, cols []float32, cin int) []float64 {
	dx := make([]float64, s.InH*s.InW*cin)
	i := 0
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			for ky := 0; ky < s.KH; ky++ {
				for kx := 0; kx < s.KW; kx++ {
					for ch := 0; ch < cin; ch++ {
						y, x := oy*s.SH-s.PadTop+ky*s.DH, ox*s.SW-s.PadLeft+kx*s.DW
						if y >= 0 && y < s.InH && x >= 0 && x < s.InW {
							dx[(y*s.InW+x)*cin+ch] += float64(cols[i])
						}
						i++
					}
				}
			}
		}
	}
	return dx
}

// naiveConv is a grouped convolution of n samples with HWIO weights.
func naiveConv(s *ConvShape, groups, n int, x, w, bias []float32) []float64 {
	cinG, coutG := s.InC/groups, s.OutC/groups
	inLen, outLen := s.InH*s.InW*s.InC, s.OutH*s.OutW*s.OutC
	y := make([]float64, n*outLen)
	for i := 0; i < n; i++ {
		for oy := 0; oy < s.OutH; oy++ {
			for ox := 0; ox < s.OutW; ox++ {
				for o := 0; o < s.OutC; o++ {
					g := o / coutG
					var sum float64
					if bias != nil {
						sum = float64(bias[o])
					}
					for ky := 0; ky < s.KH; ky++ {
						for kx := 0; kx < s.KW; kx++ {
							for c := 0; c < cinG; c++ {
								v, _ := at(s, x[i*inLen:], oy*s.SH-s.PadTop+ky*s.DH, ox*s.SW-s.PadLeft+kx*s.DW, g*cinG+c)
								sum += v * float64(w[((ky*s.KW+kx)*cinG+c)*s.OutC+o])
							}
						}
					}
					y[i*outLen+(oy*s.OutW+ox)*s.OutC+o] = sum
				}
			}
		}
	}
	return y
}

// naiveConvGrads returns the gradients of sum(dy*conv(x)) with respect to
// the weights (HWIO) and to x, by the chain rule on naiveConv's loop.
func naiveConvGrads(s *ConvShape, groups, n int, x, w, dy []float32) (dw, dx []float64) {
	cinG, coutG := s.InC/groups, s.OutC/groups
	inLen, outLen := s.InH*s.InW*s.InC, s.OutH*s.OutW*s.OutC
	dw = make([]float64, len(w))
	dx = make([]float64, n*inLen)
	for i := 0; i < n; i++ {
		for oy := 0; oy < s.OutH; oy++ {
			for ox := 0; ox < s.OutW; ox++ {
				for o := 0; o < s.OutC; o++ {
					g := o / coutG
					d := float64(dy[i*outLen+(oy*s.OutW+ox)*s.OutC+o])
					for ky := 0; ky < s.KH; ky++ {
						for kx := 0; kx < s.KW; kx++ {
							yy, xx := oy*s.SH-s.PadTop+ky*s.DH, ox*s.SW-s.PadLeft+kx*s.DW
							if yy < 0 || yy >= s.InH || xx < 0 || xx >= s.InW {
								continue
							}
							for c := 0; c < cinG; c++ {
								wi := ((ky*s.KW+kx)*cinG+c)*s.OutC + o
								xi := i*inLen + (yy*s.InW+xx)*s.InC + g*cinG + c
								dw[wi] += d * float64(x[xi])
								dx[xi] += d * float64(w[wi])
							}
						}
					}
				}
			}
		}
	}
	return dw, dx
}

// naiveMaxPoolGrad sends each output's gradient to the first cell, in
// row-major window order, that holds the window's maximum.
func naiveMaxPoolGrad(s *ConvShape, x, dy []float32) []float64 {
	dx := make([]float64, s.InH*s.InW*s.InC)
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			for ch := 0; ch < s.InC; ch++ {
				best, where := math.Inf(-1), -1
				for ky := 0; ky < s.KH; ky++ {
					for kx := 0; kx < s.KW; kx++ {
						y, xx := oy*s.SH-s.PadTop+ky, ox*s.SW-s.PadLeft+kx
						if v, ok := at(s, x, y, xx, ch); ok && (where < 0 || v > best) {
							best, where = v, (y*s.InW+xx)*s.InC+ch
						}
					}
				}
				if where >= 0 {
					dx[where] += float64(dy[(oy*s.OutW+ox)*s.InC+ch])
				}
			}
		}
	}
	return dx
}

// naiveAvgPoolGrad is the transpose of naiveAvgPool.
func naiveAvgPoolGrad(s *ConvShape, dy []float32, countPad bool) []float64 {
	dx := make([]float64, s.InH*s.InW*s.InC)
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			for ch := 0; ch < s.InC; ch++ {
				inside, padded := 0, 0
				for ky := 0; ky < s.KH; ky++ {
					for kx := 0; kx < s.KW; kx++ {
						y, x := oy*s.SH-s.PadTop+ky, ox*s.SW-s.PadLeft+kx
						if y >= -s.PadTop && y < s.InH+s.PadBottom && x >= -s.PadLeft && x < s.InW+s.PadRight {
							padded++
						}
						if y >= 0 && y < s.InH && x >= 0 && x < s.InW {
							inside++
						}
					}
				}
				if inside == 0 {
					continue
				}
				div := inside
				if countPad {
					div = padded
				}
				g := float64(dy[(oy*s.OutW+ox)*s.InC+ch]) / float64(div)
				for ky := 0; ky < s.KH; ky++ {
					for kx := 0; kx < s.KW; kx++ {
						y, x := oy*s.SH-s.PadTop+ky, ox*s.SW-s.PadLeft+kx
						if y >= 0 && y < s.InH && x >= 0 && x < s.InW {
							dx[(y*s.InW+x)*s.InC+ch] += g
						}
					}
				}
			}
		}
	}
	return dx
}
