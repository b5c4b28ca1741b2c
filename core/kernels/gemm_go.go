package kernels

// Register tile of the pure-Go GEMM: goGEMMMR rows of A by goGEMMNR columns
// of B. Four rows by eight columns is 32 accumulators: under wasm the
// engine's JIT keeps most of them in registers, and natively the spills are
// cheap next to the loads they save. Eight columns is also the panel width
// the wasm SIMD kernel reads (two f32x4 vectors), so both share a packing.
const (
	goGEMMMR = 4
	goGEMMNR = 8
)

// gemmBlockFloats bounds the A block a GEMM works on at a time (64 KiB of
// float32): a block of rows stays in L2 while every panel of B passes over
// it, and each panel (k*NR values) stays in L1 while the tiles of the block
// pass over it.
const gemmBlockFloats = 16 << 10

// packGEMMPanels repacks a row-major b[k][n] into ceil(n/nr) panels of nr
// columns. Panel q holds, for each p < k in turn, the nr values
// B[p][q*nr : q*nr+nr], zero-filled past column n. A microkernel thus reads
// one panel front to back, nr consecutive values per step of its K loop.
func packGEMMPanels(b []float32, k, n, nr int) []float32 {
	if k < 0 || n < 0 || len(b) < k*n {
		panic("kernels: PackGEMMWeights: weights shorter than k*n")
	}
	panels := (n + nr - 1) / nr
	out := make([]float32, panels*k*nr)
	for q := 0; q < panels; q++ {
		j0 := q * nr
		w := min(nr, n-j0)
		dst := out[q*k*nr : (q+1)*k*nr]
		// A loop, not copy: each row of a panel is a handful of values,
		// and under GOOS=js a copy is a call out of the module
		// (memory.copy), which made packing MobileNetV2 take 0.4 s of a
		// page's first load instead of a few milliseconds.
		for p := 0; p < k; p++ {
			d, src := dst[p*nr:p*nr+w], b[p*n+j0:p*n+j0+w]
			for i, v := range src {
				d[i] = v
			}
		}
	}
	return out
}

// gemmRowBlock is the number of rows of A a GEMM of m rows and depth k
// processes per block: about as many as fit gemmBlockFloats, in whole
// tiles of mr, with the m rows shared evenly between the blocks. Even
// shares matter where m is barely over one block: 49 rows of depth 320
// (MobileNetV2's last 7x7 layer) as blocks of 48 and 1 streamed all of B a
// second time for one row.
func gemmRowBlock(m, k, mr int) int {
	rows := max(mr, gemmBlockFloats/max(k, 1))
	blocks := (m + rows - 1) / rows
	share := (m + blocks - 1) / max(blocks, 1)
	return max(mr, (share+mr-1)/mr*mr)
}

// f32GEMMGo computes c = act(a*B + bias) over panels packed with
// goGEMMNR columns. Rows go in blocks (see gemmBlockFloats); inside a block
// the loop runs over panels, then over tiles of goGEMMMR rows, with the
// leftover rows done one at a time by the 1x8 kernel.
func f32GEMMGo(m, n, k int, a []float32, lda int, b []float32, bias []float32, c []float32, ldc int, act Act) {
	if m <= 0 || n <= 0 {
		return
	}
	const nr = goGEMMNR
	panels := (n + nr - 1) / nr
	block := gemmRowBlock(m, k, goGEMMMR)
	var acc [goGEMMMR * nr]float32
	for i0 := 0; i0 < m; i0 += block {
		i1 := min(m, i0+block)
		for q := 0; q < panels; q++ {
			j0 := q * nr
			cols := min(nr, n-j0)
			bp := b[q*k*nr : (q+1)*k*nr]
			var bq []float32
			if bias != nil {
				bq = bias[j0 : j0+cols]
			}
			i := i0
			for ; i+goGEMMMR <= i1; i += goGEMMMR {
				f32GEMM4x8Go(k, a[i*lda:], a[(i+1)*lda:], a[(i+2)*lda:], a[(i+3)*lda:], bp, &acc)
				for r := 0; r < goGEMMMR; r++ {
					storeGEMMRow(c[(i+r)*ldc+j0:(i+r)*ldc+j0+cols], acc[r*nr:r*nr+cols], bq, act)
				}
			}
			for ; i < i1; i++ {
				f32GEMM1x8Go(k, a[i*lda:], bp, &acc)
				storeGEMMRow(c[i*ldc+j0:i*ldc+j0+cols], acc[:cols], bq, act)
			}
		}
	}
}

// storeGEMMRow is the epilogue: dst = act(acc + bias).
func storeGEMMRow(dst, acc, bias []float32, act Act) {
	acc = acc[:len(dst)]
	if bias != nil {
		bias = bias[:len(dst)]
		for j, v := range acc {
			dst[j] = v + bias[j]
		}
	} else {
		copy(dst, acc)
	}
	f32ActivateGo(dst, act)
}

// f32GEMM4x8Go is f32_gemm_4x8__go: acc[r*8+j] = sum_p a_r[p]*b[p*8+j]
// over one packed panel, with the 32 sums held in locals for the whole K
// loop.
func f32GEMM4x8Go(k int, a0, a1, a2, a3, b []float32, acc *[goGEMMMR * goGEMMNR]float32) {
	a0, a1, a2, a3 = a0[:k], a1[:k], a2[:k], a3[:k]
	b = b[:k*8]
	var c00, c01, c02, c03, c04, c05, c06, c07 float32
	var c10, c11, c12, c13, c14, c15, c16, c17 float32
	var c20, c21, c22, c23, c24, c25, c26, c27 float32
	var c30, c31, c32, c33, c34, c35, c36, c37 float32
	for p := range a0 {
		bp := b[p*8 : p*8+8 : p*8+8]
		b0, b1, b2, b3, b4, b5, b6, b7 := bp[0], bp[1], bp[2], bp[3], bp[4], bp[5], bp[6], bp[7]
		x := a0[p]
		c00 += x * b0
		c01 += x * b1
		c02 += x * b2
		c03 += x * b3
		c04 += x * b4
		c05 += x * b5
		c06 += x * b6
		c07 += x * b7
		x = a1[p]
		c10 += x * b0
		c11 += x * b1
		c12 += x * b2
		c13 += x * b3
		c14 += x * b4
		c15 += x * b5
		c16 += x * b6
		c17 += x * b7
		x = a2[p]
		c20 += x * b0
		c21 += x * b1
		c22 += x * b2
		c23 += x * b3
		c24 += x * b4
		c25 += x * b5
		c26 += x * b6
		c27 += x * b7
		x = a3[p]
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

// f32GEMM1x8Go is f32_gemm_1x8__go, the kernel for the rows left over
// below the last whole 4-row tile. It writes acc[0:8].
func f32GEMM1x8Go(k int, a0, b []float32, acc *[goGEMMMR * goGEMMNR]float32) {
	a0 = a0[:k]
	b = b[:k*8]
	var c0, c1, c2, c3, c4, c5, c6, c7 float32
	for p, x := range a0 {
		bp := b[p*8 : p*8+8 : p*8+8]
		c0 += x * bp[0]
		c1 += x * bp[1]
		c2 += x * bp[2]
		c3 += x * bp[3]
		c4 += x * bp[4]
		c5 += x * bp[5]
		c6 += x * bp[6]
		c7 += x * bp[7]
	}
	acc[0], acc[1], acc[2], acc[3] = c0, c1, c2, c3
	acc[4], acc[5], acc[6], acc[7] = c4, c5, c6, c7
}
