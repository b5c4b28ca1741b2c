package tfjsexport

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// testGraph is a small network over every op the exporter writes: a
// strided convolution with uneven padding and a batch norm to fold, a
// depthwise convolution with a channel multiplier, a residual Add, a
// batch norm that cannot fold, a 'same' max pool, squeeze-excite (global
// pool, dense layers, a broadcast Mul), Concat, an average pool, Flatten,
// Dense and Softmax; two outputs.
func testGraph(r *rand.Rand) *ir.Graph {
	g := ir.New(ir.Shape{10, 10, 3})
	t := func(name string, shape []int, lo, hi float32) string {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = lo + (hi-lo)*r.Float32()
		}
		return g.AddTensor(name, shape, data)
	}
	bn := func(name string, c int) []string {
		return []string{t(name+"/gamma", []int{c}, 0.5, 1.5), t(name+"/beta", []int{c}, -0.5, 0.5),
			t(name+"/mean", []int{c}, -0.5, 0.5), t(name+"/var", []int{c}, 0.5, 2)}
	}
	x := g.AddNode("conv1", ir.Conv2D, []string{g.Input}, []string{t("conv1/w", []int{3, 3, 3, 8}, -0.5, 0.5)},
		ir.Attrs{Stride: [2]int{2, 2}, Pads: ir.Pads{0, 0, 1, 1}})
	x = g.AddNode("conv1/bn", ir.BatchNorm, []string{x}, bn("conv1/bn", 8), ir.Attrs{Epsilon: 1e-3})
	x = g.AddNode("conv1/relu6", ir.ReLU6, []string{x}, nil, ir.Attrs{})
	d := g.AddNode("dw", ir.Conv2D, []string{x}, []string{t("dw/w", []int{3, 3, 1, 16}, -0.5, 0.5), t("dw/b", []int{16}, -0.2, 0.2)},
		ir.Attrs{Groups: 8, Pads: ir.Pads{1, 1, 1, 1}, Act: ir.ActReLU6})
	d = g.AddNode("pw", ir.Conv2D, []string{d}, []string{t("pw/w", []int{1, 1, 16, 8}, -0.5, 0.5), t("pw/b", []int{8}, -0.2, 0.2)}, ir.Attrs{})
	a := g.AddNode("add", ir.Add, []string{d, x}, nil, ir.Attrs{Act: ir.ActReLU})
	a = g.AddNode("add/bn", ir.BatchNorm, []string{a}, bn("add/bn", 8), ir.Attrs{Epsilon: 1e-3})
	p := g.AddNode("pool", ir.MaxPool, []string{a}, nil, ir.Attrs{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Pads: ir.Pads{0, 0, 1, 1}})
	s := g.AddNode("se/pool", ir.GlobalAvgPool, []string{p}, nil, ir.Attrs{})
	s = g.AddNode("se/fc1", ir.Dense, []string{s}, []string{t("se/fc1/w", []int{8, 4}, -1, 1), t("se/fc1/b", []int{4}, -0.2, 0.2)}, ir.Attrs{Act: ir.ActReLU})
	s = g.AddNode("se/fc2", ir.Dense, []string{s}, []string{t("se/fc2/w", []int{4, 8}, -1, 1)}, ir.Attrs{Act: ir.ActSigmoid})
	m := g.AddNode("se/mul", ir.Mul, []string{p, s}, nil, ir.Attrs{})
	c := g.AddNode("cat", ir.Concat, []string{m, p}, nil, ir.Attrs{})
	v := g.AddNode("avg", ir.AvgPool, []string{c}, nil, ir.Attrs{Kernel: [2]int{3, 3}})
	v = g.AddNode("flat", ir.Flatten, []string{v}, nil, ir.Attrs{})
	v = g.AddNode("logits", ir.Dense, []string{v}, []string{t("logits/w", []int{16, 5}, -1, 1), t("logits/b", []int{5}, -0.2, 0.2)}, ir.Attrs{})
	v = g.AddNode("probs", ir.Softmax, []string{v}, nil, ir.Attrs{})
	g.Outputs = []string{v, c}
	g.Meta.Labels = []string{"a", "b", "c", "d", "e"}
	g.Meta.Preprocess = ir.Preprocess{Resize: ir.ResizeStretch, Scale: [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255}, Channels: "RGB"}
	return g
}

// runTFJS runs model.json and weights.bin in dir on input with TF.js.
func runTFJS(t *testing.T, dir string, input []float32) [][]float64 {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if _, err := os.Stat(filepath.Join(root, "tools", "js", "node_modules", "@tensorflow", "tfjs")); err != nil {
		t.Skip("tools/js/node_modules is not installed (npm ci in tools/js)")
	}
	var in bytes.Buffer
	binary.Write(&in, binary.LittleEndian, input)
	if err := os.WriteFile(filepath.Join(dir, "input.bin"), in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, filepath.Join(root, "tools", "js", "tfjs-export-check.js"), dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("TF.js could not run the exported model: %v\n%s", err, stderr.String())
	}
	var res struct{ Outputs [][]float64 }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res.Outputs
}

func runEngine(t *testing.T, g *ir.Graph, input []float32) [][]float32 {
	t.Helper()
	e, err := engine.New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(input); err != nil {
		t.Fatal(err)
	}
	var outs [][]float32
	for _, o := range g.Outputs {
		outs = append(outs, e.Output(o))
	}
	return outs
}

func compare(t *testing.T, got [][]float64, want [][]float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("TF.js gave %d outputs, the engine %d", len(got), len(want))
	}
	for o := range want {
		if len(got[o]) != len(want[o]) {
			t.Fatalf("output %d: TF.js gave %d values, the engine %d", o, len(got[o]), len(want[o]))
		}
		worst := 0.0
		for i := range want[o] {
			worst = max(worst, math.Abs(got[o][i]-float64(want[o][i])))
		}
		t.Logf("output %d: %d values, largest difference from the engine %.2g", o, len(want[o]), worst)
		if worst > tol {
			t.Errorf("output %d differs from the engine by %g (> %g)", o, worst, tol)
		}
	}
}

func TestLayersMatchEngine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := testGraph(r)
	m, err := Write(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "model.json"), m.ModelJSON, 0o644)
	os.WriteFile(filepath.Join(dir, WeightsFile), m.Weights, 0o644)
	input := make([]float32, g.InputShape.Size())
	for i := range input {
		input[i] = 2*r.Float32() - 1
	}
	compare(t, runTFJS(t, dir, input), runEngine(t, g, input), 1e-4)
}

// TestTeachableMatchesEngine feeds the exported zip Teachable Machine's
// input (pixel/127 − 1) and the engine the model's own (pixel/255): the
// probabilities must agree.
func TestTeachableMatchesEngine(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := testGraph(r)
	g.Outputs = g.Outputs[:1]
	var zbuf bytes.Buffer
	if err := Teachable(&zbuf, g, TeachableOptions{ModelName: "test", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		UserMetadata: map[string]any{"head": "strong"}}); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zbuf.Bytes()), int64(zbuf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f.Name), b, 0o644)
	}
	if strings.Join(names, " ") != "model.json weights.bin metadata.json" {
		t.Fatalf("the zip holds %v", names)
	}
	var meta map[string]any
	b, _ := os.ReadFile(filepath.Join(dir, "metadata.json"))
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	if meta["packageName"] != "@teachablemachine/image" || meta["imageSize"] != 10.0 || meta["modelName"] != "test" ||
		meta["userMetadata"].(map[string]any)["head"] != "strong" || strings.Join(anyStrings(meta["labels"]), ",") != "a,b,c,d,e" {
		t.Errorf("metadata.json: %s", b)
	}
	pixels := make([]float32, g.InputShape.Size())
	tm := make([]float32, len(pixels))
	own := make([]float32, len(pixels))
	for i := range pixels {
		pixels[i] = float32(r.IntN(256))
		tm[i] = pixels[i]/127 - 1
		own[i] = pixels[i] / 255
	}
	compare(t, runTFJS(t, dir, tm), runEngine(t, g, own), 1e-4)
}

func anyStrings(v any) []string {
	var s []string
	l, _ := v.([]any)
	for _, x := range l {
		str, _ := x.(string)
		s = append(s, str)
	}
	return s
}

func TestRefusesWhatTFJSCannotExpress(t *testing.T) {
	cases := map[string]func(g *ir.Graph){
		"grouped": func(g *ir.Graph) {
			g.AddTensor("w", []int{1, 1, 2, 4}, make([]float32, 8))
			g.Outputs = []string{g.AddNode("grouped", ir.Conv2D, []string{g.Input}, []string{"w"}, ir.Attrs{Groups: 2})}
		},
		"hard-swish": func(g *ir.Graph) {
			g.Outputs = []string{g.AddNode("hs", ir.HardSwish, []string{g.Input}, nil, ir.Attrs{})}
		},
		"torch pool": func(g *ir.Graph) {
			g.Outputs = []string{g.AddNode("avg", ir.AvgPool, []string{g.Input}, nil, ir.Attrs{Kernel: [2]int{3, 3}, Pads: ir.Pads{1, 1, 1, 1}, CountPad: true})}
		},
	}
	for name, build := range cases {
		g := ir.New(ir.Shape{4, 4, 4})
		build(g)
		_, err := Write(g, Options{})
		if err == nil || !strings.Contains(err.Error(), g.Nodes[0].Name) {
			t.Errorf("%s: want an error naming layer %q, got %v", name, g.Nodes[0].Name, err)
		}
	}
}

func TestTeachableRefusesBadModels(t *testing.T) {
	g := testGraph(rand.New(rand.NewPCG(5, 6)))
	if err := Teachable(io.Discard, g, TeachableOptions{}); err == nil || !strings.Contains(err.Error(), "2 outputs") {
		t.Errorf("two outputs: %v", err)
	}
	g.Outputs = g.Outputs[:1]
	g.Meta.Labels = g.Meta.Labels[:2]
	if err := Teachable(io.Discard, g, TeachableOptions{}); err == nil || !strings.Contains(err.Error(), "2 labels for 5 outputs") {
		t.Errorf("labels: %v", err)
	}
}

// TestTanhMatchesEngine exports LeNet-5's 1998 pieces, the scaled tanh
// (before and after a flatten) and the trainable subsampling (an average
// pool, then a per-channel coefficient and bias as a 1x1 depthwise
// convolution), and runs them in TF.js.
func TestTanhMatchesEngine(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	g := ir.New(ir.Shape{8, 8, 1})
	w := func(name string, shape []int) string {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = 2*r.Float32() - 1
		}
		return g.AddTensor(name, shape, data)
	}
	x := g.AddNode("c1", ir.Conv2D, []string{g.Input}, []string{w("c1/w", []int{3, 3, 1, 4}), w("c1/b", []int{4})}, ir.Attrs{})
	x = g.AddNode("c1/tanh", ir.Tanh, []string{x}, nil, ir.Attrs{Alpha: 1.7159, Beta: 2.0 / 3})
	x = g.AddNode("s2/pool", ir.AvgPool, []string{x}, nil, ir.Attrs{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}})
	x = g.AddNode("s2", ir.Conv2D, []string{x}, []string{w("s2/w", []int{1, 1, 1, 4}), w("s2/b", []int{4})}, ir.Attrs{Groups: 4})
	x = g.AddNode("s2/tanh", ir.Tanh, []string{x}, nil, ir.Attrs{Alpha: 1.7159, Beta: 2.0 / 3})
	x = g.AddNode("flat", ir.Flatten, []string{x}, nil, ir.Attrs{})
	x = g.AddNode("fc", ir.Dense, []string{x}, []string{w("fc/w", []int{36, 5})}, ir.Attrs{})
	x = g.AddNode("fc/tanh", ir.Tanh, []string{x}, nil, ir.Attrs{})
	g.Outputs = []string{x}
	m, err := Write(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "model.json"), m.ModelJSON, 0o644)
	os.WriteFile(filepath.Join(dir, WeightsFile), m.Weights, 0o644)
	input := make([]float32, g.InputShape.Size())
	for i := range input {
		input[i] = 2*r.Float32() - 1
	}
	compare(t, runTFJS(t, dir, input), runEngine(t, g, input), 1e-5)
}
