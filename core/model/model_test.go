package model_test

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
)

// pooled is a network on 4x6 RGB pictures: a global average pool (the
// embedding) and a dense layer to 3 classes, with or without a softmax.
// Its output is easy to compute with plain loops.
func pooled(softmax bool) (*ir.Graph, []float32, []float32) {
	rng := rand.New(rand.NewPCG(3, 3))
	w := make([]float32, 9)
	b := make([]float32, 3)
	for i := range w {
		w[i] = float32(rng.Float64()*4 - 2)
	}
	for i := range b {
		b[i] = float32(rng.Float64() - 0.5)
	}
	g := ir.New(ir.Shape{4, 6, 3})
	x := g.AddNode("pool", ir.GlobalAvgPool, []string{g.Input}, nil, ir.Attrs{})
	x = g.AddNode("logits", ir.Dense, []string{x}, []string{g.AddTensor("w", []int{3, 3}, w), g.AddTensor("b", []int{3}, b)}, ir.Attrs{})
	if softmax {
		x = g.AddNode("softmax", ir.Softmax, []string{x}, nil, ir.Attrs{})
	}
	g.Outputs = []string{x}
	g.Meta = ir.Meta{Architecture: "pooled", Embedding: "pool", Labels: []string{"red", "green"},
		Preprocess: ir.Preprocess{Resize: ir.ResizeStretch, Scale: [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255}, Channels: "RGB"}}
	return g, w, b
}

// flat is a w x h picture of one colour.
func flat(w, h int, c [3]uint8) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c[0], c[1], c[2], 255
	}
	return img
}

// naive is the network's probabilities for a flat picture, in float64.
func naive(c [3]uint8, w, b []float32) []float64 {
	z := make([]float64, 3)
	mx := math.Inf(-1)
	for j := range z {
		z[j] = float64(b[j])
		for i := range 3 {
			z[j] += float64(float32(c[i])*float32(1.0/255)) * float64(w[i*3+j])
		}
		mx = max(mx, z[j])
	}
	sum := 0.0
	for j := range z {
		z[j] = math.Exp(z[j] - mx)
		sum += z[j]
	}
	for j := range z {
		z[j] /= sum
	}
	return z
}

// TestClassifyResolvesOnce: probabilities equal a naive float64 softmax
// whether or not the network ends in one; classes without a label get
// "class N"; the embedding comes out of the same run; and the graph New
// is given is not changed.
func TestClassifyResolvesOnce(t *testing.T) {
	for _, softmax := range []bool{false, true} {
		g, w, b := pooled(softmax)
		outputs, nodes := slices.Clone(g.Outputs), len(g.Nodes)
		m, err := model.New("pooled", g, kernels.Go{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(g.Outputs, outputs) || len(g.Nodes) != nodes {
			t.Fatalf("New changed the graph: outputs %v, %d nodes", g.Outputs, len(g.Nodes))
		}
		for _, c := range [][3]uint8{{200, 10, 30}, {0, 255, 90}} {
			preds, err := m.Classify(flat(9, 5, c), 0)
			if err != nil {
				t.Fatal(err)
			}
			want := naive(c, w, b)
			for i, p := range preds {
				k := slices.Index([]string{"red", "green", "class 2"}, p.ClassName)
				if k < 0 || math.Abs(p.Probability-want[k]) > 1e-6 || (i > 0 && p.Probability > preds[i-1].Probability) {
					t.Fatalf("softmax %v, colour %v: %v, want %v", softmax, c, preds, want)
				}
			}
			top, _ := m.Classify(flat(9, 5, c), 1)
			if len(top) != 1 || top[0] != preds[0] {
				t.Fatalf("top 1 %v of %v", top, preds)
			}
			e, _ := m.Embed(flat(9, 5, c))
			for i := range e {
				if want := float32(c[i]) * float32(1.0/255); math.Abs(float64(e[i]-want)) > 1e-6 {
					t.Fatalf("embedding %v for colour %v", e, c)
				}
			}
		}
	}
}

// TestFromBytesOptions: a file read from memory plans on the kernels
// asked for, takes a preprocessing override (which its Graph then
// carries), knows how its weights were stored, and a truncated file is
// an error naming it.
func TestFromBytesOptions(t *testing.T) {
	g, _, _ := pooled(true)
	g.Meta.Labels = []string{"red", "green", "blue"} // a file names every class
	var buf bytes.Buffer
	if err := format.Write(&buf, g, format.Options{DType: "f16"}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	m, err := model.FromBytes("pooled.glimpse", data, model.Options{Kernels: kernels.Go{}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Kernels().Name() != "go" || m.Info() == nil || m.Info().WeightDType() != format.F16 {
		t.Fatalf("kernels %s, info %v", m.Kernels().Name(), m.Info())
	}
	// A 12x4 picture, black but for its last third: what the network sees
	// of it depends on the rule.
	pic := image.NewNRGBA(image.Rect(0, 0, 12, 4))
	for y := 0; y < 4; y++ {
		for x := 0; x < 12; x++ {
			v := uint8(0)
			if x >= 8 {
				v = 255
			}
			i := pic.PixOffset(x, y)
			pic.Pix[i], pic.Pix[i+1], pic.Pix[i+2], pic.Pix[i+3] = v, v, v, 255
		}
	}
	crop := ir.Preprocess{Resize: ir.ResizeShorter, ResizeTo: 4, Crop: "center", Scale: [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255}, Channels: "RGB"}
	cm, err := model.FromBytes("pooled.glimpse", data, model.Options{Kernels: kernels.Go{}, Preprocess: &crop})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Preprocess() != crop || cm.Graph.Meta.Preprocess != crop || m.Preprocess() != g.Meta.Preprocess {
		t.Fatalf("preprocess %+v, graph's %+v", cm.Preprocess(), cm.Graph.Meta.Preprocess)
	}
	stretched, _ := m.Embed(pic)
	cropped, _ := cm.Embed(pic)
	// Stretched to 6 wide, a third of the picture is white; the centred
	// 6x4 of the 12x4 picture is columns 3 to 8: one white column.
	if math.Abs(float64(stretched[0])-1.0/3) > 0.05 || math.Abs(float64(cropped[0])-1.0/6) > 1e-6 {
		t.Fatalf("stretched mean %v (want about 1/3), cropped %v (want 1/6)", stretched[0], cropped[0])
	}
	_, err = model.FromBytes("cut.glimpse", data[:len(data)/2], model.Options{})
	if err == nil || !strings.Contains(err.Error(), "cut.glimpse") {
		t.Fatalf("truncated file: %v", err)
	}
	c := m.Clone()
	a, _ := m.Classify(flat(3, 3, [3]uint8{9, 99, 199}), 0)
	b, _ := c.Classify(flat(3, 3, [3]uint8{9, 99, 199}), 0)
	if !slices.Equal(a, b) {
		t.Fatalf("clone says %v, model %v", b, a)
	}
}

// TestTop checks the top k against a stable sort of every class by
// probability, descending (ties in class order), on probabilities with
// many ties, for k from one to past the number of classes.
func TestTop(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 5, 40, 1000} {
		labels := make([]string, n)
		probs := make([]float64, n)
		for i := range probs {
			labels[i] = fmt.Sprintf("class %d", i)
			probs[i] = float64(r.IntN(n/2+1)) / float64(n) // ties
		}
		want := make([]model.Prediction, n)
		for i, p := range probs {
			want[i] = model.Prediction{ClassName: labels[i], Probability: p}
		}
		sort.SliceStable(want, func(a, b int) bool { return want[a].Probability > want[b].Probability })
		for _, k := range []int{0, 1, 3, 5, 32, 33, 999, 1000, 1001} {
			got := model.Top(labels, probs, k)
			w := want
			if k > 0 && k < n {
				w = want[:k]
			}
			if !slices.Equal(got, w) {
				t.Fatalf("n=%d k=%d: got %v, want %v", n, k, got, w)
			}
		}
	}
}
