package convert

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// TestActivationsTheIRCannotExpress: an activation outside the IR, in a
// layers model's `activation` or a graph model's fused_ops, fails the
// conversion with an error naming the activation as the file spells it and
// the layer or node, instead of being replaced by another.
func TestActivationsTheIRCannotExpress(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		fixture, from, to string
		want              []string
	}{
		{"layers_small", `"activation": "sigmoid"`, `"activation": "tanh"`, []string{`layer "side" (Dense)`, `activation "tanh"`}},
		{"layers_small", `"activation": "relu"`, `"activation": "elu"`, []string{`layer "down" (Conv2D)`, `activation "elu"`}},
		{"layers_small", `"activation": "softmax"`, `"activation": "swish"`, []string{`(Activation)`, `activation "swish"`}},
		{"graph_small", `"` + b64("Relu6") + `"`, `"` + b64("Elu") + `"`, []string{`node "conv1" (_FusedConv2D)`, `activation "Elu"`}},
		{"graph_small", `"` + b64("Relu") + `"`, `"` + b64("LeakyRelu") + `"`, []string{`node "dw" (FusedDepthwiseConv2dNative)`, `activation "LeakyRelu"`}},
		// Softmax is an op the IR has, but not one a convolution carries.
		{"graph_small", `"` + b64("Relu6") + `"`, `"` + b64("Softmax") + `"`, []string{`node "conv1" (_FusedConv2D)`, `activation "Softmax" cannot be fused`}},
	} {
		path := editJSON(t, copyFixture(t, tc.fixture), tc.from, tc.to)
		_, err := FromTFJS(path, Options{})
		if err == nil {
			t.Errorf("%s with %s: converted", tc.fixture, tc.to)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s with %s: error %q does not say %q", tc.fixture, tc.to, err, w)
			}
		}
	}
}

// TestFusedBatchNormActivation: a convolution fused with batch norm and an
// activation becomes Conv2D, BatchNorm and that activation's own node, and
// computes what a naive evaluation of TensorFlow's definition does. (The
// activation's node used to come from a switch that made everything but
// ReLU and ReLU6 a Sigmoid; now it comes from the shared table.)
func TestFusedBatchNormActivation(t *testing.T) {
	// One input channel, one output channel, a 1x1 kernel: the network is
	// y = act(((x*w) - mean) / sqrt(var + eps) * scale + offset).
	const w, scale, offset, mean, variance, eps = 0.5, 2.0, -3.0, 0.25, 4.0, 1e-3
	naive := func(x float64, act string) float64 {
		v := (x*w-mean)/math.Sqrt(variance+eps)*scale + offset
		switch act {
		case "Relu":
			return math.Max(v, 0)
		case "Relu6":
			return math.Min(math.Max(v, 0), 6)
		case "Sigmoid":
			return 1 / (1 + math.Exp(-v))
		}
		return v
	}
	for _, act := range []string{"Relu", "Relu6", "Sigmoid", ""} {
		dir := writeFusedBNModel(t, act, []float32{w, scale, offset, mean, variance}, eps)
		g, err := FromTFJS(filepath.Join(dir, "model.json"), Options{})
		if err != nil {
			t.Fatalf("%q: %v", act, err)
		}
		e, err := engine.New(g, kernels.Go{})
		if err != nil {
			t.Fatal(err)
		}
		in := []float32{0, 20, 255, 128} // pixels; the graph sees v/255
		x := make([]float32, len(in))
		p := g.Meta.Preprocess
		for i, v := range in {
			x[i] = v*p.Scale[0] + p.Offset[0]
		}
		if err := e.Run(x); err != nil {
			t.Fatal(err)
		}
		got := e.Output(g.Outputs[0])
		for i, v := range in {
			want := naive(float64(v)/255, act)
			if math.Abs(float64(got[i])-want) > 1e-5 {
				t.Errorf("fused_ops [FusedBatchNorm %s]: pixel %v gives %g, TensorFlow's definition %g", act, v, got[i], want)
			}
		}
	}
}

// writeFusedBNModel writes a graph model of one _FusedConv2D with
// fused_ops [FusedBatchNorm, act] on a 2x2x1 input; vals are the filter,
// scale, offset, mean and variance, one value each.
func writeFusedBNModel(t *testing.T, act string, vals []float32, eps float64) string {
	t.Helper()
	dir := t.TempDir()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	names := []string{"w", "scale", "offset", "mean", "var"}
	type node map[string]any
	nodes := []node{{"name": "x", "op": "Placeholder", "attr": node{"shape": node{"shape": node{"dim": []node{{"size": "1"}, {"size": "2"}, {"size": "2"}, {"size": "1"}}}}}}}
	var weights []node
	buf := make([]byte, 4*len(vals))
	for i, n := range names {
		nodes = append(nodes, node{"name": n, "op": "Const"})
		shape := []int{1}
		if n == "w" {
			shape = []int{1, 1, 1, 1}
		}
		weights = append(weights, node{"name": n, "shape": shape, "dtype": "float32"})
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(vals[i]))
	}
	fused := []string{b64("FusedBatchNorm")}
	if act != "" {
		fused = append(fused, b64(act))
	}
	nodes = append(nodes, node{"name": "conv", "op": "_FusedConv2D", "input": append([]string{"x"}, names...), "attr": node{
		"strides":   node{"list": node{"i": []string{"1", "1", "1", "1"}}},
		"padding":   node{"s": b64("VALID")},
		"fused_ops": node{"list": node{"s": fused}},
		"epsilon":   node{"f": eps},
	}})
	model := node{"format": "graph-model", "modelTopology": node{"node": nodes},
		"weightsManifest": []node{{"paths": []string{"w.bin"}, "weights": weights}}}
	data, err := json.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "w.bin"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
