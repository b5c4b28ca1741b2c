// Package tfjsexport writes an IR graph back out as a TF.js layers model
// (model.json and one weights.bin), the format tf.loadLayersModel reads,
// and packs it as the zip that Teachable Machine's @teachablemachine/image
// loads. It is the TF.js front end in reverse, kept apart from
// tools/convert so the browser app can import it without the converters'
// protobuf and pickle dependencies.
package tfjsexport

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Layers is a TF.js layers model: the model.json document and the
// weights.bin it names.
type Layers struct {
	ModelJSON []byte
	Weights   []byte
}

// WeightsFile is the one weights file model.json names.
const WeightsFile = "weights.bin"

// layer is one Keras layer of the functional model's config.
type layer struct {
	Name         string         `json:"name"`
	ClassName    string         `json:"class_name"`
	Config       map[string]any `json:"config"`
	InboundNodes [][][]any      `json:"inbound_nodes"`
}

type weightSpec struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	DType string `json:"dtype"`
}

// writer builds the functional model. Keras values are either rank 4
// (batch, H, W, C) or flat (batch, C): the IR's {1, 1, C} vectors are
// flat after GlobalAvgPool and Dense, and reshaped back to rank 4 only
// when a convolution or a broadcast needs them so.
type writer struct {
	layers  []layer
	specs   []weightSpec
	weights bytes.Buffer
	names   map[string]bool
	keras   map[string]string // IR value -> Keras layer name
	flat    map[string]bool   // Keras layer name -> its output is (batch, C)
	shapes  map[string]ir.Shape
}

// name gives a unique Keras layer name from an IR name: TF.js scopes the
// weights by layer name with '/', so the name itself must not hold one.
func (w *writer) name(base string) string {
	s := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, base)
	if s == "" {
		s = "layer"
	}
	n := s
	for i := 2; w.names[n]; i++ {
		n = fmt.Sprintf("%s_%d", s, i)
	}
	w.names[n] = true
	return n
}

func inbound(inputs ...string) [][][]any {
	node := make([][]any, len(inputs))
	for i, in := range inputs {
		node[i] = []any{in, 0, 0, map[string]any{}}
	}
	return [][][]any{node}
}

// add appends a layer named after base that reads the given Keras layers
// and returns its name.
func (w *writer) add(base, class string, config map[string]any, flat bool, inputs ...string) string {
	n := w.name(base)
	config["name"] = n
	config["trainable"] = false
	w.layers = append(w.layers, layer{Name: n, ClassName: class, Config: config, InboundNodes: inbound(inputs...)})
	w.flat[n] = flat
	return n
}

// tensor appends a float32 weight under the layer's scope.
func (w *writer) tensor(layerName, weight string, shape []int, data []float32) {
	w.specs = append(w.specs, weightSpec{Name: layerName + "/" + weight, Shape: shape, DType: "float32"})
	_ = binary.Write(&w.weights, binary.LittleEndian, data)
}

// rank4 returns a Keras layer whose output is value in rank 4.
func (w *writer) rank4(value string) string {
	k := w.keras[value]
	if !w.flat[k] {
		return k
	}
	s := w.shapes[value]
	return w.add(k+"_4d", "Reshape", map[string]any{"target_shape": []int{s[0], s[1], s[2]}}, false, k)
}

// flatten returns a Keras layer whose output is value flattened in HWC
// order, as the IR's Dense reads it.
func (w *writer) flatten(value string) string {
	k := w.keras[value]
	if w.flat[k] {
		return k
	}
	return w.add(k+"_flat", "Flatten", map[string]any{"data_format": "channels_last"}, true, k)
}

// activation names the TF.js activation for a fused IR activation.
func activation(node string, a ir.Activation) (string, error) {
	switch a {
	case ir.ActNone:
		return "linear", nil
	case ir.ActReLU:
		return "relu", nil
	case ir.ActReLU6:
		return "relu6", nil
	case ir.ActSigmoid:
		return "sigmoid", nil
	}
	// Keras's hard_sigmoid is 0.2x+0.5, not torch's; hard-swish has no
	// TF.js layer.
	return "", fmt.Errorf("layer %q: activation %q has no TF.js layers equivalent", node, a)
}

// folded is a Conv2D or Dense with the batch norm after it folded in.
type folded struct {
	n      *ir.Node
	kernel []float32
	kshape []int
	bias   []float32
	out    string // the IR value it now makes
	act    ir.Activation
}

// Options adjust the exported model.
type Options struct {
	// PrefixKernel and PrefixBias, when set, make a 1x1 convolution in
	// front of the network (kernel [C in][C out] row-major, a bias per
	// output) that maps another program's input scaling onto the
	// network's own.
	PrefixKernel []float32
	PrefixBias   []float32
	// Name is the model's name in model.json.
	Name string
}

// Write converts g into a TF.js layers model. Batch norm after a
// convolution or dense layer is folded into it; per-side padding becomes
// a ZeroPadding2D before a valid convolution. It fails, naming the layer,
// on what TF.js layers cannot express: grouped convolutions other than
// depthwise, hard-swish, pools with ceil mode or padding other than TF's
// 'same'.
func Write(g *ir.Graph, opt Options) (*Layers, error) {
	shapes, err := g.Infer()
	if err != nil {
		return nil, err
	}
	if len(g.Outputs) == 0 {
		return nil, fmt.Errorf("the model has no output")
	}
	// specs starts empty, not nil: a network without weights (a lone pool)
	// still needs "weights": [], which TF.js reads; null it cannot.
	w := &writer{names: map[string]bool{}, keras: map[string]string{}, flat: map[string]bool{}, shapes: shapes, specs: []weightSpec{}}
	in := g.InputShape
	inName := w.name(g.Input)
	w.layers = append(w.layers, layer{Name: inName, ClassName: "InputLayer", InboundNodes: [][][]any{},
		Config: map[string]any{"name": inName, "batch_input_shape": []any{nil, in[0], in[1], in[2]}, "dtype": "float32", "sparse": false}})
	w.keras[g.Input] = inName
	if opt.PrefixKernel != nil {
		c := in[2]
		if len(opt.PrefixKernel) != c*c || len(opt.PrefixBias) != c {
			return nil, fmt.Errorf("the input prefix has %d weights and %d biases for %d channels", len(opt.PrefixKernel), len(opt.PrefixBias), c)
		}
		p := w.add("input_scaling", "Conv2D", map[string]any{"filters": c, "kernel_size": []int{1, 1}, "strides": []int{1, 1},
			"padding": "valid", "data_format": "channels_last", "dilation_rate": []int{1, 1}, "activation": "linear", "use_bias": true}, false, inName)
		w.tensor(p, "kernel", []int{1, 1, c, c}, opt.PrefixKernel)
		w.tensor(p, "bias", []int{c}, opt.PrefixBias)
		w.keras[g.Input] = p
	}

	readers := g.Consumers()
	outputs := map[string]bool{}
	for _, o := range g.Outputs {
		outputs[o] = true
	}
	skip := map[*ir.Node]bool{}
	for i, n := range g.Nodes {
		if skip[n] {
			continue
		}
		for _, v := range n.Inputs {
			if _, ok := w.keras[v]; !ok {
				return nil, fmt.Errorf("layer %q: input %q is not made before it", n.Name, v)
			}
		}
		switch n.Op {
		case ir.Conv2D, ir.Dense:
			f, err := fold(g, i, readers, outputs)
			if err != nil {
				return nil, err
			}
			if f.out != n.Output {
				skip[g.Producer(f.out)] = true
			}
			if n.Op == ir.Conv2D {
				err = w.conv(f)
			} else {
				err = w.dense(f)
			}
			if err != nil {
				return nil, err
			}
		case ir.BatchNorm:
			k := w.rank4(n.Inputs[0])
			c := shapes[n.Output][2]
			l := w.add(n.Name, "BatchNormalization", map[string]any{"axis": -1, "epsilon": n.Attrs.Epsilon, "center": true, "scale": true, "momentum": 0.99}, false, k)
			for j, what := range []string{"gamma", "beta", "moving_mean", "moving_variance"} {
				w.tensor(l, what, []int{c}, g.Tensors[n.Weights[j]].Data)
			}
			w.keras[n.Output] = l
		case ir.MaxPool, ir.AvgPool:
			if err := w.pool(n, shapes); err != nil {
				return nil, err
			}
		case ir.GlobalAvgPool:
			w.keras[n.Output] = w.add(n.Name, "GlobalAveragePooling2D", map[string]any{"data_format": "channels_last"}, true, w.rank4(n.Inputs[0]))
		case ir.Add, ir.Mul:
			class := map[ir.Op]string{ir.Add: "Add", ir.Mul: "Multiply"}[n.Op]
			a, b := w.keras[n.Inputs[0]], w.keras[n.Inputs[1]]
			flat := w.flat[a] && w.flat[b]
			if !flat {
				a, b = w.rank4(n.Inputs[0]), w.rank4(n.Inputs[1])
			}
			l := w.add(n.Name, class, map[string]any{}, flat, a, b)
			if n.Attrs.Act != ir.ActNone {
				act, err := activation(n.Name, n.Attrs.Act)
				if err != nil {
					return nil, err
				}
				l = w.add(n.Name+"_act", "Activation", map[string]any{"activation": act}, flat, l)
			}
			w.keras[n.Output] = l
		case ir.Concat:
			ins := make([]string, len(n.Inputs))
			for j, v := range n.Inputs {
				ins[j] = w.rank4(v)
			}
			w.keras[n.Output] = w.add(n.Name, "Concatenate", map[string]any{"axis": -1}, false, ins...)
		case ir.ReLU, ir.ReLU6, ir.Sigmoid, ir.Softmax:
			act := map[ir.Op]string{ir.ReLU: "relu", ir.ReLU6: "relu6", ir.Sigmoid: "sigmoid", ir.Softmax: "softmax"}[n.Op]
			k := w.keras[n.Inputs[0]]
			w.keras[n.Output] = w.add(n.Name, "Activation", map[string]any{"activation": act}, w.flat[k], k)
		case ir.Tanh:
			// alpha*tanh(beta*x): TF.js's tanh between two Rescaling
			// layers, each left out when its scale is 1.
			k := w.keras[n.Inputs[0]]
			flat := w.flat[k]
			alpha, beta := n.Attrs.TanhScales()
			if beta != 1 {
				k = w.add(n.Name+"_scale_in", "Rescaling", map[string]any{"scale": beta, "offset": 0}, flat, k)
			}
			k = w.add(n.Name, "Activation", map[string]any{"activation": "tanh"}, flat, k)
			if alpha != 1 {
				k = w.add(n.Name+"_scale_out", "Rescaling", map[string]any{"scale": alpha, "offset": 0}, flat, k)
			}
			w.keras[n.Output] = k
		case ir.Flatten:
			w.keras[n.Output] = w.flatten(n.Inputs[0])
		case ir.Pad:
			w.keras[n.Output] = w.zeroPad(n.Name, w.rank4(n.Inputs[0]), n.Attrs.Pads)
		default:
			return nil, fmt.Errorf("layer %q: op %s has no TF.js layers equivalent", n.Name, n.Op)
		}
	}

	var outs [][]any
	for _, o := range g.Outputs {
		k := w.keras[o]
		if s := shapes[o]; s[0] == 1 && s[1] == 1 {
			// Classifiers read (batch, classes), as Teachable Machine does.
			k = w.flatten(o)
		}
		outs = append(outs, []any{k, 0, 0})
	}
	name := opt.Name
	if name == "" {
		name = "glimpse"
	}
	doc := map[string]any{
		"format":      "layers-model",
		"generatedBy": "glimpse",
		"convertedBy": nil,
		"modelTopology": map[string]any{
			"keras_version": "2.2.4",
			"backend":       "tensorflow",
			"model_config": map[string]any{
				"class_name": "Model",
				"config": map[string]any{
					"name":          name,
					"layers":        w.layers,
					"input_layers":  [][]any{{inName, 0, 0}},
					"output_layers": outs,
				},
			},
		},
		"weightsManifest": []any{map[string]any{"paths": []string{WeightsFile}, "weights": w.specs}},
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return &Layers{ModelJSON: js, Weights: w.weights.Bytes()}, nil
}

// fold copies the Conv2D or Dense at g.Nodes[i] and folds in a batch norm
// that is its only reader, as the engine does at load.
func fold(g *ir.Graph, i int, readers map[string]int, outputs map[string]bool) (*folded, error) {
	n := g.Nodes[i]
	k := g.Tensors[n.Weights[0]]
	if k == nil || len(k.Data) != k.Elements() {
		return nil, fmt.Errorf("layer %q: its kernel has no values", n.Name)
	}
	f := &folded{n: n, kernel: append([]float32(nil), k.Data...), kshape: k.Shape, out: n.Output, act: n.Attrs.Act}
	cout := k.Shape[len(k.Shape)-1]
	if len(n.Weights) > 1 && n.Weights[1] != "" {
		b := g.Tensors[n.Weights[1]]
		if b == nil || len(b.Data) != cout {
			return nil, fmt.Errorf("layer %q: its bias has no values", n.Name)
		}
		f.bias = append([]float32(nil), b.Data...)
	}
	if f.act != ir.ActNone || outputs[n.Output] || readers[n.Output] != 1 {
		return f, nil
	}
	var bn *ir.Node
	for _, m := range g.Nodes[i+1:] {
		if m.Op == ir.BatchNorm && m.Inputs[0] == n.Output {
			bn = m
		}
	}
	if bn == nil {
		return f, nil
	}
	var v [4][]float32
	for j := range v {
		t := g.Tensors[bn.Weights[j]]
		if t == nil || len(t.Data) != cout {
			return nil, fmt.Errorf("layer %q: batch norm tensor %d has no values", bn.Name, j)
		}
		v[j] = t.Data
	}
	if f.bias == nil {
		f.bias = make([]float32, cout)
	}
	scale := make([]float32, cout)
	for o := range scale {
		s := float64(v[0][o]) / math.Sqrt(float64(v[3][o])+float64(bn.Attrs.Epsilon))
		scale[o] = float32(s)
		f.bias[o] = float32(float64(f.bias[o])*s + float64(v[1][o]) - float64(v[2][o])*s)
	}
	for j := range f.kernel {
		f.kernel[j] *= scale[j%cout]
	}
	f.out = bn.Output
	return f, nil
}

func (w *writer) zeroPad(name, in string, p ir.Pads) string {
	return w.add(name+"_pad", "ZeroPadding2D", map[string]any{"padding": [][]int{{p[0], p[2]}, {p[1], p[3]}}, "data_format": "channels_last"}, false, in)
}

func (w *writer) conv(f *folded) error {
	n := f.n
	act, err := activation(n.Name, f.act)
	if err != nil {
		return err
	}
	in := w.rank4(n.Inputs[0])
	if n.Attrs.Pads != (ir.Pads{}) {
		in = w.zeroPad(n.Name, in, n.Attrs.Pads)
	}
	kh, kw, cinG, cout := f.kshape[0], f.kshape[1], f.kshape[2], f.kshape[3]
	cin := w.shapes[n.Inputs[0]][2]
	groups := n.Attrs.GroupCount()
	sh, sw := n.Attrs.Strides()
	dh, dw := n.Attrs.Dilations()
	cfg := map[string]any{"kernel_size": []int{kh, kw}, "strides": []int{sh, sw}, "padding": "valid",
		"data_format": "channels_last", "dilation_rate": []int{dh, dw}, "activation": act, "use_bias": f.bias != nil}
	var l string
	switch {
	case groups == 1:
		cfg["filters"] = cout
		l = w.add(n.Name, "Conv2D", cfg, false, in)
		w.tensor(l, "kernel", f.kshape, f.kernel)
	case groups == cin && cinG == 1:
		// Depthwise: the IR's HWIO [KH, KW, 1, Cin*M] keeps group g's
		// outputs at [g*M, (g+1)*M), which is TF's [KH, KW, Cin, M] in
		// the same memory order.
		m := cout / cin
		cfg["depth_multiplier"] = m
		l = w.add(n.Name, "DepthwiseConv2D", cfg, false, in)
		w.tensor(l, "depthwise_kernel", []int{kh, kw, cin, m}, f.kernel)
	default:
		return fmt.Errorf("layer %q: a convolution in %d groups of %d channels has no TF.js layers equivalent (only 1 group or depthwise)", n.Name, groups, cinG)
	}
	if f.bias != nil {
		w.tensor(l, "bias", []int{cout}, f.bias)
	}
	w.keras[f.out] = l
	return nil
}

func (w *writer) dense(f *folded) error {
	n := f.n
	act, err := activation(n.Name, f.act)
	if err != nil {
		return err
	}
	in := w.flatten(n.Inputs[0])
	l := w.add(n.Name, "Dense", map[string]any{"units": f.kshape[1], "activation": act, "use_bias": f.bias != nil}, true, in)
	w.tensor(l, "kernel", f.kshape, f.kernel)
	if f.bias != nil {
		w.tensor(l, "bias", []int{f.kshape[1]}, f.bias)
	}
	w.keras[f.out] = l
	return nil
}

// pool writes a max or average pool. Keras pools pad only as TF's 'same'
// does and average over the cells inside the input, so other IR pools
// (torch's symmetric padding, ceil mode, padded cells counted) are
// refused rather than exported wrong.
func (w *writer) pool(n *ir.Node, shapes map[string]ir.Shape) error {
	a := n.Attrs
	in := shapes[n.Inputs[0]]
	sh, sw := a.Strides()
	padding := "valid"
	if a.Pads != (ir.Pads{}) {
		same := func(size, k, s int) (int, int) {
			out := (size + s - 1) / s
			t := max((out-1)*s+k-size, 0)
			return t / 2, t - t/2
		}
		t, b := same(in[0], a.Kernel[0], sh)
		l, r := same(in[1], a.Kernel[1], sw)
		if a.Pads != (ir.Pads{t, l, b, r}) || (n.Op == ir.AvgPool && a.CountPad) {
			return fmt.Errorf("layer %q: pool padding %v is not TF's 'same' and has no TF.js layers equivalent", n.Name, a.Pads)
		}
		padding = "same"
	}
	if a.Ceil {
		floor := ir.ConvOutSize(in[0], a.Kernel[0], sh, 1, a.Pads[0], a.Pads[2], false) == shapes[n.Output][0] &&
			ir.ConvOutSize(in[1], a.Kernel[1], sw, 1, a.Pads[1], a.Pads[3], false) == shapes[n.Output][1]
		if !floor {
			return fmt.Errorf("layer %q: a pool in ceil mode has no TF.js layers equivalent", n.Name)
		}
	}
	class := map[ir.Op]string{ir.MaxPool: "MaxPooling2D", ir.AvgPool: "AveragePooling2D"}[n.Op]
	w.keras[n.Output] = w.add(n.Name, class, map[string]any{"pool_size": []int{a.Kernel[0], a.Kernel[1]},
		"strides": []int{sh, sw}, "padding": padding, "data_format": "channels_last"}, false, w.rank4(n.Inputs[0]))
	return nil
}
