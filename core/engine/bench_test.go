package engine

import (
	"testing"

	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/models"
)

func benchmarkArch(b *testing.B, arch string, k kernels.Kernels) {
	g, err := models.Build(arch, models.Options{})
	if err != nil {
		b.Fatal(err)
	}
	models.FillRandom(g, 5)
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
