package convert

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// The fixtures and torch's outputs come from testdata/make_fixtures.py.
const onnxFixtures = "testdata/onnx"

// relL2 is ||got-want|| / ||want||.
func relL2(got []float32, want []float64) float64 {
	var num, den float64
	for i, w := range want {
		d := float64(got[i]) - w
		num += d * d
		den += w * w
	}
	return math.Sqrt(num / den)
}

func argmax[T float32 | float64](v []T) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// TestONNXMobileNetV2MatchesTorch converts torchvision's MobileNetV2
// (width 0.5, batch norm unfolded, exported by torch at opset 13) and runs
// it on photographs preprocessed as the converted file says, against
// torch's probabilities and pooled features.
func TestONNXMobileNetV2MatchesTorch(t *testing.T) {
	g, err := FromONNX(filepath.Join(onnxFixtures, "mobilenet_v2_w0.5.onnx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref := mobileNetV2Refs(t)
	want := ir.TorchvisionPreprocess(224, 224)
	if g.Meta.Preprocess != want || want.ResizeTo != 256 || g.InputShape != (ir.Shape{224, 224, 3}) {
		t.Fatalf("preprocess %+v input %v, want %+v at 224x224x3", g.Meta.Preprocess, g.InputShape, want)
	}
	if g.Meta.Architecture != "mobilenet_v2" || g.Meta.Source != "onnx:mobilenet_v2_w0.5.onnx" {
		t.Errorf("architecture %q source %q", g.Meta.Architecture, g.Meta.Source)
	}
	if p := g.Producer(g.Meta.Embedding); p == nil || p.Op != ir.GlobalAvgPool {
		t.Fatalf("embedding %q is not a global pool's output", g.Meta.Embedding)
	}
	g.Outputs = append(g.Outputs, g.Meta.Embedding) // the engine keeps only outputs
	e, err := engine.New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, g.InputShape.Size())
	var worstP, worstF float64
	for _, r := range ref.References {
		img, err := imageprep.DecodeFile(filepath.Join(onnxFixtures, r.Photo))
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() != 256 || b.Dy() != 256 {
			t.Fatalf("%s is %v, want 256x256", r.Photo, b)
		}
		if err := imageprep.Prepare(img, g.Meta.Preprocess, g.InputShape, in); err != nil {
			t.Fatal(err)
		}
		if err := e.Run(in); err != nil {
			t.Fatal(err)
		}
		p := e.Output(g.Outputs[0])
		f := e.Output(g.Meta.Embedding)
		ep, ef := relL2(p, r.Probabilities), relL2(f, r.Features)
		worstP, worstF = max(worstP, ep), max(worstF, ef)
		if ep > 1e-3 || ef > 1e-3 {
			t.Errorf("%s: relative L2 error of probabilities %.2g, features %.2g, want <= 1e-3", r.Photo, ep, ef)
		}
		if argmax(p) != argmax(r.Probabilities) {
			t.Errorf("%s: top-1 %d, torch %d", r.Photo, argmax(p), argmax(r.Probabilities))
		}
	}
	t.Logf("%d photos: worst relative L2 error %.2g (probabilities), %.2g (pooled features)", len(ref.References), worstP, worstF)
}

// mobileNetV2Ref is torch's output on one photo, from
// testdata/onnx/mobilenet_v2_w0.5.json.
type mobileNetV2Ref struct {
	Photo         string
	Probabilities []float64
	Features      []float64
}

func mobileNetV2Refs(t *testing.T) struct{ References []mobileNetV2Ref } {
	t.Helper()
	var ref struct{ References []mobileNetV2Ref }
	data, err := os.ReadFile(filepath.Join(onnxFixtures, "mobilenet_v2_w0.5.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.References) < 6 {
		t.Fatalf("%d reference photos, want at least 6", len(ref.References))
	}
	return ref
}

// TestONNXMobileNetV2Int8KeepsTop1 writes the converted MobileNetV2 with
// int8 weights (one scale per output channel), reads it back and checks
// that every photo keeps torch's float32 top-1. The fixture gives each
// photo its own class, so the test also fails if the photos stop
// mattering.
func TestONNXMobileNetV2Int8KeepsTop1(t *testing.T) {
	g, err := FromONNX(filepath.Join(onnxFixtures, "mobilenet_v2_w0.5.onnx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ref := mobileNetV2Refs(t)
	var f32, int8 bytes.Buffer
	if err := format.Write(&f32, g, format.Options{DType: "f32"}); err != nil {
		t.Fatal(err)
	}
	if err := format.Write(&int8, g, format.Options{DType: "int8"}); err != nil {
		t.Fatal(err)
	}
	// Kernels are nearly all of the bytes: int8 must store them in about a
	// quarter of f32's, or the weights were not quantized at all.
	if int8.Len()*3 > f32.Len() {
		t.Fatalf("int8 file %d bytes, f32 %d: the kernels were not stored as int8", int8.Len(), f32.Len())
	}
	q, err := format.Read(bytes.NewReader(int8.Bytes()), int64(int8.Len()), "mobilenet_v2_w0.5 int8")
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(q, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, q.InputShape.Size())
	classes := map[int]bool{}
	var worst float64
	for _, r := range ref.References {
		img, err := imageprep.DecodeFile(filepath.Join(onnxFixtures, r.Photo))
		if err != nil {
			t.Fatal(err)
		}
		if err := imageprep.Prepare(img, q.Meta.Preprocess, q.InputShape, in); err != nil {
			t.Fatal(err)
		}
		if err := e.Run(in); err != nil {
			t.Fatal(err)
		}
		p := e.Output(q.Outputs[0])
		want := argmax(r.Probabilities)
		classes[want] = true
		if got := argmax(p); got != want {
			t.Errorf("%s: int8 top-1 %d (p=%.3f), torch %d (p=%.3f, int8 gives it %.3f)", r.Photo, got, p[got], want, r.Probabilities[want], p[want])
		}
		worst = max(worst, relL2(p, r.Probabilities))
	}
	if len(classes) < 2 {
		t.Fatalf("torch's top-1 is class %v for every photo: the fixture does not depend on the photo", classes)
	}
	t.Logf("int8 file %d bytes (f32 %d); %d photos, %d distinct top-1 classes; worst relative L2 error of probabilities against torch's float32 %.2g",
		int8.Len(), f32.Len(), len(ref.References), len(classes), worst)
}

// TestONNXOpsMatchTorch runs a small network using every op and attribute
// the front end lowers, exported at opsets 11, 13 and 17, against torch.
// Its flatten of a 2x2x12 map into a linear layer checks the CHW-to-HWC
// reordering of the dense rows.
func TestONNXOpsMatchTorch(t *testing.T) {
	var ref struct {
		InputShape []int `json:"input_shape"`
		Input      []float32
		Output     []float64
	}
	data, err := os.ReadFile(filepath.Join(onnxFixtures, "tiny_ops.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	c, h, w := ref.InputShape[1], ref.InputShape[2], ref.InputShape[3]
	in := nchwToNHWC(ref.Input, c, h, w)
	for _, opset := range []int{11, 13, 17} {
		name := filepath.Join(onnxFixtures, "tiny_ops_opset"+map[int]string{11: "11", 13: "13", 17: "17"}[opset]+".onnx")
		g, err := FromONNX(name, Options{})
		if err != nil {
			t.Fatalf("opset %d: %v", opset, err)
		}
		ops := map[ir.Op]bool{}
		for _, n := range g.Nodes {
			ops[n.Op] = true
		}
		for _, op := range []ir.Op{ir.Conv2D, ir.BatchNorm, ir.ReLU6, ir.Concat, ir.MaxPool, ir.AvgPool, ir.Mul, ir.HardSigmoid,
			ir.Pad, ir.Sigmoid, ir.Add, ir.Flatten, ir.Dense, ir.Softmax} {
			if !ops[op] {
				t.Errorf("opset %d: the converted graph has no %s (%s)", opset, op, g.Summary())
			}
		}
		e, err := engine.New(g, kernels.Go{})
		if err != nil {
			t.Fatalf("opset %d: %v", opset, err)
		}
		if err := e.Run(in); err != nil {
			t.Fatal(err)
		}
		got := e.Output(g.Outputs[0])
		if d := relL2(got, ref.Output); d > 1e-5 {
			t.Errorf("opset %d: relative L2 error %.2g against torch (got %v, want %v)", opset, d, got, ref.Output)
		}
	}
}

// nchwToNHWC moves one sample's C x H x W values into H x W x C order.
func nchwToNHWC(x []float32, c, h, w int) []float32 {
	out := make([]float32, len(x))
	for ch := 0; ch < c; ch++ {
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				out[(y*w+xx)*c+ch] = x[(ch*h+y)*w+xx]
			}
		}
	}
	return out
}

// TestONNXDropHead cuts MobileNetV2 at its pooled features: the classifier
// is gone, the output is the embedding, and labels are refused.
func TestONNXDropHead(t *testing.T) {
	path := filepath.Join(onnxFixtures, "mobilenet_v2_w0.5.onnx")
	g, err := FromONNX(path, Options{DropHead: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Outputs) != 1 || g.Outputs[0] != g.Meta.Embedding {
		t.Fatalf("outputs %v, embedding %q", g.Outputs, g.Meta.Embedding)
	}
	for _, n := range g.Nodes {
		if n.Op == ir.Dense || n.Op == ir.Softmax {
			t.Errorf("head layer %s survived", n)
		}
	}
	shapes, err := g.Infer()
	if err != nil {
		t.Fatal(err)
	}
	if s := shapes[g.Outputs[0]]; s != (ir.Shape{1, 1, 1280}) {
		t.Errorf("embedding shape %v, want 1x1x1280", s)
	}
	if _, err := FromONNX(path, Options{DropHead: true, Labels: []string{"a"}}); err == nil {
		t.Error("labels with a dropped head were accepted")
	}
	labels := strings.Split("a b c d e f g h i j", " ")
	g, err = FromONNX(path, Options{Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Meta.Labels) != 10 {
		t.Errorf("labels %v", g.Meta.Labels)
	}
	if _, err := FromONNX(path, Options{Labels: labels[:3]}); err == nil || !strings.Contains(err.Error(), "mobilenet_v2_w0.5.onnx") {
		t.Errorf("3 labels for 10 classes: %v", err)
	}
}
