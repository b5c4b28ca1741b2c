package convert

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// The fixtures in testdata/layers_small and testdata/graph_small, and their
// expected.json, are written by tools/js/make-convert-fixtures.js: tiny
// models with quantized weights split over two shards, and the outputs
// TF.js 4.22 computes from those very files.

type expected struct {
	Input   []float64            `json:"input"` // pixel values 0..255, HWC
	Outputs map[string][]float64 `json:"outputs"`
}

func readExpected(t *testing.T, dir string) expected {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// runFixture converts dir's model, feeds it the fixture's pixels through
// the converted preprocessing, and returns the engine after the run.
func runFixture(t *testing.T, dir string, outputs ...string) (*ir.Graph, *engine.Engine, expected) {
	t.Helper()
	g, err := FromTFJS(filepath.Join(dir, "model.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	g.Outputs = append(g.Outputs, outputs...)
	e, err := engine.New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	want := readExpected(t, dir)
	in := make([]float32, g.InputShape.Size())
	if len(want.Input) != len(in) {
		t.Fatalf("fixture input has %d values, model input %v", len(want.Input), g.InputShape)
	}
	p := g.Meta.Preprocess
	for i, v := range want.Input {
		in[i] = float32(v)*p.Scale[i%3] + p.Offset[i%3]
	}
	if err := e.Run(in); err != nil {
		t.Fatal(err)
	}
	return g, e, want
}

func assertClose(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, TF.js has %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > 1e-5+1e-4*math.Abs(want[i]) {
			t.Fatalf("%s[%d] = %g, TF.js %g\ngot  %v\nwant %v", what, i, got[i], want[i], got, want)
		}
	}
}

func node(t *testing.T, g *ir.Graph, name string) *ir.Node {
	t.Helper()
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("no node %q in %v", name, g.Summary())
	return nil
}

func TestLayersModelMatchesTFJS(t *testing.T) {
	dir := "testdata/layers_small"
	g, e, want := runFixture(t, dir)
	if len(g.Outputs) != 2 {
		t.Fatalf("outputs %v, want the model's two", g.Outputs)
	}
	assertClose(t, "probs", e.Output(g.Outputs[0]), want.Outputs["probs"])
	assertClose(t, "side", e.Output(g.Outputs[1]), want.Outputs["side"])
	if g.Meta.Embedding != "gap" {
		t.Errorf("embedding %q, want the GlobalAveragePooling2D layer gap", g.Meta.Embedding)
	}

	// The same with the embedding as an output, read from the engine.
	g2, e2, _ := runFixture(t, dir, "gap")
	assertClose(t, "gap", e2.Output("gap"), want.Outputs["gap"])

	// Semantics TF.js and Keras define, checked node by node.
	if n := node(t, g2, "pad"); n.Op != ir.Pad || n.Attrs.Pads != (ir.Pads{0, 0, 1, 1}) {
		t.Errorf("ZeroPadding2D [[0,1],[0,1]] became %s %v, want Pad {0 0 1 1}", n.Op, n.Attrs.Pads)
	}
	// 4x4, kernel 3, stride 2, SAME: output 2, one padded row and column,
	// both after (TF's uneven split).
	if n := node(t, g2, "down"); n.Attrs.Pads != (ir.Pads{0, 0, 1, 1}) || n.Attrs.Act != ir.ActReLU {
		t.Errorf("down: pads %v act %q, want {0 0 1 1} relu", n.Attrs.Pads, n.Attrs.Act)
	}
	if n := node(t, g2, "dw"); n.Attrs.Groups != 6 || !equalInts(g2.Tensors[n.Weights[0]].Shape, []int{3, 3, 1, 12}) || n.Attrs.Pads != (ir.Pads{1, 1, 1, 1}) {
		t.Errorf("depthwise: groups %d, kernel %v, pads %v; want 6, [3 3 1 12], {1 1 1 1}", n.Attrs.Groups, g2.Tensors[n.Weights[0]].Shape, n.Attrs.Pads)
	}
	if n := node(t, g2, "avg"); n.Op != ir.AvgPool || n.Attrs.CountPad || n.Attrs.Pads != (ir.Pads{1, 1, 1, 1}) {
		t.Errorf("avg: %s countPad %v pads %v, want AvgPool without padded cells in the count, pads {1 1 1 1}", n.Op, n.Attrs.CountPad, n.Attrs.Pads)
	}
	if n := node(t, g2, "dw_bn"); g2.Tensors[n.Weights[0]].Data[0] != 1 || g2.Tensors[n.Weights[1]].Data[0] != 0 || n.Attrs.Epsilon != float32(1e-2) {
		t.Errorf("BatchNormalization without scale and center: gamma %v beta %v eps %g", g2.Tensors[n.Weights[0]].Data, g2.Tensors[n.Weights[1]].Data, n.Attrs.Epsilon)
	}
	for _, n := range g2.Nodes {
		if strings.HasPrefix(n.Name, "drop") {
			t.Errorf("Dropout should vanish at inference, found %v", n)
		}
	}
	if p := g2.Meta.Preprocess; p.Scale[0] != float32(1.0/255) || p.Offset != [3]float32{} || p.Resize != ir.ResizeStretch || p.Channels != "RGB" {
		t.Errorf("preprocess %+v, want v/255 stretched RGB", p)
	}
}

func TestGraphModelMatchesTFJS(t *testing.T) {
	dir := "testdata/graph_small"
	g, e, want := runFixture(t, dir, "mean")
	assertClose(t, "Identity", e.Output(g.Outputs[0]), want.Outputs["Identity"])
	assertClose(t, "mean", e.Output("mean"), want.Outputs["mean"])
	if g.Meta.Embedding != "mean" {
		t.Errorf("embedding %q, want the Mean over H and W", g.Meta.Embedding)
	}
	// The leading x*2-1 on pixels fed as v/255 is v*2/255 - 1.
	if p := g.Meta.Preprocess; p.Scale != [3]float32{2.0 / 255, 2.0 / 255, 2.0 / 255} || p.Offset != [3]float32{-1, -1, -1} {
		t.Errorf("preprocess scale %v offset %v, want 2/255 and -1", p.Scale, p.Offset)
	}
	for _, n := range g.Nodes {
		if n.Op == ir.Mul || strings.HasPrefix(n.Name, "prep/") {
			t.Errorf("the input scaling should be preprocessing, found node %v", n)
		}
	}
	// 9x8 input, kernel 3, stride 2, SAME: rows 9 -> 5 need 2 padded
	// rows (1 before, 1 after), columns 8 -> 4 need 1 (after).
	if n := node(t, g, "conv1"); n.Attrs.Pads != (ir.Pads{1, 0, 1, 1}) || n.Attrs.Act != ir.ActReLU6 {
		t.Errorf("conv1: pads %v act %q, want {1 0 1 1} relu6", n.Attrs.Pads, n.Attrs.Act)
	}
	if n := node(t, g, "pw"); len(n.Weights) != 2 || n.Weights[1] != "pw/b" {
		t.Errorf("Conv2D followed by BiasAdd: weights %v, want the bias folded in", n.Weights)
	}
	if n := node(t, g, "pad"); n.Attrs.Pads != (ir.Pads{0, 1, 1, 0}) {
		t.Errorf("Pad: %v, want {0 1 1 0}", n.Attrs.Pads)
	}
}

// TestDequantization decodes every weight of the fixtures with its own
// naive reading of the manifest (q*scale+min in double precision, IEEE
// half floats by hand) and compares with what the converter stored.
func TestDequantization(t *testing.T) {
	for _, dir := range []string{"testdata/layers_small", "testdata/graph_small"} {
		var f tfjsFile
		data, err := os.ReadFile(filepath.Join(dir, "model.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &f); err != nil {
			t.Fatal(err)
		}
		var raw []byte
		for _, p := range f.WeightsManifest[0].Paths {
			b, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil {
				t.Fatal(err)
			}
			raw = append(raw, b...)
		}
		got, err := loadWeights(os.DirFS(dir), ".", f.WeightsManifest)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, s := range f.WeightsManifest[0].Weights {
			n := 1
			for _, d := range s.Shape {
				n *= d
			}
			w := got[s.Name]
			if w == nil || len(w.data) != n {
				t.Fatalf("%s: weight %s missing or of wrong size", dir, s.Name)
			}
			kind := s.Dtype
			if s.Quantization != nil {
				kind = s.Quantization.Dtype
			}
			kinds[kind]++
			for i := range n {
				var want float32
				switch kind {
				case "uint8":
					want = float32(float64(raw[i])**s.Quantization.Scale + *s.Quantization.Min)
				case "uint16":
					want = float32(float64(binary.LittleEndian.Uint16(raw[2*i:]))**s.Quantization.Scale + *s.Quantization.Min)
				case "float16":
					h := binary.LittleEndian.Uint16(raw[2*i:])
					exp, mant := int(h>>10&31), float64(h&1023)
					want = float32(math.Ldexp(1+mant/1024, exp-15))
					if exp == 0 {
						want = float32(math.Ldexp(mant/1024, -14))
					}
					if h&0x8000 != 0 {
						want = -want
					}
				case "float32":
					want = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
				case "int32":
					want = float32(int32(binary.LittleEndian.Uint32(raw[4*i:])))
				}
				if w.data[i] != want {
					t.Fatalf("%s: %s[%d] = %g, want %g (%s)", dir, s.Name, i, w.data[i], want, kind)
				}
			}
			raw = raw[n*storedSize(kind):]
		}
		if len(raw) != 0 {
			t.Errorf("%s: %d bytes left after the manifest's weights", dir, len(raw))
		}
		t.Logf("%s: checked %v", dir, kinds)
	}
}

func TestOptions(t *testing.T) {
	model := "testdata/layers_small/model.json"
	g, err := FromTFJS(model, Options{DropHead: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Outputs) != 1 || g.Outputs[0] != "gap" || g.Meta.Embedding != "gap" {
		t.Errorf("drop head: outputs %v embedding %q, want [gap]", g.Outputs, g.Meta.Embedding)
	}
	for _, n := range g.Nodes {
		if n.Op == ir.Dense || n.Op == ir.Softmax || n.Op == ir.Flatten {
			t.Errorf("drop head left %v", n)
		}
	}
	for name := range g.Tensors {
		if strings.HasPrefix(name, "fc1/") || strings.HasPrefix(name, "side/") {
			t.Errorf("drop head left tensor %s", name)
		}
	}

	labels := []string{"a", "b", "c", "d", "e"}
	g, err = FromTFJS(model, Options{Labels: labels, Source: "fixture"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(g.Meta.Labels, ",") != "a,b,c,d,e" || g.Meta.Source != "fixture" {
		t.Errorf("labels %v source %q", g.Meta.Labels, g.Meta.Source)
	}
	if _, err := FromTFJS(model, Options{Labels: labels[:4]}); err == nil || !strings.Contains(err.Error(), "4 labels") || !strings.Contains(err.Error(), model) {
		t.Errorf("4 labels for 5 classes: %v", err)
	}
	if _, err := FromTFJS(model, Options{Labels: labels, DropHead: true}); err == nil {
		t.Error("labels with a dropped head: no error")
	}
	g, err = FromTFJS("testdata/graph_small/model.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Meta.Source != "tfjs-graph graph_small" {
		t.Errorf("default source %q", g.Meta.Source)
	}
}

// copyFixture copies a fixture into a temporary folder for damaging.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"model.json", "group1-shard1of2.bin", "group1-shard2of2.bin"} {
		data, err := os.ReadFile(filepath.Join("testdata", name, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func editJSON(t *testing.T, dir string, pairs ...string) string {
	t.Helper()
	path := filepath.Join(dir, "model.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("fixture has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// editManifest changes the declared shape of one weight.
func editManifest(t *testing.T, dir, weight string, shape []int) string {
	t.Helper()
	path := filepath.Join(dir, "model.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]json.RawMessage
	var m []manifestGroup
	if json.Unmarshal(data, &f) != nil || json.Unmarshal(f["weightsManifest"], &m) != nil {
		t.Fatal("fixture is not JSON")
	}
	found := false
	for i := range m[0].Weights {
		if m[0].Weights[i].Name == weight {
			m[0].Weights[i].Shape, found = shape, true
		}
	}
	if !found {
		t.Fatalf("fixture has no weight %s", weight)
	}
	f["weightsManifest"], _ = json.Marshal(m)
	data, _ = json.Marshal(f)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestErrors(t *testing.T) {
	wantErr := func(t *testing.T, path string, parts ...string) {
		t.Helper()
		_, err := FromTFJS(path, Options{})
		if err == nil {
			t.Fatalf("no error")
		}
		for _, p := range append([]string{path}, parts...) {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not mention %q", err, p)
			}
		}
	}
	t.Run("missing shard", func(t *testing.T) {
		dir := copyFixture(t, "layers_small")
		os.Remove(filepath.Join(dir, "group1-shard2of2.bin"))
		wantErr(t, filepath.Join(dir, "model.json"), "group1-shard2of2.bin", "missing")
	})
	t.Run("short shard", func(t *testing.T) {
		dir := copyFixture(t, "graph_small")
		shard := filepath.Join(dir, "group1-shard2of2.bin")
		st, _ := os.Stat(shard)
		os.Truncate(shard, st.Size()-3)
		wantErr(t, filepath.Join(dir, "model.json"), "group1-shard2of2.bin", "too short")
	})
	t.Run("unknown layers", func(t *testing.T) {
		dir := copyFixture(t, "layers_small")
		path := editJSON(t, dir, `"class_name": "Add"`, `"class_name": "Subtract"`, `"class_name": "Flatten"`, `"class_name": "Permute"`)
		wantErr(t, path, `"residual" (Subtract)`, `"flat" (Permute)`)
	})
	t.Run("unknown ops", func(t *testing.T) {
		dir := copyFixture(t, "graph_small")
		path := editJSON(t, dir, `"op": "Relu"`, `"op": "Elu"`, `"op": "Mean"`, `"op": "Max"`)
		wantErr(t, path, `"res/relu" (Elu)`, `"mean" (Max)`)
	})
	t.Run("unsupported activation", func(t *testing.T) {
		dir := copyFixture(t, "layers_small")
		path := editJSON(t, dir, `"activation": "sigmoid"`, `"activation": "tanh"`)
		wantErr(t, path, `"side"`, `"tanh"`)
	})
	t.Run("malformed json", func(t *testing.T) {
		dir := copyFixture(t, "layers_small")
		path := filepath.Join(dir, "model.json")
		os.WriteFile(path, []byte(`{"modelTopology": {"node": [`), 0o644)
		wantErr(t, path, "not a TF.js model.json")
	})
	t.Run("no file", func(t *testing.T) {
		wantErr(t, filepath.Join(t.TempDir(), "model.json"), "no such file")
	})
	t.Run("shard outside", func(t *testing.T) {
		dir := copyFixture(t, "layers_small")
		path := editJSON(t, dir, `"group1-shard1of2.bin"`, `"../group1-shard1of2.bin"`)
		wantErr(t, path, "leaves the model's folder")
	})
	t.Run("huge shape", func(t *testing.T) {
		dir := copyFixture(t, "graph_small")
		path := editManifest(t, dir, "conv1/w", []int{1 << 30, 1 << 30, 3, 6})
		wantErr(t, path, "conv1/w", "bad shape")
	})
	t.Run("shape beyond shards", func(t *testing.T) {
		dir := copyFixture(t, "graph_small")
		path := editManifest(t, dir, "conv1/w", []int{3, 3, 3, 6000})
		wantErr(t, path, "group1-shard2of2.bin", "too short")
	})
	t.Run("wrong kernel shape", func(t *testing.T) {
		// stem's kernel declared [3,3,6,3] instead of [3,3,3,6]: the same
		// number of values, the wrong layout.
		dir := copyFixture(t, "layers_small")
		path := editManifest(t, dir, "stem/kernel", []int{3, 3, 6, 3})
		wantErr(t, path, `"stem"`, "stem/kernel", "[3 3 6 3]")
	})
}

// FuzzFromTFJS feeds the front ends damaged model.json files beside the
// fixtures' real shards (a layers model, a graph model, and the two nested
// layers models): any outcome but a panic or a hang is fine.
func FuzzFromTFJS(f *testing.F) {
	fixtures := []string{"layers_small", "graph_small", "nested_functional", "nested_sequential"}
	for i, name := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", name, "model.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, fixture uint8) {
		dir := copyFixture(t, fixtures[int(fixture)%len(fixtures)])
		path := filepath.Join(dir, "model.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		g, err := FromTFJS(path, Options{})
		if err == nil {
			if _, err := g.Infer(); err != nil {
				t.Fatalf("converted a graph that does not check: %v", err)
			}
		}
	})
}

func TestShortenNames(t *testing.T) {
	build := func(second string) *ir.Graph {
		g := ir.New(ir.Shape{2, 2, 1})
		g.Input = "PartitionedCall/input"
		k := g.AddTensor("StatefulPartitionedCall/m/w", []int{1, 1, 1, 1}, []float32{2})
		v := g.AddNode("StatefulPartitionedCall/m/conv", ir.Conv2D, []string{g.Input}, []string{k}, ir.Attrs{})
		v = g.AddNode(second, ir.ReLU, []string{v}, nil, ir.Attrs{})
		g.Outputs = []string{v}
		return g
	}
	g := build("StatefulPartitionedCall/StatefulPartitionedCall/m/relu")
	shortenNames(g)
	if g.Input != "input" || g.Nodes[0].Name != "m/conv" || g.Nodes[0].Inputs[0] != "input" || g.Nodes[0].Weights[0] != "m/w" ||
		g.Tensors["m/w"] == nil || g.Tensors["m/w"].Name != "m/w" || g.Nodes[1].Inputs[0] != "m/conv" || g.Outputs[0] != "m/relu" {
		t.Errorf("shortened: input %q nodes %v %v outputs %v tensors %v", g.Input, g.Nodes[0], g.Nodes[1], g.Outputs, g.Tensors)
	}
	if _, err := g.Infer(); err != nil {
		t.Error(err)
	}
	// "m/conv" would name two nodes: nothing is renamed.
	g = build("m/conv")
	shortenNames(g)
	if g.Nodes[0].Name != "StatefulPartitionedCall/m/conv" || g.Input != "PartitionedCall/input" {
		t.Errorf("renamed despite a collision: %v", g.Nodes[0])
	}
}
