package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/models"
)

// randomWeights fills a shape-only zoo graph with small random weights;
// latency does not depend on their values.
func randomWeights(g *ir.Graph) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, t := range g.Tensors {
		t.Data = make([]float32, t.Elements())
		for i := range t.Data {
			t.Data[i] = rng.Float32()*0.1 + 0.01
		}
	}
}

func benchmarkArch(b *testing.B, arch string, k kernels.Kernels) {
	g, err := models.Build(arch, models.Options{})
	if err != nil {
		b.Fatal(err)
	}
	randomWeights(g)
	e, err := New(g, k)
	if err != nil {
		b.Fatal(err)
	}
	in := make([]float32, g.InputShape.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.Run(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMobileNetV2Go(b *testing.B)   { benchmarkArch(b, "mobilenet_v2", kernels.Go{}) }
func BenchmarkMobileNetV2Best(b *testing.B) { benchmarkArch(b, "mobilenet_v2", kernels.Best()) }
func BenchmarkMobileNetV3LargeBest(b *testing.B) {
	benchmarkArch(b, "mobilenet_v3_large", kernels.Best())
}
