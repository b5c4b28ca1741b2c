//go:build js && wasm

package kernels

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

// TestInt8WasmSIMDLoaded checks that the int8 kernels BestInt8 picks are
// the ones the runner loaded, so a run meant to test the module cannot
// silently test Int8Go. Under the relaxed module the relaxed-dot GEMM is
// used only where the probe found the engine's instruction exact: always
// in Chromium (tools/js/go-wasm-chromium sets GLIMPSE_WASM_HOST), not in
// Node 20, whose V8 gets it wrong (there the dot_i16x8 GEMM runs).
func TestInt8WasmSIMDLoaded(t *testing.T) {
	loaded, ok := os.LookupEnv("GLIMPSE_SIMD_LOADED")
	if !ok {
		t.Skip("not run by tools/js/go-wasm-exec or go-wasm-chromium: no SIMD module was loaded")
	}
	got := BestInt8().Name()
	want := map[string]string{"relaxed": "wasmrelaxedsimd", "simd": "wasmsimd", "none": "go"}[loaded]
	if loaded == "relaxed" && os.Getenv("GLIMPSE_WASM_HOST") != "chromium" && got == "wasmsimd" {
		t.Logf("this engine's relaxed dot product failed the probe: the int8 GEMM uses dot_i16x8")
		return
	}
	if got != want {
		t.Fatalf("runner loaded %q, BestInt8 is %q, want %q", loaded, got, want)
	}
}

// TestInt8WasmSIMDMobileNetShapes runs the module's GEMM and depthwise
// convolution at MobileNetV2's sizes (long K loops, several row blocks,
// many panels, the stem's K = 27) against the naive integer reference.
func TestInt8WasmSIMDMobileNetShapes(t *testing.T) {
	impl, ok := newInt8WasmSIMD()
	if !ok {
		t.Skip("no SIMD module loaded")
	}
	r := rand.New(rand.NewPCG(21, 22))
	for _, sz := range [][3]int{{49, 320, 960}, {49, 1280, 320}, {196, 64, 384}, {1, 1001, 1280}, {3136, 24, 144}, {12544, 32, 27}} {
		m, n, k := sz[0], sz[1], sz[2]
		aZero := qs8Zeros[r.IntN(len(qs8Zeros))]
		a := randInt8(r, m*k, -128, 127)
		b := randInt8(r, k*n, -127, 127)
		bias := make([]int32, n)
		for j := range bias {
			bias[j] = int32(r.IntN(200001) - 100000)
		}
		mult := qs8Mults(r, n, k)
		o := qs8Outs(r)[1]
		c := guardedInt8(m * n)
		impl.QS8GEMM(m, a, k, impl.PackQS8GEMM(b, k, n, bias, mult, aZero), c, n, o)
		checkInt8(t, fmt.Sprintf("%s gemm %v", impl.Name(), sz), c, func(i int) int { return i }, naiveQS8GEMM(m, n, k, a, k, aZero, b, bias, mult, o))
	}
	for _, sh := range [][4]int{{112, 32, 1, 1}, {112, 96, 2, 0}, {56, 144, 1, 1}, {14, 576, 1, 1}, {7, 960, 1, 1}} {
		hw, c, st, pad := sh[0], sh[1], sh[2], sh[3]
		s := ConvShape{InH: hw, InW: hw, InC: c, OutC: c, KH: 3, KW: 3, SH: st, SW: st, DH: 1, DW: 1, PadTop: pad, PadLeft: pad, PadBottom: 1, PadRight: 1}
		s.OutH = (hw+pad+1-3)/st + 1
		s.OutW = s.OutH
		inZero := qs8Zeros[r.IntN(len(qs8Zeros))]
		in := randInt8(r, hw*hw*c, -128, 127)
		w := randInt8(r, 9*c, -127, 127)
		bias := make([]int32, c)
		for j := range bias {
			bias[j] = int32(r.IntN(20001) - 10000)
		}
		mult := qs8Mults(r, c, 9)
		o := qs8Outs(r)[1]
		out := guardedInt8(s.OutH * s.OutW * c)
		impl.QS8DWConv(&s, in, inZero, impl.PackQS8DWConv(w, 3, 3, c, bias, mult), out, o)
		checkInt8(t, fmt.Sprintf("%s dwconv %+v", impl.Name(), s), out, func(i int) int { return i }, naiveQS8DWConv(&s, in, inZero, w, bias, mult, o))
	}
}
