package classifier

import (
	"bytes"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
)

// uniformSamples draws samples from uniform noise around per-class
// centres with rand.Float64 only: plain arithmetic on the generator's
// bits, the same on every platform (NormFloat64's tails call math.Exp,
// which is assembly on amd64).
func uniformSamples(k, n, dim int) *train.Samples {
	rng := rand.New(rand.NewPCG(42, 42))
	s := &train.Samples{Dim: dim, Labels: []string{"cat", "dog", "fox", "owl"}[:k]}
	centre := make([]float32, k*dim)
	for i := range centre {
		centre[i] = float32(rng.Float64())
	}
	for i := 0; i < n; i++ {
		for c := 0; c < k; c++ {
			for j := 0; j < dim; j++ {
				s.X = append(s.X, centre[c*dim+j]+float32(rng.Float64()-0.5))
			}
			s.Y = append(s.Y, c)
		}
	}
	return s
}

// TestClassifierTrainsAsTheFolderPath: examples added in any interleaving
// train the same head, bit for bit, as Train on the samples in folder
// order (classes sorted, examples in the order added), which is what
// `glimpse train` builds from a folder.
func TestClassifierTrainsAsTheFolderPath(t *testing.T) {
	s := uniformSamples(3, 12, 12)
	cfg, _ := train.Preset("tm")
	cfg.Epochs, cfg.Hidden, cfg.Seed = 8, 10, 4
	folder := &train.Samples{Labels: s.Labels, Dim: s.Dim}
	for c := range s.Labels {
		for i, y := range s.Y {
			if y == c {
				folder.X = append(folder.X, s.Row(i)...)
				folder.Y = append(folder.Y, c)
			}
		}
	}
	want, err := train.Train(folder, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newClassifier(t, tinyBackbone(rand.New(rand.NewPCG(1, 1))), "tm")
	// Add the classes in reverse and interleaved: fox, cat, dog, fox, ...
	var rows [][]int
	for c := 0; c < 3; c++ {
		var r []int
		for i := range s.Y {
			if s.Y[i] == c {
				r = append(r, i)
			}
		}
		rows = append(rows, r)
	}
	for i := 0; i < 12; i++ {
		for _, cl := range []int{2, 0, 1} {
			r := rows[cl][i]
			if _, err := c.AddExample(s.Row(r), s.Labels[cl]); err != nil {
				t.Fatal(err)
			}
		}
	}
	counts := c.Counts()
	if counts[0].Label != "fox" || counts[0].Examples != 12 {
		t.Fatalf("counts %v", counts)
	}
	if _, err := c.Train(cfg, nil); err != nil {
		t.Fatal(err)
	}
	got := c.Head()
	if strings.Join(got.Labels, ",") != "cat,dog,fox" {
		t.Fatalf("labels %v", got.Labels)
	}
	for i := range want.W1 {
		if got.W1[i] != want.W1[i] {
			t.Fatalf("W1[%d]: classifier %v, folder path %v", i, got.W1[i], want.W1[i])
		}
	}
	for i := range want.W2 {
		if got.W2[i] != want.W2[i] {
			t.Fatalf("W2[%d]: classifier %v, folder path %v", i, got.W2[i], want.W2[i])
		}
	}
	preds, err := c.Predict(s.Row(0), 2)
	p, _ := got.Probabilities(s.Row(0))
	best := slices.Index(p, slices.Max(p))
	if err != nil || len(preds) != 2 || preds[0].ClassName != got.Labels[best] || preds[0].Probability != p[best] || preds[1].Probability > preds[0].Probability {
		t.Fatalf("predict: %v %v; head's probabilities %v", preds, err, p)
	}

	// Views: a view added later sits with its example, and an unknown
	// example or a wrong length is refused.
	if err := c.AddView(s.Row(1), 0); err != nil {
		t.Fatal(err)
	}
	vs := c.Samples()
	if err := vs.Check(); err != nil {
		t.Fatal(err)
	}
	for i, o := range vs.Origin {
		if o != i && (o != i-1 || vs.Y[i] != 2) {
			t.Fatalf("view %d follows example %d, want right after it in class fox", i, o)
		}
	}
	if err := c.AddView(s.Row(1), 999); err == nil {
		t.Error("a view of a missing example accepted")
	}
	if _, err := c.AddExample(make([]float32, 3), "cat"); err == nil {
		t.Error("a short embedding accepted")
	}
	if _, err := c.AddExample(s.Row(0), ""); err == nil {
		t.Error("an empty label accepted")
	}
}

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(scale * (2*rng.Float64() - 1))
	}
	return v
}

// tinyBackbone is a small convolutional network on 16x16 RGB cut at its
// embedding: conv 3x3 (ReLU) to 12 channels, global average pool.
func tinyBackbone(rng *rand.Rand) *ir.Graph {
	g := ir.New(ir.Shape{16, 16, 3})
	x := g.AddNode("conv", ir.Conv2D, []string{g.Input},
		[]string{g.AddTensor("conv/kernel", []int{3, 3, 3, 12}, randSlice(rng, 3*3*3*12, 0.5)),
			g.AddTensor("conv/bias", []int{12}, randSlice(rng, 12, 0.1))},
		ir.Attrs{Kernel: [2]int{3, 3}, Pads: ir.Pads{1, 1, 1, 1}, Act: ir.ActReLU})
	x = g.AddNode("pool", ir.GlobalAvgPool, []string{x}, nil, ir.Attrs{})
	g.Outputs = []string{x}
	g.Meta = ir.Meta{Architecture: "tiny", Embedding: x, Source: "test",
		Preprocess: ir.Preprocess{Resize: ir.ResizeStretch, Scale: [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255}, Channels: "RGB"}}
	return g
}

// twoLevelBackbone adds a strided convolution after tinyBackbone's, so
// that there is a level below the final 8x8 feature map to pool.
func twoLevelBackbone(rng *rand.Rand) *ir.Graph {
	g := tinyBackbone(rng)
	g.Nodes = g.Nodes[:1]
	x := g.AddNode("conv2", ir.Conv2D, []string{"conv"},
		[]string{g.AddTensor("conv2/kernel", []int{3, 3, 12, 8}, randSlice(rng, 3*3*12*8, 0.3)),
			g.AddTensor("conv2/bias", []int{8}, randSlice(rng, 8, 0.1))},
		ir.Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: ir.Pads{1, 1, 1, 1}, Act: ir.ActReLU})
	x = g.AddNode("pool", ir.GlobalAvgPool, []string{x}, nil, ir.Attrs{})
	g.Outputs = []string{x}
	g.Meta.Embedding = x
	return g
}

func newClassifier(t *testing.T, g *ir.Graph, head string) *Classifier {
	t.Helper()
	m, err := model.New("tiny", g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := train.Preset(head)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// picture is a w x h image whose colour depends on class, with noise.
func picture(rng *rand.Rand, class, w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	base := [][3]int{{220, 40, 40}, {40, 200, 60}, {50, 60, 230}}[class]
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var c [3]uint8
			for i := range c {
				c[i] = uint8(min(max(base[i]+rng.IntN(61)-30+(x-y)*class, 0), 255))
			}
			img.Set(x, y, color.NRGBA{c[0], c[1], c[2], 255})
		}
	}
	return img
}

// TestExportPredictsAsTheClassifier: pictures added with their views,
// trained, exported and read back through core/model classify as the
// classifier predicts; before training nothing exports.
func TestExportPredictsAsTheClassifier(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, head := range []string{"linear", "strong"} {
		c := newClassifier(t, twoLevelBackbone(rand.New(rand.NewPCG(1, 1))), head)
		var pics []image.Image
		for i := 0; i < 4; i++ {
			for cl, name := range []string{"red", "green", "blue"} {
				p := picture(rng, cl, 20, 14)
				pics = append(pics, p)
				if _, err := c.AddPicture(p, name, 1, 3); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n := c.Samples().Len(); n != 24 {
			t.Fatalf("%s: %d rows, want 12 examples and 12 views", head, n)
		}
		if _, err := c.Export(); err == nil {
			t.Fatal("export before training accepted")
		}
		cfg := c.Config()
		cfg.Epochs = 10
		if _, err := c.Train(cfg, nil); err != nil {
			t.Fatal(err)
		}
		data, err := c.Export()
		if err != nil {
			t.Fatal(err)
		}
		back, err := model.FromBytes("export", data, model.Options{Kernels: kernels.Go{}})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pics[:3] {
			got, _ := back.Classify(p, 0)
			want, err := c.PredictPicture(p, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if got[i].ClassName != want[i].ClassName || math.Abs(got[i].Probability-want[i].Probability) > 1e-5 {
					t.Fatalf("%s: exported model says %v, classifier %v", head, got, want)
				}
			}
		}
		// The confusion matrix counts the examples (not the views) by
		// the head's most probable class, as a plain loop does.
		conf, err := c.Confusion()
		if err != nil {
			t.Fatal(err)
		}
		s := c.Samples()
		want := make([][]int, 3)
		for i := range want {
			want[i] = make([]int, 3)
		}
		for i := 0; i < s.Len(); i++ {
			if s.Origin[i] == i {
				p, _ := c.Probabilities(s.Row(i))
				want[s.Y[i]][slices.Index(p, slices.Max(p))]++
			}
		}
		for i := range want {
			if !slices.Equal(conf[i], want[i]) {
				t.Fatalf("%s: confusion %v, want %v", head, conf, want)
			}
		}
		wantDim := 8
		if head == "strong" {
			wantDim = 12 + 8 // the 16x16 level's average, then the embedding
		}
		if c.Dim() != wantDim || back.EmbeddingSize() != wantDim {
			t.Fatalf("%s: features of %d (exported %d), want %d", head, c.Dim(), back.EmbeddingSize(), wantDim)
		}
	}
	// A multi-level head on a backbone with one level is refused clearly.
	m, _ := model.New("tiny", tinyBackbone(rand.New(rand.NewPCG(1, 1))), kernels.Go{})
	cfg, _ := train.Preset("strong")
	if _, err := New(m, cfg); err == nil || !strings.Contains(err.Error(), "multi-level") {
		t.Fatalf("strong head on a one-level backbone: %v", err)
	}
}

// TestExportDType: a trained model is stored as its backbone's file
// stores most of its weight bytes, f16 for a backbone on an 8-bit grid;
// the head's kernels too, read back from the file's own tensor table.
func TestExportDType(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	g := tinyBackbone(rng)
	// Put the convolution's weights on an 8-bit grid, as TF.js's uint8
	// manifests do: int8 storage then keeps them as u8.
	w := g.Tensors["conv/kernel"].Data
	for i := range w {
		q := []int{0, 255}[min(i, 1)]
		if i > 1 {
			q = rng.IntN(256)
		}
		w[i] = float32(-0.5 + float64(q)*(1.0/255))
	}
	for _, tc := range []struct{ stored, backbone, head string }{
		{"f32", "f32", "f32"}, {"f16", "u8", "f16"}, {"int8", "u8", "f16"},
	} {
		var file bytes.Buffer
		if err := format.Write(&file, g, format.Options{DType: tc.stored}); err != nil {
			t.Fatal(err)
		}
		m, err := model.FromBytes("backbone", file.Bytes(), model.Options{Kernels: kernels.Go{}})
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := train.Preset("tm")
		cfg.Epochs = 2
		c, _ := New(m, cfg)
		for i := 0; i < 3; i++ {
			for cl, name := range []string{"red", "green"} {
				if _, err := c.AddPicture(picture(rng, cl, 16, 16), name, 0, 1); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := c.Train(cfg, nil); err != nil {
			t.Fatal(err)
		}
		data, err := c.Export()
		if err != nil {
			t.Fatal(err)
		}
		info, err := format.Inspect(bytes.NewReader(data), int64(len(data)), "export")
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range info.Tensors {
			want := map[bool]string{true: tc.head, false: tc.backbone}[strings.HasPrefix(ti.Name, "head/")]
			if len(ti.Shape) > 1 && ti.DType.String() != want {
				t.Errorf("backbone stored %s: tensor %s is %s, want %s", tc.stored, ti.Name, ti.DType, want)
			}
		}
	}
	// A model with no file behind it exports f32.
	m, _ := model.New("tiny", g, kernels.Go{})
	if d := ExportDType(m); d != "f32" {
		t.Errorf("a model from a graph exports %s", d)
	}
}
