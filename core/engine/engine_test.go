package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// net builds test graphs with seeded random weights.
type net struct {
	g   *ir.Graph
	rng *rand.Rand
	n   int
}

func newNet(shape ir.Shape) *net {
	return &net{g: ir.New(shape), rng: rand.New(rand.NewPCG(1, 2))}
}

func (b *net) rand(shape []int, scale float64) []float32 {
	size := 1
	for _, d := range shape {
		size *= d
	}
	v := make([]float32, size)
	for i := range v {
		v[i] = float32(b.rng.NormFloat64() * scale)
	}
	return v
}

func (b *net) name(op ir.Op) string {
	b.n++
	return fmt.Sprintf("%s_%d", strings.ToLower(string(op)), b.n)
}

func (b *net) conv(x string, cin, cout, k, groups int, attrs ir.Attrs, bias bool) string {
	name := b.name(ir.Conv2D)
	shape := []int{k, k, cin / groups, cout}
	ws := []string{b.g.AddTensor(name+".w", shape, b.rand(shape, 1/math.Sqrt(float64(k*k*cin/groups))))}
	if bias {
		ws = append(ws, b.g.AddTensor(name+".b", []int{cout}, b.rand([]int{cout}, 0.1)))
	}
	attrs.Groups = groups
	return b.g.AddNode(name, ir.Conv2D, []string{x}, ws, attrs)
}

func (b *net) bn(x string, c int) string {
	name := b.name(ir.BatchNorm)
	gamma := b.rand([]int{c}, 0.3)
	variance := b.rand([]int{c}, 0.5)
	for i := range gamma {
		gamma[i] += 1
		variance[i] = variance[i]*variance[i] + 0.1
	}
	ws := []string{
		b.g.AddTensor(name+".gamma", []int{c}, gamma),
		b.g.AddTensor(name+".beta", []int{c}, b.rand([]int{c}, 0.2)),
		b.g.AddTensor(name+".mean", []int{c}, b.rand([]int{c}, 0.2)),
		b.g.AddTensor(name+".var", []int{c}, variance),
	}
	return b.g.AddNode(name, ir.BatchNorm, []string{x}, ws, ir.Attrs{Epsilon: 1e-3})
}

func (b *net) op(op ir.Op, attrs ir.Attrs, xs ...string) string {
	return b.g.AddNode(b.name(op), op, xs, nil, attrs)
}

func (b *net) dense(x string, in, out int) string {
	name := b.name(ir.Dense)
	ws := []string{
		b.g.AddTensor(name+".w", []int{in, out}, b.rand([]int{in, out}, 1/math.Sqrt(float64(in)))),
		b.g.AddTensor(name+".b", []int{out}, b.rand([]int{out}, 0.1)),
	}
	return b.g.AddNode(name, ir.Dense, []string{x}, ws, ir.Attrs{})
}

// testNets covers every op, every fusion and the layouts that matter.
func testNets() map[string]*ir.Graph {
	nets := map[string]*ir.Graph{}

	// MobileNetV2-like: TF SAME stride-2 stem (uneven pads), inverted
	// residual with batch norm after every conv, then a classifier.
	{
		b := newNet(ir.Shape{17, 19, 3})
		x := b.conv("input", 3, 16, 3, 1, ir.Attrs{Stride: [2]int{2, 2}, Pads: ir.Pads{0, 0, 1, 1}}, false)
		x = b.op(ir.ReLU6, ir.Attrs{}, b.bn(x, 16))
		r := x
		x = b.op(ir.ReLU6, ir.Attrs{}, b.bn(b.conv(x, 16, 48, 1, 1, ir.Attrs{}, false), 48))
		x = b.op(ir.ReLU6, ir.Attrs{}, b.bn(b.conv(x, 48, 48, 3, 48, ir.Attrs{Pads: ir.Pads{1, 1, 1, 1}}, false), 48))
		x = b.bn(b.conv(x, 48, 16, 1, 1, ir.Attrs{}, false), 16)
		x = b.op(ir.Add, ir.Attrs{}, x, r)
		x = b.op(ir.ReLU6, ir.Attrs{}, b.bn(b.conv(x, 16, 32, 3, 16, ir.Attrs{Stride: [2]int{2, 2}, Pads: ir.Pads{0, 0, 1, 1}}, false), 32))
		pool := b.op(ir.GlobalAvgPool, ir.Attrs{}, x)
		logits := b.dense(b.op(ir.Flatten, ir.Attrs{}, pool), 32, 7)
		b.g.Outputs = []string{b.op(ir.Softmax, ir.Attrs{}, logits), pool}
		nets["mobilenet_v2_like"] = b.g
	}
	// MobileNetV3-like: hard-swish, squeeze-excite with hard-sigmoid and a
	// broadcast Mul, a 5x5 depthwise, sigmoid.
	{
		b := newNet(ir.Shape{12, 12, 4})
		x := b.op(ir.HardSwish, ir.Attrs{}, b.conv("input", 4, 8, 3, 1, ir.Attrs{Pads: ir.Pads{1, 1, 1, 1}}, true))
		x = b.conv(x, 8, 8, 5, 8, ir.Attrs{Stride: [2]int{2, 2}, Pads: ir.Pads{2, 2, 2, 2}}, true)
		se := b.op(ir.GlobalAvgPool, ir.Attrs{}, x)
		se = b.op(ir.ReLU, ir.Attrs{}, b.conv(se, 8, 4, 1, 1, ir.Attrs{}, true))
		se = b.op(ir.HardSigmoid, ir.Attrs{Alpha: 1.0 / 6, Beta: 0.5}, b.conv(se, 4, 8, 1, 1, ir.Attrs{}, true))
		x = b.op(ir.Mul, ir.Attrs{}, x, se)
		y := b.op(ir.HardSigmoid, ir.Attrs{Alpha: 0.2, Beta: 0.5}, x)
		z := b.op(ir.Sigmoid, ir.Attrs{}, x)
		// LeNet-5's scaled tanh, and a plain one.
		z = b.op(ir.Tanh, ir.Attrs{Alpha: 1.7159, Beta: 2.0 / 3}, b.op(ir.Tanh, ir.Attrs{}, z))
		b.g.Outputs = []string{b.op(ir.Mul, ir.Attrs{}, y, z)}
		nets["mobilenet_v3_like"] = b.g
	}
	// Inception-like and classic: explicit Pad, ceil-mode max pool,
	// average pools counting padding both ways, concat, grouped and
	// multiplier-2 depthwise convolution, a batch norm on the input that
	// cannot be folded, dilation.
	{
		b := newNet(ir.Shape{15, 13, 6})
		x := b.bn("input", 6)
		x = b.op(ir.Pad, ir.Attrs{Pads: ir.Pads{1, 2, 0, 1}}, x)
		x = b.conv(x, 6, 12, 3, 1, ir.Attrs{Act: ir.ActReLU}, true)
		x = b.op(ir.MaxPool, ir.Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Ceil: true}, x)
		a1 := b.conv(x, 12, 8, 1, 1, ir.Attrs{}, true)
		a2 := b.conv(x, 12, 6, 3, 2, ir.Attrs{Pads: ir.Pads{1, 1, 1, 1}}, true)
		a3 := b.conv(x, 12, 24, 3, 12, ir.Attrs{Pads: ir.Pads{2, 2, 2, 2}, Dilation: [2]int{2, 2}}, true)
		a4 := b.op(ir.AvgPool, ir.Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Pads: ir.Pads{1, 1, 1, 1}, CountPad: true}, x)
		a5 := b.op(ir.AvgPool, ir.Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Pads: ir.Pads{1, 1, 1, 1}}, x)
		x = b.op(ir.Concat, ir.Attrs{}, a1, a2, a3, a4, a5)
		x = b.op(ir.AvgPool, ir.Attrs{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Ceil: true, CountPad: true}, x)
		s := x
		x = b.op(ir.Flatten, ir.Attrs{}, x)
		b.g.Outputs = []string{s}
		shapes, err := b.g.Infer()
		if err != nil {
			panic(err)
		}
		b.g.Outputs = []string{b.dense(x, shapes[x].Size(), 5), s}
		nets["inception_like"] = b.g
	}
	return nets
}

func check(t *testing.T, g *ir.Graph, k kernels.Kernels) {
	t.Helper()
	e, err := New(g, k)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	in := make([]float32, g.InputShape.Size())
	for i := range in {
		in[i] = rng.Float32()*2 - 1
	}
	want := naiveRun(g, in)
	for run := 0; run < 2; run++ { // the second run must not see the first's leftovers
		if err := e.Run(in); err != nil {
			t.Fatal(err)
		}
		for _, o := range g.Outputs {
			got := e.Output(o)
			if len(got) != len(want[o]) {
				t.Fatalf("%s: %d values, want %d", o, len(got), len(want[o]))
			}
			for i := range got {
				w := want[o][i]
				if d := math.Abs(float64(got[i]) - w); d > 1e-4*(1+math.Abs(w)) || math.IsNaN(float64(got[i])) {
					t.Fatalf("%s[%d] = %v, want %v", o, i, got[i], w)
				}
			}
		}
	}
}

func TestEngineMatchesNaive(t *testing.T) {
	for name, g := range testNets() {
		t.Run(name, func(t *testing.T) { check(t, g, kernels.Go{}) })
		if best := kernels.Best(); best.Name() != (kernels.Go{}).Name() {
			t.Run(name+"/"+best.Name(), func(t *testing.T) { check(t, g, best) })
		}
	}
}

func TestLoweringFolds(t *testing.T) {
	g := testNets()["mobilenet_v2_like"]
	e, err := New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	// 5 convolutions (batch norms and ReLU6 fused), add, pool, dense,
	// softmax; Flatten is a view.
	if len(e.steps) != 9 {
		var names []string
		for _, s := range e.steps {
			names = append(names, s.name)
		}
		t.Fatalf("%d steps after lowering, want 9: %v", len(e.steps), names)
	}
}

func TestRunAllocatesNothing(t *testing.T) {
	for name, g := range testNets() {
		e, err := New(g, kernels.Best())
		if err != nil {
			t.Fatal(err)
		}
		in := make([]float32, g.InputShape.Size())
		if n := testing.AllocsPerRun(20, func() { _ = e.Run(in) }); n != 0 {
			t.Errorf("%s: Run allocates %v times", name, n)
		}
	}
}

// TestInt8BuffersShared: a calibrated MobileNetV2's int8 values share one
// arena by lifetime (at 224x224, 2.3 MB where buffers of their own took
// 7.6), and a run allocates nothing. A small input keeps the pure-Go run
// quick.
func TestInt8BuffersShared(t *testing.T) {
	e := int8MobileNetV2(t, kernels.Best(), kernels.BestInt8(), 64)
	if e.Int8Kernels() == "" {
		t.Fatal("the engine computes in float32")
	}
	own := 0
	for _, v := range e.q.values {
		own += len(v.i8)
	}
	if shared := len(e.q.arena); 4*shared > own {
		t.Errorf("int8 arena %d bytes; its values alone hold %d, want at most a quarter", shared, own)
	}
	in := make([]float32, e.InputShape().Size())
	if allocs := testing.AllocsPerRun(1, func() { e.Run(in) }); allocs != 0 {
		t.Errorf("Run allocates %v times", allocs)
	}
}

func TestCloneIsIndependent(t *testing.T) {
	g := testNets()["mobilenet_v3_like"]
	e, err := New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Clone()
	in := make([]float32, g.InputShape.Size())
	for i := range in {
		in[i] = float32(i%7) / 7
	}
	if err := e.Run(in); err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), e.Output(g.Outputs[0])...)
	if err := c.Run(make([]float32, len(in))); err != nil {
		t.Fatal(err)
	}
	for i, v := range e.Output(g.Outputs[0]) {
		if v != want[i] {
			t.Fatal("running a clone changed the original's output")
		}
	}
}

func TestErrors(t *testing.T) {
	g := testNets()["mobilenet_v2_like"]
	e, err := New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(make([]float32, 5)); err == nil {
		t.Error("a short input ran")
	}
	bad := testNets()["mobilenet_v2_like"]
	bad.Tensors["conv2d_1.w"].Data = nil
	if _, err := New(bad, kernels.Go{}); err == nil || !strings.Contains(err.Error(), "conv2d_1") {
		t.Errorf("a weightless conv gave %v", err)
	}
}
