package course

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
	"github.com/glimpse-ml/glimpse/models"
)

// backbone is a small network whose embedding is a global average pool
// of a 4x4x6 map, and optionally (multi-level) of an 8x8x5 map too.
func backbone(t *testing.T, multi bool) *ir.Graph {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	r := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.Float64() - 0.3)
		}
		return v
	}
	g := ir.New(ir.Shape{16, 16, 3})
	a := g.AddNode("c1", ir.Conv2D, []string{g.Input}, []string{g.AddTensor("k1", []int{3, 3, 3, 5}, r(135))},
		ir.Attrs{Stride: [2]int{2, 2}, Pads: ir.Pads{1, 1, 1, 1}, Act: ir.ActReLU})
	b := g.AddNode("c2", ir.Conv2D, []string{a}, []string{g.AddTensor("k2", []int{3, 3, 5, 6}, r(270))},
		ir.Attrs{Stride: [2]int{2, 2}, Pads: ir.Pads{1, 1, 1, 1}, Act: ir.ActReLU})
	e := g.AddNode("pool", ir.GlobalAvgPool, []string{b}, nil, ir.Attrs{})
	g.Outputs = []string{e}
	g.Meta.Embedding = e
	if multi {
		pa := g.AddNode("pool_a", ir.GlobalAvgPool, []string{a}, nil, ir.Attrs{})
		g.Meta.Embedding = g.AddNode("features", ir.Concat, []string{pa, e}, nil, ir.Attrs{})
		g.Outputs = []string{g.Meta.Embedding}
	}
	return g
}

func head(in, hidden, classes int, seed uint64) *train.Head {
	rng := rand.New(rand.NewPCG(seed, 1))
	r := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	h := &train.Head{Labels: []string{"a", "b", "c"}[:classes], In: in, Hidden: hidden}
	k := in
	if hidden > 0 {
		h.W1, h.B1, k = r(in*hidden), r(hidden), hidden
	}
	h.W2, h.B2 = r(k*classes), r(classes)
	return h
}

// run computes the maps the head reads with the engine.
func run(t *testing.T, g *ir.Graph, h *Head, seed uint64) []Map {
	t.Helper()
	rg := *g
	rg.Outputs = append([]string(nil), h.Maps...)
	m, err := model.New("test", &rg, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float32, g.InputShape.Size())
	for i := range x {
		x[i] = rng.Float32()
	}
	if err := m.RunInput(x); err != nil {
		t.Fatal(err)
	}
	var maps []Map
	for _, v := range h.Maps {
		maps = append(maps, Map{Shape: m.Engine().Shape(v), Values: append([]float32(nil), m.Output(v)...)})
	}
	return maps
}

func TestCAM(t *testing.T) {
	for _, c := range []struct {
		name   string
		multi  bool
		hidden int
	}{{"linear", false, 0}, {"tm", false, 7}, {"multi-level linear", true, 0}, {"multi-level hidden", true, 4}} {
		t.Run(c.name, func(t *testing.T) {
			bb := backbone(t, c.multi)
			in := 6
			if c.multi {
				in = 11
			}
			th := head(in, c.hidden, 3, 9)
			g, err := th.Attach(bb)
			if err != nil {
				t.Fatal(err)
			}
			h, err := HeadOf(g)
			if err != nil {
				t.Fatal(err)
			}
			if h.Linear() != (c.hidden == 0) || len(h.Maps) != map[bool]int{false: 1, true: 2}[c.multi] {
				t.Fatalf("%+v", h)
			}
			maps := run(t, g, h, 3)
			a, err := h.CAM(maps, -1)
			if err != nil {
				t.Fatal(err)
			}
			// The logits against train.Head's own softmax.
			e := make([]float32, in)
			for m, mp := range maps {
				s := mp.Shape
				for k := range s[2] {
					var sum float64
					for p := range s[0] * s[1] {
						sum += float64(mp.Values[p*s[2]+k])
					}
					e[h.Offsets[m]+k] = float32(sum / float64(s[0]*s[1]))
				}
			}
			probs, err := th.Probabilities(e)
			if err != nil {
				t.Fatal(err)
			}
			var norm float64
			for _, z := range a.Logits {
				norm += math.Exp(z - a.Logits[a.Class])
			}
			for i, z := range a.Logits {
				if p := math.Exp(z-a.Logits[a.Class]) / norm; math.Abs(p-probs[i]) > 1e-5 {
					t.Errorf("class %d: %v, train.Head %v", i, p, probs[i])
				}
				if probs[i] > probs[a.Class] {
					t.Errorf("mapped class %d, the most probable is %d", a.Class, i)
				}
			}
			// The gradient against central differences of the logit.
			grad, err := h.Gradient(e, a.Class)
			if err != nil {
				t.Fatal(err)
			}
			for k := range e {
				const eps = 1e-3
				x := append([]float32(nil), e...)
				x[k] += eps
				up, _ := h.Logits(x)
				x[k] -= 2 * eps
				down, _ := h.Logits(x)
				fd := (up[a.Class] - down[a.Class]) / (2 * eps)
				if math.Abs(fd-grad[k]) > 1e-3*math.Max(1, math.Abs(fd)) {
					t.Errorf("feature %d: gradient %v, finite difference %v", k, grad[k], fd)
				}
			}
			// For a linear head the shares add up to the logit minus its bias.
			var sum float64
			for _, s := range a.Share {
				sum += s
			}
			if c.hidden == 0 {
				if want := a.Logits[a.Class] - float64(th.B2[a.Class]); math.Abs(sum-want) > 1e-4 {
					t.Errorf("shares sum to %v, logit − bias %v", sum, want)
				}
			}
			if a.H != 8 && c.multi || a.H != 4 && !c.multi {
				t.Errorf("grid %dx%d", a.H, a.W)
			}
		})
	}
}

func TestCAMRefused(t *testing.T) {
	bb := backbone(t, false)
	if _, err := HeadOf(bb); !errors.Is(err, ErrNoClassifier) {
		t.Errorf("a backbone: %v", err)
	}
	g, err := models.Build("lenet5", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	models.FillRandom(g, 1)
	if _, err := HeadOf(g); !errors.Is(err, ErrFlattens) {
		t.Errorf("LeNet-5 flattens its map: %v", err)
	}
	g, err = models.Build("mobilenet_v2", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	models.FillRandom(g, 1)
	h, err := HeadOf(g)
	if err != nil || !h.Linear() || h.In != 1280 || len(h.Maps) != 1 {
		t.Errorf("MobileNetV2's own classifier: %+v %v", h, err)
	}
	if _, err := h.CAM([]Map{{Shape: ir.Shape{7, 7, 3}, Values: make([]float32, 147)}}, 0); err == nil {
		t.Error("a map of the wrong depth: no error")
	}
	if _, err := h.Gradient(make([]float32, 1280), 1000); err == nil {
		t.Error("class 1000 of 1000: no error")
	}
}
