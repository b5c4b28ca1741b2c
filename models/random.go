package models

import (
	"math/rand/v2"
	"slices"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// FillRandom gives every tensor of a graph from Build small positive
// weights drawn from seed, in sorted tensor order so the same seed gives
// the same weights. Latency benchmarks and tests that compare two ways of
// computing the same network need numbers in the weights, not trained
// ones; positive values keep ReLU6 networks from going dead.
func FillRandom(g *ir.Graph, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	names := make([]string, 0, len(g.Tensors))
	for name := range g.Tensors {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		t := g.Tensors[name]
		t.Data = make([]float32, t.Elements())
		for i := range t.Data {
			t.Data[i] = rng.Float32()*0.1 + 0.01
		}
	}
}
