package format

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// headGraph is MobileNetV2's last 1x1 convolution and ImageNet classifier:
// 1.7 M weights, about a third of the whole network.
func headGraph() *ir.Graph {
	rng := rand.New(rand.NewPCG(7, 8))
	g := ir.New(ir.Shape{7, 7, 320})
	add := func(name string, shape ...int) string { return g.AddTensor(name, shape, weights(rng, shape...)) }
	x := g.AddNode("conv", ir.Conv2D, []string{g.Input}, []string{add("conv.w", 1, 1, 320, 1280), add("conv.b", 1280)}, ir.Attrs{Act: ir.ActReLU6})
	x = g.AddNode("gap", ir.GlobalAvgPool, []string{x}, nil, ir.Attrs{})
	x = g.AddNode("fc", ir.Dense, []string{x}, []string{add("fc.w", 1280, 1000), add("fc.b", 1000)}, ir.Attrs{})
	g.Outputs = []string{g.AddNode("prob", ir.Softmax, []string{x}, nil, ir.Attrs{})}
	return g
}

func BenchmarkRead(b *testing.B) {
	for _, dtype := range []string{"f32", "f16", "int8"} {
		file := encodeBytes(b, headGraph(), dtype)
		b.Run(dtype, func(b *testing.B) {
			b.SetBytes(int64(len(file)))
			for b.Loop() {
				if _, err := Read(bytes.NewReader(file), int64(len(file)), "bench.glimpse"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(file)), "file-bytes")
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	for _, dtype := range []string{"f32", "f16", "int8"} {
		g := headGraph()
		b.Run(dtype, func(b *testing.B) {
			for b.Loop() {
				if err := Write(&bytes.Buffer{}, g, Options{DType: dtype}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
