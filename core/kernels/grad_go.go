package kernels

import "math"

// The pure-Go gradient kernels: the reference the SIMD paths are tested
// against, and what the browser runs without its SIMD module.

// GEMMAtB implements Kernels with f32_gemm_atb_4x8__go.
func (Go) GEMMAtB(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	f32GEMMAtBGo(m, n, k, a, lda, b, ldb, c, ldc)
}

// Col2Im implements Kernels.
func (Go) Col2Im(s *ConvShape, cols []float32, c0, cin int, dx []float32) {
	f32Col2ImGo(s, cols, c0, cin, dx)
}

// MaxPoolGrad implements Kernels.
func (Go) MaxPoolGrad(s *ConvShape, x, dy, dx []float32) { f32MaxPoolGradGo(s, x, dy, dx) }

// AvgPoolGrad implements Kernels.
func (Go) AvgPoolGrad(s *ConvShape, dy, dx []float32, countPad bool) {
	f32AvgPoolGradGo(s, dy, dx, countPad)
}

// atbChunk is how many rows of a and b a GEMMAtB tile reads before moving
// to the next tile: a chunk of both stays in L1 while every tile of the
// result passes over it, where whole operands of a batch's tens of
// thousands of rows would be read from memory once per tile. The tiles
// carry their sums from chunk to chunk (loaded back from c), so every sum
// still runs over p in order.
const atbChunk = 256

// f32GEMMAtBGo computes c = aᵀb in 4x8 register tiles, chunk by chunk of
// rows; edge tiles take the scalar loop.
func f32GEMMAtBGo(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	var acc [goGEMMMR * goGEMMNR]float32
	for p0 := 0; p0 == 0 || p0 < k; p0 += atbChunk {
		kk := min(k, p0+atbChunk) - p0
		for i := 0; i < m; i += goGEMMMR {
			rows := min(goGEMMMR, m-i)
			for j := 0; j < n; j += goGEMMNR {
				cols := min(goGEMMNR, n-j)
				for r := 0; r < rows; r++ {
					dst := acc[r*goGEMMNR : r*goGEMMNR+cols]
					if p0 == 0 {
						clear(dst)
					} else {
						copy(dst, c[(i+r)*ldc+j:])
					}
				}
				if kk > 0 {
					if rows == goGEMMMR && cols == goGEMMNR {
						f32GEMMAtB4x8Go(kk, a[p0*lda+i:], lda, b[p0*ldb+j:], ldb, &acc)
					} else {
						atbEdgeGo(kk, rows, cols, a[p0*lda+i:], lda, b[p0*ldb+j:], ldb, &acc)
					}
				}
				for r := 0; r < rows; r++ {
					copy(c[(i+r)*ldc+j:(i+r)*ldc+j+cols], acc[r*goGEMMNR:])
				}
			}
		}
	}
}

// f32GEMMAtB4x8Go is f32_gemm_atb_4x8__go: acc[r*8+j] += sum_p
// a[p*lda+r]*b[p*ldb+j] over k rows, the 32 sums in locals.
func f32GEMMAtB4x8Go(k int, a []float32, lda int, b []float32, ldb int, acc *[goGEMMMR * goGEMMNR]float32) {
	c00, c01, c02, c03, c04, c05, c06, c07 := acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
	c10, c11, c12, c13, c14, c15, c16, c17 := acc[8], acc[9], acc[10], acc[11], acc[12], acc[13], acc[14], acc[15]
	c20, c21, c22, c23, c24, c25, c26, c27 := acc[16], acc[17], acc[18], acc[19], acc[20], acc[21], acc[22], acc[23]
	c30, c31, c32, c33, c34, c35, c36, c37 := acc[24], acc[25], acc[26], acc[27], acc[28], acc[29], acc[30], acc[31]
	for p := 0; p < k; p++ {
		ap := a[p*lda : p*lda+4 : p*lda+4]
		bp := b[p*ldb : p*ldb+8 : p*ldb+8]
		b0, b1, b2, b3, b4, b5, b6, b7 := bp[0], bp[1], bp[2], bp[3], bp[4], bp[5], bp[6], bp[7]
		x := ap[0]
		c00 += x * b0
		c01 += x * b1
		c02 += x * b2
		c03 += x * b3
		c04 += x * b4
		c05 += x * b5
		c06 += x * b6
		c07 += x * b7
		x = ap[1]
		c10 += x * b0
		c11 += x * b1
		c12 += x * b2
		c13 += x * b3
		c14 += x * b4
		c15 += x * b5
		c16 += x * b6
		c17 += x * b7
		x = ap[2]
		c20 += x * b0
		c21 += x * b1
		c22 += x * b2
		c23 += x * b3
		c24 += x * b4
		c25 += x * b5
		c26 += x * b6
		c27 += x * b7
		x = ap[3]
		c30 += x * b0
		c31 += x * b1
		c32 += x * b2
		c33 += x * b3
		c34 += x * b4
		c35 += x * b5
		c36 += x * b6
		c37 += x * b7
	}
	*acc = [goGEMMMR * goGEMMNR]float32{
		c00, c01, c02, c03, c04, c05, c06, c07,
		c10, c11, c12, c13, c14, c15, c16, c17,
		c20, c21, c22, c23, c24, c25, c26, c27,
		c30, c31, c32, c33, c34, c35, c36, c37,
	}
}

// atbEdgeGo is the scalar loop for a tile of rows x cols short of 4x8.
func atbEdgeGo(k, rows, cols int, a []float32, lda int, b []float32, ldb int, acc *[goGEMMMR * goGEMMNR]float32) {
	for p := 0; p < k; p++ {
		ap := a[p*lda : p*lda+rows]
		bp := b[p*ldb : p*ldb+cols]
		for r, x := range ap {
			row := acc[r*goGEMMNR : r*goGEMMNR+cols]
			for j, v := range bp {
				row[j] += x * v
			}
		}
	}
}

// f32Col2ImGo is f32_col2im__go: it clears channels [c0, c0+cin) of dx,
// then adds each window run of cols back where Im2Col read it from, in
// output-pixel order.
func f32Col2ImGo(s *ConvShape, cols []float32, c0, cin int, dx []float32) {
	for i := 0; i < s.InH*s.InW; i++ {
		clear(dx[i*s.InC+c0 : i*s.InC+c0+cin])
	}
	row := s.KH * s.KW * cin
	for oy := 0; oy < s.OutH; oy++ {
		for ox := 0; ox < s.OutW; ox++ {
			src := cols[(oy*s.OutW+ox)*row : (oy*s.OutW+ox+1)*row]
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
					off := (iy*s.InW+ix)*s.InC + c0
					d := dx[off : off+cin]
					for j, v := range src[(ky*s.KW+kx)*cin : (ky*s.KW+kx+1)*cin] {
						d[j] += v
					}
				}
			}
		}
	}
}

// poolChunk is how many channels a pool gradient tracks at once: the
// running maxima and their cells live in arrays on the stack.
const poolChunk = 64

// f32MaxPoolGradGo is f32_maxpool_grad__go. For each output pixel and
// chunk of channels it finds, as MaxPool does (strictly greater wins, so
// the first maximum in row-major order stays), the cell of each channel's
// maximum, then adds dy there.
func f32MaxPoolGradGo(s *ConvShape, x, dy, dx []float32) {
	c := s.InC
	clear(dx[:s.InH*s.InW*c])
	var best [poolChunk]float32
	var at [poolChunk]int
	for oy := 0; oy < s.OutH; oy++ {
		y0, y1 := windowRange(oy, s.SH, s.PadTop, s.KH, s.InH)
		for ox := 0; ox < s.OutW; ox++ {
			x0, x1 := windowRange(ox, s.SW, s.PadLeft, s.KW, s.InW)
			if y0 >= y1 || x0 >= x1 {
				continue
			}
			g := dy[(oy*s.OutW+ox)*c : (oy*s.OutW+ox)*c+c]
			for j0 := 0; j0 < c; j0 += poolChunk {
				w := min(poolChunk, c-j0)
				b, a := best[:w], at[:w]
				first := (y0*s.InW + x0) * c
				for j := range b {
					b[j] = float32(math.Inf(-1))
					a[j] = first + j0 + j
				}
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						off := (iy*s.InW+ix)*c + j0
						for j, v := range x[off : off+w] {
							if v > b[j] {
								b[j], a[j] = v, off+j
							}
						}
					}
				}
				for j, v := range g[j0 : j0+w] {
					dx[a[j]] += v
				}
			}
		}
	}
}

// f32AvgPoolGradGo is f32_avgpool_grad__go: each output's gradient times
// 1/divisor (AvgPool's, see f32AvgPoolGo) added to every cell of its
// window inside the input.
func f32AvgPoolGradGo(s *ConvShape, dy, dx []float32, countPad bool) {
	c := s.InC
	clear(dx[:s.InH*s.InW*c])
	var scaled [poolChunk]float32
	for oy := 0; oy < s.OutH; oy++ {
		y0, y1 := windowRange(oy, s.SH, s.PadTop, s.KH, s.InH)
		py0, py1 := windowRange(oy, s.SH, 0, s.KH, s.InH+s.PadTop+s.PadBottom)
		for ox := 0; ox < s.OutW; ox++ {
			x0, x1 := windowRange(ox, s.SW, s.PadLeft, s.KW, s.InW)
			if y0 >= y1 || x0 >= x1 {
				continue
			}
			n := (y1 - y0) * (x1 - x0)
			if countPad {
				px0, px1 := windowRange(ox, s.SW, 0, s.KW, s.InW+s.PadLeft+s.PadRight)
				n = (py1 - py0) * (px1 - px0)
			}
			inv := 1 / float32(n)
			g := dy[(oy*s.OutW+ox)*c : (oy*s.OutW+ox)*c+c]
			for j0 := 0; j0 < c; j0 += poolChunk {
				w := min(poolChunk, c-j0)
				sc := scaled[:w]
				for j, v := range g[j0 : j0+w] {
					sc[j] = v * inv
				}
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						off := (iy*s.InW+ix)*c + j0
						d := dx[off : off+w]
						for j, v := range sc {
							d[j] += v
						}
					}
				}
			}
		}
	}
}
