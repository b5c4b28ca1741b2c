package model_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/models"
)

// TestMultiLevelFindsTheLevelBelow: in every architecture of the zoo
// whose embedding is a global average pool, the pooled level is an
// activation computed at a finer resolution than the final feature map,
// and in MobileNetV2 it is the one torchvision's architecture says:
// block 13's expansion, 14x14 with 96*6 channels. The others are refused.
func TestMultiLevelFindsTheLevelBelow(t *testing.T) {
	for _, arch := range models.Names() {
		g, err := models.Build(arch, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ml, tap, err := model.MultiLevelGraph(g)
		if g.Producer(g.Meta.Embedding).Op != ir.GlobalAvgPool {
			if err == nil {
				t.Errorf("%s: an embedding that is no global average pool was accepted", arch)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", arch, err)
			continue
		}
		shapes, err := ml.Infer()
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		final := shapes[g.Producer(g.Meta.Embedding).Inputs[0]]
		if s := shapes[tap]; s[0] <= final[0] {
			t.Errorf("%s: pooled %s (%v), not finer than the final %v", arch, tap, s, final)
		}
		want := shapes[tap][2] + shapes[g.Meta.Embedding][2]
		if got := shapes[ml.Meta.Embedding]; got != (ir.Shape{1, 1, want}) {
			t.Errorf("%s: features %v, want 1x1x%d", arch, got, want)
		}
		if arch == "mobilenet_v2" && shapes[tap] != (ir.Shape{14, 14, 576}) {
			t.Errorf("mobilenet_v2: pooled %s %v, want block 13's 14x14x576 expansion", tap, shapes[tap])
		}
		if len(ml.Nodes) != len(g.Nodes)+2 {
			t.Errorf("%s: the original graph changed or nodes went missing", arch)
		}
	}
}

// TestMultiLevelValues: the features are a naive average of the pooled
// level followed by the plain model's embedding, unchanged.
func TestMultiLevelValues(t *testing.T) {
	g, err := models.Build("mobilenet_v2", models.Options{Width: 0.5, Input: 96})
	if err != nil {
		t.Fatal(err)
	}
	models.FillRandom(g, 5)
	plain, err := model.New("v2", g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	ml, tap, err := plain.MultiLevel()
	if err != nil {
		t.Fatal(err)
	}
	// A third model exposes the pooled level itself.
	probe := *ml.Graph
	probe.Outputs = append(slices.Clone(probe.Outputs), tap)
	pm, err := model.New("probe", &probe, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, g.InputShape.Size())
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range in {
		in[i] = rng.Float32()*2 - 1
	}
	for _, m := range []*model.Model{plain, ml, pm} {
		if err := m.RunInput(in); err != nil {
			t.Fatal(err)
		}
	}
	shapes, _ := probe.Infer()
	s := shapes[tap]
	level := pm.Output(tap)
	features := ml.Output(ml.Graph.Meta.Embedding)
	emb := plain.Output(g.Meta.Embedding)
	if len(features) != s[2]+len(emb) {
		t.Fatalf("%d features, want %d + %d", len(features), s[2], len(emb))
	}
	for c := 0; c < s[2]; c++ {
		sum := 0.0
		for p := 0; p < s[0]*s[1]; p++ {
			sum += float64(level[p*s[2]+c])
		}
		if want := sum / float64(s[0]*s[1]); math.Abs(float64(features[c])-want) > 1e-5*max(1, math.Abs(want)) {
			t.Fatalf("feature %d = %v, naive average %v", c, features[c], want)
		}
	}
	if !slices.Equal(features[s[2]:], emb) {
		t.Error("the embedding part differs from the plain model's embedding")
	}
	if ml.EmbeddingSize() != len(features) {
		t.Errorf("EmbeddingSize %d, want %d", ml.EmbeddingSize(), len(features))
	}
	if _, _, err := ml.MultiLevel(); err == nil {
		t.Error("multi-level features of multi-level features were accepted")
	}
	noEmb := *g
	noEmb.Meta.Embedding = ""
	if _, _, err := model.MultiLevelGraph(&noEmb); err == nil {
		t.Error("a graph without an embedding was accepted")
	}
}
