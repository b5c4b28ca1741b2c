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

// The fixtures and torch's outputs come from testdata/make_pth_fixtures.py.
const pthFixtures = "testdata/pth"

// softmax64 is a plain softmax, the probabilities torch's references hold.
func softmax64(x []float32) []float32 {
	m := x[argmax(x)]
	var sum float64
	out := make([]float32, len(x))
	for _, v := range x {
		sum += math.Exp(float64(v - m))
	}
	for i, v := range x {
		out[i] = float32(math.Exp(float64(v-m)) / sum)
	}
	return out
}

type torchPhotoRefs struct {
	References []struct {
		Photo         string
		Probabilities []float64
		Features      []float64
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

// runPhotos runs g on each reference photo, preprocessed as g says, and
// returns the probabilities (softmax of the logits the graph outputs) and
// the embedding.
func runPhotos(t *testing.T, g *ir.Graph, refs torchPhotoRefs) (probs, feats [][]float32) {
	t.Helper()
	g.Outputs = append(g.Outputs, g.Meta.Embedding) // the engine keeps only outputs
	e, err := engine.New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, g.InputShape.Size())
	for _, r := range refs.References {
		img, err := imageprep.DecodeFile(filepath.Join(pthFixtures, r.Photo))
		if err != nil {
			t.Fatal(err)
		}
		if err := imageprep.Prepare(img, g.Meta.Preprocess, g.InputShape, in); err != nil {
			t.Fatal(err)
		}
		if err := e.Run(in); err != nil {
			t.Fatal(err)
		}
		probs = append(probs, softmax64(e.Output(g.Outputs[0])))
		feats = append(feats, append([]float32(nil), e.Output(g.Meta.Embedding)...))
	}
	return probs, feats
}

// TestPyTorchMobileNetV3SmallMatchesTorch loads torchvision's
// mobilenet_v3_small state_dict (zip format) into the models/ graph and
// runs it on 256x256 photographs under the default preprocessing (centre
// 224 crop), against torch's probabilities and pooled features; then
// stores it as int8 and checks that every photo keeps its top-1 class.
func TestPyTorchMobileNetV3SmallMatchesTorch(t *testing.T) {
	path := filepath.Join(pthFixtures, "mobilenet_v3_small.pth")
	g, err := FromPyTorch(path, "mobilenet_v3_small", 0, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var refs torchPhotoRefs
	readJSON(t, filepath.Join(pthFixtures, "mobilenet_v3_small.json"), &refs)
	if len(refs.References) < 6 {
		t.Fatalf("%d reference photos, want at least 6", len(refs.References))
	}
	want := ir.TorchvisionPreprocess(224, 224)
	if g.Meta.Preprocess != want || want.ResizeTo != 256 || g.InputShape != (ir.Shape{224, 224, 3}) {
		t.Fatalf("preprocess %+v input %v, want %+v at 224x224x3", g.Meta.Preprocess, g.InputShape, want)
	}
	if g.Meta.Architecture != "mobilenet_v3_small" || g.Meta.Source != "pytorch:mobilenet_v3_small.pth" || g.Meta.Width != 1 {
		t.Errorf("architecture %q source %q width %v", g.Meta.Architecture, g.Meta.Source, g.Meta.Width)
	}
	shapes, err := g.Infer()
	if err != nil {
		t.Fatal(err)
	}
	if s := shapes[g.Outputs[0]]; s != (ir.Shape{1, 1, 10}) {
		t.Fatalf("output shape %v, want the file's 10 classes", s)
	}

	var buf bytes.Buffer
	if err := format.Write(&buf, g, format.Options{DType: "int8"}); err != nil {
		t.Fatal(err)
	}
	q, err := format.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "int8")
	if err != nil {
		t.Fatal(err)
	}

	probs, feats := runPhotos(t, g, refs)
	qprobs, _ := runPhotos(t, q, refs)
	var worstP, worstF float64
	for i, r := range refs.References {
		ep, ef := relL2(probs[i], r.Probabilities), relL2(feats[i], r.Features)
		worstP, worstF = max(worstP, ep), max(worstF, ef)
		if ep > 1e-3 || ef > 1e-3 {
			t.Errorf("%s: relative L2 error of probabilities %.2g, features %.2g, want <= 1e-3", r.Photo, ep, ef)
		}
		if argmax(probs[i]) != argmax(r.Probabilities) {
			t.Errorf("%s: top-1 %d, torch %d", r.Photo, argmax(probs[i]), argmax(r.Probabilities))
		}
		if argmax(qprobs[i]) != argmax(r.Probabilities) {
			t.Errorf("%s: int8 top-1 %d, torch %d", r.Photo, argmax(qprobs[i]), argmax(r.Probabilities))
		}
	}
	t.Logf("%d photos: worst relative L2 error %.2g (probabilities), %.2g (pooled features); int8 file %d bytes",
		len(refs.References), worstP, worstF, buf.Len())
}

// TestPyTorchLeNet5 loads LeNet-5 from the legacy (pre-1.6) format and from
// a training checkpoint in the zip format, and runs it on torch's own
// inputs: fc1 reads a flattened 5x5x16 map, so a wrong CHW-to-HWC row
// order would show.
func TestPyTorchLeNet5(t *testing.T) {
	var ref struct {
		References []struct {
			Photo  string
			Input  []float32
			Logits []float64
		}
	}
	readJSON(t, filepath.Join(pthFixtures, "lenet5.json"), &ref)
	for _, file := range []string{"lenet5_legacy.pth", "lenet5_checkpoint.pth"} {
		g, err := FromPyTorch(filepath.Join(pthFixtures, file), "lenet5", 0, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if g.InputShape != (ir.Shape{32, 32, 1}) || g.Meta.Preprocess.Channels != "L" {
			t.Errorf("%s: input %v, preprocess %+v", file, g.InputShape, g.Meta.Preprocess)
		}
		e, err := engine.New(g, kernels.Go{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ref.References {
			if err := e.Run(r.Input); err != nil { // one channel: NCHW and NHWC agree
				t.Fatal(err)
			}
			if d := relL2(e.Output(g.Outputs[0]), r.Logits); d > 1e-5 {
				t.Errorf("%s, %s: relative L2 error %.2g against torch", file, r.Photo, d)
			}
		}
	}
}

// TestPyTorchLabelsAndHead checks the options every front end shares.
func TestPyTorchLabelsAndHead(t *testing.T) {
	path := filepath.Join(pthFixtures, "mobilenet_v3_small.pth")
	labels := strings.Split("a b c d e f g h i j", " ")
	g, err := FromPyTorch(path, "mobilenet_v3_small", 1, Options{Labels: labels, Source: "my weights"})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Meta.Labels) != 10 || g.Meta.Source != "my weights" {
		t.Errorf("labels %v source %q", g.Meta.Labels, g.Meta.Source)
	}
	if _, err := FromPyTorch(path, "mobilenet_v3_small", 0, Options{Labels: labels[:4]}); err == nil ||
		!strings.Contains(err.Error(), "mobilenet_v3_small.pth") || !strings.Contains(err.Error(), "4 labels") {
		t.Errorf("4 labels for 10 classes: %v", err)
	}
	g, err = FromPyTorch(path, "mobilenet_v3_small", 0, Options{DropHead: true})
	if err != nil {
		t.Fatal(err)
	}
	shapes, err := g.Infer()
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Outputs) != 1 || shapes[g.Outputs[0]] != (ir.Shape{1, 1, 576}) {
		t.Errorf("dropped head: outputs %v %v", g.Outputs, shapes[g.Outputs[0]])
	}
}
