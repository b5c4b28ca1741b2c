//go:build js && wasm

package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"syscall/js"
	"testing"
	"time"
	"unsafe"
)

// TestWasmSIMDLoaded checks that the kernels the runner loaded are the ones
// Best picks, so a run meant to test the SIMD path cannot silently test
// the pure-Go one. tools/js/go-wasm-exec sets GLIMPSE_SIMD_LOADED.
func TestWasmSIMDLoaded(t *testing.T) {
	loaded, ok := os.LookupEnv("GLIMPSE_SIMD_LOADED")
	if !ok {
		t.Skip("not run by tools/js/go-wasm-exec: no SIMD module was loaded")
	}
	want := map[string]string{"relaxed": "wasmrelaxedsimd", "simd": "wasmsimd", "none": "go"}[loaded]
	if got := Best().Name(); got != want {
		t.Fatalf("runner loaded %q, Best is %q, want %q", loaded, got, want)
	}
	if n := len(Available()); (loaded == "none") != (n == 1) {
		t.Errorf("runner loaded %q, %d implementations available", loaded, n)
	}
}

// TestConvShapeLayout pins what the module assumes when it reads a
// ConvShape in place: sixteen 8-byte ints in declaration order.
func TestConvShapeLayout(t *testing.T) {
	var s ConvShape
	offs := []uintptr{
		unsafe.Offsetof(s.InH), unsafe.Offsetof(s.InW), unsafe.Offsetof(s.InC),
		unsafe.Offsetof(s.OutH), unsafe.Offsetof(s.OutW), unsafe.Offsetof(s.OutC),
		unsafe.Offsetof(s.KH), unsafe.Offsetof(s.KW), unsafe.Offsetof(s.SH), unsafe.Offsetof(s.SW),
		unsafe.Offsetof(s.DH), unsafe.Offsetof(s.DW), unsafe.Offsetof(s.PadTop), unsafe.Offsetof(s.PadLeft),
		unsafe.Offsetof(s.PadBottom), unsafe.Offsetof(s.PadRight),
	}
	for i, o := range offs {
		if o != uintptr(8*i) {
			t.Errorf("field %d at offset %d, want %d", i, o, 8*i)
		}
	}
}

func simdOrSkip(t testing.TB) WasmSIMD {
	k, ok := NewWasmSIMD()
	if !ok {
		t.Skip("no SIMD module loaded (run with -exec tools/js/go-wasm-exec)")
	}
	return k
}

// TestWasmSIMDMobileNetShapes runs the GEMM and the depthwise convolution
// at MobileNetV2's real sizes (long K loops, row blocks, many panels)
// against the naive reference.
func TestWasmSIMDMobileNetShapes(t *testing.T) {
	k := simdOrSkip(t)
	r := rand.New(rand.NewPCG(21, 22))
	for _, sh := range [][3]int{{12544, 27, 32}, {3136, 24, 144}, {196, 384, 96}, {49, 320, 1280}, {1, 1280, 1001}} {
		m, kk, n := sh[0], sh[1], sh[2]
		a, b, bias := randSlice(r, m*kk), randSlice(r, kk*n), randSlice(r, n)
		c := guarded(m*n, 17)
		k.GEMM(m, n, kk, a, kk, k.PackGEMMWeights(b, kk, n), bias, c, n, ActReLU6)
		want := naiveGEMM(m, n, kk, a, kk, b, bias, ActReLU6)
		ch := newChecker(t, fmt.Sprintf("GEMM m=%d k=%d n=%d", m, kk, n), c)
		for i, v := range want {
			ch.expect(i, v, kk+1)
		}
		ch.done()
	}
	for _, sh := range []struct{ h, c, s int }{{112, 32, 1}, {112, 96, 2}, {56, 144, 2}, {14, 576, 1}, {7, 960, 1}} {
		s := &ConvShape{InH: sh.h, InW: sh.h, InC: sh.c, OutC: sh.c, KH: 3, KW: 3, SH: sh.s, SW: sh.s, DH: 1, DW: 1}
		s.OutH, s.OutW = (sh.h+sh.s-1)/sh.s, (sh.h+sh.s-1)/sh.s
		if sh.s == 1 {
			s.PadTop, s.PadLeft, s.PadBottom, s.PadRight = 1, 1, 1, 1
		} else {
			s.PadBottom, s.PadRight = 1, 1
		}
		in, w, bias := randSlice(r, sh.h*sh.h*sh.c), randSlice(r, 9*sh.c), randSlice(r, sh.c)
		out := guarded(s.OutH*s.OutW*sh.c, 13)
		k.DWConv(s, in, k.PackDWConvWeights(w, 3, 3, sh.c), bias, out, ActReLU6)
		ch := newChecker(t, fmt.Sprintf("DWConv %+v", *s), out)
		for i, v := range naiveDWConv(s, in, w, bias, ActReLU6) {
			ch.expect(i, v, 10)
		}
		ch.done()
	}
}

// TestWasmSIMDGEMMTiles runs the 4x8 and 6x8 tiles on shapes around
// both tiles' row counts and MobileNetV2's: each agrees with the naive
// reference, and the two give the same bits (each output sums the same
// products in the same order), so the loader's probe changes speed only.
// The probe itself must have picked one of them.
func TestWasmSIMDGEMMTiles(t *testing.T) {
	k := simdOrSkip(t)
	if tile := k.GEMMTile(); tile != "4x8" && tile != "6x8" {
		t.Fatalf("probed tile %q", tile)
	}
	if k4, _ := NewWasmSIMDTile("4x8"); k4.GEMMTile() != "4x8" || k4.Name() != k.Name()+"_4x8" {
		t.Errorf("asked for 4x8, got the %s tile named %s", k4.GEMMTile(), k4.Name())
	}
	k4, _ := NewWasmSIMDTile("4x8")
	k6, _ := NewWasmSIMDTile("6x8")
	r := rand.New(rand.NewPCG(25, 26))
	for _, sh := range [][3]int{{1, 7, 9}, {5, 40, 17}, {6, 3, 8}, {7, 64, 24}, {11, 5, 33}, {12, 16, 16}, {13, 31, 7},
		{49, 160, 960}, {196, 96, 576}, {1, 1280, 1001}, {1, 64, 32}, {1, 33, 200}, {300, 27, 32}} {
		m, kk, n := sh[0], sh[1], sh[2]
		a, b, bias := randSlice(r, m*kk), randSlice(r, kk*n), randSlice(r, n)
		w := k4.PackGEMMWeights(b, kk, n)
		want := naiveGEMM(m, n, kk, a, kk, b, bias, ActReLU6)
		var outs [2][]float32
		for i, kt := range []WasmSIMD{k4, k6} {
			c := guarded(m*n, 11)
			kt.GEMM(m, n, kk, a, kk, w, bias, c, n, ActReLU6)
			ch := newChecker(t, fmt.Sprintf("GEMM %s m=%d k=%d n=%d", kt.GEMMTile(), m, kk, n), c)
			for i, v := range want {
				ch.expect(i, v, kk+1)
			}
			ch.done()
			outs[i] = c
		}
		for i := range outs[0] {
			if math.Float32bits(outs[0][i]) != math.Float32bits(outs[1][i]) {
				t.Errorf("m=%d k=%d n=%d: out[%d] is %v with 4x8, %v with 6x8", m, kk, n, i, outs[0][i], outs[1][i])
				break
			}
		}
		if m != 1 {
			continue
		}
		// A single row takes its own path (four panels at a time): the
		// same row inside a tile gives the same bits.
		a3 := append(append(append([]float32(nil), a...), a...), a...)
		c3 := make([]float32, 3*n)
		k4.GEMM(3, n, kk, a3, kk, w, bias, c3, n, ActReLU6)
		for i := range n {
			if math.Float32bits(c3[n+i]) != math.Float32bits(outs[0][i]) {
				t.Errorf("k=%d n=%d: out[%d] is %v alone, %v in a tile", kk, n, i, outs[0][i], c3[n+i])
				break
			}
		}
	}
	// The probe runs in the background for 1.5 s after load (sleeping
	// hands the thread back to it); once done, new kernels run its pick.
	simd := js.Global().Get("__glimpseSIMD")
	for i := 0; i < 100 && !simd.Get("gemmProbe").Get("done").Truthy(); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	probe := simd.Get("gemmProbe")
	if !probe.Get("done").Truthy() {
		t.Fatal("the GEMM tile probe has not finished 10 s after load")
	}
	t.Logf("the loader's probe picked %s", js.Global().Get("JSON").Call("stringify", probe))
	if k, _ := NewWasmSIMD(); k.GEMMTile() != simd.Get("gemmTile").String() {
		t.Errorf("the probe picked %s, new kernels run %s", simd.Get("gemmTile"), k.GEMMTile())
	}
}

// TestWasmSIMDAfterMemoryGrowth allocates far more than the Go memory
// held when the module was instantiated, so that the memory grows, and
// runs kernels on the new pages: the module must see them through the
// imported memory object.
func TestWasmSIMDAfterMemoryGrowth(t *testing.T) {
	k := simdOrSkip(t)
	big := make([]float32, 64<<20) // 256 MiB: beyond any test's starting memory
	if end := uintptr(unsafe.Pointer(&big[len(big)-1])); end < 256<<20 {
		t.Fatalf("the allocation ends at %#x, below 256 MiB: the memory did not grow", end)
	}
	r := rand.New(rand.NewPCG(23, 24))
	m, kk, n := 33, 40, 19
	tail := big[len(big)-(m*kk+kk*n+n+m*n+31):]
	a, b, bias := tail[:m*kk], tail[m*kk:m*kk+kk*n], tail[m*kk+kk*n:m*kk+kk*n+n]
	for _, s := range [][]float32{a, b, bias} {
		copy(s, randSlice(r, len(s)))
	}
	c := tail[m*kk+kk*n+n:]
	for i := range c {
		c[i] = guarded(1, 0)[0]
	}
	k.GEMM(m, n, kk, a, kk, k.PackGEMMWeights(b, kk, n), bias, c, n, ActNone)
	ch := newChecker(t, "GEMM in grown memory", c)
	for i, v := range naiveGEMM(m, n, kk, a, kk, b, bias, ActNone) {
		ch.expect(i, v, kk+1)
	}
	ch.done()
}

// TestWasmSIMDShortBuffers checks that a buffer too short for the shape
// panics in Go, as the pure-Go kernels do, instead of letting the module
// write past it.
func TestWasmSIMDShortBuffers(t *testing.T) {
	k := simdOrSkip(t)
	s := &ConvShape{InH: 4, InW: 4, InC: 8, OutH: 4, OutW: 4, OutC: 8, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1,
		PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	in, w := make([]float32, 4*4*8), make([]float32, 9*8)
	for name, f := range map[string]func(){
		"GEMM c": func() {
			k.GEMM(4, 8, 2, make([]float32, 8), 2, make([]float32, 16), nil, make([]float32, 31), 8, ActNone)
		},
		"DWConv out":   func() { k.DWConv(s, in, w, nil, make([]float32, 4*4*8-1), ActNone) },
		"MaxPool out":  func() { k.MaxPool(s, in, make([]float32, 10)) },
		"Add out":      func() { k.Add(in, in, make([]float32, 3), ActNone) },
		"Im2Col cols":  func() { k.Im2Col(s, in, 0, 8, make([]float32, 5)) },
		"Im2Col chans": func() { k.Im2Col(s, in, 4, 8, make([]float32, 4*4*9*8)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
