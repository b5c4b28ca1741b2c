package convert

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// nsfwjsDir is where `node tools/js/decode-nsfwjs.js build/nsfwjs` (run by
// the Makefile before the tests) writes the two real MobileNetV2 models.
const nsfwjsDir = "../../build/nsfwjs"

// reference is testdata/reference-tfjs.json, written by
// tools/js/reference-tfjs.js with TF.js 4.22 (CPU backend) itself.
type reference struct {
	Models map[string]struct {
		Format string `json:"format"`
		Photos map[string]struct {
			Probabilities []float64 `json:"probabilities"`
			Features      []float64 `json:"features"`
		} `json:"photos"`
	} `json:"models"`
}

// TestGoldenNSFWJS converts both real MobileNetV2 models that nsfwjs
// bundles (a Keras layers model and a TF.js graph model), runs every test
// photo through the Go engine, fed by imageprep from the model file's own
// preprocessing, and compares the final probabilities and the embedding
// with what TF.js computes on the same files. The photos are 224x224, so
// no resampler stands between the two.
func TestGoldenNSFWJS(t *testing.T) {
	if _, err := os.Stat(nsfwjsDir); err != nil {
		t.Skipf("%s is absent: run `node tools/js/decode-nsfwjs.js build/nsfwjs` (make does) to decode the models this test needs", nsfwjsDir)
	}
	data, err := os.ReadFile("testdata/reference-tfjs.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"mobilenet_v2": 1280, "mobilenet_v2_mid": 1792}
	for name, dim := range want {
		t.Run(name, func(t *testing.T) {
			m, ok := ref.Models[name]
			if !ok || len(m.Photos) < 6 {
				t.Fatalf("reference has %d photos for %s", len(m.Photos), name)
			}
			g, err := FromTFJS(filepath.Join(nsfwjsDir, name, "model.json"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if g.Meta.Embedding == "" {
				t.Fatal("no embedding found")
			}
			probs := g.Outputs[0]
			g.Outputs = append(g.Outputs, g.Meta.Embedding)
			e, err := engine.New(g, kernels.Best())
			if err != nil {
				t.Fatal(err)
			}
			in := make([]float32, g.InputShape.Size())
			photos := make([]string, 0, len(m.Photos))
			for p := range m.Photos {
				photos = append(photos, p)
			}
			sort.Strings(photos)
			for _, photo := range photos {
				r := m.Photos[photo]
				img, err := imageprep.DecodeFile(filepath.Join("testdata", "photos", photo))
				if err != nil {
					t.Fatal(err)
				}
				if err := imageprep.Prepare(img, g.Meta.Preprocess, g.InputShape, in); err != nil {
					t.Fatal(err)
				}
				if err := e.Run(in); err != nil {
					t.Fatal(err)
				}
				p := e.Output(probs)
				if len(p) != len(r.Probabilities) {
					t.Fatalf("%s: %d probabilities, reference %d", photo, len(p), len(r.Probabilities))
				}
				worst := 0.0
				for i := range p {
					worst = max(worst, math.Abs(float64(p[i])-r.Probabilities[i]))
				}
				if worst > 1e-4 {
					t.Errorf("%s: probabilities %v, TF.js %v (max abs diff %.2g > 1e-4)", photo, p, r.Probabilities, worst)
				}
				f := e.Output(g.Meta.Embedding)
				if len(f) != dim || len(r.Features) != dim {
					t.Fatalf("%s: embedding has %d values, reference %d, want %d", photo, len(f), len(r.Features), dim)
				}
				var num, den float64
				for i := range f {
					d := float64(f[i]) - r.Features[i]
					num += d * d
					den += r.Features[i] * r.Features[i]
				}
				rel := math.Sqrt(num / den)
				if rel > 1e-3 {
					t.Errorf("%s: embedding differs from TF.js by %.2g relative L2 (> 1e-3)", photo, rel)
				}
				t.Logf("%s: max |Δp| %.2g, embedding rel L2 %.2g", photo, worst, rel)
			}
		})
	}
}
