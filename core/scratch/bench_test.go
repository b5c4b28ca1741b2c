package scratch

import (
	"math/rand/v2"
	"testing"

	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/models"
)

// BenchmarkLeNet5Step is one training step of LeNet-5 on a batch of 64
// random pictures with the best kernels: forward, backward and Adam.
func BenchmarkLeNet5Step(b *testing.B) {
	g, err := models.Build("lenet5", models.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := Init(g, 1); err != nil {
		b.Fatal(err)
	}
	net, err := New(g, kernels.Best())
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 64
	d := &Data{X: make([]float32, n*1024), Y: make([]int, n), Labels: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
	for i := range d.X {
		d.X[i] = rng.Float32()
	}
	for i := range d.Y {
		d.Y[i] = i % 10
	}
	t, err := NewTrainer(net, d, Config{Epochs: b.N, BatchSize: n, LearningRate: 1e-3})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := t.Batch(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "examples/s")
}
