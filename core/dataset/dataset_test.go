//go:build !js

package dataset

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/augment"
	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
)

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

// writePNG writes a w x h image whose colour depends on class, with noise.
func writePNG(t *testing.T, path string, class int, rng *rand.Rand) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 20, 14))
	base := [][3]int{{220, 40, 40}, {40, 200, 60}, {50, 60, 230}}[class]
	for y := 0; y < 14; y++ {
		for x := 0; x < 20; x++ {
			var c [3]uint8
			for i := range c {
				c[i] = uint8(min(max(base[i]+rng.IntN(61)-30+(x-y)*class, 0), 255))
			}
			img.Set(x, y, color.NRGBA{c[0], c[1], c[2], 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeFolder writes n PNGs per class (red, green, blue) plus the given
// extra files, and returns the folder.
func makeFolder(t *testing.T, n int, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	for c, name := range []string{"red", "green", "blue"} {
		os.MkdirAll(filepath.Join(dir, name), 0o755)
		for i := 0; i < n; i++ {
			writePNG(t, filepath.Join(dir, name, string(rune('a'+i))+".png"), c, rng)
		}
	}
	for path, content := range extra {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestEmbedFolder: sorted classes, unreadable files reported and skipped,
// each embedding equal to the model's own Embed whatever the number of
// workers, views after their original.
func TestEmbedFolder(t *testing.T) {
	dir := makeFolder(t, 4, map[string]string{"green/zz-notes.txt": "not an image", "red/.hidden": "x", "loose.png": "x"})
	m, err := model.New("tiny", tinyBackbone(rand.New(rand.NewPCG(1, 1))), kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.Classes, ",") != "blue,green,red" || f.Len() != 13 {
		t.Fatalf("classes %v, %d files", f.Classes, f.Len())
	}
	var last int
	s, bad, err := EmbedFolder(m, f, EmbedOptions{Workers: 3, Progress: func(done, total int) { last = done }})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 1 || !strings.HasSuffix(bad[0].Path, "zz-notes.txt") || last != 13 {
		t.Fatalf("unreadable %v, progress %d", bad, last)
	}
	if s.Len() != 12 || s.Dim != 12 || s.Y[0] != 0 || s.Y[11] != 2 {
		t.Fatalf("%d samples of %d, labels %v", s.Len(), s.Dim, s.Y)
	}
	row := 0
	for c, files := range f.Files {
		for _, path := range files {
			if strings.HasSuffix(path, ".txt") {
				continue
			}
			img, err := decodePNG(path)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := m.Embed(img)
			for j, v := range want {
				if s.Row(row)[j] != v || s.Y[row] != c {
					t.Fatalf("row %d (%s) differs from Embed", row, path)
				}
			}
			row++
		}
	}

	aug := augment.Default()
	sv, _, err := EmbedFolder(m, f, EmbedOptions{Workers: 2, Augment: &aug, Views: 2, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if sv.Len() != 36 || sv.Origin[4] != 3 || sv.Origin[3] != 3 {
		t.Fatalf("%d rows with views, origins %v", sv.Len(), sv.Origin[:6])
	}
	for i := 0; i < 12; i++ {
		for j := 0; j < s.Dim; j++ {
			if sv.Row(3 * i)[j] != s.Row(i)[j] {
				t.Fatalf("original %d changed with augmentation on", i)
			}
		}
	}
	if err := sv.Check(); err != nil {
		t.Fatal(err)
	}
}

func decodePNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}

// TestBadFolders: an empty class folder, a single class, no classes, a
// class whose every file is unreadable, a model without an embedding.
func TestBadFolders(t *testing.T) {
	one := t.TempDir()
	os.MkdirAll(filepath.Join(one, "only"), 0o755)
	os.WriteFile(filepath.Join(one, "only", "a.png"), []byte("x"), 0o644)
	empty := makeFolder(t, 2, nil)
	os.MkdirAll(filepath.Join(empty, "void"), 0o755)
	for name, dir := range map[string]string{"single class": one, "empty class": empty, "no classes": t.TempDir(), "missing": filepath.Join(one, "nope")} {
		if _, err := ReadFolder(dir); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}

	broken := makeFolder(t, 2, map[string]string{"grey/a.png": "\x89PNG\r\n\x1a\n truncated", "grey/b.jpg": ""})
	m, _ := model.New("tiny", tinyBackbone(rand.New(rand.NewPCG(1, 1))), kernels.Go{})
	f, err := ReadFolder(broken)
	if err != nil {
		t.Fatal(err)
	}
	if _, bad, err := EmbedFolder(m, f, EmbedOptions{}); err == nil || len(bad) != 2 {
		t.Errorf("a class of unreadable files: error %v, %d unreadable", err, len(bad))
	} else {
		t.Log(err)
	}

	g := tinyBackbone(rand.New(rand.NewPCG(1, 1)))
	g.Meta.Embedding = ""
	noEmb, _ := model.New("plain", g, kernels.Go{})
	f2, _ := ReadFolder(makeFolder(t, 1, nil))
	if _, _, err := EmbedFolder(noEmb, f2, EmbedOptions{}); err == nil {
		t.Error("a model without an embedding: no error")
	} else {
		t.Log(err)
	}
	h := &train.Head{Labels: []string{"a", "b"}, In: 12, W2: make([]float32, 24)}
	if _, err := h.Attach(g); err == nil {
		t.Error("Attach to a model without an embedding: no error")
	}
}

// TestAttachedModelPredictsAsTheHead trains a head on the tiny backbone,
// attaches it, writes the model file, reads it back through core/model and
// checks that the engine's probabilities equal the head's own on the
// embedding, and that the labels and the embedding survive.
func TestAttachedModelPredictsAsTheHead(t *testing.T) {
	dir := makeFolder(t, 6, nil)
	backbone := tinyBackbone(rand.New(rand.NewPCG(1, 1)))
	m, _ := model.New("tiny", backbone, kernels.Go{})
	f, _ := ReadFolder(dir)
	s, _, err := EmbedFolder(m, f, EmbedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, preset := range []string{"tm", "linear"} {
		cfg, _ := train.Preset(preset)
		cfg.Epochs = 20
		h, err := train.Train(s, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		g, err := h.Attach(backbone)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "out.glimpse")
		if err := format.WriteFile(path, g, format.Options{}); err != nil {
			t.Fatal(err)
		}
		trained, err := model.Open(path, model.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !trained.HasClassifier() || strings.Join(trained.Graph.Meta.Labels, ",") != "blue,green,red" {
			t.Fatalf("labels %v", trained.Graph.Meta.Labels)
		}
		for i, path := range f.Files[1] {
			img, _ := decodePNG(path)
			preds, err := trained.Classify(img, 0)
			if err != nil {
				t.Fatal(err)
			}
			emb, _ := trained.Embed(img)
			want, _ := h.Probabilities(emb)
			for _, p := range preds {
				c := map[string]int{"blue": 0, "green": 1, "red": 2}[p.ClassName]
				if math.Abs(p.Probability-want[c]) > 1e-5 {
					t.Fatalf("%s image %d: model says %v for %s, head %v", preset, i, p.Probability, p.ClassName, want[c])
				}
			}
		}
		// The backbone graph is untouched: still cut at its embedding.
		if len(backbone.Outputs) != 1 || backbone.Outputs[0] != "pool" || len(backbone.Nodes) != 2 {
			t.Fatalf("Attach changed the backbone: outputs %v, %d nodes", backbone.Outputs, len(backbone.Nodes))
		}
		// A trained model is a backbone too: attaching to it replaces its head.
		again, err := h.Attach(g)
		if err != nil || len(again.Nodes) != len(g.Nodes) {
			t.Fatalf("re-attaching: %v, %d nodes vs %d", err, len(again.Nodes), len(g.Nodes))
		}
		if _, err := engine.New(again, kernels.Go{}); err != nil {
			t.Fatal(err)
		}
	}
}
