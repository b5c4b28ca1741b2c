//go:build js && wasm

package kernels

import (
	"fmt"
	"runtime"
	"syscall"
	"syscall/js"
	"unsafe"
)

// WasmSIMD runs the kernels of Glimpse's WebAssembly SIMD module
// (wasm/simd): a separate module that imports this program's linear
// memory, called through syscall/js with the addresses of Go slices (under
// GOOS=js a pointer is an offset into that memory). Each call costs about a
// microsecond, so every export does a whole operation (a whole GEMM, a
// whole depthwise layer). The GEMM reads the pure-Go kernels' panel
// packing and DWConv their weight layout, so weights packed by Go serve
// both. Kernels the module lacks (Softmax, HardSigmoid, the Sigmoid
// epilogue) run the embedded Go reference.
//
// The module is found on globalThis.__glimpseSIMD (or the global
// GLIMPSE_SIMD_GLOBAL names, see simdModule), which whoever instantiates
// this program publishes (wasm/simd/loader.mjs: the browser loader, and
// tools/js/go-wasm-exec under Node). Go's garbage collector
// does not move objects, so an address stays valid while its slice is
// alive; every call keeps its slices alive until it returns. The memory
// may grow between calls: the module imports the memory object itself, so
// it sees the growth.
type WasmSIMD struct {
	Go
	m *wasmSIMDModule
	// tile is the GEMM tile asked for (NewWasmSIMDTile), "" to run the
	// loader's probe pick.
	tile string
}

// wasmSIMDModule holds the module's exports.
type wasmSIMDModule struct {
	name                              string
	gemm4x8, gemm6x8, dwconv, maxpool js.Value
	avgpool, gavgpool, vadd, vmulc    js.Value
	vact, im2col, gemmAtB, col2im     js.Value
	// tile is the GEMM tile the loader's probe picked (loader.mjs
	// probeGEMMTile: "4x8" or "6x8"); 4x8 until the probe, which runs in
	// the background after load, is done. settled says it is, and calls
	// counts GEMMs so that the Go side looks again only now and then.
	tile    string
	settled bool
	calls   int
	// atbPanel is GEMMAtB's staging buffer for one chunk of one panel of
	// b (see grad_wasmsimd.go). Under js/wasm one goroutine runs at a time
	// and GEMMAtB does not yield while it uses the buffer, so one per
	// module serves every caller.
	atbPanel []float32
}

// The module reads a ConvShape in place as sixteen 8-byte ints in
// declaration order; these constants fail to compile if its size changes
// (the field order is checked by a test).
const (
	_ uintptr = unsafe.Sizeof(ConvShape{}) - 16*8
	_ uintptr = 16*8 - unsafe.Sizeof(ConvShape{})
)

// simdModule is the kernel module the loader published for this program:
// globalThis.__glimpseSIMD, or the global the environment variable
// GLIMPSE_SIMD_GLOBAL names. Each instance of the module imports one Go
// program's memory, so a page that runs two Go programs (glimpse.js's
// library and, once a classifier is made, its classifier program) gives
// each program its own instance under its own name.
func simdModule() js.Value {
	name := "__glimpseSIMD"
	if v, ok := syscall.Getenv("GLIMPSE_SIMD_GLOBAL"); ok && v != "" {
		name = v
	}
	return js.Global().Get(name)
}

// NewWasmSIMD returns the SIMD kernels published on
// globalThis.__glimpseSIMD, with the GEMM tile the loader's probe picked,
// and false when there are none (no loader ran, or the engine lacks
// WebAssembly SIMD).
func NewWasmSIMD() (WasmSIMD, bool) { return NewWasmSIMDTile("") }

// NewWasmSIMDTile is NewWasmSIMD with the GEMM tile given: "4x8" (the x86
// default) or "6x8" (which ARM's 32 vector registers favour); "" takes the
// loader's pick. Tests and benchmarks run both tiles through it.
func NewWasmSIMDTile(tile string) (WasmSIMD, bool) {
	v := simdModule()
	if v.Type() != js.TypeObject {
		return WasmSIMD{}, false
	}
	m := &wasmSIMDModule{name: "wasmsimd", tile: "4x8"}
	if variant := v.Get("variant"); variant.Type() == js.TypeString && variant.String() == "relaxed" {
		m.name = "wasmrelaxedsimd"
	}
	for _, e := range []struct {
		dst  *js.Value
		name string
	}{
		{&m.gemm4x8, "f32_gemm_4x8"}, {&m.gemm6x8, "f32_gemm_6x8"}, {&m.dwconv, "f32_dwconv"},
		{&m.maxpool, "f32_maxpool"}, {&m.avgpool, "f32_avgpool"}, {&m.gavgpool, "f32_gavgpool"},
		{&m.vadd, "f32_vadd"}, {&m.vmulc, "f32_vmulc"}, {&m.vact, "f32_vact"}, {&m.im2col, "f32_im2col"},
		{&m.gemmAtB, "f32_gemm_atb_4x8"}, {&m.col2im, "f32_col2im"},
	} {
		*e.dst = v.Get(e.name)
		if e.dst.Type() != js.TypeFunction {
			return WasmSIMD{}, false
		}
	}
	m.atbPanel = make([]float32, wasmATBChunk*goGEMMNR)
	switch tile {
	case "", "4x8", "6x8":
	default:
		panic(fmt.Sprintf("kernels: no %q GEMM tile (4x8 or 6x8)", tile))
	}
	m.look()
	return WasmSIMD{m: m, tile: tile}, true
}

// look reads the loader's pick once its probe is done.
func (m *wasmSIMDModule) look() {
	v := simdModule()
	if v.Type() != js.TypeObject || !v.Get("gemmProbe").Get("done").Truthy() {
		return
	}
	m.settled = true
	if t := v.Get("gemmTile"); t.Type() == js.TypeString && t.String() == "6x8" {
		m.tile = "6x8"
	}
}

// gemmFunc is the GEMM tile to call and its rows: the one asked for, or
// the probe's pick, looked for again every 64 products until the probe is
// done (a look costs a few microseconds; a product, tens to hundreds).
func (k WasmSIMD) gemmFunc() (js.Value, int) {
	tile := k.tile
	if tile == "" {
		m := k.m
		if !m.settled {
			if m.calls++; m.calls%64 == 0 {
				m.look()
			}
		}
		tile = m.tile
	}
	if tile == "6x8" {
		return k.m.gemm6x8, 6
	}
	return k.m.gemm4x8, 4
}

// GEMMTile is the GEMM's register tile: "4x8" or "6x8".
func (k WasmSIMD) GEMMTile() string {
	if k.tile != "" {
		return k.tile
	}
	return k.m.tile
}

// Name implements Kernels: "wasmrelaxedsimd" when the module uses
// relaxed-SIMD fused multiply-adds, "wasmsimd" otherwise, with the tile
// appended ("wasmrelaxedsimd_6x8") when it was asked for rather than
// probed.
func (k WasmSIMD) Name() string {
	if k.tile != "" {
		return k.m.name + "_" + k.tile
	}
	return k.m.name
}

// addr is the linear-memory address of s's first element, 0 for an empty
// slice (which the module never reads).
func addr(s []float32) int {
	if len(s) == 0 {
		return 0
	}
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(s))))
}

// shapeAddr is the linear-memory address of a ConvShape.
func shapeAddr(s *ConvShape) int { return int(uintptr(unsafe.Pointer(s))) }

// need panics, as the Go kernels' slicing would, when a buffer is shorter
// than the module is about to read or write: the module itself has no
// bounds but the memory's.
func need(kernel, buf string, have, want int) {
	if have < want {
		panic(fmt.Sprintf("kernels: %s: %s has %d values, needs %d", kernel, buf, have, want))
	}
}

// simdAct is the activation the module fuses: it has no exponential, so
// Sigmoid is applied afterwards in Go.
func simdAct(act Act) Act {
	if act == ActSigmoid {
		return ActNone
	}
	return act
}

// GEMM implements Kernels with f32_gemm_4x8__wasmsimd or f32_gemm_6x8
// (relaxed: fused multiply-adds) over the pure-Go kernels' panels of eight
// columns.
func (k WasmSIMD) GEMM(m, n, kk int, a []float32, lda int, b []float32, bias []float32, c []float32, ldc int, act Act) {
	if m <= 0 || n <= 0 {
		return
	}
	if kk > 0 {
		need("GEMM", "a", len(a), (m-1)*lda+kk)
	}
	need("GEMM", "b", len(b), (n+goGEMMNR-1)/goGEMMNR*goGEMMNR*kk)
	need("GEMM", "c", len(c), (m-1)*ldc+n)
	if bias != nil {
		need("GEMM", "bias", len(bias), n)
	}
	gemm, mr := k.gemmFunc()
	rows := m
	if kk > 0 && m > mr && m%mr == 1 {
		// A last tile of one row would cost a whole tile (it computes
		// mr rows and stores one: 9% of a 7x7 layer's 49 rows on the
		// 6x8 tile); the module's one-row path, four panels at a time
		// with the same sums in the same order, takes that row instead.
		rows = m - 1
		gemm.Invoke(1, n, kk, addr(a[rows*lda:]), lda, addr(b), addr(bias), addr(c[rows*ldc:]), ldc, int(simdAct(act)))
	}
	gemm.Invoke(rows, n, kk, addr(a), lda, addr(b), addr(bias), addr(c), ldc, int(simdAct(act)))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(bias)
	if act == ActSigmoid {
		for i := 0; i < m; i++ {
			f32ActivateGo(c[i*ldc:i*ldc+n], act)
		}
	}
	runtime.KeepAlive(c)
}

// checkWindow checks the input and output of a window operation.
func checkWindow(kernel string, s *ConvShape, in, out []float32) {
	need(kernel, "input", len(in), s.InH*s.InW*s.InC)
	need(kernel, "output", len(out), s.OutH*s.OutW*s.InC)
}

// DWConv implements Kernels with f32_dwconv__wasmsimd, whose fast path
// runs the 3x3 window at column stride 1 or 2 (f32_dwconv_3x3s1 and
// 3x3s2) in row tiles of up to eight pixels, borders included.
func (k WasmSIMD) DWConv(s *ConvShape, in, w, bias, out []float32, act Act) {
	if s.OutH <= 0 || s.OutW <= 0 || s.InC <= 0 {
		return
	}
	checkWindow("DWConv", s, in, out)
	need("DWConv", "weights", len(w), s.KH*s.KW*s.InC)
	if bias != nil {
		need("DWConv", "bias", len(bias), s.InC)
	}
	k.m.dwconv.Invoke(shapeAddr(s), addr(in), addr(w), addr(bias), addr(out), int(simdAct(act)))
	runtime.KeepAlive(s)
	runtime.KeepAlive(in)
	runtime.KeepAlive(w)
	runtime.KeepAlive(bias)
	if act == ActSigmoid {
		f32ActivateGo(out[:s.OutH*s.OutW*s.InC], act)
	}
	runtime.KeepAlive(out)
}

// MaxPool implements Kernels with f32_maxpool__wasmsimd.
func (k WasmSIMD) MaxPool(s *ConvShape, in, out []float32) {
	if s.OutH <= 0 || s.OutW <= 0 || s.InC <= 0 {
		return
	}
	checkWindow("MaxPool", s, in, out)
	k.m.maxpool.Invoke(shapeAddr(s), addr(in), addr(out))
	runtime.KeepAlive(s)
	runtime.KeepAlive(in)
	runtime.KeepAlive(out)
}

// AvgPool implements Kernels with f32_avgpool__wasmsimd.
func (k WasmSIMD) AvgPool(s *ConvShape, in, out []float32, countPad bool) {
	if s.OutH <= 0 || s.OutW <= 0 || s.InC <= 0 {
		return
	}
	checkWindow("AvgPool", s, in, out)
	cp := 0
	if countPad {
		cp = 1
	}
	k.m.avgpool.Invoke(shapeAddr(s), addr(in), addr(out), cp)
	runtime.KeepAlive(s)
	runtime.KeepAlive(in)
	runtime.KeepAlive(out)
}

// GlobalAvgPool implements Kernels with f32_gavgpool__wasmsimd.
func (k WasmSIMD) GlobalAvgPool(hw, c int, in, out []float32) {
	if hw <= 0 || c <= 0 {
		k.Go.GlobalAvgPool(hw, c, in, out)
		return
	}
	need("GlobalAvgPool", "input", len(in), hw*c)
	need("GlobalAvgPool", "output", len(out), c)
	k.m.gavgpool.Invoke(hw, c, addr(in), addr(out))
	runtime.KeepAlive(in)
	runtime.KeepAlive(out)
}

// Add implements Kernels with f32_vadd__wasmsimd.
func (k WasmSIMD) Add(x, y, out []float32, act Act) {
	n := len(x)
	if n == 0 {
		return
	}
	need("Add", "y", len(y), n)
	need("Add", "out", len(out), n)
	k.m.vadd.Invoke(n, addr(x), addr(y), addr(out), int(simdAct(act)))
	runtime.KeepAlive(x)
	runtime.KeepAlive(y)
	if act == ActSigmoid {
		f32ActivateGo(out[:n], act)
	}
	runtime.KeepAlive(out)
}

// MulChannels implements Kernels with f32_vmulc__wasmsimd.
func (k WasmSIMD) MulChannels(hw, c int, x, scale, out []float32) {
	if hw <= 0 || c <= 0 {
		return
	}
	need("MulChannels", "x", len(x), hw*c)
	need("MulChannels", "scale", len(scale), c)
	need("MulChannels", "out", len(out), hw*c)
	k.m.vmulc.Invoke(hw, c, addr(x), addr(scale), addr(out))
	runtime.KeepAlive(x)
	runtime.KeepAlive(scale)
	runtime.KeepAlive(out)
}

// Activate implements Kernels with f32_vact__wasmsimd; Sigmoid runs in Go.
func (k WasmSIMD) Activate(x []float32, act Act) {
	if len(x) == 0 || act == ActNone || act == ActSigmoid {
		f32ActivateGo(x, act)
		return
	}
	k.m.vact.Invoke(len(x), addr(x), int(act))
	runtime.KeepAlive(x)
}

// Im2Col implements Kernels with f32_im2col__wasmsimd.
func (k WasmSIMD) Im2Col(s *ConvShape, in []float32, c0, cin int, cols []float32) {
	if s.OutH <= 0 || s.OutW <= 0 || cin <= 0 || s.KH <= 0 || s.KW <= 0 {
		return
	}
	if c0 < 0 || c0+cin > s.InC {
		panic(fmt.Sprintf("kernels: Im2Col: channels [%d, %d) outside the input's %d", c0, c0+cin, s.InC))
	}
	need("Im2Col", "input", len(in), s.InH*s.InW*s.InC)
	need("Im2Col", "cols", len(cols), s.OutH*s.OutW*s.KH*s.KW*cin)
	k.m.im2col.Invoke(shapeAddr(s), addr(in), c0, cin, addr(cols))
	runtime.KeepAlive(s)
	runtime.KeepAlive(in)
	runtime.KeepAlive(cols)
}

// wasmExact is the pure-Go kernels with the GEMM replaced by the SIMD
// module's f32_gemm_4x8_exact, which does per output the same float32
// multiplies and adds in the same order as the Go GEMM (no fused
// multiply-add, bias added after the sum), so its results are Go's bit for
// bit at SIMD speed. Every other kernel is Go's own.
type wasmExact struct {
	Go
	gemm js.Value
}

// newWasmExact returns the exact kernels over the module published on
// globalThis.__glimpseSIMD, and false when there is none or it lacks the
// exact GEMM.
func newWasmExact() (wasmExact, bool) {
	v := simdModule()
	if v.Type() != js.TypeObject {
		return wasmExact{}, false
	}
	g := v.Get("f32_gemm_4x8_exact")
	if g.Type() != js.TypeFunction {
		return wasmExact{}, false
	}
	return wasmExact{gemm: g}, true
}

// Name implements Kernels.
func (k wasmExact) Name() string { return "wasmsimdexact" }

// GEMM implements Kernels with f32_gemm_4x8_exact over the pure-Go
// kernels' panels; Sigmoid is applied afterwards in Go, as Go's GEMM does.
func (k wasmExact) GEMM(m, n, kk int, a []float32, lda int, b []float32, bias []float32, c []float32, ldc int, act Act) {
	if m <= 0 || n <= 0 {
		return
	}
	if kk > 0 {
		need("GEMM", "a", len(a), (m-1)*lda+kk)
	}
	need("GEMM", "b", len(b), (n+goGEMMNR-1)/goGEMMNR*goGEMMNR*kk)
	need("GEMM", "c", len(c), (m-1)*ldc+n)
	if bias != nil {
		need("GEMM", "bias", len(bias), n)
	}
	k.gemm.Invoke(m, n, kk, addr(a), lda, addr(b), addr(bias), addr(c), ldc, int(simdAct(act)))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(bias)
	if act == ActSigmoid {
		for i := 0; i < m; i++ {
			f32ActivateGo(c[i*ldc:i*ldc+n], act)
		}
	}
	runtime.KeepAlive(c)
}
