package convert

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// This file is the front end for TF.js layers models: a Keras model config
// (as tf.LayersModel.save and tensorflowjs_converter write it, in the Keras
// 2 format) whose weights the manifest names "<layer>/<param>".
//
// Keras semantics kept here, because they differ from torch's: data is
// channels_last; padding "same" pads unevenly with the extra cell at the
// bottom and right; AveragePooling2D leaves padded cells out of the count;
// Conv2D kernels are HWIO already; DepthwiseConv2D kernels are
// [KH, KW, Cin, multiplier]; Dense kernels are [In, Out] and a Dense on a
// spatial input acts on each pixel's channels.

type kerasTopology struct {
	ModelConfig *kerasModel     `json:"model_config"`
	ClassName   string          `json:"class_name"`
	Config      json.RawMessage `json:"config"`
}

type kerasModel struct {
	ClassName string          `json:"class_name"`
	Config    json.RawMessage `json:"config"`
}

type kerasFunctional struct {
	Name         string          `json:"name"`
	Layers       []kerasLayer    `json:"layers"`
	InputLayers  json.RawMessage `json:"input_layers"`
	OutputLayers json.RawMessage `json:"output_layers"`
}

type kerasLayer struct {
	Name         string          `json:"name"`
	ClassName    string          `json:"class_name"`
	Config       json.RawMessage `json:"config"`
	InboundNodes json.RawMessage `json:"inbound_nodes"`
}

// kerasConfig gathers the config fields of every layer type this front end
// reads; each layer uses its own few.
type kerasConfig struct {
	Name            string          `json:"name"`
	BatchInputShape []*int          `json:"batch_input_shape"`
	BatchShape      []*int          `json:"batch_shape"`
	DataFormat      *string         `json:"data_format"`
	Filters         int             `json:"filters"`
	KernelSize      *pair           `json:"kernel_size"`
	Strides         *pair           `json:"strides"`
	DilationRate    *pair           `json:"dilation_rate"`
	Padding         json.RawMessage `json:"padding"`
	Activation      json.RawMessage `json:"activation"`
	UseBias         *bool           `json:"use_bias"`
	DepthMultiplier int             `json:"depth_multiplier"`
	Groups          int             `json:"groups"`
	Axis            json.RawMessage `json:"axis"`
	Epsilon         *float64        `json:"epsilon"`
	Center          *bool           `json:"center"`
	Scale           json.RawMessage `json:"scale"` // BatchNormalization: bool; Rescaling: number
	Offset          json.RawMessage `json:"offset"`
	MaxValue        *float64        `json:"max_value"`
	NegativeSlope   *float64        `json:"negative_slope"`
	Threshold       *float64        `json:"threshold"`
	PoolSize        *pair           `json:"pool_size"`
	Units           int             `json:"units"`
	TargetShape     []int           `json:"target_shape"`
}

// pair is a Keras (height, width) parameter, written as one int or a list.
type pair [2]int

func (p *pair) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*p = pair{n, n}
		return nil
	}
	var l []int
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("want an int or a list of two ints, got %s", b)
	}
	switch len(l) {
	case 1:
		*p = pair{l[0], l[0]}
	case 2:
		*p = pair{l[0], l[1]}
	default:
		return fmt.Errorf("want an int or a list of two ints, got %s", b)
	}
	return nil
}

// kerasLowering lowers one class of Keras layer: it reads the IR values
// of the layers feeding it (in) and returns the IR value it makes.
type kerasLowering struct {
	lower func(c *layersConv, l *kerasLayer, cfg *kerasConfig, in []string) (string, error)
	unary bool // takes exactly one input
}

// kerasLayers dispatches each layer class this front end converts to its
// lowering, one method per layer below.
var kerasLayers = map[string]kerasLowering{
	"InputLayer":             {lower: (*layersConv).secondInput},
	"Conv2D":                 {(*layersConv).conv, true},
	"Convolution2D":          {(*layersConv).conv, true},
	"DepthwiseConv2D":        {(*layersConv).depthwiseConv, true},
	"BatchNormalization":     {(*layersConv).batchNorm, true},
	"ReLU":                   {(*layersConv).relu, true},
	"Activation":             {(*layersConv).activation, true},
	"Softmax":                {(*layersConv).softmax, true},
	"Add":                    {lower: (*layersConv).add},
	"Multiply":               {lower: (*layersConv).multiply},
	"Concatenate":            {lower: (*layersConv).concatenate},
	"ZeroPadding2D":          {(*layersConv).zeroPadding, true},
	"AveragePooling2D":       {(*layersConv).pool, true},
	"AvgPool2D":              {(*layersConv).pool, true},
	"MaxPooling2D":           {(*layersConv).pool, true},
	"MaxPool2D":              {(*layersConv).pool, true},
	"GlobalAveragePooling2D": {(*layersConv).globalAvgPool, true},
	"GlobalAvgPool2D":        {(*layersConv).globalAvgPool, true},
	"Flatten":                {(*layersConv).flatten, true},
	"Reshape":                {(*layersConv).reshape, true},
	"Dense":                  {(*layersConv).dense, true},
	"Rescaling":              {(*layersConv).rescaling, true},
	// Identities at inference.
	"Dropout":          {(*layersConv).identity, true},
	"SpatialDropout2D": {(*layersConv).identity, true},
	"GaussianNoise":    {(*layersConv).identity, true},
	"GaussianDropout":  {(*layersConv).identity, true},
	"AlphaDropout":     {(*layersConv).identity, true},
}

// layersConv is the state of one layers-model conversion.
type layersConv struct {
	b       *builder
	weights map[string]*weight
	vals    map[string]string // Keras layer name -> IR value
	readers map[string]int    // Keras layer name -> number of layers reading it
	pre     *ir.Preprocess
}

func convertLayers(f *tfjsFile, weights map[string]*weight) (*ir.Graph, error) {
	var top kerasTopology
	if err := json.Unmarshal(f.ModelTopology, &top); err != nil {
		return nil, fmt.Errorf("modelTopology: %v", err)
	}
	model := top.ModelConfig
	if model == nil {
		model = &kerasModel{ClassName: top.ClassName, Config: top.Config}
	}
	fn, err := kerasGraph(model)
	if err != nil {
		return nil, err
	}
	flat := &kerasFlat{byName: map[string]*kerasLayer{}, inbound: map[string][]string{}}
	outs, err := flat.model(fn, "", 0)
	if err != nil {
		return nil, err
	}
	var unknown []string
	for _, l := range flat.layers {
		if _, ok := kerasLayers[l.ClassName]; !ok {
			unknown = append(unknown, fmt.Sprintf("%q (%s)", l.Name, l.ClassName))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unsupported Keras layers: %s", strings.Join(unknown, ", "))
	}
	inbound, byName := flat.inbound, flat.byName
	order, err := kerasOrder(flat.layers, inbound, byName)
	if err != nil {
		return nil, err
	}

	c := &layersConv{weights: weights, vals: map[string]string{}, readers: map[string]int{}}
	for _, in := range inbound {
		for _, name := range in {
			c.readers[name]++
		}
	}
	for _, l := range order {
		var cfg kerasConfig
		if len(l.Config) > 0 {
			if err := json.Unmarshal(l.Config, &cfg); err != nil {
				return nil, fmt.Errorf("layer %q (%s): config: %v", l.Name, l.ClassName, err)
			}
		}
		if c.b == nil {
			if err := c.input(l, &cfg); err != nil {
				return nil, err
			}
			if l.ClassName == "InputLayer" {
				continue
			}
		}
		var in []string
		for _, name := range inbound[l.Name] {
			in = append(in, c.vals[name])
		}
		if len(in) == 0 {
			in = []string{c.b.g.Input} // the first layer of a Sequential
		}
		v, err := c.layer(l, &cfg, in)
		if err != nil {
			return nil, fmt.Errorf("layer %q (%s): %v", l.Name, l.ClassName, err)
		}
		c.vals[l.Name] = v
	}
	if c.b == nil {
		return nil, errors.New("the model has no layers")
	}
	g := c.b.g
	if len(outs) == 0 {
		return nil, errors.New("the model names no output layers")
	}
	for _, name := range outs {
		v, ok := c.vals[name]
		if !ok {
			return nil, fmt.Errorf("output layer %q does not exist", name)
		}
		g.Outputs = append(g.Outputs, v)
	}
	g.Meta.Preprocess = *c.pre
	switch {
	case byName["block_16_project"] != nil && byName["Conv_1"] != nil:
		g.Meta.Architecture = "mobilenet_v2"
	case byName["conv_pw_13"] != nil:
		g.Meta.Architecture = "mobilenet_v1"
	default:
		g.Meta.Architecture = fn.Name
	}
	return g, nil
}

// kerasFlat is a layers model with its nested models inlined: the layers
// that compute something, in definition order, each with the names of the
// layers it reads. A model nested in another (Sequential or Functional,
// inside either) is a layer of the outer model whose own layers read what
// feeds it; inlining makes the whole a single graph of plain layers.
type kerasFlat struct {
	layers  []*kerasLayer
	byName  map[string]*kerasLayer
	inbound map[string][]string
}

// maxKerasNesting bounds how deep models may nest (Teachable Machine's
// exports nest three deep).
const maxKerasNesting = 16

// isKerasModel says whether a layer class is a model nested as a layer.
func isKerasModel(class string) bool {
	return class == "Model" || class == "Functional" || class == "Sequential"
}

// model inlines def, whose input is the flat layer named from ("" for the
// outermost model, which brings its own input), and returns the flat
// layers that give its outputs.
func (f *kerasFlat) model(def *kerasGraphDef, from string, depth int) ([]string, error) {
	if depth > maxKerasNesting {
		return nil, fmt.Errorf("models nest more than %d deep", maxKerasNesting)
	}
	order := make([]*kerasLayer, len(def.Layers))
	refs := map[string][]string{}
	calls := map[string][]kerasRef{}
	own := map[string]*kerasLayer{}
	for i := range def.Layers {
		l := &def.Layers[i]
		order[i] = l
		if l.Name == "" {
			return nil, fmt.Errorf("layer %d (%s) has no name", i, l.ClassName)
		}
		if own[l.Name] != nil {
			return nil, fmt.Errorf("two layers are named %q", l.Name)
		}
		own[l.Name] = l
		if def.sequential {
			continue
		}
		in, err := inboundLayers(l.InboundNodes)
		if err != nil {
			return nil, fmt.Errorf("layer %q: inbound_nodes: %v", l.Name, err)
		}
		calls[l.Name] = in
		for _, r := range in {
			refs[l.Name] = append(refs[l.Name], r.layer)
		}
	}
	// Every layer is called once (inboundLayers refuses more), so a
	// reference names that call: node 0 of a plain layer; node 1 of a
	// nested model built on its own input, whose node 0 is that input's.
	for name, in := range calls {
		for _, r := range in {
			src := own[r.layer]
			last := 0
			if src != nil && isKerasModel(src.ClassName) {
				last = 1
			}
			if r.node < 0 || r.node > last {
				return nil, fmt.Errorf("layer %q reads call %d of layer %q (shared layers are not supported)", name, r.node, r.layer)
			}
		}
	}
	if !def.sequential {
		var err error
		if order, err = kerasOrder(order, refs, own); err != nil {
			return nil, err
		}
	}
	local := map[string]string{} // this model's layer name -> the flat layer giving its output
	prev := from
	for _, l := range order {
		var in []string
		if def.sequential {
			if prev != "" {
				in = []string{prev}
			}
		} else {
			for _, r := range refs[l.Name] {
				in = append(in, local[r])
			}
		}
		switch {
		case l.ClassName == "InputLayer" && from != "":
			// A nested model's input is whatever feeds the model.
			local[l.Name] = from
		case isKerasModel(l.ClassName):
			sub, err := kerasGraph(&kerasModel{ClassName: l.ClassName, Config: l.Config})
			if err != nil {
				return nil, fmt.Errorf("nested model %q: %v", l.Name, err)
			}
			if len(in) > 1 {
				return nil, fmt.Errorf("nested model %q reads %d inputs (only one is supported)", l.Name, len(in))
			}
			src := ""
			if len(in) == 1 {
				src = in[0]
			}
			outs, err := f.model(sub, src, depth+1)
			if err != nil {
				return nil, fmt.Errorf("nested model %q: %v", l.Name, err)
			}
			if len(outs) != 1 {
				return nil, fmt.Errorf("nested model %q has %d outputs (only one is supported)", l.Name, len(outs))
			}
			local[l.Name] = outs[0]
		default:
			if f.byName[l.Name] != nil {
				return nil, fmt.Errorf("two layers are named %q (in different nested models)", l.Name)
			}
			f.layers = append(f.layers, l)
			f.byName[l.Name] = l
			f.inbound[l.Name] = in
			local[l.Name] = l.Name
		}
		prev = local[l.Name]
	}
	if def.sequential {
		return []string{prev}, nil
	}
	var outs []string
	for _, name := range def.outputs {
		v, ok := local[name]
		if !ok {
			return nil, fmt.Errorf("output layer %q does not exist", name)
		}
		outs = append(outs, v)
	}
	return outs, nil
}

// kerasGraph reads a functional model's layers and its input and output
// layers, or a Sequential model's layers.
type kerasGraphDef struct {
	kerasFunctional
	sequential bool
	outputs    []string
}

func kerasGraph(m *kerasModel) (*kerasGraphDef, error) {
	var d kerasGraphDef
	switch m.ClassName {
	case "Model", "Functional":
		if err := json.Unmarshal(m.Config, &d.kerasFunctional); err != nil {
			return nil, fmt.Errorf("model_config: %v", err)
		}
		var err error
		if d.outputs, err = layerRefs(d.OutputLayers); err != nil {
			return nil, fmt.Errorf("model_config: output_layers: %v", err)
		}
	case "Sequential":
		d.sequential = true
		if jsonIs(m.Config, '[') {
			if err := json.Unmarshal(m.Config, &d.Layers); err != nil {
				return nil, fmt.Errorf("model_config: %v", err)
			}
		} else if err := json.Unmarshal(m.Config, &d.kerasFunctional); err != nil {
			return nil, fmt.Errorf("model_config: %v", err)
		}
		// Layers of a Sequential may carry their name only in the config.
		for i := range d.Layers {
			if d.Layers[i].Name == "" {
				var cfg struct {
					Name string `json:"name"`
				}
				_ = json.Unmarshal(d.Layers[i].Config, &cfg)
				d.Layers[i].Name = cfg.Name
			}
		}
	default:
		return nil, fmt.Errorf("model_config: unsupported model class %q (want Model, Functional or Sequential)", m.ClassName)
	}
	if len(d.Layers) == 0 {
		return nil, errors.New("the model has no layers")
	}
	return &d, nil
}

// layerRefs reads input_layers/output_layers: [["name", 0, 0], ...] or a
// single ["name", 0, 0].
func layerRefs(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	if len(list) > 0 && jsonIs(list[0], '"') {
		list = []json.RawMessage{raw}
	}
	var names []string
	for _, r := range list {
		var ref []json.RawMessage
		if err := json.Unmarshal(r, &ref); err != nil || len(ref) == 0 {
			return nil, fmt.Errorf("bad layer reference %s", r)
		}
		var name string
		if err := json.Unmarshal(ref[0], &name); err != nil {
			return nil, fmt.Errorf("bad layer reference %s", r)
		}
		names = append(names, name)
	}
	return names, nil
}

// kerasRef is one tensor a layer reads: the layer making it and which
// call of that layer (the node index).
type kerasRef struct {
	layer string
	node  int
}

// inboundLayers reads the tensors feeding a layer, from Keras 2's
// [[["name", node, tensor, {kwargs}], ...]] or Keras 3's
// [{"args": [...{"config": {"keras_history": ["name", node, tensor]}}]}].
// A layer called more than once is shared and refused; so is a tensor
// other than a layer's first output.
func inboundLayers(raw json.RawMessage) ([]kerasRef, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var calls []json.RawMessage
	if err := json.Unmarshal(raw, &calls); err != nil {
		return nil, err
	}
	if len(calls) == 0 {
		return nil, nil
	}
	if len(calls) > 1 {
		return nil, fmt.Errorf("the layer is called %d times (shared layers are not supported)", len(calls))
	}
	call := calls[0]
	var refs []kerasRef
	if jsonIs(call, '[') {
		var tensors [][]json.RawMessage
		if err := json.Unmarshal(call, &tensors); err != nil {
			return nil, err
		}
		for _, t := range tensors {
			r, err := tensorRef(t)
			if err != nil {
				return nil, err
			}
			refs = append(refs, r)
		}
		return refs, nil
	}
	var v any
	if err := json.Unmarshal(call, &v); err != nil {
		return nil, err
	}
	var walk func(any) error
	walk = func(v any) error {
		switch x := v.(type) {
		case map[string]any:
			if h, ok := x["keras_history"].([]any); ok {
				if len(h) != 3 {
					return fmt.Errorf("bad keras_history %v", h)
				}
				name, ok := h[0].(string)
				node, okNode := h[1].(float64)
				if !ok || !okNode || node != math.Trunc(node) || node < 0 || node > 1<<20 || h[2] != float64(0) {
					return fmt.Errorf("unsupported keras_history %v (only a layer's first output)", h)
				}
				refs = append(refs, kerasRef{name, int(node)})
				return nil
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys) // "args" before "kwargs"
			for _, k := range keys {
				if err := walk(x[k]); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return refs, walk(v)
}

func tensorRef(t []json.RawMessage) (kerasRef, error) {
	if len(t) < 3 {
		return kerasRef{}, fmt.Errorf("bad inbound tensor %v", t)
	}
	var r kerasRef
	var tensor int
	if json.Unmarshal(t[0], &r.layer) != nil || json.Unmarshal(t[1], &r.node) != nil || json.Unmarshal(t[2], &tensor) != nil {
		return kerasRef{}, fmt.Errorf("bad inbound tensor [%s, %s, %s]", t[0], t[1], t[2])
	}
	if tensor != 0 {
		return kerasRef{}, fmt.Errorf("reads output %d of layer %q (only a layer's single output is supported)", tensor, r.layer)
	}
	return r, nil
}

// kerasOrder sorts the layers so that each comes after the layers it
// reads, and rejects references to missing layers and cycles.
func kerasOrder(layers []*kerasLayer, inbound map[string][]string, byName map[string]*kerasLayer) ([]*kerasLayer, error) {
	for _, l := range layers {
		for _, in := range inbound[l.Name] {
			if byName[in] == nil {
				return nil, fmt.Errorf("layer %q reads layer %q, which does not exist", l.Name, in)
			}
		}
	}
	done := map[string]bool{}
	var order []*kerasLayer
	for len(order) < len(layers) {
		progress := false
		for _, l := range layers {
			if done[l.Name] {
				continue
			}
			ready := true
			for _, in := range inbound[l.Name] {
				ready = ready && done[in]
			}
			if ready {
				done[l.Name] = true
				order = append(order, l)
				progress = true
			}
		}
		if !progress {
			return nil, errors.New("the layers' connections form a cycle")
		}
	}
	return order, nil
}

// input starts the graph from an InputLayer, or from the batch input shape
// of a Sequential's first layer.
func (c *layersConv) input(l *kerasLayer, cfg *kerasConfig) error {
	shape := cfg.BatchInputShape
	if shape == nil {
		shape = cfg.BatchShape
	}
	if shape == nil {
		return fmt.Errorf("layer %q (%s): the model's input shape is not given", l.Name, l.ClassName)
	}
	if len(shape) != 4 || shape[1] == nil || shape[2] == nil || shape[3] == nil || *shape[1] <= 0 || *shape[2] <= 0 || *shape[3] <= 0 {
		return fmt.Errorf("layer %q: input shape %s is not a fixed-size image [batch, H, W, C]", l.Name, fmtDims(shape))
	}
	g := ir.New(ir.Shape{*shape[1], *shape[2], *shape[3]})
	if err := checkInput(l.Name, g.InputShape); err != nil {
		return err
	}
	if l.ClassName == "InputLayer" {
		g.Input = l.Name
		c.vals[l.Name] = l.Name
	}
	c.b = newBuilder(g)
	s := float32(1.0 / 255)
	c.pre = &ir.Preprocess{Resize: ir.ResizeStretch, Scale: [3]float32{s, s, s}, Channels: "RGB"}
	return nil
}

func fmtDims(d []*int) string {
	parts := make([]string, len(d))
	for i, p := range d {
		if p == nil {
			parts[i] = "null"
		} else {
			parts[i] = fmt.Sprint(*p)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// weight finds a layer's parameter in the manifest ("<layer>/<param>", or a
// unique name ending so, as nested models prefix it), checks that it has
// the shape want, and adds it to the graph with the shape store (the same
// values in the IR's layout; nil keeps want).
func (c *layersConv) weight(layer, param string, want, store []int) (string, error) {
	w := c.weights[layer+"/"+param]
	if w == nil {
		suffix := "/" + layer + "/" + param
		for name, x := range c.weights {
			if strings.HasSuffix(name, suffix) {
				if w != nil {
					return "", fmt.Errorf("weight %q: several manifest entries end so", layer+"/"+param)
				}
				w = x
			}
		}
	}
	if w == nil {
		return "", fmt.Errorf("weight %q is not in the weights manifest", layer+"/"+param)
	}
	if !equalInts(w.shape, want) {
		return "", fmt.Errorf("weight %q has shape %v, want %v", w.name, w.shape, want)
	}
	if store == nil {
		store = want
	}
	return c.b.g.AddTensor(w.name, store, w.data), nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// kerasActivation reads a layer's `activation` config: absent or null is
// linear; a name the IR cannot compute is an error that spells it as the
// file does.
func kerasActivation(raw json.RawMessage) (tfjsActivation, error) {
	name := "linear"
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &name); err != nil {
			return tfjsActivation{}, fmt.Errorf("activation %s is not a name", raw)
		}
	}
	return lookupActivation(kerasActivations, name)
}

// activate applies act to value as its own node named name, or returns
// value for linear.
func (c *layersConv) activate(name string, act tfjsActivation, value string) string {
	if act.op == "" {
		return value
	}
	return c.b.add(name, act.op, []string{value}, nil, act.attrs)
}

// withAct adds a Conv2D or Dense named after the layer with its activation
// fused when the IR can fuse it, or followed by an activation node.
func (c *layersConv) withAct(name string, op ir.Op, in string, weights []string, a ir.Attrs, act tfjsActivation) string {
	if act.fusable {
		a.Act = act.fused
		return c.b.add(name, op, []string{in}, weights, a)
	}
	v := c.b.add(name+"/linear", op, []string{in}, weights, a)
	return c.activate(name, act, v)
}

func windowPadding(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "valid", nil
	}
	var p string
	if err := json.Unmarshal(raw, &p); err != nil || (p != "valid" && p != "same") {
		return "", fmt.Errorf("unsupported padding %s (want \"valid\" or \"same\")", raw)
	}
	return p, nil
}

func channelsLast(cfg *kerasConfig) error {
	if cfg.DataFormat != nil && *cfg.DataFormat != "channels_last" {
		return fmt.Errorf("data_format %q is not supported (only channels_last)", *cfg.DataFormat)
	}
	return nil
}

// channelAxis checks that an axis parameter names the channels (-1 or 3).
func channelAxis(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var a int
	if err := json.Unmarshal(raw, &a); err != nil {
		var l []int
		if json.Unmarshal(raw, &l) != nil || len(l) != 1 {
			return fmt.Errorf("unsupported axis %s", raw)
		}
		a = l[0]
	}
	if a != -1 && a != 3 {
		return fmt.Errorf("axis %d is not the channel axis", a)
	}
	return nil
}

// layer lowers one layer through the dispatch table.
func (c *layersConv) layer(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	k, ok := kerasLayers[l.ClassName]
	if !ok {
		return "", fmt.Errorf("unsupported layer type %s", l.ClassName) // convertLayers lets none through
	}
	if k.unary && len(in) != 1 {
		return "", fmt.Errorf("takes one input, has %d", len(in))
	}
	return k.lower(c, l, cfg, in)
}

// secondInput refuses an InputLayer after the first: the IR has one input.
func (c *layersConv) secondInput(l *kerasLayer, _ *kerasConfig, _ []string) (string, error) {
	return "", errors.New("a second input (multi-input models are not supported)")
}

func (c *layersConv) identity(_ *kerasLayer, _ *kerasConfig, in []string) (string, error) {
	return in[0], nil
}

// window reads what Conv2D and DepthwiseConv2D share: the kernel size,
// strides and dilation, and the shape of the input x.
func (c *layersConv) window(cfg *kerasConfig, x string) (a ir.Attrs, k pair, s ir.Shape, err error) {
	if err := channelsLast(cfg); err != nil {
		return a, k, s, err
	}
	if cfg.KernelSize == nil {
		return a, k, s, errors.New("no kernel_size")
	}
	k = *cfg.KernelSize
	if k[0] <= 0 || k[1] <= 0 {
		return a, k, s, fmt.Errorf("bad kernel_size %v", k)
	}
	if cfg.Strides != nil {
		a.Stride = *cfg.Strides
	}
	if cfg.DilationRate != nil {
		a.Dilation = *cfg.DilationRate
	}
	if a.Stride[0] < 0 || a.Stride[1] < 0 || a.Dilation[0] < 0 || a.Dilation[1] < 0 {
		return a, k, s, fmt.Errorf("negative stride %v or dilation %v", a.Stride, a.Dilation)
	}
	s, err = c.b.shape(x)
	return a, k, s, err
}

// convOut finishes a convolution: its bias, padding and activation.
func (c *layersConv) convOut(name string, cfg *kerasConfig, x, kernel string, cout int, a ir.Attrs, k pair, s ir.Shape) (string, error) {
	weights := []string{kernel}
	if cfg.UseBias == nil || *cfg.UseBias {
		bias, err := c.weight(name, "bias", []int{cout}, nil)
		if err != nil {
			return "", err
		}
		weights = append(weights, bias)
	}
	pad, err := windowPadding(cfg.Padding)
	if err != nil {
		return "", err
	}
	if pad == "same" {
		sameAttrs(&a, s, k[0], k[1])
	}
	act, err := kerasActivation(cfg.Activation)
	if err != nil {
		return "", err
	}
	return c.withAct(name, ir.Conv2D, x, weights, a, act), nil
}

func (c *layersConv) conv(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	a, k, s, err := c.window(cfg, in[0])
	if err != nil {
		return "", err
	}
	a.Groups = max(cfg.Groups, 1)
	if s[2]%a.Groups != 0 {
		return "", fmt.Errorf("%d groups do not divide %d input channels", a.Groups, s[2])
	}
	kernel, err := c.weight(l.Name, "kernel", []int{k[0], k[1], s[2] / a.Groups, cfg.Filters}, nil)
	if err != nil {
		return "", err
	}
	return c.convOut(l.Name, cfg, in[0], kernel, cfg.Filters, a, k, s)
}

func (c *layersConv) depthwiseConv(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	a, k, s, err := c.window(cfg, in[0])
	if err != nil {
		return "", err
	}
	mult := max(cfg.DepthMultiplier, 1)
	store, groups := depthwiseAsGrouped(k[0], k[1], s[2], mult)
	kernel, err := c.weight(l.Name, "depthwise_kernel", []int{k[0], k[1], s[2], mult}, store)
	if err != nil {
		return "", err
	}
	a.Groups = groups
	return c.convOut(l.Name, cfg, in[0], kernel, store[3], a, k, s)
}

func (c *layersConv) batchNorm(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	if err := channelAxis(cfg.Axis); err != nil {
		return "", err
	}
	s, err := c.b.shape(in[0])
	if err != nil {
		return "", err
	}
	ch := s[2]
	eps := 1e-3
	if cfg.Epsilon != nil {
		eps = *cfg.Epsilon
	}
	scale := true
	if len(cfg.Scale) > 0 && string(cfg.Scale) != "null" {
		if err := json.Unmarshal(cfg.Scale, &scale); err != nil {
			return "", fmt.Errorf("scale %s is not a bool", cfg.Scale)
		}
	}
	center := cfg.Center == nil || *cfg.Center
	var weights []string
	for _, p := range []struct {
		name string
		use  bool
		fill float32
	}{{"gamma", scale, 1}, {"beta", center, 0}, {"moving_mean", true, 0}, {"moving_variance", true, 1}} {
		if p.use {
			w, err := c.weight(l.Name, p.name, []int{ch}, nil)
			if err != nil {
				return "", err
			}
			weights = append(weights, w)
			continue
		}
		data := make([]float32, ch)
		for i := range data {
			data[i] = p.fill
		}
		weights = append(weights, c.b.g.AddTensor(l.Name+"/"+p.name, []int{ch}, data))
	}
	return c.b.add(l.Name, ir.BatchNorm, in, weights, ir.Attrs{Epsilon: float32(eps)}), nil
}

func (c *layersConv) relu(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	if (cfg.NegativeSlope != nil && *cfg.NegativeSlope != 0) || (cfg.Threshold != nil && *cfg.Threshold != 0) {
		return "", errors.New("a ReLU with negative_slope or threshold is not supported")
	}
	switch {
	case cfg.MaxValue == nil:
		return c.activate(l.Name, kerasActivations["relu"], in[0]), nil
	case *cfg.MaxValue == 6:
		return c.activate(l.Name, kerasActivations["relu6"], in[0]), nil
	}
	return "", fmt.Errorf("max_value %v is not supported (only none and 6)", *cfg.MaxValue)
}

func (c *layersConv) activation(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	act, err := kerasActivation(cfg.Activation)
	if err != nil {
		return "", err
	}
	return c.activate(l.Name, act, in[0]), nil
}

func (c *layersConv) softmax(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	if err := channelAxis(cfg.Axis); err != nil {
		return "", err
	}
	return c.activate(l.Name, kerasActivations["softmax"], in[0]), nil
}

func (c *layersConv) add(l *kerasLayer, _ *kerasConfig, in []string) (string, error) {
	if len(in) < 2 {
		return "", fmt.Errorf("adds %d inputs", len(in))
	}
	v := in[0]
	for i, x := range in[1:] {
		n := l.Name
		if i < len(in)-2 {
			n = fmt.Sprintf("%s/%d", l.Name, i+1)
		}
		v = c.b.add(n, ir.Add, []string{v, x}, nil, ir.Attrs{})
	}
	return v, nil
}

func (c *layersConv) multiply(l *kerasLayer, _ *kerasConfig, in []string) (string, error) {
	if len(in) != 2 {
		return "", fmt.Errorf("multiplies %d inputs (only 2 are supported)", len(in))
	}
	return c.b.add(l.Name, ir.Mul, in, nil, ir.Attrs{}), nil
}

func (c *layersConv) concatenate(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	if err := channelAxis(cfg.Axis); err != nil {
		return "", err
	}
	return c.b.add(l.Name, ir.Concat, in, nil, ir.Attrs{}), nil
}

func (c *layersConv) zeroPadding(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	if err := channelsLast(cfg); err != nil {
		return "", err
	}
	p, err := zeroPadding(cfg.Padding)
	if err != nil {
		return "", err
	}
	return c.b.add(l.Name, ir.Pad, in, nil, ir.Attrs{Pads: p}), nil
}

// pool lowers AveragePooling2D and MaxPooling2D.
func (c *layersConv) pool(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	if err := channelsLast(cfg); err != nil {
		return "", err
	}
	a := ir.Attrs{Kernel: [2]int{2, 2}}
	if cfg.PoolSize != nil {
		a.Kernel = *cfg.PoolSize
	}
	a.Stride = a.Kernel
	if cfg.Strides != nil {
		a.Stride = *cfg.Strides
	}
	if a.Kernel[0] <= 0 || a.Kernel[1] <= 0 || a.Stride[0] <= 0 || a.Stride[1] <= 0 {
		return "", fmt.Errorf("bad pool_size %v or strides %v", a.Kernel, a.Stride)
	}
	pad, err := windowPadding(cfg.Padding)
	if err != nil {
		return "", err
	}
	s, err := c.b.shape(in[0])
	if err != nil {
		return "", err
	}
	op := ir.MaxPool
	if strings.HasPrefix(l.ClassName, "Av") {
		op = ir.AvgPool
		// A window over the whole map is a global pool, which is what
		// marks the embedding.
		if pad == "valid" && a.Kernel == [2]int{s[0], s[1]} {
			return c.b.add(l.Name, ir.GlobalAvgPool, in, nil, ir.Attrs{}), nil
		}
	}
	if pad == "same" {
		sameAttrs(&a, s, a.Kernel[0], a.Kernel[1])
	}
	return c.b.add(l.Name, op, in, nil, a), nil
}

func (c *layersConv) globalAvgPool(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	if err := channelsLast(cfg); err != nil {
		return "", err
	}
	return c.b.add(l.Name, ir.GlobalAvgPool, in, nil, ir.Attrs{}), nil
}

func (c *layersConv) flatten(l *kerasLayer, _ *kerasConfig, in []string) (string, error) {
	return c.b.add(l.Name, ir.Flatten, in, nil, ir.Attrs{}), nil
}

// reshape converts only reshapes that keep HWC order and change no
// element's place: those are layout changes the IR can express.
func (c *layersConv) reshape(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	s, err := c.b.shape(in[0])
	if err != nil {
		return "", err
	}
	t := cfg.TargetShape
	n := 1
	for _, d := range t {
		n *= d
	}
	switch {
	case n == s.Size() && len(t) == 3 && t[0] == 1 && t[1] == 1 && s[0]*s[1] == 1:
		return in[0], nil
	case n == s.Size() && len(t) == 1:
		return c.b.add(l.Name, ir.Flatten, in, nil, ir.Attrs{}), nil
	}
	return "", fmt.Errorf("reshape of %v to %v is not supported", s, t)
}

func (c *layersConv) dense(l *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	s, err := c.b.shape(in[0])
	if err != nil {
		return "", err
	}
	if cfg.Units <= 0 {
		return "", fmt.Errorf("bad units %d", cfg.Units)
	}
	act, err := kerasActivation(cfg.Activation)
	if err != nil {
		return "", err
	}
	op, store := ir.Dense, []int(nil)
	if s[0]*s[1] != 1 {
		// Keras applies Dense to the last axis, pixel by pixel: a 1x1
		// convolution.
		op, store = ir.Conv2D, []int{1, 1, s[2], cfg.Units}
	}
	kernel, err := c.weight(l.Name, "kernel", []int{s[2], cfg.Units}, store)
	if err != nil {
		return "", err
	}
	weights := []string{kernel}
	if cfg.UseBias == nil || *cfg.UseBias {
		bias, err := c.weight(l.Name, "bias", []int{cfg.Units}, nil)
		if err != nil {
			return "", err
		}
		weights = append(weights, bias)
	}
	return c.withAct(l.Name, op, in[0], weights, ir.Attrs{}, act), nil
}

// rescaling folds a Rescaling straight after the input into the model
// file's pixel transform: it is preprocessing.
func (c *layersConv) rescaling(_ *kerasLayer, cfg *kerasConfig, in []string) (string, error) {
	if in[0] != c.b.g.Input || len(c.b.g.Nodes) > 0 || c.inputReaders() != 1 {
		return "", errors.New("a Rescaling layer is supported only as the first layer after the input")
	}
	var scale, offset float64 = 1, 0
	if len(cfg.Scale) > 0 && json.Unmarshal(cfg.Scale, &scale) != nil {
		return "", fmt.Errorf("scale %s is not a number", cfg.Scale)
	}
	if len(cfg.Offset) > 0 && json.Unmarshal(cfg.Offset, &offset) != nil {
		return "", fmt.Errorf("offset %s is not a number", cfg.Offset)
	}
	for i := range 3 {
		c.pre.Scale[i] = float32(float64(c.pre.Scale[i]) * scale)
		c.pre.Offset[i] = float32(float64(c.pre.Offset[i])*scale + offset)
	}
	return in[0], nil
}

// inputReaders counts the layers reading the model's input.
func (c *layersConv) inputReaders() int {
	for name, v := range c.vals {
		if v == c.b.g.Input {
			return c.readers[name]
		}
	}
	return 1 // a Sequential's first layer
}

// zeroPadding reads ZeroPadding2D's padding: p, [ph, pw] or
// [[top, bottom], [left, right]].
func zeroPadding(raw json.RawMessage) (ir.Pads, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err == nil {
		return ir.Pads{n, n, n, n}, nil
	}
	var sym []int
	if err := json.Unmarshal(raw, &sym); err == nil && len(sym) == 2 {
		return ir.Pads{sym[0], sym[1], sym[0], sym[1]}, nil
	}
	var per [][]int
	if err := json.Unmarshal(raw, &per); err == nil && len(per) == 2 && len(per[0]) == 2 && len(per[1]) == 2 {
		return ir.Pads{per[0][0], per[1][0], per[0][1], per[1][1]}, nil
	}
	return ir.Pads{}, fmt.Errorf("unsupported padding %s", raw)
}
