package format

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// weights fills a tensor of the given shape with deterministic
// pseudo-random values of varied magnitudes.
func weights(rng *rand.Rand, shape ...int) []float32 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * 0.3)
	}
	return w
}

// smallGraph is conv → batchnorm → relu → globalavgpool → dense → softmax,
// with one all-zero output channel in the dense kernel (int8 must give it
// scale 0) and one channel of tiny values.
func smallGraph() *ir.Graph {
	rng := rand.New(rand.NewPCG(1, 2))
	g := ir.New(ir.Shape{6, 6, 3})
	add := func(name string, shape ...int) string { return g.AddTensor(name, shape, weights(rng, shape...)) }
	x := g.AddNode("conv", ir.Conv2D, []string{g.Input},
		[]string{add("conv.weight", 3, 3, 3, 4), add("conv.bias", 4)},
		ir.Attrs{Stride: [2]int{2, 2}, Pads: ir.Pads{1, 1, 1, 1}})
	variance := weights(rng, 4)
	for i := range variance {
		variance[i] = variance[i]*variance[i] + 0.5
	}
	x = g.AddNode("bn", ir.BatchNorm, []string{x},
		[]string{add("bn.gamma", 4), add("bn.beta", 4), add("bn.mean", 4), g.AddTensor("bn.var", []int{4}, variance)},
		ir.Attrs{Epsilon: 1e-3})
	x = g.AddNode("relu", ir.ReLU, []string{x}, nil, ir.Attrs{})
	emb := g.AddNode("gap", ir.GlobalAvgPool, []string{x}, nil, ir.Attrs{})
	dense := weights(rng, 4, 3)
	for i := 0; i < 4; i++ {
		dense[i*3+1] = 0      // output channel 1 is all zero
		dense[i*3+2] *= 1e-30 // output channel 2 is tiny
	}
	x = g.AddNode("fc", ir.Dense, []string{emb},
		[]string{g.AddTensor("fc.weight", []int{4, 3}, dense), add("fc.bias", 3)}, ir.Attrs{})
	x = g.AddNode("prob", ir.Softmax, []string{x}, nil, ir.Attrs{})
	g.Outputs = []string{x}
	g.Meta = ir.Meta{
		Architecture: "tiny_test", Width: 0.75, Labels: []string{"cat", "dog", "ünïcode 🐦"},
		Embedding: emb, Source: "hand-built test graph", License: "MIT",
		Preprocess: ir.Preprocess{Resize: ir.ResizeShorter, ResizeTo: 8, Crop: "center",
			Scale:  [3]float32{1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)},
			Offset: [3]float32{-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225}, Channels: "RGB"},
	}
	return g
}

// everyOpGraph uses every op of the IR and every attribute, so that a
// round trip shows the graph encoding carries all of them.
func everyOpGraph() *ir.Graph {
	rng := rand.New(rand.NewPCG(3, 4))
	g := ir.New(ir.Shape{9, 9, 3})
	add := func(name string, shape ...int) string { return g.AddTensor(name, shape, weights(rng, shape...)) }
	pos := func(name string, n int) string {
		w := weights(rng, n)
		for i := range w {
			w[i] = w[i]*w[i] + 0.1
		}
		return g.AddTensor(name, []int{n}, w)
	}
	c1 := g.AddNode("c1", ir.Conv2D, []string{g.Input}, []string{add("c1.w", 3, 3, 3, 8), add("c1.b", 8)},
		ir.Attrs{Stride: [2]int{2, 2}, Pads: ir.Pads{1, 1, 1, 1}, Act: ir.ActReLU})
	bn := g.AddNode("bn", ir.BatchNorm, []string{c1},
		[]string{add("bn.g", 8), add("bn.b", 8), add("bn.m", 8), pos("bn.v", 8)}, ir.Attrs{Epsilon: 1e-5})
	p := g.AddNode("pad", ir.Pad, []string{bn}, nil, ir.Attrs{Pads: ir.Pads{0, 0, 1, 1}})
	mp := g.AddNode("mp", ir.MaxPool, []string{p}, nil, ir.Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Ceil: true})
	ap := g.AddNode("ap", ir.AvgPool, []string{p}, nil,
		ir.Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: ir.Pads{1, 1, 1, 1}, CountPad: true})
	cat := g.AddNode("cat", ir.Concat, []string{mp, ap}, nil, ir.Attrs{})
	dw := g.AddNode("dw", ir.Conv2D, []string{cat}, []string{add("dw.w", 3, 3, 1, 16), ""},
		ir.Attrs{Groups: 16, Dilation: [2]int{2, 2}, Pads: ir.Pads{2, 2, 2, 2}, Act: ir.ActHardSwish})
	pw := g.AddNode("pw", ir.Conv2D, []string{dw}, []string{add("pw.w", 1, 1, 16, 16)}, ir.Attrs{Act: ir.ActHardSigmoid})
	sum := g.AddNode("sum", ir.Add, []string{pw, cat}, nil, ir.Attrs{Act: ir.ActReLU6})
	r := g.AddNode("r", ir.ReLU, []string{sum}, nil, ir.Attrs{})
	r6 := g.AddNode("r6", ir.ReLU6, []string{r}, nil, ir.Attrs{})
	hs := g.AddNode("hs", ir.HardSwish, []string{r6}, nil, ir.Attrs{})
	se := g.AddNode("se.pool", ir.GlobalAvgPool, []string{hs}, nil, ir.Attrs{})
	se = g.AddNode("se.fc1", ir.Dense, []string{se}, []string{add("se.w1", 16, 4), add("se.b1", 4)}, ir.Attrs{Act: ir.ActSigmoid})
	se = g.AddNode("se.fc2", ir.Dense, []string{se}, []string{add("se.w2", 4, 16)}, ir.Attrs{})
	se = g.AddNode("se.gate", ir.HardSigmoid, []string{se}, nil, ir.Attrs{Alpha: 1.0 / 6, Beta: 0.5})
	m := g.AddNode("se.mul", ir.Mul, []string{hs, se}, nil, ir.Attrs{})
	sg := g.AddNode("sig", ir.Sigmoid, []string{m}, nil, ir.Attrs{})
	emb := g.AddNode("emb", ir.GlobalAvgPool, []string{sg}, nil, ir.Attrs{})
	f := g.AddNode("flat", ir.Flatten, []string{sg}, nil, ir.Attrs{})
	d := g.AddNode("fc", ir.Dense, []string{f}, []string{add("fc.w", 144, 5), add("fc.b", 5)}, ir.Attrs{})
	out := g.AddNode("prob", ir.Softmax, []string{d}, nil, ir.Attrs{})
	g.Outputs = []string{out, emb}
	g.Meta = ir.Meta{Architecture: "every_op", Embedding: emb,
		Preprocess: ir.Preprocess{Resize: ir.ResizeStretch, Scale: [3]float32{1. / 255, 1. / 255, 1. / 255}, Channels: "BGR"}}
	return g
}

func encodeBytes(t testing.TB, g *ir.Graph, dtype string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, g, Options{DType: dtype}); err != nil {
		t.Fatalf("Write %s: %v", dtype, err)
	}
	return buf.Bytes()
}

func readBytes(b []byte, name string) (*ir.Graph, error) {
	return Read(bytes.NewReader(b), int64(len(b)), name)
}

// checkStructure compares everything but the weights' values.
func checkStructure(t *testing.T, want, got *ir.Graph) {
	t.Helper()
	if _, err := want.Infer(); err != nil { // Infer fills Conv2D's kernel attribute; do the same on both sides
		t.Fatal(err)
	}
	if got.Input != want.Input || got.InputShape != want.InputShape || !reflect.DeepEqual(got.Outputs, want.Outputs) {
		t.Errorf("input/outputs: got %q %v %v, want %q %v %v", got.Input, got.InputShape, got.Outputs, want.Input, want.InputShape, want.Outputs)
	}
	if !reflect.DeepEqual(got.Nodes, want.Nodes) {
		for i := range want.Nodes {
			if i < len(got.Nodes) && !reflect.DeepEqual(got.Nodes[i], want.Nodes[i]) {
				t.Errorf("node %d: got %+v, want %+v", i, *got.Nodes[i], *want.Nodes[i])
			}
		}
		t.Fatalf("nodes differ (%d vs %d)", len(got.Nodes), len(want.Nodes))
	}
	if !reflect.DeepEqual(got.Meta, want.Meta) {
		t.Errorf("meta: got %+v, want %+v", got.Meta, want.Meta)
	}
	if len(got.Tensors) != len(want.Tensors) {
		t.Fatalf("%d tensors, want %d", len(got.Tensors), len(want.Tensors))
	}
	for name, w := range want.Tensors {
		g := got.Tensors[name]
		if g == nil || g.Name != name || !reflect.DeepEqual(g.Shape, w.Shape) || len(g.Data) != len(w.Data) {
			t.Fatalf("tensor %q: got %+v, want shape %v", name, g, w.Shape)
		}
	}
}

func TestRoundTripF32Exact(t *testing.T) {
	for _, build := range []func() *ir.Graph{smallGraph, everyOpGraph} {
		want := build()
		got, err := readBytes(encodeBytes(t, want, "f32"), "m.glimpse")
		if err != nil {
			t.Fatal(err)
		}
		checkStructure(t, want, got)
		for name, w := range want.Tensors {
			for i, v := range w.Data {
				if math.Float32bits(got.Tensors[name].Data[i]) != math.Float32bits(v) {
					t.Fatalf("tensor %q[%d] = %v, want %v", name, i, got.Tensors[name].Data[i], v)
				}
			}
		}
	}
}

// halfValues lists every finite binary16 value in increasing order,
// computed from the IEEE 754 definition with math.Ldexp, independently of
// the conversion library the package uses.
func halfValues() []float64 {
	var vals []float64
	for bits := 0; bits < 1<<16; bits++ {
		sign, exp, frac := bits>>15, (bits>>10)&0x1f, bits&0x3ff
		var v float64
		switch exp {
		case 0x1f:
			continue // infinities and NaNs
		case 0:
			v = math.Ldexp(float64(frac), -24)
		default:
			v = math.Ldexp(float64(frac|0x400), exp-25)
		}
		if sign == 1 {
			if v == 0 {
				continue // keep one zero
			}
			v = -v
		}
		vals = append(vals, v)
	}
	sort.Float64s(vals)
	return vals
}

// nearestHalf rounds x to binary16 by searching the table: the nearest
// value, ties to the one with an even last mantissa bit.
func nearestHalf(vals []float64, x float64) float64 {
	i := sort.SearchFloat64s(vals, x)
	if i == len(vals) {
		return vals[i-1]
	}
	if vals[i] == x || i == 0 {
		return vals[i]
	}
	lo, hi := vals[i-1], vals[i]
	switch dl, dh := x-lo, hi-x; {
	case dl < dh:
		return lo
	case dh < dl:
		return hi
	}
	// A tie: pick the value whose mantissa is even (its representation
	// in units of the local spacing is even).
	_, e := math.Frexp(math.Max(math.Abs(lo), math.Abs(hi)))
	ulp := math.Ldexp(1, max(e-11, -24))
	if math.Mod(math.Abs(lo)/ulp, 2) == 0 {
		return lo
	}
	return hi
}

func TestRoundTripF16Nearest(t *testing.T) {
	halves := halfValues()
	// The table rounding itself, on values where the answer is known.
	for _, c := range [][2]float64{{1, 1}, {1 + math.Ldexp(1, -11), 1}, {1 + 3*math.Ldexp(1, -11), 1 + math.Ldexp(1, -9)},
		{65504, 65504}, {math.Ldexp(1, -25), 0}, {math.Ldexp(3, -26), math.Ldexp(1, -24)}} {
		if got := nearestHalf(halves, c[0]); got != c[1] {
			t.Fatalf("reference rounding of %v gives %v, want %v", c[0], got, c[1])
		}
	}
	for _, build := range []func() *ir.Graph{smallGraph, everyOpGraph} {
		want := build()
		// Add values that exercise subnormals and ties.
		w := want.Tensors["conv.weight"]
		if w == nil {
			w = want.Tensors["c1.w"]
		}
		copy(w.Data, []float32{1 + 1.0/2048, 1 + 3.0/2048, 3e-6, -7e-8, 65504, -1e-9, 0})
		got, err := readBytes(encodeBytes(t, want, "f16"), "m.glimpse")
		if err != nil {
			t.Fatal(err)
		}
		checkStructure(t, want, got)
		for name, w := range want.Tensors {
			for i, v := range w.Data {
				g := got.Tensors[name].Data[i]
				ref := float32(nearestHalf(halves, float64(v)))
				if len(w.Shape) == 1 {
					ref = v // vectors stay f32
				}
				if g != ref {
					t.Fatalf("tensor %q[%d]: %v decoded as %v, want %v", name, i, v, g, ref)
				}
			}
		}
	}
}

func TestF16OutOfRange(t *testing.T) {
	g := smallGraph()
	g.Tensors["conv.weight"].Data[5] = 1e6
	err := Write(&bytes.Buffer{}, g, Options{DType: "f16"})
	if err == nil || !strings.Contains(err.Error(), `tensor "conv.weight"`) {
		t.Fatalf("got %v, want an f16 range error naming the tensor", err)
	}
}

func TestRoundTripInt8PerChannel(t *testing.T) {
	for _, build := range []func() *ir.Graph{smallGraph, everyOpGraph} {
		want := build()
		b := encodeBytes(t, want, "int8")
		info, err := Inspect(bytes.NewReader(b), int64(len(b)), "m.glimpse")
		if err != nil {
			t.Fatal(err)
		}
		got, err := readBytes(b, "m.glimpse")
		if err != nil {
			t.Fatal(err)
		}
		checkStructure(t, want, got)
		for _, ti := range info.Tensors {
			w := want.Tensors[ti.Name]
			if len(w.Shape) == 1 {
				if ti.DType != F32 || !reflect.DeepEqual(got.Tensors[ti.Name].Data, w.Data) {
					t.Fatalf("vector %q stored as %v, want exact f32", ti.Name, ti.DType)
				}
				continue
			}
			if ti.DType != Int8 {
				t.Fatalf("kernel %q stored as %v", ti.Name, ti.DType)
			}
			cout := w.Shape[len(w.Shape)-1]
			maxAbs := make([]float64, cout)
			for i, v := range w.Data {
				maxAbs[i%cout] = math.Max(maxAbs[i%cout], math.Abs(float64(v)))
			}
			for c := range cout {
				scale := maxAbs[c] / 127
				if math.Abs(float64(ti.Scales[c])-scale) > 1e-6*scale+1e-45 {
					t.Fatalf("%q channel %d scale %v, want max|w|/127 = %v", ti.Name, c, ti.Scales[c], scale)
				}
			}
			for i, v := range w.Data {
				c := i % cout
				g := float64(got.Tensors[ti.Name].Data[i])
				if maxAbs[c] == 0 {
					if g != 0 {
						t.Fatalf("%q[%d] in an all-zero channel decoded as %v", ti.Name, i, g)
					}
					continue
				}
				s := float64(ti.Scales[c])
				if d := math.Abs(g - float64(v)); d > s/2+1e-6*maxAbs[c] {
					t.Fatalf("%q[%d] channel %d: %v decoded as %v, off by %v > scale/2 = %v", ti.Name, i, c, v, g, d, s/2)
				}
			}
		}
	}
}

// TestLayout checks the bytes Write produces against FORMAT.md directly:
// fixed header fields, both checksums, alignment, and a tensor's raw f32
// bits at the offset the table gives.
func TestLayout(t *testing.T) {
	g := smallGraph()
	b := encodeBytes(t, g, "f32")
	le := binary.LittleEndian
	if string(b[:4]) != "GLMP" || le.Uint32(b[4:]) != 1 {
		t.Fatalf("magic/version: % x", b[:8])
	}
	if n := le.Uint64(b[8:]); n != uint64(len(g.Tensors)) {
		t.Fatalf("tensor count %d, want %d", n, len(g.Tensors))
	}
	info, err := Inspect(bytes.NewReader(b), int64(len(b)), "m.glimpse")
	if err != nil {
		t.Fatal(err)
	}
	if info.DataOffset%32 != 0 || info.DataOffset+info.DataSize != int64(len(b)) {
		t.Fatalf("data section at %d, %d bytes, file %d", info.DataOffset, info.DataSize, len(b))
	}
	// The header proper ends with data size, data CRC and header CRC; only
	// zero padding, fewer than 32 bytes of it, follows. Find where it ends.
	table := crc32.MakeTable(crc32.Castagnoli)
	found := false
	for e := info.DataOffset - 31; e <= info.DataOffset && !found; e++ {
		if bytes.Count(b[e:info.DataOffset], []byte{0}) == int(info.DataOffset-e) && le.Uint32(b[e-4:]) == crc32.Checksum(b[:e-4], table) &&
			le.Uint32(b[e-8:]) == crc32.Checksum(b[info.DataOffset:], table) &&
			le.Uint64(b[e-16:]) == uint64(info.DataSize) {
			found = true
		}
	}
	if !found {
		t.Fatal("no header checksum over the preceding bytes and data checksum over the data section found")
	}
	for _, ti := range info.Tensors {
		if ti.Offset%32 != 0 {
			t.Fatalf("tensor %q at unaligned offset %d", ti.Name, ti.Offset)
		}
		w := g.Tensors[ti.Name]
		for i, v := range w.Data {
			if le.Uint32(b[info.DataOffset+ti.Offset+4*int64(i):]) != math.Float32bits(v) {
				t.Fatalf("tensor %q element %d not stored as little-endian f32", ti.Name, i)
			}
		}
	}
	if kv, ok := info.Lookup("general.labels"); !ok || !reflect.DeepEqual(kv.Value, g.Meta.Labels) || kv.TypeName() != "[]string" {
		t.Fatalf("general.labels = %+v", kv)
	}
	if kv, ok := info.Lookup("glimpse.preprocess.scale"); !ok || kv.TypeName() != "[]f32" {
		t.Fatalf("glimpse.preprocess.scale = %+v", kv)
	}
	js, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"DType":"f32"`, `"Key":"general.labels","Type":"array","Elem":"string","Value":["cat","dog","ünïcode 🐦"]`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("Info as JSON lacks %s: %s", want, js)
		}
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	a := encodeBytes(t, everyOpGraph(), "int8")
	b := encodeBytes(t, everyOpGraph(), "int8")
	if !bytes.Equal(a, b) {
		t.Fatal("the same graph gave different bytes")
	}
}

func TestWriteRejects(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(g *ir.Graph)
		dtype string
		want  string
	}{
		{"dtype", func(g *ir.Graph) {}, "q4", `unknown dtype "q4"`},
		{"nodata", func(g *ir.Graph) { g.Tensors["fc.weight"].Data = nil }, "", `tensor "fc.weight" has no data`},
		{"nan", func(g *ir.Graph) { g.Tensors["fc.bias"].Data[1] = float32(math.NaN()) }, "", `tensor "fc.bias" holds NaN at index 1`},
		{"labels", func(g *ir.Graph) { g.Meta.Labels = g.Meta.Labels[:2] }, "", "2 labels for output"},
		{"missing", func(g *ir.Graph) { delete(g.Tensors, "bn.mean") }, "", `layer "bn"`},
		{"resize", func(g *ir.Graph) { g.Meta.Preprocess.Resize = "fit" }, "", `unknown resize policy "fit"`},
		{"crop", func(g *ir.Graph) { g.Meta.Preprocess.ResizeTo = 4 }, "", "resize_to 4 is smaller than the input"},
		{"act", func(g *ir.Graph) { g.Nodes[0].Attrs.Act = "gelu" }, "", `unknown activation "gelu"`},
		{"embedding", func(g *ir.Graph) { g.Meta.Embedding = "nowhere" }, "", `embedding value "nowhere"`},
		{"utf8", func(g *ir.Graph) { g.Meta.Labels[0] = "c\xffat" }, "", "label \"c\\xffat\" is not valid UTF-8"},
		{"empty name", func(g *ir.Graph) { g.Tensors[""] = &ir.Tensor{Shape: []int{1}, Data: []float32{1}} }, "", "empty name"},
	} {
		g := smallGraph()
		c.edit(g)
		err := Write(&bytes.Buffer{}, g, Options{DType: c.dtype})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
