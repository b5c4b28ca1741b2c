package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/tfjsexport"
)

// opCase is one op of the IR in a graph of its own.
type opCase struct {
	input ir.Shape
	// build adds the op (and, where it needs them, the nodes that make its
	// operands) after the graph input and returns the op's output.
	build func(b *net, x string) string
	// shape is the op's output shape, worked out by hand.
	shape ir.Shape
	// refused is empty when the TF.js exporter writes the op; otherwise
	// it is part of the error the exporter must give, which must also
	// name the node.
	refused string
}

// opCases has one case per op of ir.Ops. A new op fails
// TestEveryOpEverywhere until it has a case here, and so until shape
// inference, the engine, the file format and the TF.js exporter (which
// either writes it or refuses it by name) have each been shown to handle
// it.
func opCases() map[ir.Op]opCase {
	pool := ir.Attrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: ir.Pads{0, 0, 1, 1}} // TF's 'same' on 6x6
	return map[ir.Op]opCase{
		ir.Conv2D: {ir.Shape{7, 6, 4}, func(b *net, x string) string {
			return b.conv(x, 4, 8, 3, 1, ir.Attrs{Stride: [2]int{2, 2}, Pads: ir.Pads{0, 0, 1, 1}, Act: ir.ActReLU6}, true)
		}, ir.Shape{3, 3, 8}, ""},
		ir.BatchNorm: {ir.Shape{4, 5, 3}, func(b *net, x string) string { return b.bn(x, 3) }, ir.Shape{4, 5, 3}, ""},
		ir.Dense: {ir.Shape{1, 1, 6}, func(b *net, x string) string {
			d := b.dense(x, 6, 4)
			b.g.Nodes[len(b.g.Nodes)-1].Attrs.Act = ir.ActSigmoid
			return d
		}, ir.Shape{1, 1, 4}, ""},
		ir.MaxPool:       {ir.Shape{6, 6, 3}, func(b *net, x string) string { return b.op(ir.MaxPool, pool, x) }, ir.Shape{3, 3, 3}, ""},
		ir.AvgPool:       {ir.Shape{6, 6, 3}, func(b *net, x string) string { return b.op(ir.AvgPool, pool, x) }, ir.Shape{3, 3, 3}, ""},
		ir.GlobalAvgPool: {ir.Shape{5, 4, 3}, func(b *net, x string) string { return b.op(ir.GlobalAvgPool, ir.Attrs{}, x) }, ir.Shape{1, 1, 3}, ""},
		ir.Add: {ir.Shape{5, 4, 3}, func(b *net, x string) string {
			return b.op(ir.Add, ir.Attrs{Act: ir.ActReLU}, x, b.op(ir.Sigmoid, ir.Attrs{}, x))
		}, ir.Shape{5, 4, 3}, ""},
		ir.Mul: {ir.Shape{5, 4, 3}, func(b *net, x string) string {
			return b.op(ir.Mul, ir.Attrs{}, x, b.op(ir.GlobalAvgPool, ir.Attrs{}, x))
		}, ir.Shape{5, 4, 3}, ""},
		ir.Concat: {ir.Shape{5, 4, 3}, func(b *net, x string) string {
			return b.op(ir.Concat, ir.Attrs{}, x, b.op(ir.ReLU, ir.Attrs{}, x))
		}, ir.Shape{5, 4, 6}, ""},
		ir.ReLU:      {ir.Shape{4, 3, 5}, func(b *net, x string) string { return b.op(ir.ReLU, ir.Attrs{}, x) }, ir.Shape{4, 3, 5}, ""},
		ir.ReLU6:     {ir.Shape{4, 3, 5}, func(b *net, x string) string { return b.op(ir.ReLU6, ir.Attrs{}, x) }, ir.Shape{4, 3, 5}, ""},
		ir.HardSwish: {ir.Shape{4, 3, 5}, func(b *net, x string) string { return b.op(ir.HardSwish, ir.Attrs{}, x) }, ir.Shape{4, 3, 5}, "no TF.js layers equivalent"},
		ir.HardSigmoid: {ir.Shape{4, 3, 5}, func(b *net, x string) string {
			return b.op(ir.HardSigmoid, ir.Attrs{Alpha: 0.2, Beta: 0.5}, x)
		}, ir.Shape{4, 3, 5}, "no TF.js layers equivalent"},
		ir.Tanh: {ir.Shape{4, 3, 5}, func(b *net, x string) string {
			return b.op(ir.Tanh, ir.Attrs{Alpha: 1.7159, Beta: 2.0 / 3}, x)
		}, ir.Shape{4, 3, 5}, ""},
		ir.Sigmoid: {ir.Shape{4, 3, 5}, func(b *net, x string) string { return b.op(ir.Sigmoid, ir.Attrs{}, x) }, ir.Shape{4, 3, 5}, ""},
		ir.Softmax: {ir.Shape{4, 3, 5}, func(b *net, x string) string { return b.op(ir.Softmax, ir.Attrs{}, x) }, ir.Shape{4, 3, 5}, ""},
		ir.Flatten: {ir.Shape{3, 2, 4}, func(b *net, x string) string { return b.op(ir.Flatten, ir.Attrs{}, x) }, ir.Shape{1, 1, 24}, ""},
		ir.Pad: {ir.Shape{4, 3, 2}, func(b *net, x string) string {
			return b.op(ir.Pad, ir.Attrs{Pads: ir.Pads{1, 2, 0, 1}}, x)
		}, ir.Shape{5, 6, 2}, ""},
	}
}

// TestEveryOpEverywhere walks every op of ir.Ops through shape inference
// (against the shape worked out by hand), the engine (against the naive
// evaluator, with the pure-Go and the best kernels), the file format
// (written and read back: the same graph, the same outputs bit for bit)
// and the TF.js exporter (TF.js itself runs what it writes and must agree
// with the engine; what it refuses, it refuses naming the node).
func TestEveryOpEverywhere(t *testing.T) {
	cases := opCases()
	type exported struct {
		op     ir.Op
		dir    string
		output []float32
	}
	var toTFJS []exported
	root := t.TempDir()
	for _, op := range ir.Ops {
		c, ok := cases[op]
		if !ok {
			t.Errorf("ir.%s has no case in opCases: add one (and handle the op in shape inference, the engine, core/format and core/tfjsexport)", op)
			continue
		}
		delete(cases, op)
		t.Run(string(op), func(t *testing.T) {
			b := newNet(c.input)
			out := c.build(b, b.g.Input)
			b.g.Outputs = []string{out}
			g := b.g
			if last := g.Nodes[len(g.Nodes)-1]; last.Op != op || last.Output != out {
				t.Fatalf("the case's last node is %s, want the %s under test", last, op)
			}

			shapes, err := g.Infer()
			if err != nil {
				t.Fatalf("shape inference: %v", err)
			}
			if shapes[out] != c.shape {
				t.Errorf("shape inference gives %v, want %v", shapes[out], c.shape)
			}

			check(t, g, kernels.Go{})
			if best := kernels.Best(); best.Name() != (kernels.Go{}).Name() {
				check(t, g, best)
			}
			input := make([]float32, c.input.Size())
			rng := rand.New(rand.NewPCG(7, uint64(len(op))))
			for i := range input {
				input[i] = 16*rng.Float32() - 8 // past ReLU6's and HardSigmoid's bends
			}
			want := runOutput(t, g, input)

			var file bytes.Buffer
			if err := format.Write(&file, g, format.Options{DType: "f32"}); err != nil {
				t.Fatalf("format.Write: %v", err)
			}
			back, err := format.Read(bytes.NewReader(file.Bytes()), int64(file.Len()), string(op)+".glimpse")
			if err != nil {
				t.Fatalf("format.Read: %v", err)
			}
			if !reflect.DeepEqual(back.Nodes, g.Nodes) {
				t.Errorf("the graph read back differs:\n got %s\nwant %s", nodesJSON(back), nodesJSON(g))
			}
			if got := runOutput(t, back, input); !slices.Equal(got, want) {
				t.Errorf("the file read back computes %v, the graph %v", got, want)
			}

			m, err := tfjsexport.Write(g, tfjsexport.Options{})
			switch {
			case c.refused != "":
				last := g.Nodes[len(g.Nodes)-1].Name
				if err == nil || !strings.Contains(err.Error(), c.refused) || !strings.Contains(err.Error(), last) {
					t.Errorf("the TF.js exporter: want an error naming %q and saying %q, got %v", last, c.refused, err)
				}
			case err != nil:
				t.Errorf("the TF.js exporter: %v", err)
			default:
				dir := filepath.Join(root, string(op))
				var in bytes.Buffer
				binary.Write(&in, binary.LittleEndian, input)
				for name, data := range map[string][]byte{"model.json": m.ModelJSON, tfjsexport.WeightsFile: m.Weights, "input.bin": in.Bytes()} {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				toTFJS = append(toTFJS, exported{op, dir, want})
			}
		})
	}
	for op := range cases {
		t.Errorf("opCases has a case for %s, which is not in ir.Ops", op)
	}

	t.Run("TF.js", func(t *testing.T) {
		if len(toTFJS) == 0 {
			t.Fatal("the exporter wrote no op")
		}
		dirs := make([]string, len(toTFJS))
		for i, e := range toTFJS {
			dirs[i] = e.dir
		}
		results := runTFJS(t, dirs)
		for i, e := range toTFJS {
			if len(results[i]) != 1 {
				t.Errorf("%s: TF.js gave %d outputs, want 1", e.op, len(results[i]))
				continue
			}
			got := results[i][0]
			if len(got) != len(e.output) {
				t.Errorf("%s: TF.js gave %d values, the engine %d", e.op, len(got), len(e.output))
				continue
			}
			worst := 0.0
			for j, w := range e.output {
				worst = max(worst, math.Abs(got[j]-float64(w))/(1+math.Abs(float64(w))))
			}
			if worst > 1e-5 {
				t.Errorf("%s: TF.js differs from the engine by %.3g (relative)", e.op, worst)
			}
		}
	})
}

// runOutput runs g on the pure-Go kernels and returns its one output.
func runOutput(t *testing.T, g *ir.Graph, input []float32) []float32 {
	t.Helper()
	e, err := New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(input); err != nil {
		t.Fatal(err)
	}
	return slices.Clone(e.Output(g.Outputs[0]))
}

func nodesJSON(g *ir.Graph) string {
	b, _ := json.Marshal(g.Nodes)
	return string(b)
}

// runTFJS runs the exported models in dirs with TF.js in one Node process
// (tools/js/tfjs-export-check.js) and returns each one's outputs.
func runTFJS(t *testing.T, dirs []string) [][][]float64 {
	t.Helper()
	if runtime.GOOS == "js" {
		t.Skip("no processes under GOOS=js: the native test runs TF.js")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	if _, err := os.Stat(filepath.Join(root, "tools", "js", "node_modules", "@tensorflow", "tfjs")); err != nil {
		t.Skip("tools/js/node_modules is not installed (npm ci in tools/js)")
	}
	cmd := exec.Command(node, append([]string{filepath.Join(root, "tools", "js", "tfjs-export-check.js")}, dirs...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("TF.js could not run the exported models: %v\n%s", err, stderr.String())
	}
	var results [][][]float64
	dec := json.NewDecoder(bytes.NewReader(out))
	for range dirs {
		var r struct{ Outputs [][]float64 }
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("reading TF.js's answer %d: %v", len(results)+1, err)
		}
		results = append(results, r.Outputs)
	}
	return results
}
