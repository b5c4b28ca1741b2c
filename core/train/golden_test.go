package train

import (
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
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
