//go:build js && wasm

package kernels

import (
	"fmt"
	"runtime"
)

// wasmATBChunk is how many rows of a and b one call of the module's
// f32_gemm_atb_4x8 covers: a chunk of a panel of b (16 KiB) stays in L1
// while the tiles of c pass over it, and a call (about a microsecond)
// then carries 4*wasmATBChunk*m multiply-adds.
const wasmATBChunk = 512

// GEMMAtB implements Kernels with f32_gemm_atb_4x8__wasmsimd (relaxed:
// fused multiply-adds). For each chunk of rows and each panel of eight
// columns, the Go side copies that piece of b, zero-padded, into the
// module's staging buffer, so the module loads whole vectors whatever n
// and ldb are, and calls the module once for every row of c.
func (k WasmSIMD) GEMMAtB(m, n, kk int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m <= 0 || n <= 0 {
		return
	}
	if kk > 0 {
		need("GEMMAtB", "a", len(a), (kk-1)*lda+m)
		need("GEMMAtB", "b", len(b), (kk-1)*ldb+n)
	}
	need("GEMMAtB", "c", len(c), (m-1)*ldc+n)
	panel := k.m.atbPanel
	for p0 := 0; p0 == 0 || p0 < kk; p0 += wasmATBChunk {
		rows := min(kk, p0+wasmATBChunk) - p0
		first := 0
		if p0 == 0 {
			first = 1
		}
		for j := 0; j < n; j += goGEMMNR {
			cols := min(goGEMMNR, n-j)
			for p := 0; p < rows; p++ {
				dst := panel[p*goGEMMNR : p*goGEMMNR+goGEMMNR]
				copy(dst, b[(p0+p)*ldb+j:(p0+p)*ldb+j+cols])
				clear(dst[cols:])
			}
			var ap []float32
			if rows > 0 {
				ap = a[p0*lda:]
			}
			k.m.gemmAtB.Invoke(m, cols, rows, addr(ap), lda, addr(panel), addr(c[j:]), ldc, first)
		}
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(panel)
	runtime.KeepAlive(c)
}

// Col2Im implements Kernels with f32_col2im__wasmsimd.
func (k WasmSIMD) Col2Im(s *ConvShape, cols []float32, c0, cin int, dx []float32) {
	if cin <= 0 || s.InH <= 0 || s.InW <= 0 {
		return
	}
	if c0 < 0 || c0+cin > s.InC {
		panic(fmt.Sprintf("kernels: Col2Im: channels [%d, %d) outside the input's %d", c0, c0+cin, s.InC))
	}
	need("Col2Im", "cols", len(cols), s.OutH*s.OutW*s.KH*s.KW*cin)
	need("Col2Im", "dx", len(dx), s.InH*s.InW*s.InC)
	k.m.col2im.Invoke(shapeAddr(s), addr(cols), c0, cin, addr(dx))
	runtime.KeepAlive(s)
	runtime.KeepAlive(cols)
	runtime.KeepAlive(dx)
}
