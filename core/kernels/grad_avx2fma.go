//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// GEMMAtB implements Kernels: f32_gemm_atb_4x16__avx2fma, and
// f32_gemm_atb_8x8__avx2fma for a last panel of at most eight columns (a
// convolution's six output channels, say), so that narrow results do not
// run half-empty vectors. Rows go in chunks of atbChunk, as in the Go
// kernel; each chunk's panel of b is first copied, zero-padded, into a
// buffer on the stack, so the microkernels load whole vectors however
// ragged n and ldb are, and every tile of the chunk reads it from L1.
func (AVX2FMA) GEMMAtB(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	var panel [atbChunk * 16]float32
	for p0 := 0; p0 == 0 || p0 < k; p0 += atbChunk {
		kk := min(k, p0+atbChunk) - p0
		for j := 0; j < n; {
			cols := min(16, n-j)
			nr := 16
			if cols <= 8 {
				nr = 8
			}
			bp := panel[:kk*nr]
			for p := 0; p < kk; p++ {
				dst := bp[p*nr : p*nr+nr]
				copy(dst, b[(p0+p)*ldb+j:(p0+p)*ldb+j+cols])
				clear(dst[cols:])
			}
			mr := 4
			if nr == 8 {
				mr = 8
			}
			for i := 0; i < m; i += mr {
				rows := min(mr, m-i)
				// Rows past m read the last real row (their sums are
				// never stored), as the GEMM's clamped A pointers do.
				var off [8]int
				for r := range off[:mr] {
					off[r] = p0*lda + i + min(r, rows-1)
				}
				ct := c[i*ldc+j:]
				if nr == 16 {
					f32GEMMAtB4x16AVX2FMA(kk, a, lda, off, bp, ct, ldc, rows, cols, p0 == 0)
				} else {
					f32GEMMAtB8x8AVX2FMA(kk, a, lda, off, bp, ct, ldc, rows, cols, p0 == 0)
				}
			}
			j += cols
		}
	}
}

// loadAcc loads cols (1..8) values of c, or zeros on the first chunk.
func loadAcc(c []float32, cols int, first bool) archsimd.Float32x8 {
	if first {
		return archsimd.Float32x8{}
	}
	if cols >= 8 {
		return archsimd.LoadFloat32x8((*[8]float32)(c[:8]))
	}
	return archsimd.LoadFloat32x8SlicePart(c[:cols])
}

// storeAcc stores the first cols (1..8) lanes of v into c.
func storeAcc(c []float32, cols int, v archsimd.Float32x8) {
	if cols >= 8 {
		v.Store((*[8]float32)(c[:8]))
		return
	}
	v.StoreSlicePart(c[:cols])
}

// f32GEMMAtB4x16AVX2FMA accumulates a 4x16 tile of aᵀb over kk rows of a
// (row p of the tile reads a[off[r]+p*lda]) and of the packed panel b
// (16 values a row), and stores its first rows x cols into c.
func f32GEMMAtB4x16AVX2FMA(kk int, a []float32, lda int, off [8]int, b, c []float32, ldc, rows, cols int, first bool) {
	c1 := max(cols-8, 0)
	var acc [8]archsimd.Float32x8
	for r := 0; r < rows; r++ {
		acc[2*r] = loadAcc(c[r*ldc:], min(cols, 8), first)
		if c1 > 0 {
			acc[2*r+1] = loadAcc(c[r*ldc+8:], c1, first)
		}
	}
	c00, c01, c10, c11, c20, c21, c30, c31 := acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
	o0, o1, o2, o3 := off[0], off[1], off[2], off[3]
	b = b[:kk*16]
	for p := 0; p < kk; p++ {
		bp := b[p*16 : p*16+16 : p*16+16]
		v0 := archsimd.LoadFloat32x8((*[8]float32)(bp[:8]))
		v1 := archsimd.LoadFloat32x8((*[8]float32)(bp[8:]))
		q := p * lda
		x := archsimd.BroadcastFloat32x8(a[o0+q])
		c00 = x.MulAdd(v0, c00)
		c01 = x.MulAdd(v1, c01)
		x = archsimd.BroadcastFloat32x8(a[o1+q])
		c10 = x.MulAdd(v0, c10)
		c11 = x.MulAdd(v1, c11)
		x = archsimd.BroadcastFloat32x8(a[o2+q])
		c20 = x.MulAdd(v0, c20)
		c21 = x.MulAdd(v1, c21)
		x = archsimd.BroadcastFloat32x8(a[o3+q])
		c30 = x.MulAdd(v0, c30)
		c31 = x.MulAdd(v1, c31)
	}
	acc = [8]archsimd.Float32x8{c00, c01, c10, c11, c20, c21, c30, c31}
	for r := 0; r < rows; r++ {
		storeAcc(c[r*ldc:], min(cols, 8), acc[2*r])
		if c1 > 0 {
			storeAcc(c[r*ldc+8:], c1, acc[2*r+1])
		}
	}
}

// f32GEMMAtB8x8AVX2FMA is the 8x8 tile over a panel of 8 values a row.
func f32GEMMAtB8x8AVX2FMA(kk int, a []float32, lda int, off [8]int, b, c []float32, ldc, rows, cols int, first bool) {
	var acc [8]archsimd.Float32x8
	for r := 0; r < rows; r++ {
		acc[r] = loadAcc(c[r*ldc:], cols, first)
	}
	c0, c1, c2, c3, c4, c5, c6, c7 := acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]
	o0, o1, o2, o3, o4, o5, o6, o7 := off[0], off[1], off[2], off[3], off[4], off[5], off[6], off[7]
	b = b[:kk*8]
	for p := 0; p < kk; p++ {
		v := archsimd.LoadFloat32x8((*[8]float32)(b[p*8 : p*8+8]))
		q := p * lda
		c0 = archsimd.BroadcastFloat32x8(a[o0+q]).MulAdd(v, c0)
		c1 = archsimd.BroadcastFloat32x8(a[o1+q]).MulAdd(v, c1)
		c2 = archsimd.BroadcastFloat32x8(a[o2+q]).MulAdd(v, c2)
		c3 = archsimd.BroadcastFloat32x8(a[o3+q]).MulAdd(v, c3)
		c4 = archsimd.BroadcastFloat32x8(a[o4+q]).MulAdd(v, c4)
		c5 = archsimd.BroadcastFloat32x8(a[o5+q]).MulAdd(v, c5)
		c6 = archsimd.BroadcastFloat32x8(a[o6+q]).MulAdd(v, c6)
		c7 = archsimd.BroadcastFloat32x8(a[o7+q]).MulAdd(v, c7)
	}
	acc = [8]archsimd.Float32x8{c0, c1, c2, c3, c4, c5, c6, c7}
	for r := 0; r < rows; r++ {
		storeAcc(c[r*ldc:], cols, acc[r])
	}
}
