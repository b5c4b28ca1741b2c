//go:build js && wasm

package appworker

import (
	"bytes"
	"image"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"syscall/js"
	"testing"
	"time"

	"github.com/glimpse-ml/glimpse/core/augment"
	"github.com/glimpse-ml/glimpse/core/classifier"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
	"github.com/glimpse-ml/glimpse/wasm/browser"
	"github.com/glimpse-ml/glimpse/web/project"
)

// These run under Node (make test-wasm), with both halves in one program:
// the page's Worker talks to a stand-in object whose postMessage delivers
// to Serve's handler on the next task, and Serve's postMessage delivers
// back the same way, as a Worker's messages arrive. Node has no
// ImageBitmap: pictures are ImageData (defined here as the browser's is),
// which the runtime reads alike. The references are the engine and the
// classifier called directly, as the page did before the Worker.

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
	g.Outputs = []string{x}
	g.Meta = ir.Meta{Architecture: "tiny", Embedding: x,
		Preprocess: ir.Preprocess{Resize: ir.ResizeShorter, ResizeTo: 8, Crop: "center", Scale: [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255}, Channels: "RGB"}}
	return g
}

var (
	setupOnce sync.Once
	worker    *Worker
	modelData []byte
)

// start serves the tiny model at models/tiny.glimpse of the page
// http://page.test/app/ and starts both halves once.
func start(t *testing.T) *Worker {
	t.Helper()
	setupOnce.Do(func() {
		var buf bytes.Buffer
		if err := format.Write(&buf, tiny(), format.Options{}); err != nil {
			t.Fatal(err)
		}
		modelData = buf.Bytes()
		js.Global().Set("__tinyModel", browser.BytesToJS(modelData))
		js.Global().Call("eval", `
			globalThis.ImageData ??= class ImageData {
				constructor(data, width, height) { this.data = data; this.width = width; this.height = height; }
			};
			globalThis.location = { href: "http://page.test/app/" };
			globalThis.fetch = async (url) => url === "http://page.test/app/models/tiny.glimpse"
				? new Response(globalThis.__tinyModel)
				: new Response("gone", { status: 404, statusText: "Not Found" });
			globalThis.__worker = { postMessage(m) { setTimeout(() => globalThis.onmessage({ data: m })); } };
			globalThis.postMessage = (m) => setTimeout(() => globalThis.__worker.onmessage({ data: m }));
		`)
		// Serve says it is ready before the page listens, as it may in
		// a browser: Start hears it from what was kept.
		js.Global().Call("eval", `
			globalThis.__said = [];
			globalThis.__worker.onmessage = ({ data }) => globalThis.__said.push(data);
		`)
		go Serve()
		for js.Global().Get("__said").Length() == 0 {
			browser.Sleep(1)
		}
		worker = Start(js.Global().Get("__worker"), js.Global().Get("__said"))
	})
	return worker
}

func reference(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.FromBytes("tiny.glimpse", modelData, model.Options{Kernels: kernels.Best()})
	if err != nil {
		t.Fatal(err)
	}
	return m
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

// TestWorkerAsTheEngine: the model loads from a URL relative to the page
// with progress; pictures of any shape embed, with their augmented view,
// as the engine does on the same pixels; a head trained in the Worker is
// the classifier's, bit for bit, on the same samples in the same order,
// with the same confusion matrix; its probabilities and exports are the
// head's own.
func TestWorkerAsTheEngine(t *testing.T) {
	w := start(t)
	if _, err := w.Load("models/missing.glimpse", "models/missing.glimpse", "tm", nil); err == nil || !strings.Contains(err.Error(), "models/missing.glimpse: the server answered HTTP 404 Not Found") {
		t.Fatalf("a missing model: %v", err)
	}
	if _, err := w.Embed(js.ValueOf(1), 0, 0, false); err == nil || err.Error() != "no model is loaded" {
		t.Fatalf("embed before a model: %v", err)
	}
	var fs []float64
	info, err := w.Load("models/tiny.glimpse", "models/tiny.glimpse", "tm", func(f float64) { fs = append(fs, f) })
	if err != nil {
		t.Fatal(err)
	}
	ref := reference(t)
	if info.Architecture != "tiny" || info.EmbeddingSize != 6 || info.Hash != ref.Info().Hash() || info.Preprocess != ref.Preprocess().String() || info.Kernels != ref.Engine().Kernels() {
		t.Fatalf("info %+v", info)
	}
	if len(fs) < 2 || fs[len(fs)-1] != 1 {
		t.Fatalf("progress %v", fs)
	}

	for i, size := range [][2]int{{8, 8}, {13, 9}, {9, 21}} {
		img, data := picture(uint64(i), size[0], size[1])
		e, err := w.Embed(data, 1, 7, false)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Embed(img)
		if err != nil {
			t.Fatal(err)
		}
		view, err := augment.Default().View(img, AugmentSeed, 7, 1)
		if err != nil {
			t.Fatal(err)
		}
		wantView, err := ref.Embed(view)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(e.Embedding, want) || len(e.Views) != 1 || !slices.Equal(e.Views[0], wantView) || e.Probabilities != nil {
			t.Fatalf("%dx%d: embedding %v views %v probabilities %v, want %v and %v", size[0], size[1], e.Embedding, e.Views, e.Probabilities, want, wantView)
		}
	}

	// Three classes of four examples, the first of each with a view.
	rng := rand.New(rand.NewPCG(3, 4))
	classes := []string{"zebra", "apple", "mango"}
	s := NewSamples(classes, 6, 12, 3)
	cfg, err := train.Preset("tm")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.BatchSize, cfg.Seed = 8, 4, 1
	clf, err := classifier.New(ref, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for k, name := range classes {
		for i := range 4 {
			e := make([]float32, 6)
			for j := range e {
				e[j] = float32(rng.NormFloat64()) + float32(k*(j%3))
			}
			idx, err := clf.AddExample(e, name)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Add(e, k); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				v := make([]float32, 6)
				for j := range v {
					v[j] = e[j] + 0.1
				}
				if err := clf.AddView(v, idx); err != nil {
					t.Fatal(err)
				}
				if err := s.AddView(v); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	wantReport, err := clf.Train(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantHead, err := project.EncodeHead(clf.Head())
	if err != nil {
		t.Fatal(err)
	}
	wantConf, err := clf.Confusion()
	if err != nil {
		t.Fatal(err)
	}
	var epochs []train.Epoch
	got, err := w.Train(cfg, s, func(es []train.Epoch) { epochs = append(epochs, es...) })
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Head, wantHead) {
		t.Fatal("the Worker's head differs from the classifier's on the same samples")
	}
	if got.Train != wantReport.Train || got.Validation != wantReport.Validation || got.Stopped != wantReport.Stopped ||
		!slices.EqualFunc(got.Confusion, wantConf, slices.Equal) || !slices.Equal(epochs, wantReport.History) {
		t.Fatalf("trained %+v epochs %v, want %+v confusion %v", got, epochs, wantReport, wantConf)
	}

	// The Worker judges with the head it trained, then with none.
	img, data := picture(9, 10, 8)
	e, err := w.Embed(data, 0, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	emb, _ := ref.Embed(img)
	wantP, _ := clf.Head().Probabilities(emb)
	if !slices.Equal(e.Probabilities, wantP) {
		t.Fatalf("probabilities %v, want %v", e.Probabilities, wantP)
	}
	if err := w.SetHead(nil)(); err != nil {
		t.Fatal(err)
	}
	_, data = picture(9, 10, 8)
	if e, err := w.Embed(data, 0, 0, true); err != nil || e.Probabilities != nil {
		t.Fatalf("without a head: %v, %v", e.Probabilities, err)
	}

	file, err := w.Export(got.Head)
	if err != nil {
		t.Fatal(err)
	}
	var wantFile bytes.Buffer
	if err := classifier.Write(&wantFile, clf.Head(), ref, ""); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, wantFile.Bytes()) {
		t.Fatal("the exported model differs from classifier.Write's")
	}
	zip, err := w.ExportTeachable(got.Head, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil || !bytes.HasPrefix(zip, []byte("PK")) {
		t.Fatalf("Teachable Machine zip: %d bytes, %v", len(zip), err)
	}
}

// TestWorkerRefusesBadInput: samples that do not fit the model, a head of
// another size and an unknown request are errors, and the Worker answers
// the next request.
func TestWorkerRefusesBadInput(t *testing.T) {
	w := start(t)
	// The default head reads multi-level features, which the tiny
	// network (one convolution) does not have: its samples are the
	// embedding alone, and the Worker says so.
	info, err := w.Load("models/tiny.glimpse", "tiny", train.DefaultHead, nil)
	if cfg, _ := train.Preset(train.DefaultHead); err != nil || info.SingleLevel != cfg.MultiLevel || info.EmbeddingSize != 6 {
		t.Fatalf("the default head on a single-level backbone: %+v, %v", info, err)
	}
	if _, err := w.Load("models/tiny.glimpse", "tiny", "tm", nil); err != nil {
		t.Fatal(err)
	}
	cfg, _ := train.Preset("tm")
	bad := NewSamples([]string{"a", "b"}, 6, 2, 1)
	if err := bad.Add(make([]float32, 5), 0); err == nil || err.Error() != "a sample has 5 features, the model gives 6" {
		t.Errorf("5 features: %v", err)
	}
	if err := bad.AddView(make([]float32, 6)); err == nil {
		t.Error("a view of no example added")
	}
	if err := bad.Add(make([]float32, 6), 0); err != nil {
		t.Fatal(err)
	}
	if err := bad.Add(make([]float32, 6), 2); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Train(cfg, bad, nil); err == nil || err.Error() != "sample 2 names class 2 of 2" {
		t.Errorf("a class out of range: %v", err)
	}
	other := NewSamples([]string{"a", "b"}, 5, 2, 0)
	for k := range 2 {
		if err := other.Add(make([]float32, 5), k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Train(cfg, other, nil); err == nil || err.Error() != "the samples do not fit the model's 6 features" {
		t.Errorf("samples of 5 features: %v", err)
	}
	h := &train.Head{Labels: []string{"a", "b"}, In: 5, W2: make([]float32, 10), Config: cfg}
	b, err := project.EncodeHead(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SetHead(b)(); err == nil || err.Error() != "the head reads 5 features, the model gives 6" {
		t.Errorf("a head of 5 features: %v", err)
	}
	if _, err := w.call("sing", map[string]any{}, nil); err == nil || err.Error() != `unknown request "sing"` {
		t.Errorf("unknown request: %v", err)
	}
	_, data := picture(1, 8, 8)
	if _, err := w.Embed(data, 0, 0, false); err != nil {
		t.Errorf("after bad input: %v", err)
	}
}
