//go:build js && wasm

package kernels

import (
	"fmt"
	"runtime"
	"slices"
	"syscall/js"
	"unsafe"
)

// Int8WasmSIMD runs the int8 kernels of Glimpse's WebAssembly SIMD module
// (wasm/simd/qs8.go), called like WasmSIMD's through syscall/js with
// addresses into Go slices. The GEMM of kernels_relaxed.wasm multiplies
// with i32x4.relaxed_dot_i8x16_i7x16_add_s over weights split in two
// 7-bit halves (so every CPU computes the same sums; see qs8.go there),
// that of kernels.wasm with i32x4.dot_i16x8_s over weights widened to
// int16; both are packed here. The depthwise kernel takes 3x3 windows (all
// of MobileNet's); other windows, and layers of more channels than its
// padding buffer holds, run Int8Go's loop. Dequantization, a few thousand
// values at the end of a network, stays in Go.
type Int8WasmSIMD struct {
	Int8Go
	m *qs8WasmModule
}

// qs8WasmModule holds the module's int8 exports and the depthwise
// kernel's scratch. Under js/wasm one goroutine runs at a time and no
// kernel yields while it uses the scratch, so one per module serves every
// caller.
type qs8WasmModule struct {
	name                                          string
	relaxed                                       bool
	gemm, dwconv, im2col, add, gavgpool, quantize js.Value
	// zbuf stands in for the input at padded taps (the kernel fills it
	// with the input's zero point); adj receives the bias with the zero
	// point folded in.
	zbuf []int8
	adj  []int32
}

// qs8WasmDWMaxC is the most channels the depthwise kernel's scratch
// holds: more than any MobileNet's depthwise layer has.
const qs8WasmDWMaxC = 4096

// newInt8WasmSIMD returns the int8 kernels of the module published on
// globalThis.__glimpseSIMD, and false when there is none (or it predates
// them).
func newInt8WasmSIMD() (Int8WasmSIMD, bool) {
	v := simdModule()
	if v.Type() != js.TypeObject {
		return Int8WasmSIMD{}, false
	}
	m := &qs8WasmModule{name: "wasmsimd"}
	for _, e := range []struct {
		dst  *js.Value
		name string
	}{
		{&m.gemm, "qs8_gemm_dot16"}, {&m.dwconv, "qs8_dwconv_3x3"}, {&m.im2col, "qs8_im2col"},
		{&m.add, "qs8_vadd"}, {&m.gavgpool, "qs8_gavgpool"}, {&m.quantize, "qs8_quantize"},
	} {
		*e.dst = v.Get(e.name)
		if e.dst.Type() != js.TypeFunction {
			return Int8WasmSIMD{}, false
		}
	}
	m.zbuf = make([]int8, qs8WasmDWMaxC+16)
	m.adj = make([]int32, qs8WasmDWMaxC)
	k := Int8WasmSIMD{m: m}
	if rdot := v.Get("qs8_gemm_rdot"); rdot.Type() == js.TypeFunction {
		if !qs8Probe.done || !qs8Probe.module.Equal(v) {
			qs8Probe.module, qs8Probe.exact, qs8Probe.done = v, k.probeRelaxedDot(rdot), true
		}
		if qs8Probe.exact {
			m.gemm, m.name, m.relaxed = rdot, "wasmrelaxedsimd", true
		}
	}
	return k, true
}

// qs8ProbeMem holds probeRelaxedDot's matrices and results.
var qs8ProbeMem [5*23 + 23*11 + 2*5*11]int8

// qs8Probe caches probeRelaxedDot's verdict on the module last published.
var qs8Probe struct {
	module      js.Value
	exact, done bool
}

// probeRelaxedDot runs the relaxed-dot GEMM on a small problem whose
// activations and weights span their whole ranges (every sum exactly
// representable) and reports whether it gives Int8Go's bytes. An engine
// whose i32x4.relaxed_dot_i8x16_i7x16_add_s is wrong — Node 20's V8
// doubles the products and drops the accumulator — keeps the dot_i16x8
// GEMM.
func (k Int8WasmSIMD) probeRelaxedDot(rdot js.Value) bool {
	const m, n, kk = 5, 11, 23
	// Buffers the module writes must not live on a goroutine stack,
	// which may move (grow) during the call; these are a global's.
	mem := qs8ProbeMem[:]
	a, mem := mem[:m*kk], mem[m*kk:]
	b, mem := mem[:kk*n], mem[kk*n:]
	want, got := mem[:m*n], mem[m*n:]
	for i := range a {
		a[i] = int8(i*97 + 3) // wraps through −128…127
	}
	for i := range b {
		b[i] = int8(max(-127, int(int8(i*53+11))))
	}
	bias := make([]int32, n)
	mult := make([]float32, n)
	for j := range bias {
		bias[j] = int32(j*1013 - 5000)
		mult[j] = 1 / float32(256+j*40)
	}
	o := QS8Out{Zero: 3, Min: -128, Max: 127}
	Int8Go{}.QS8GEMM(m, a, kk, Int8Go{}.PackQS8GEMM(b, kk, n, bias, mult, -7), want, n, o)
	probe := Int8WasmSIMD{m: &qs8WasmModule{gemm: rdot, relaxed: true}}
	probe.QS8GEMM(m, a, kk, probe.PackQS8GEMM(b, kk, n, bias, mult, -7), got, n, o)
	return slices.Equal(got, want)
}

// fastInt8 lists the int8 implementations faster than Int8Go that this
// build can run here: the module's, when a loader published it.
func fastInt8() []Int8 {
	if k, ok := newInt8WasmSIMD(); ok {
		return []Int8{k}
	}
	return nil
}

// Name implements Int8: "wasmrelaxedsimd" (the relaxed dot product) or
// "wasmsimd".
func (k Int8WasmSIMD) Name() string { return k.m.name }

// ptr is the linear-memory address of s's first element, 0 for an empty
// slice (which the module never reads).
func ptr[T any](s []T) int {
	if len(s) == 0 {
		return 0
	}
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(s))))
}

// qs8WasmNR is the module GEMM's panel width; each panel holds blocks of
// four k, 64 bytes each.
const qs8WasmNR = 8

// PackQS8GEMM implements Int8: panels of eight columns, each ceil(k/4)
// blocks of 64 bytes (zeros past k and n), with bias and multipliers
// padded to whole panels (Bias16, Mult16). The relaxed module's block is
// the positive halves w⁺ = max(w, 0) of columns 0-3 (four k of a column in
// each 32-bit lane), of columns 4-7, then the negative halves w⁻ =
// max(−w, 0) likewise, every byte within 0…127; its bias gains Σ_p w⁻,
// which the kernel's dot(~a, w⁻) = −Σ a·w⁻ − Σ w⁻ takes away. The plain
// module's block is int16 pairs (w[k0], w[k1]) of columns 0-3, of columns
// 4-7, then the pairs (w[k2], w[k3]).
func (k Int8WasmSIMD) PackQS8GEMM(b []int8, kk, n int, bias []int32, mult []float32, aZero int32) *QS8GEMMWeights {
	panels := (n + qs8WasmNR - 1) / qs8WasmNR
	blocks := (kk + 3) / 4
	cb := qs8ColumnBias(b, kk, n, bias, aZero)
	b16 := make([]int32, panels*qs8WasmNR)
	m16 := make([]float32, panels*qs8WasmNR)
	copy(b16, cb)
	copy(m16, mult[:n])
	w := &QS8GEMMWeights{K: kk, N: n, Bias: cb, Mult: append([]float32(nil), mult[:n]...), Bias16: b16, Mult16: m16}
	if k.m.relaxed {
		pk := make([]int8, panels*blocks*64)
		for j := 0; j < n; j++ {
			pj, half, c := j/qs8WasmNR, j%qs8WasmNR/4, j%4
			for p := 0; p < kk; p++ {
				v := int32(b[p*n+j])
				at := (pj*blocks+p/4)*64 + half*16 + c*4 + p%4
				pk[at] = int8(max(v, 0))
				pk[at+32] = int8(max(-v, 0))
				b16[j] += max(-v, 0)
			}
		}
		w.W = pk
		return w
	}
	pk := make([]int16, panels*blocks*32)
	for j := 0; j < n; j++ {
		pj, half, c := j/qs8WasmNR, j%qs8WasmNR/4, j%4
		for p := 0; p < kk; p++ {
			pair, e := p%4/2, p%2
			pk[(pj*blocks+p/4)*32+pair*16+half*8+c*2+e] = int16(b[p*n+j])
		}
	}
	w.W16 = pk
	return w
}

// QS8GEMM implements Int8 with qs8_gemm_4x8c4 (relaxed dot product, or
// dot_i16x8 in the plain module).
func (k Int8WasmSIMD) QS8GEMM(m int, a []int8, lda int, w *QS8GEMMWeights, c []int8, ldc int, o QS8Out) {
	if m <= 0 || w.N <= 0 {
		return
	}
	if w.K > 0 {
		need("QS8GEMM", "a", len(a), (m-1)*lda+w.K)
	}
	need("QS8GEMM", "c", len(c), (m-1)*ldc+w.N)
	packed := ptr(w.W16)
	if k.m.relaxed {
		packed = ptr(w.W)
	}
	k.m.gemm.Invoke(m, w.N, w.K, ptr(a), lda, packed, ptr(w.Bias16), ptr(w.Mult16), ptr(c), ldc, int(o.Zero), int(o.Min), int(o.Max))
	runtime.KeepAlive(a)
	runtime.KeepAlive(w)
	runtime.KeepAlive(c)
}

// PackQS8DWConv implements Int8: Int8Go's layout (the kernel's channels
// past the last multiple of eight, and the fallback, read it), each
// channel's tap sum, and for a 3x3 window the taps widened to int16 in
// groups of eight channels, [C/8][9][8], so one group's 72 weights are
// contiguous.
func (k Int8WasmSIMD) PackQS8DWConv(w []int8, kh, kw, c int, bias []int32, mult []float32) *QS8DWWeights {
	p := Int8Go{}.PackQS8DWConv(w, kh, kw, c, bias, mult)
	p.TapSum = make([]int32, c)
	for t := 0; t < kh*kw; t++ {
		for j := 0; j < c; j++ {
			p.TapSum[j] += int32(p.W[t*c+j])
		}
	}
	if kh == 3 && kw == 3 {
		c8 := c &^ 7
		p.W16 = make([]int16, c8*9)
		for j := 0; j < c8; j++ {
			for t := 0; t < 9; t++ {
				p.W16[(j/8*9+t)*8+j%8] = int16(p.W[t*c+j])
			}
		}
	}
	return p
}

// QS8DWConv implements Int8 with qs8_dwconv_3x3 for 3x3 windows of at
// most qs8WasmDWMaxC channels, Int8Go's loop otherwise.
func (k Int8WasmSIMD) QS8DWConv(s *ConvShape, in []int8, inZero int32, w *QS8DWWeights, out []int8, o QS8Out) {
	if s.OutH <= 0 || s.OutW <= 0 || s.InC <= 0 {
		return
	}
	if s.KH != 3 || s.KW != 3 || s.InC > qs8WasmDWMaxC || len(w.TapSum) != s.InC {
		k.Int8Go.QS8DWConv(s, in, inZero, w, out, o)
		return
	}
	c := s.InC
	need("QS8DWConv", "input", len(in), s.InH*s.InW*c)
	need("QS8DWConv", "output", len(out), s.OutH*s.OutW*c)
	need("QS8DWConv", "weights", len(w.W), 9*c)
	k.m.dwconv.Invoke(shapeAddr(s), ptr(in), ptr(w.W16), ptr(w.W), ptr(w.Bias), ptr(w.TapSum), ptr(w.Mult), ptr(out),
		ptr(k.m.zbuf), ptr(k.m.adj), int(inZero), int(o.Zero), int(o.Min), int(o.Max))
	runtime.KeepAlive(s)
	runtime.KeepAlive(in)
	runtime.KeepAlive(w)
	runtime.KeepAlive(out)
	runtime.KeepAlive(k.m.zbuf)
	runtime.KeepAlive(k.m.adj)
}

// QS8Im2Col implements Int8 with qs8_im2col.
func (k Int8WasmSIMD) QS8Im2Col(s *ConvShape, in []int8, zero int8, c0, cin int, cols []int8) {
	if s.OutH <= 0 || s.OutW <= 0 || cin <= 0 || s.KH <= 0 || s.KW <= 0 {
		return
	}
	if c0 < 0 || c0+cin > s.InC {
		panic(fmt.Sprintf("kernels: QS8Im2Col: channels [%d, %d) outside the input's %d", c0, c0+cin, s.InC))
	}
	need("QS8Im2Col", "input", len(in), s.InH*s.InW*s.InC)
	need("QS8Im2Col", "cols", len(cols), s.OutH*s.OutW*s.KH*s.KW*cin)
	k.m.im2col.Invoke(shapeAddr(s), ptr(in), int(zero), c0, cin, ptr(cols))
	runtime.KeepAlive(s)
	runtime.KeepAlive(in)
	runtime.KeepAlive(cols)
}

// QS8Add implements Int8 with qs8_vadd.
func (k Int8WasmSIMD) QS8Add(x, y, out []int8, p *QS8AddParams) {
	n := len(x)
	if n == 0 {
		return
	}
	need("QS8Add", "y", len(y), n)
	need("QS8Add", "out", len(out), n)
	k.m.add.Invoke(n, ptr(x), ptr(y), ptr(out), int(p.XZero), int(p.YZero), p.XMult, p.YMult, int(p.Out.Zero), int(p.Out.Min), int(p.Out.Max))
	runtime.KeepAlive(x)
	runtime.KeepAlive(y)
	runtime.KeepAlive(out)
}

// QS8GlobalAvgPool implements Int8 with qs8_gavgpool.
func (k Int8WasmSIMD) QS8GlobalAvgPool(hw, c int, in []int8, inZero int32, mult float32, out []int8, o QS8Out) {
	if hw <= 0 || c <= 0 {
		k.Int8Go.QS8GlobalAvgPool(hw, c, in, inZero, mult, out, o)
		return
	}
	need("QS8GlobalAvgPool", "input", len(in), hw*c)
	need("QS8GlobalAvgPool", "output", len(out), c)
	k.m.gavgpool.Invoke(hw, c, ptr(in), ptr(out), int(inZero), mult, int(o.Zero), int(o.Min), int(o.Max))
	runtime.KeepAlive(in)
	runtime.KeepAlive(out)
}

// QuantizeF32 implements Int8 with qs8_quantize.
func (k Int8WasmSIMD) QuantizeF32(x []float32, inv float32, zero int32, out []int8) {
	n := len(x)
	if n == 0 {
		return
	}
	need("QuantizeF32", "out", len(out), n)
	k.m.quantize.Invoke(n, ptr(x), ptr(out), inv, int(zero))
	runtime.KeepAlive(x)
	runtime.KeepAlive(out)
}
