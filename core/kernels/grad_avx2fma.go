//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// Blocks of GEMMAtB on AVX2: aᵀ is transposed and b packed a block at a
// time into buffers on the stack, and each block product runs on the
// GEMM's own microkernels (Go assembly, about eight times the speed of a
// simd/archsimd tile that reads a in place: measured 60 against 8
// GFLOP/s on LeNet-5's 150 x 16 x 6400 weight gradient).
const (
	atbRows  = 48  // rows of c per block: whole 6x16 tiles
	atbDepth = 128 // rows of a and b per block
	atbCols  = 128 // columns of c per block
)

// GEMMAtB implements Kernels: for each block of columns and of depth, b's
// block is packed as PackGEMMWeights lays it out, then for each block of
// rows aᵀ's block is transposed out of a and multiplied by it with the
// GEMM; the first depth block writes c, the others add into it, so each
// sum runs over the blocks in order.
func (k AVX2FMA) GEMMAtB(m, n, kk int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if kk == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	var at [atbRows * atbDepth]float32
	var bp [atbDepth * atbCols]float32
	var tmp [atbRows * atbCols]float32
	for j0 := 0; j0 < n; j0 += atbCols {
		nb := min(atbCols, n-j0)
		for p0 := 0; p0 < kk; p0 += atbDepth {
			kc := min(atbDepth, kk-p0)
			packAVXInto(bp[:avxPackedLen(kc, nb)], b[p0*ldb+j0:], ldb, kc, nb)
			for i0 := 0; i0 < m; i0 += atbRows {
				mb := min(atbRows, m-i0)
				t := at[:mb*kc]
				for p := 0; p < kc; p++ {
					row := a[(p0+p)*lda+i0 : (p0+p)*lda+i0+mb]
					for i, v := range row {
						t[i*kc+p] = v
					}
				}
				dst := c[i0*ldc+j0:]
				if p0 == 0 {
					k.GEMM(mb, nb, kc, t, kc, bp[:], nil, dst, ldc, ActNone)
					continue
				}
				k.GEMM(mb, nb, kc, t, kc, bp[:], nil, tmp[:], nb, ActNone)
				for i := 0; i < mb; i++ {
					d, s := dst[i*ldc:i*ldc+nb], tmp[i*nb:i*nb+nb]
					for j, v := range s {
						d[j] += v
					}
				}
			}
		}
	}
}

// packAVXInto packs the kc x nb block of b (row stride ldb) into dst as
// AVX2FMA.PackGEMMWeights does, zeros in the padding. Whole panels move
// as two vectors (where copy would call memmove for each short row).
func packAVXInto(dst, b []float32, ldb, kc, nb int) {
	for j0 := 0; j0 < nb; j0 += avxGEMMNR {
		w := min(avxGEMMNR, nb-j0)
		pw := avxPanelWidth(w)
		panel := dst[j0*kc : j0*kc+kc*pw]
		if w == avxGEMMNR {
			for p := 0; p < kc; p++ {
				src, d := b[p*ldb+j0:p*ldb+j0+16], panel[p*pw:p*pw+16]
				archsimd.LoadFloat32x8((*[8]float32)(src[:8])).Store((*[8]float32)(d[:8]))
				archsimd.LoadFloat32x8((*[8]float32)(src[8:])).Store((*[8]float32)(d[8:]))
			}
			continue
		}
		for p := 0; p < kc; p++ {
			d := panel[p*pw : p*pw+pw]
			src := b[p*ldb+j0 : p*ldb+j0+w]
			for j, v := range src {
				d[j] = v
			}
			for j := w; j < pw; j++ {
				d[j] = 0
			}
		}
	}
}
