//go:build js && wasm

package browser

import (
	"bytes"
	"errors"
	"image"
	"math"
	"math/rand/v2"
	"strings"
	"syscall/js"
	"testing"

	"github.com/glimpse-ml/glimpse/core/classifier"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
)

// These run under Node (make test-wasm), which has fetch's Response, Blob,
// Promise and timers but no DOM: ImageData is defined here as the
// browser's is (data, width, height), so that the runtime's own reading
// path runs. Pictures drawn through a canvas are the browser test's
// (tools/js/browser-test.js, app-e2e.js).

func init() {
	if js.Global().Get("ImageData").Type() != js.TypeFunction {
		js.Global().Call("eval", `globalThis.ImageData = class ImageData {
			constructor(data, width, height) { this.data = data; this.width = width; this.height = height; }
		}`)
	}
}

// tiny is a network on 8x8 RGB pictures: a 3x3 convolution to 6 channels
// (ReLU), a global average pool (the embedding) and a dense layer to 3
// classes with a softmax.
func tiny() *ir.Graph {
	rng := rand.New(rand.NewPCG(1, 2))
	r := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.Float64() - 0.5)
		}
		return v
	}
	g := ir.New(ir.Shape{8, 8, 3})
	x := g.AddNode("conv", ir.Conv2D, []string{g.Input}, []string{g.AddTensor("k", []int{3, 3, 3, 6}, r(162)), g.AddTensor("b", []int{6}, r(6))},
		ir.Attrs{Kernel: [2]int{3, 3}, Pads: ir.Pads{1, 1, 1, 1}, Act: ir.ActReLU})
	x = g.AddNode("pool", ir.GlobalAvgPool, []string{x}, nil, ir.Attrs{})
	y := g.AddNode("logits", ir.Dense, []string{x}, []string{g.AddTensor("w", []int{6, 3}, r(18)), g.AddTensor("c", []int{3}, r(3))}, ir.Attrs{})
	y = g.AddNode("softmax", ir.Softmax, []string{y}, nil, ir.Attrs{})
	g.Outputs = []string{y}
	g.Meta = ir.Meta{Architecture: "tiny", Embedding: x, Labels: []string{"a", "b", "c"},
		Preprocess: ir.Preprocess{Resize: ir.ResizeShorter, ResizeTo: 8, Crop: "center", Scale: [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255}, Channels: "RGB"}}
	return g
}

func tinyFile(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := format.Write(&buf, tiny(), format.Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// picture is a w x h noise picture and the same as ImageData.
func picture(seed uint64, w, h int) (*image.NRGBA, js.Value) {
	rng := rand.New(rand.NewPCG(seed, 9))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	data := js.Global().Get("Uint8ClampedArray").New(len(img.Pix))
	js.CopyBytesToJS(data, img.Pix)
	return img, js.Global().Get("ImageData").New(data, w, h)
}

// TestReadModel: a Blob, a Response and an ArrayBuffer (and a Promise of
// either) are read whole, with progress from 0 to 1, never backwards, 1 exactly once; a
// failing status and an empty file are errors naming the file.
func TestReadModel(t *testing.T) {
	data := tinyFile(t)
	blob := js.Global().Get("Blob").New([]any{BytesToJS(data)})
	res := func() js.Value { return js.Global().Get("Response").New(BytesToJS(data)) }
	buf := func() js.Value { return BytesToJS(data).Get("buffer") }
	resolved := func(v js.Value) js.Value { return js.Global().Get("Promise").Call("resolve", v) }
	for _, c := range []struct {
		name string
		src  js.Value
	}{{"blob", blob}, {"response", res()}, {"promise", resolved(res())}, {"arraybuffer", buf()}, {"promised arraybuffer", resolved(buf())}} {
		var fs []float64
		got, err := ReadModel(c.name, c.src, func(f float64, loaded, total int64) { fs = append(fs, f) })
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes read, want %d", c.name, len(got), len(data))
		}
		ones := 0
		for i, f := range fs {
			if f < 0 || f > 1 || (i > 0 && f < fs[i-1]) {
				t.Fatalf("%s: progress %v", c.name, fs)
			}
			if f == 1 {
				ones++
			}
		}
		if len(fs) < 2 || fs[0] != 0 || fs[len(fs)-1] != 1 || ones != 1 {
			t.Fatalf("%s: progress %v", c.name, fs)
		}
	}
	notFound := js.Global().Get("Response").New("gone", map[string]any{"status": 404, "statusText": "Not Found"})
	if _, err := ReadModel("m.glimpse", notFound, nil); err == nil || err.Error() != "m.glimpse: the server answered HTTP 404 Not Found" {
		t.Errorf("404: %v", err)
	}
	if _, err := ReadModel("e.glimpse", js.Global().Get("Blob").New([]any{}), nil); err == nil || !strings.Contains(err.Error(), "e.glimpse: the file is empty") {
		t.Errorf("empty: %v", err)
	}
	if _, err := ReadModel("e.glimpse", js.Global().Get("ArrayBuffer").New(0), nil); err == nil || !strings.Contains(err.Error(), "e.glimpse: the file is empty") {
		t.Errorf("empty buffer: %v", err)
	}
	if _, err := ReadModel("x", js.ValueOf(3), nil); err == nil {
		t.Error("a number read as a model")
	}
}

// TestModelThroughTheRuntime: a model opened by the runtime and fed
// ImageData of any shape embeds and classifies as core/model does on the
// same pixels; bad pictures are errors and the next call works.
func TestModelThroughTheRuntime(t *testing.T) {
	rt := New()
	m, err := rt.Open("tiny.glimpse", tinyFile(t), false)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := model.New("tiny", tiny(), kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	info := m.Info()
	if info.EmbeddingSize != 6 || !info.HasClassifier || info.Kernels != "go" || !strings.HasPrefix(info.Hash, "crc32c:") || info.Preprocess.Crop != "center" {
		t.Fatalf("info %+v", info)
	}
	for i, size := range [][2]int{{8, 8}, {20, 8}, {7, 31}} {
		img, data := picture(uint64(i), size[0], size[1])
		got, err := m.Embed(data)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := ref.Embed(img)
		for j := range want {
			if got[j] != want[j] {
				t.Fatalf("%dx%d: embedding %v, core/model %v", size[0], size[1], got, want)
			}
		}
		preds, err := m.Classify(data, 0)
		wantP, _ := ref.Classify(img, 0)
		if err != nil || len(preds) != 3 || preds[0] != wantP[0] {
			t.Fatalf("classify %v %v, want %v", preds, err, wantP)
		}
	}
	_, empty := picture(1, 1, 1)
	empty.Set("width", 0)
	for what, src := range map[string]js.Value{
		"0x1 pixels: nothing to see": empty, "expected an HTMLImageElement": js.ValueOf(map[string]any{"width": 3}),
	} {
		if _, err := m.Embed(src); err == nil || !strings.Contains(err.Error(), what) {
			t.Errorf("want %q, got %v", what, err)
		}
	}
	_, short := picture(2, 4, 4)
	short.Set("width", 5)
	if _, err := m.Embed(short); err == nil || !strings.Contains(err.Error(), "needs 80 bytes, got 64") {
		t.Errorf("short pixels: %v", err)
	}
	m.Close()
	if _, err := m.Embed(short); err == nil || !strings.Contains(err.Error(), "disposed") {
		t.Errorf("closed model: %v", err)
	}
}

// TestClassifierYieldsAndTrainsAlike: training through the runtime, which
// yields to the event loop after every epoch, gives core/classifier's
// head bit for bit, and the export is written by the one rule.
func TestClassifierYieldsAndTrainsAlike(t *testing.T) {
	rt := New()
	m, err := rt.Open("tiny.glimpse", tinyFile(t), false)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := train.Preset("tm")
	cfg.Epochs, cfg.Seed = 6, 3
	c, err := m.NewClassifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := classifier.New(m.m, cfg)
	for i := 0; i < 12; i++ {
		img, data := picture(uint64(10+i), 9+i%3, 8)
		label := []string{"x", "y"}[i%2]
		if err := c.AddFrom(data, label, 1, 5); err != nil {
			t.Fatal(err)
		}
		if _, err := ref.AddPicture(img, label, 1, 5); err != nil {
			t.Fatal(err)
		}
	}
	// A microtask queued during an epoch runs before the next: the runtime
	// hands control back to the event loop between epochs (a runtime that
	// trained every epoch in one call would run them all at the end). A
	// timer would not do: the runtime yields through a posted message,
	// which an event loop may serve before a timer that is due.
	ticks := 0
	tick := js.FuncOf(func(js.Value, []js.Value) any { ticks++; return nil })
	defer tick.Release()
	epochs := 0
	r, err := c.Train(cfg, func(e train.Epoch) bool {
		if ticks != epochs {
			t.Errorf("epoch %d: %d timers ran", e.Epoch, ticks)
		}
		epochs++
		js.Global().Call("queueMicrotask", tick)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ref.Train(cfg, nil); err != nil {
		t.Fatal(err)
	}
	if len(r.History) != 6 || ticks != 6 {
		t.Fatalf("%d epochs, %d timers", len(r.History), ticks)
	}
	for i, w := range ref.Head().W2 {
		if c.Head().W2[i] != w {
			t.Fatalf("W2[%d] = %v, core/classifier's %v", i, c.Head().W2[i], w)
		}
	}
	a, _ := c.Export()
	b, _ := ref.Export()
	if !bytes.Equal(a, b) {
		t.Error("the runtime's export differs from core/classifier's")
	}
	if _, err := m.Export(c.Head()); err != nil {
		t.Error(err)
	}
}

// TestBoundary: errors and panics become {error} and rejected Promises.
func TestBoundary(t *testing.T) {
	r := Guard(func() (any, error) { panic("boom") }).(map[string]any)
	if r["error"] != "internal error: boom" {
		t.Errorf("panic: %v", r)
	}
	r = Guard(func() (any, error) { return 7, nil }).(map[string]any)
	if r["value"] != 7 {
		t.Errorf("value: %v", r)
	}
	_, err := Await(Promise(func() (any, error) { return nil, errors.New("no") }))
	if err == nil || err.Error() != "no" {
		t.Errorf("rejection: %v", err)
	}
	v, err := Await(Promise(func() (any, error) { Yield(); return "yes", nil }))
	if err != nil || v.String() != "yes" {
		t.Errorf("resolution: %v %v", v, err)
	}
	if _, err := Await(Promise(func() (any, error) { panic("bad") })); err == nil || !strings.Contains(err.Error(), "internal error: bad") {
		t.Errorf("panic in a Promise: %v", err)
	}
	if _, err := Call(js.Global().Get("JSON"), "parse", "{"); err == nil || !strings.Contains(err.Error(), "SyntaxError") {
		t.Errorf("a throwing call: %v", err)
	}
}

// TestInside: any layer's values on a picture, as core/model computes the
// network's embedding (the pooled value) and a plain loop the convolution
// before it (its global average is the embedding); a value the network
// lacks is an error naming it.
func TestInside(t *testing.T) {
	rt := New()
	m, err := rt.Open("tiny.glimpse", tinyFile(t), false)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := model.New("tiny", tiny(), kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	img, data := picture(3, 20, 8)
	v, err := m.Inside(data, []string{"conv", "pool"})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ref.Embed(img)
	if v.Shapes[0] != (ir.Shape{8, 8, 6}) || v.Shapes[1] != (ir.Shape{1, 1, 6}) {
		t.Fatalf("shapes %v", v.Shapes)
	}
	for c := range 6 {
		var sum float64
		for p := range 64 {
			sum += float64(v.Data[0][p*6+c])
		}
		if v.Data[1][c] != want[c] || math.Abs(sum/64-float64(want[c])) > 1e-5 {
			t.Errorf("channel %d: pooled %v, mean of the map %v, core/model %v", c, v.Data[1][c], sum/64, want[c])
		}
	}
	if _, err := m.Inside(data, []string{"nowhere"}); err == nil || !strings.Contains(err.Error(), `"nowhere"`) {
		t.Errorf("an unknown value: %v", err)
	}
}
