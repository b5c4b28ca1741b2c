package train

import (
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
)

var update = flag.Bool("update", false, "rewrite testdata/head-golden.json from a native run")

// uniformSamples draws samples from uniform noise around per-class
// centres with rand.Float64 only: plain arithmetic on the generator's
// bits, the same on every platform (NormFloat64's tails call math.Exp,
// which is assembly on amd64).
func uniformSamples(k, n, dim int) *Samples {
	rng := rand.New(rand.NewPCG(42, 42))
	s := &Samples{Dim: dim, Labels: []string{"cat", "dog", "fox", "owl"}[:k]}
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
	s := uniformSamples(3, 12, 20)
	cfg, _ := Preset("tm")
	cfg.Epochs, cfg.Hidden, cfg.Seed = 8, 10, 4
	folder := &Samples{Labels: s.Labels, Dim: s.Dim}
	for c := range s.Labels {
		for i, y := range s.Y {
			if y == c {
				folder.X = append(folder.X, s.Row(i)...)
				folder.Y = append(folder.Y, c)
			}
		}
	}
	want, err := Train(folder, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := NewClassifier(20)
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
	best := argmax64(p)
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

// TestClassifierExport: the exported bytes load as a model whose
// prediction is the classifier's.
func TestClassifierExport(t *testing.T) {
	backbone := tinyBackbone(rand.New(rand.NewPCG(1, 1)))
	m, _ := model.New("tiny", backbone, kernels.Go{})
	dir := makeFolder(t, 4, nil)
	f, _ := ReadFolder(dir)
	c, _ := NewClassifier(m.EmbeddingSize())
	var first []float32
	for cl, files := range f.Files {
		for _, p := range files {
			img, _ := decodePNG(p)
			e, _ := m.Embed(img)
			if first == nil {
				first = e
			}
			c.AddExample(e, f.Classes[cl])
		}
	}
	if _, err := c.Export(backbone, ""); err == nil {
		t.Fatal("export before training accepted")
	}
	cfg, _ := Preset("linear")
	cfg.Epochs = 10
	if _, err := c.Train(cfg, nil); err != nil {
		t.Fatal(err)
	}
	data, err := c.Export(backbone, "f32")
	if err != nil {
		t.Fatal(err)
	}
	back, err := model.FromBytes("export", data, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	img, _ := decodePNG(f.Files[0][0])
	got, _ := back.Classify(img, 1)
	want, _ := c.Predict(first, 1)
	if got[0].ClassName != want[0].ClassName || math.Abs(got[0].Probability-want[0].Probability) > 1e-5 {
		t.Fatalf("exported model says %v, classifier %v", got, want)
	}
}

// golden is a head in a form JSON carries exactly (float32 values print
// and parse back to the same bits).
type golden struct {
	Platform string `json:"platform"`
	Raw      struct {
		W1, B1, W2 []float64
	} `json:"weights"`
	History []Epoch `json:"history"`
}

// TestSameHeadOnEveryPlatform trains a Teachable-Machine-sized head and
// compares it with the one in testdata/head-golden.json, written natively
// (go test ./core/train -run SameHead -update). Run under GOOS=js (make
// test-wasm), it checks that the browser trains the same head from the
// same samples and seed: within 1e-5, and in practice to the bit, since
// both sides use the pure-Go kernels and expDet/logDet.
func TestSameHeadOnEveryPlatform(t *testing.T) {
	s := uniformSamples(4, 25, 64)
	cfg, _ := Preset("tm")
	cfg.Epochs, cfg.Hidden, cfg.Seed, cfg.LabelSmoothing, cfg.ClassWeights = 12, 24, 77, 0.1, true
	h, err := Train(s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "head-golden.json")
	if *update {
		if runtime.GOOS == "js" {
			t.Fatal("write the golden head natively")
		}
		g := golden{Platform: runtime.GOOS + "/" + runtime.GOARCH, History: h.Report.History}
		g.Raw.W1, g.Raw.B1, g.Raw.W2 = to64(h.W1), to64(h.B1), to64(h.W2)
		data, _ := json.MarshalIndent(g, "", " ")
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	worst, exact := 0.0, true
	for _, pair := range [][2][]float64{{g.Raw.W1, to64(h.W1)}, {g.Raw.B1, to64(h.B1)}, {g.Raw.W2, to64(h.W2)}} {
		if len(pair[0]) != len(pair[1]) {
			t.Fatalf("golden head has %d weights, this one %d", len(pair[0]), len(pair[1]))
		}
		for i := range pair[0] {
			worst = max(worst, math.Abs(pair[0][i]-pair[1][i]))
			exact = exact && float32(pair[0][i]) == float32(pair[1][i])
		}
	}
	t.Logf("%s/%s against the head trained on %s: worst difference %.2g, bit-exact %v", runtime.GOOS, runtime.GOARCH, g.Platform, worst, exact)
	if worst > 1e-5 {
		t.Fatalf("head differs from the golden one by %v", worst)
	}
}
