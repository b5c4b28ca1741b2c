package quantize

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// smallNet has every op MobileNetV2 needs in int8: a strided 3x3 stem
// (im2col), batch norm to fold, ReLU6 to fuse, a depthwise 3x3, 1x1
// convolutions, a residual Add, global average pooling, Flatten, two
// dense layers and a softmax (which stays float32).
func smallNet(r *rand.Rand, biasScale float32) *ir.Graph {
	g := ir.New(ir.Shape{13, 11, 3})
	w := func(name string, scale float64, shape ...int) string {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(r.NormFloat64() * scale)
		}
		return g.AddTensor(name, shape, data)
	}
	bias := func(name string, n int) string {
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(r.NormFloat64()*0.1) * biasScale
		}
		return g.AddTensor(name, []int{n}, data)
	}
	x := g.AddNode("stem", ir.Conv2D, []string{g.Input}, []string{w("stem.w", 0.3, 3, 3, 3, 16)}, ir.Attrs{Stride: [2]int{2, 2}, Pads: ir.Pads{1, 1, 1, 1}})
	ones := func(name string, v float32) string {
		d := make([]float32, 16)
		for i := range d {
			d[i] = v + float32(r.Float64()*0.5)
		}
		return g.AddTensor(name, []int{16}, d)
	}
	x = g.AddNode("bn", ir.BatchNorm, []string{x}, []string{ones("bn.g", 0.8), bias("bn.b", 16), bias("bn.m", 16), ones("bn.v", 0.5)}, ir.Attrs{Epsilon: 1e-3})
	x = g.AddNode("relu", ir.ReLU6, []string{x}, nil, ir.Attrs{})
	d := g.AddNode("dw", ir.Conv2D, []string{x}, []string{w("dw.w", 0.4, 3, 3, 1, 16), bias("dw.b", 16)}, ir.Attrs{Groups: 16, Pads: ir.Pads{1, 1, 1, 1}, Act: ir.ActReLU6})
	p := g.AddNode("project", ir.Conv2D, []string{d}, []string{w("project.w", 0.25, 1, 1, 16, 16), bias("project.b", 16)}, ir.Attrs{})
	x = g.AddNode("add", ir.Add, []string{x, p}, nil, ir.Attrs{})
	x = g.AddNode("expand", ir.Conv2D, []string{x}, []string{w("expand.w", 0.25, 1, 1, 16, 24), bias("expand.b", 24)}, ir.Attrs{Act: ir.ActReLU})
	x = g.AddNode("gap", ir.GlobalAvgPool, []string{x}, nil, ir.Attrs{})
	x = g.AddNode("flat", ir.Flatten, []string{x}, nil, ir.Attrs{})
	x = g.AddNode("fc1", ir.Dense, []string{x}, []string{w("fc1.w", 0.3, 24, 12), bias("fc1.b", 12)}, ir.Attrs{Act: ir.ActReLU})
	x = g.AddNode("fc2", ir.Dense, []string{x}, []string{w("fc2.w", 0.4, 12, 5), bias("fc2.b", 5)}, ir.Attrs{})
	x = g.AddNode("prob", ir.Softmax, []string{x}, nil, ir.Attrs{})
	g.Outputs = []string{x, "fc2"}
	return g
}

func randInput(r *rand.Rand, n int) []float32 {
	in := make([]float32, n)
	for i := range in {
		in[i] = r.Float32()
	}
	return in
}

// TestInt8Engine calibrates smallNet on random pictures and checks the
// int8 engine against the float32 one on others: the logits within a few
// quantization steps, and every int8 implementation identical to the
// pure-Go one, bit for bit.
func TestInt8Engine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := smallNet(r, 1)
	c, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	size := g.InputShape.Size()
	for range 30 {
		if err := c.Observe(randInput(r, size)); err != nil {
			t.Fatal(err)
		}
	}
	qg, err := c.Graph()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := qg.Meta.Quant["prob"]; ok {
		t.Error("the softmax's output is quantized; it has no int8 form")
	}
	for _, n := range qg.Nodes {
		if n.Op == ir.BatchNorm || n.Op == ir.ReLU6 {
			t.Errorf("the calibrated graph still holds %s %q: it should be lowered", n.Op, n.Name)
		}
	}
	ref, err := engine.New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	var engines []*engine.Engine
	for _, qk := range kernels.AvailableInt8() {
		e, err := engine.NewInt8(qg, kernels.Go{}, qk)
		if err != nil {
			t.Fatal(err)
		}
		engines = append(engines, e)
	}
	auto, err := engine.New(qg, kernels.Go{})
	if err != nil || auto.Int8Kernels() == "" {
		t.Fatalf("engine.New on a calibrated graph: %v, int8 kernels %q", err, auto.Int8Kernels())
	}
	logitStep := float64(qg.Meta.Quant["fc2"].Scale)
	var worst float64
	for range 20 {
		in := randInput(r, size)
		if err := ref.Run(in); err != nil {
			t.Fatal(err)
		}
		want := ref.Output("fc2")
		var first []float32
		for i, e := range engines {
			if err := e.Run(in); err != nil {
				t.Fatal(err)
			}
			got := e.Output("fc2")
			if i == 0 {
				first = append([]float32(nil), got...)
				for j := range got {
					worst = max(worst, math.Abs(float64(got[j]-want[j])))
				}
				continue
			}
			for j := range got {
				if got[j] != first[j] {
					t.Fatalf("%s: logit %d = %v, the go kernels give %v", kernels.AvailableInt8()[i].Name(), j, got[j], first[j])
				}
			}
		}
		var sum float64
		for _, p := range engines[0].Output("prob") {
			sum += float64(p)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Fatalf("probabilities sum to %v", sum)
		}
	}
	// Profile times the int8 steps themselves and computes what Run does.
	in := randInput(r, size)
	e := engines[len(engines)-1]
	if err := e.Run(in); err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), e.Output("fc2")...)
	prof, err := e.Profile(in, 2)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for _, p := range prof {
		ops[p.Op] = true
	}
	for _, op := range []string{"quantize", "conv3x3s2.i8", "dwconv3x3s1.i8", "conv1x1.i8", "add.i8", "gap.i8", "dense.i8", "softmax"} {
		if !ops[op] {
			t.Errorf("Profile has no %q step; it has %v", op, ops)
		}
	}
	for j, v := range e.Output("fc2") {
		if v != want[j] {
			t.Fatalf("after Profile, logit %d = %v; Run gave %v", j, v, want[j])
		}
	}
	// A clone has int8 buffers of its own, laid out as the original's.
	cl := e.Clone()
	if err := cl.Run(randInput(r, size)); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(in); err != nil {
		t.Fatal(err)
	}
	if err := cl.Run(in); err != nil {
		t.Fatal(err)
	}
	for j, v := range cl.Output("fc2") {
		if v != want[j] || e.Output("fc2")[j] != want[j] {
			t.Fatalf("clone: logit %d = %v, original %v, want %v", j, v, e.Output("fc2")[j], want[j])
		}
	}
	t.Logf("largest logit error %.4f (%.1f output steps)", worst, worst/logitStep)
	if worst > 6*logitStep {
		t.Errorf("largest logit error %.4f is %.1f quantization steps of the output; want at most 6", worst, worst/logitStep)
	}
}

// TestLowerKeepsTheFunction: the lowered graph calibration measures
// computes what the source graph does.
func TestLowerKeepsTheFunction(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := smallNet(r, 1)
	lg, err := engine.Lower(g)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := engine.New(g, kernels.Go{})
	b, _ := engine.New(lg, kernels.Go{})
	in := randInput(r, g.InputShape.Size())
	a.Run(in)
	b.Run(in)
	for j, v := range a.Output("fc2") {
		if w := b.Output("fc2")[j]; math.Abs(float64(v-w)) > 1e-5 {
			t.Fatalf("logit %d: lowered %v, source %v", j, w, v)
		}
	}
}

// TestOverflowRefused: activations int8 cannot hold (infinite ones) and a
// bias int32 cannot hold on its scale are errors naming the value or the
// layer.
func TestOverflowRefused(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	g := smallNet(r, 1)
	g.Tensors["stem.w"].Data[0] = 3e38
	c, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Observe(randInput(r, g.InputShape.Size()))
	if err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Errorf("infinite activations: got %v, want an overflow error", err)
	}

	g = smallNet(r, 1e9) // biases of about 1e8 on a tiny input scale
	g.Tensors["fc2.b"].Data[0] = 1e9
	c, err = New(g)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := c.Observe(randInput(r, g.InputShape.Size())); err != nil {
			t.Fatal(err)
		}
	}
	c.lo[0], c.hi[0] = 0, 1e-6 // a tiny input scale: the biases' int32 values explode
	_, err = c.Graph()
	if err == nil || !strings.Contains(err.Error(), "overflows int32") || !strings.Contains(err.Error(), "layer") {
		t.Errorf("a bias beyond int32: got %v, want an error naming the layer", err)
	}
	if _, err := (&Calibrator{}).Params(); err == nil {
		t.Error("calibration without an input gave parameters")
	}
}

func TestRange(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   ir.QParams
	}{
		{0, 1, ir.QParams{Scale: float32(1.0 / 255), Zero: -128}},
		{0, 6, ir.QParams{Scale: float32(6.0 / 255), Zero: -128}},
		{-1, 1, ir.QParams{Scale: float32(2.0 / 255), Zero: -1}}, // −0.5 rounds away from zero
		{-2, 0, ir.QParams{Scale: float32(2.0 / 255), Zero: 127}},
		{1, 3, ir.QParams{Scale: float32(3.0 / 255), Zero: -128}}, // widened to hold 0
		{0, 0, ir.QParams{Scale: 1, Zero: 0}},
	} {
		if got := Range(c.lo, c.hi); got != c.want {
			t.Errorf("Range(%v, %v) = %+v, want %+v", c.lo, c.hi, got, c.want)
		}
	}
}
