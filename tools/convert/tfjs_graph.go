package convert

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// This file is the front end for TF.js graph models: a frozen TensorFlow
// graph (as tensorflowjs_converter writes it, with batch norm folded and
// convolutions fused by Grappler into _FusedConv2D and friends) whose Const
// nodes' values are the manifest's weights.
//
// TensorFlow semantics kept here: NHWC; SAME padding computed per side from
// the actual input size, the extra cell at the bottom and right; AvgPool
// leaves padded cells out of the count; conv filters are HWIO, depthwise
// filters [KH, KW, Cin, multiplier]; MatMul weights are [In, Out] unless
// transpose_b. A chain of Mul/Sub/Add/RealDiv by constants right after the
// input is the model's own pixel scaling and becomes Meta.Preprocess.

type tfGraph struct {
	Node []tfNode `json:"node"`
}

type tfNode struct {
	Name  string            `json:"name"`
	Op    string            `json:"op"`
	Input []string          `json:"input"`
	Attr  map[string]tfAttr `json:"attr"`
}

// tfAttr is an AttrValue in protobuf's JSON mapping: bytes are base64 and
// 64-bit integers are strings.
type tfAttr struct {
	S     *string         `json:"s"`
	I     json.RawMessage `json:"i"`
	F     json.RawMessage `json:"f"`
	B     *bool           `json:"b"`
	List  *tfList         `json:"list"`
	Shape *tfShape        `json:"shape"`
}

type tfList struct {
	S []string          `json:"s"`
	I []json.RawMessage `json:"i"`
}

type tfShape struct {
	Dim []struct {
		Size json.RawMessage `json:"size"`
	} `json:"dim"`
	UnknownRank bool `json:"unknownRank"`
}

// tfOps dispatches each TensorFlow op this front end converts to its
// lowering, one method per op below.
var tfOps = map[string]func(c *graphConv, n *tfNode) (gval, error){
	"Placeholder":                (*graphConv).placeholder,
	"Const":                      (*graphConv).constant,
	"Identity":                   (*graphConv).identity,
	"StopGradient":               (*graphConv).identity,
	"Snapshot":                   (*graphConv).identity,
	"_FusedConv2D":               (*graphConv).conv,
	"Conv2D":                     (*graphConv).conv,
	"FusedDepthwiseConv2dNative": (*graphConv).conv,
	"DepthwiseConv2dNative":      (*graphConv).conv,
	"_FusedMatMul":               (*graphConv).matMul,
	"MatMul":                     (*graphConv).matMul,
	"BiasAdd":                    (*graphConv).add,
	"Add":                        (*graphConv).add,
	"AddV2":                      (*graphConv).add,
	"Mul":                        (*graphConv).mul,
	"Sub":                        (*graphConv).preprocessingOnly,
	"RealDiv":                    (*graphConv).preprocessingOnly,
	"Div":                        (*graphConv).preprocessingOnly,
	"Relu":                       (*graphConv).activation,
	"Relu6":                      (*graphConv).activation,
	"Sigmoid":                    (*graphConv).activation,
	"Softmax":                    (*graphConv).activation,
	"AvgPool":                    (*graphConv).pool,
	"MaxPool":                    (*graphConv).pool,
	"Mean":                       (*graphConv).mean,
	"Squeeze":                    (*graphConv).squeeze,
	"Reshape":                    (*graphConv).reshape,
	"ConcatV2":                   (*graphConv).concat,
	"Pad":                        (*graphConv).pad,
	"PadV2":                      (*graphConv).pad,
	"FusedBatchNorm":             (*graphConv).batchNorm,
	"FusedBatchNormV2":           (*graphConv).batchNorm,
	"FusedBatchNormV3":           (*graphConv).batchNorm,
}

// gval is what a TF node's output is during lowering: an IR value, or a
// constant.
type gval struct {
	value string
	konst *weight
}

type graphConv struct {
	b         *builder
	weights   map[string]*weight
	nodes     map[string]*tfNode
	vals      map[string]gval
	consumers map[string]int // data readers of each node among those converted, outputs included
}

// inputName splits "node:1" into the node and its output index; control
// inputs ("^node") give "".
func inputName(in string) (string, int, error) {
	if strings.HasPrefix(in, "^") {
		return "", 0, nil
	}
	name, idx := in, 0
	if i := strings.LastIndexByte(in, ':'); i >= 0 {
		n, err := strconv.Atoi(in[i+1:])
		if err != nil {
			return "", 0, fmt.Errorf("bad input reference %q", in)
		}
		name, idx = in[:i], n
	}
	return name, idx, nil
}

func convertGraphModel(f *tfjsFile, weights map[string]*weight) (*ir.Graph, error) {
	var tg tfGraph
	if err := json.Unmarshal(f.ModelTopology, &tg); err != nil {
		return nil, fmt.Errorf("modelTopology: %v", err)
	}
	c := &graphConv{weights: weights, nodes: map[string]*tfNode{}, vals: map[string]gval{}, consumers: map[string]int{}}
	for i := range tg.Node {
		n := &tg.Node[i]
		if n.Name == "" {
			return nil, fmt.Errorf("node %d (%s) has no name", i, n.Op)
		}
		if c.nodes[n.Name] != nil {
			return nil, fmt.Errorf("two nodes are named %q", n.Name)
		}
		c.nodes[n.Name] = n
	}
	outputs, err := c.outputs(f)
	if err != nil {
		return nil, err
	}
	order, err := c.order(outputs)
	if err != nil {
		return nil, err
	}
	var unknown []string
	var placeholders []*tfNode
	for _, n := range order {
		if tfOps[n.Op] == nil {
			unknown = append(unknown, fmt.Sprintf("%q (%s)", n.Name, n.Op))
		}
		if n.Op == "Placeholder" {
			placeholders = append(placeholders, n)
		}
		ins, err := dataInputs(n)
		if err != nil {
			return nil, fmt.Errorf("node %q: %v", n.Name, err)
		}
		for _, in := range ins {
			c.consumers[in]++
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unsupported TensorFlow ops: %s", strings.Join(unknown, ", "))
	}
	for _, o := range outputs {
		c.consumers[o]++
	}
	if len(placeholders) != 1 {
		return nil, fmt.Errorf("the graph has %d inputs (Placeholder nodes), want 1", len(placeholders))
	}
	if err := c.input(placeholders[0]); err != nil {
		return nil, err
	}
	g := c.b.g
	folded, err := c.preprocess(placeholders[0].Name)
	if err != nil {
		return nil, err
	}
	for _, n := range order {
		if folded[n.Name] {
			continue
		}
		v, err := c.lower(n)
		if err != nil {
			return nil, fmt.Errorf("node %q (%s): %v", n.Name, n.Op, err)
		}
		c.vals[n.Name] = v
	}
	for _, o := range outputs {
		v := c.vals[o]
		if v.konst != nil {
			return nil, fmt.Errorf("output %q is a constant", o)
		}
		g.Outputs = append(g.Outputs, v.value)
	}
	shortenNames(g)
	for _, n := range order {
		switch {
		case strings.Contains(n.Name, "MobilenetV2/"):
			g.Meta.Architecture = "mobilenet_v2"
		case strings.Contains(n.Name, "MobilenetV1/"):
			g.Meta.Architecture = "mobilenet_v1"
		}
	}
	return g, nil
}

// shortenNames drops the StatefulPartitionedCall/PartitionedCall path
// segments that TF2's function calls wrap every name in: they carry no
// information and make names (which the model file stores and inspect
// prints) several times longer. Nothing is renamed if shortening would
// make two names equal.
func shortenNames(g *ir.Graph) {
	short := func(name string) string {
		parts := strings.Split(name, "/")
		kept := parts[:0]
		for _, p := range parts {
			if p != "StatefulPartitionedCall" && p != "PartitionedCall" {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			return name
		}
		return strings.Join(kept, "/")
	}
	names := map[string]string{}
	seen := map[string]bool{}
	add := func(name string) bool {
		if _, ok := names[name]; ok {
			return true
		}
		s := short(name)
		if seen[s] {
			return false
		}
		seen[s] = true
		names[name] = s
		return true
	}
	ok := add(g.Input)
	for _, n := range g.Nodes {
		ok = ok && add(n.Name) && add(n.Output)
	}
	for name := range g.Tensors {
		ok = ok && add(name)
	}
	if !ok {
		return
	}
	g.Input = names[g.Input]
	for _, n := range g.Nodes {
		n.Name, n.Output = names[n.Name], names[n.Output]
		for i := range n.Inputs {
			n.Inputs[i] = names[n.Inputs[i]]
		}
		for i := range n.Weights {
			n.Weights[i] = names[n.Weights[i]]
		}
	}
	for i := range g.Outputs {
		g.Outputs[i] = names[g.Outputs[i]]
	}
	tensors := make(map[string]*ir.Tensor, len(g.Tensors))
	for name, t := range g.Tensors {
		t.Name = names[name]
		tensors[t.Name] = t
	}
	g.Tensors = tensors
}

// outputs names the graph's output nodes: the signature's, or else the
// nodes no other node reads (what TF.js's GraphModel takes too).
func (c *graphConv) outputs(f *tfjsFile) ([]string, error) {
	sig := f.Signature
	if len(f.UserDefinedMetadata) > 0 {
		var meta struct {
			Signature json.RawMessage `json:"signature"`
		}
		if json.Unmarshal(f.UserDefinedMetadata, &meta) == nil && len(meta.Signature) > 0 {
			sig = meta.Signature
		}
	}
	var names []string
	if len(sig) > 0 && string(sig) != "null" {
		var s struct {
			Outputs map[string]struct {
				Name string `json:"name"`
			} `json:"outputs"`
		}
		if err := json.Unmarshal(sig, &s); err != nil {
			return nil, fmt.Errorf("signature: %v", err)
		}
		keys := make([]string, 0, len(s.Outputs))
		for k := range s.Outputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ref := s.Outputs[k].Name
			if ref == "" {
				ref = k
			}
			name, idx, err := inputName(ref)
			if err != nil || idx != 0 || c.nodes[name] == nil {
				return nil, fmt.Errorf("signature output %q is not a node of the graph", ref)
			}
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		return names, nil
	}
	read := map[string]bool{}
	for _, n := range c.nodes {
		for _, in := range n.Input {
			name, _, _ := inputName(in)
			read[name] = true
		}
	}
	for name, n := range c.nodes {
		if !read[name] && n.Op != "Const" && n.Op != "Placeholder" && n.Op != "NoOp" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, errors.New("the graph has no output nodes")
	}
	return names, nil
}

// dataInputs lists a node's data inputs (control inputs dropped), checking
// that each reads a node's first output.
func dataInputs(n *tfNode) ([]string, error) {
	var ins []string
	for _, in := range n.Input {
		name, idx, err := inputName(in)
		if err != nil {
			return nil, err
		}
		if name == "" {
			continue
		}
		if idx != 0 {
			return nil, fmt.Errorf("reads output %d of %q (only first outputs are supported)", idx, name)
		}
		ins = append(ins, name)
	}
	return ins, nil
}

// order lists the nodes the outputs depend on, each after its inputs
// (an iterative depth-first search, so a deep graph cannot exhaust the
// stack), and rejects cycles and references to missing nodes.
func (c *graphConv) order(outputs []string) ([]*tfNode, error) {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var order []*tfNode
	type frame struct {
		n    *tfNode
		ins  []string
		next int
	}
	for _, o := range outputs {
		if state[o] == done {
			continue
		}
		ins, err := dataInputs(c.nodes[o])
		if err != nil {
			return nil, fmt.Errorf("node %q: %v", o, err)
		}
		stack := []frame{{n: c.nodes[o], ins: ins}}
		state[o] = visiting
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next == len(top.ins) {
				state[top.n.Name] = done
				order = append(order, top.n)
				stack = stack[:len(stack)-1]
				continue
			}
			in := top.ins[top.next]
			top.next++
			switch state[in] {
			case done:
				continue
			case visiting:
				return nil, fmt.Errorf("node %q is part of a cycle", in)
			}
			n := c.nodes[in]
			if n == nil {
				return nil, fmt.Errorf("node %q reads node %q, which does not exist", top.n.Name, in)
			}
			ins, err := dataInputs(n)
			if err != nil {
				return nil, fmt.Errorf("node %q: %v", in, err)
			}
			state[in] = visiting
			stack = append(stack, frame{n: n, ins: ins})
		}
	}
	return order, nil
}

func (c *graphConv) input(p *tfNode) error {
	a, ok := p.Attr["shape"]
	if !ok || a.Shape == nil || a.Shape.UnknownRank || len(a.Shape.Dim) != 4 {
		return fmt.Errorf("input %q: shape is not given as [batch, H, W, C]", p.Name)
	}
	var dims [4]int
	for i, d := range a.Shape.Dim {
		v, err := jsonInt(d.Size)
		if err != nil {
			return fmt.Errorf("input %q: %v", p.Name, err)
		}
		dims[i] = v
	}
	if dims[1] <= 0 || dims[2] <= 0 || dims[3] <= 0 || dims[0] == 0 || dims[0] > 1 {
		return fmt.Errorf("input %q: shape %v is not a fixed-size image [batch, H, W, C]", p.Name, dims)
	}
	g := ir.New(ir.Shape{dims[1], dims[2], dims[3]})
	if err := checkInput(p.Name, g.InputShape); err != nil {
		return err
	}
	g.Input = p.Name
	c.b = newBuilder(g)
	c.vals[p.Name] = gval{value: p.Name}
	s := float32(1.0 / 255)
	g.Meta.Preprocess = ir.Preprocess{Resize: ir.ResizeStretch, Scale: [3]float32{s, s, s}, Channels: "RGB"}
	return nil
}

// jsonInt reads an int64 that protobuf's JSON mapping writes as a string
// (or, from some writers, as a number).
func jsonInt(raw json.RawMessage) (int, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("bad integer %q", s)
		}
		return int(v), nil
	}
	var v int32
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("bad integer %s", raw)
	}
	return int(v), nil
}

func (n *tfNode) str(key string) (string, error) {
	a, ok := n.Attr[key]
	if !ok || a.S == nil {
		return "", nil
	}
	b, err := base64.StdEncoding.DecodeString(*a.S)
	if err != nil {
		return "", fmt.Errorf("attribute %s: %v", key, err)
	}
	return string(b), nil
}

func (n *tfNode) ints(key string) ([]int, error) {
	a, ok := n.Attr[key]
	if !ok || a.List == nil {
		return nil, nil
	}
	out := make([]int, len(a.List.I))
	for i, raw := range a.List.I {
		v, err := jsonInt(raw)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %v", key, err)
		}
		out[i] = v
	}
	return out, nil
}

func (n *tfNode) strs(key string) ([]string, error) {
	a, ok := n.Attr[key]
	if !ok || a.List == nil {
		return nil, nil
	}
	out := make([]string, len(a.List.S))
	for i, s := range a.List.S {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %v", key, err)
		}
		out[i] = string(b)
	}
	return out, nil
}

func (n *tfNode) float(key string, def float64) (float64, error) {
	a, ok := n.Attr[key]
	if !ok || len(a.F) == 0 {
		return def, nil
	}
	var f float64
	if err := json.Unmarshal(a.F, &f); err != nil {
		return 0, fmt.Errorf("attribute %s: %s is not a number", key, a.F)
	}
	return f, nil
}

func (n *tfNode) boolean(key string) bool {
	a, ok := n.Attr[key]
	return ok && a.B != nil && *a.B
}

// nhwc checks the data_format attribute and reads a [1, h, w, 1] list
// attribute (strides, dilations, ksize), zero values meaning absent.
func (n *tfNode) nhwc(key string) ([2]int, error) {
	df, err := n.str("data_format")
	if err != nil {
		return [2]int{}, err
	}
	if df != "" && df != "NHWC" {
		return [2]int{}, fmt.Errorf("data_format %q is not supported (only NHWC)", df)
	}
	l, err := n.ints(key)
	if err != nil || l == nil {
		return [2]int{}, err
	}
	if len(l) != 4 || l[0] != 1 || l[3] != 1 || l[1] <= 0 || l[2] <= 0 {
		return [2]int{}, fmt.Errorf("%s %v is not [1, h, w, 1]", key, l)
	}
	return [2]int{l[1], l[2]}, nil
}

// padding fills a's per-side padding from the padding attribute.
func (n *tfNode) padding(a *ir.Attrs, in ir.Shape, kh, kw int) error {
	p, err := n.str("padding")
	if err != nil {
		return err
	}
	switch p {
	case "VALID":
	case "SAME":
		sameAttrs(a, in, kh, kw)
	case "EXPLICIT":
		e, err := n.ints("explicit_paddings")
		if err != nil {
			return err
		}
		if len(e) != 8 || e[0] != 0 || e[1] != 0 || e[6] != 0 || e[7] != 0 {
			return fmt.Errorf("explicit_paddings %v do not pad only H and W", e)
		}
		a.Pads = ir.Pads{e[2], e[4], e[3], e[5]}
	default:
		return fmt.Errorf("unsupported padding %q", p)
	}
	return nil
}

// arg returns a node's i-th data input as lowered so far.
func (c *graphConv) arg(n *tfNode, i int) (gval, error) {
	ins, err := dataInputs(n)
	if err != nil {
		return gval{}, err
	}
	if i >= len(ins) {
		return gval{}, fmt.Errorf("has %d inputs, needs at least %d", len(ins), i+1)
	}
	v, ok := c.vals[ins[i]]
	if !ok {
		return gval{}, fmt.Errorf("input %q was not converted", ins[i])
	}
	return v, nil
}

func (c *graphConv) value(n *tfNode, i int) (string, error) {
	v, err := c.arg(n, i)
	if err != nil {
		return "", err
	}
	if v.konst != nil {
		return "", fmt.Errorf("input %d is a constant; this op is supported only on computed values", i)
	}
	return v.value, nil
}

func (c *graphConv) konst(n *tfNode, i int) (*weight, error) {
	v, err := c.arg(n, i)
	if err != nil {
		return nil, err
	}
	if v.konst == nil {
		return nil, fmt.Errorf("input %d is not a constant", i)
	}
	return v.konst, nil
}

// tensor adds a constant to the graph as a weight of the given shape.
func (c *graphConv) tensor(w *weight, want []int, store []int) (string, error) {
	if !equalInts(w.shape, want) {
		return "", fmt.Errorf("constant %q has shape %v, want %v", w.name, w.shape, want)
	}
	if store == nil {
		store = want
	}
	return c.b.g.AddTensor(w.name, store, w.data), nil
}

// preprocess folds the chain of affine ops by constants that reads the
// input into Meta.Preprocess, and returns the nodes it folded. TF.js feeds
// the graph pixels as v/255; the fold keeps what the first real op sees.
func (c *graphConv) preprocess(input string) (map[string]bool, error) {
	folded := map[string]bool{}
	g := c.b.g
	ch := g.InputShape[2]
	a := []float64{1, 1, 1}
	b := []float64{0, 0, 0}
	cur := input
	for c.consumers[cur] == 1 && ch == 3 {
		var next *tfNode
		for _, n := range c.nodes {
			ins, _ := dataInputs(n)
			for _, in := range ins {
				if in == cur && c.consumers[n.Name] > 0 {
					next = n
				}
			}
		}
		if next == nil {
			break
		}
		ins, _ := dataInputs(next)
		if len(ins) != 2 {
			break
		}
		ki := 1
		if ins[1] == cur {
			ki = 0
		}
		kn := c.nodes[ins[ki]]
		if kn == nil || kn.Op != "Const" || ins[1-ki] != cur {
			break
		}
		k := c.weights[kn.Name]
		if k == nil || (len(k.data) != 1 && len(k.data) != ch) {
			break
		}
		kc := func(i int) float64 { return float64(k.data[i%len(k.data)]) }
		ok := true
		for i := range 3 {
			switch {
			case next.Op == "Mul":
				a[i], b[i] = a[i]*kc(i), b[i]*kc(i)
			case next.Op == "Add" || next.Op == "AddV2" || next.Op == "BiasAdd":
				b[i] += kc(i)
			case next.Op == "Sub" && ki == 1:
				b[i] -= kc(i)
			case next.Op == "Sub" && ki == 0:
				a[i], b[i] = -a[i], kc(i)-b[i]
			case (next.Op == "RealDiv" || next.Op == "Div") && ki == 1 && kc(i) != 0:
				a[i], b[i] = a[i]/kc(i), b[i]/kc(i)
			default:
				ok = false
			}
		}
		if !ok {
			break
		}
		folded[next.Name] = true
		c.vals[next.Name] = gval{value: input}
		cur = next.Name
	}
	if len(folded) > 0 {
		// Outputs and other readers of the last folded node read the input.
		c.consumers[input] = c.consumers[cur]
	}
	for i := range 3 {
		g.Meta.Preprocess.Scale[i] = float32(a[i] / 255)
		g.Meta.Preprocess.Offset[i] = float32(b[i])
	}
	return folded, nil
}

// fused reads _Fused*'s fused_ops: the op applied first (BiasAdd,
// FusedBatchNorm or none) and the activation after it, which must be one
// the IR can fuse.
func (n *tfNode) fused() (first string, act tfjsActivation, err error) {
	act = tfjsActivation{fusable: true}
	ops, err := n.strs("fused_ops")
	if err != nil {
		return "", act, err
	}
	if len(ops) > 0 && (ops[0] == "BiasAdd" || ops[0] == "FusedBatchNorm") {
		first, ops = ops[0], ops[1:]
	}
	switch len(ops) {
	case 0:
	case 1:
		if act, err = lookupActivation(tfActivations, ops[0]); err != nil {
			return "", act, err
		}
		if !act.fusable {
			return "", act, fmt.Errorf("activation %q cannot be fused into a convolution or matrix product", ops[0])
		}
	default:
		return "", act, fmt.Errorf("unsupported fused_ops %v", ops)
	}
	return first, act, nil
}

// lower lowers one node through the dispatch table.
func (c *graphConv) lower(n *tfNode) (gval, error) {
	f, ok := tfOps[n.Op]
	if !ok {
		return gval{}, fmt.Errorf("unsupported op %s", n.Op) // convertGraphModel lets none through
	}
	return f(c, n)
}

// node adds the IR node that n lowers to, named after it.
func (c *graphConv) node(n *tfNode, op ir.Op, inputs, weights []string, a ir.Attrs) gval {
	return gval{value: c.b.add(n.Name, op, inputs, weights, a)}
}

// placeholder is the graph's input, set up by input.
func (c *graphConv) placeholder(n *tfNode) (gval, error) {
	return c.vals[n.Name], nil
}

func (c *graphConv) constant(n *tfNode) (gval, error) {
	w := c.weights[n.Name]
	if w == nil {
		return gval{}, errors.New("the constant's value is not in the weights manifest")
	}
	return gval{konst: w}, nil
}

func (c *graphConv) identity(n *tfNode) (gval, error) {
	return c.arg(n, 0)
}

// matMul lowers MatMul and _FusedMatMul on a vector to Dense.
func (c *graphConv) matMul(n *tfNode) (gval, error) {
	x, err := c.value(n, 0)
	if err != nil {
		return gval{}, err
	}
	s, err := c.b.shape(x)
	if err != nil {
		return gval{}, err
	}
	if s[0]*s[1] != 1 {
		return gval{}, fmt.Errorf("multiplies a %v value (want a vector)", s)
	}
	if n.boolean("transpose_a") {
		return gval{}, errors.New("transpose_a is not supported")
	}
	w, err := c.konst(n, 1)
	if err != nil {
		return gval{}, err
	}
	if len(w.shape) != 2 {
		return gval{}, fmt.Errorf("weight %q has shape %v, want 2-D", w.name, w.shape)
	}
	kernel := w.name
	if n.boolean("transpose_b") {
		// TF's [Out, In] becomes the IR's [In, Out].
		out, in := w.shape[0], w.shape[1]
		if in != s[2] {
			return gval{}, fmt.Errorf("weight %q has shape %v, want [Out %d]", w.name, w.shape, s[2])
		}
		t := make([]float32, len(w.data))
		for o := range out {
			for i := range in {
				t[i*out+o] = w.data[o*in+i]
			}
		}
		kernel = c.b.g.AddTensor(w.name+"/transposed", []int{in, out}, t)
	} else {
		if w.shape[0] != s[2] {
			return gval{}, fmt.Errorf("weight %q has shape %v, want [%d Out]", w.name, w.shape, s[2])
		}
		c.b.g.AddTensor(w.name, w.shape, w.data)
	}
	outC := c.b.g.Tensors[kernel].Shape[1]
	weights := []string{kernel}
	first, act, err := n.fused()
	if err != nil {
		return gval{}, err
	}
	switch first {
	case "BiasAdd":
		bw, err := c.konst(n, 2)
		if err != nil {
			return gval{}, err
		}
		bias, err := c.tensor(bw, []int{outC}, nil)
		if err != nil {
			return gval{}, err
		}
		weights = append(weights, bias)
	case "FusedBatchNorm":
		return gval{}, errors.New("a MatMul fused with batch norm is not supported")
	}
	return c.node(n, ir.Dense, []string{x}, weights, ir.Attrs{Act: act.fused}), nil
}

// add lowers Add, AddV2 and BiasAdd: of two values, or of a value and a
// constant that is a convolution's bias.
func (c *graphConv) add(n *tfNode) (gval, error) {
	x, errX := c.arg(n, 0)
	y, errY := c.arg(n, 1)
	if errX != nil || errY != nil {
		return gval{}, errors.Join(errX, errY)
	}
	if x.konst == nil && y.konst == nil {
		return c.node(n, ir.Add, []string{x.value, y.value}, nil, ir.Attrs{}), nil
	}
	if x.konst != nil {
		x, y = y, x
	}
	if x.konst != nil {
		return gval{}, errors.New("adds two constants")
	}
	return c.addBias(n, x.value, y.konst)
}

func (c *graphConv) mul(n *tfNode) (gval, error) {
	x, errX := c.arg(n, 0)
	y, errY := c.arg(n, 1)
	if errX != nil || errY != nil {
		return gval{}, errors.Join(errX, errY)
	}
	if x.konst != nil || y.konst != nil {
		return gval{}, errors.New("a product with a constant is supported only as input preprocessing")
	}
	return c.node(n, ir.Mul, []string{x.value, y.value}, nil, ir.Attrs{}), nil
}

// preprocessingOnly refuses Sub, RealDiv and Div anywhere but in the
// input's scaling, which preprocess has folded away.
func (c *graphConv) preprocessingOnly(n *tfNode) (gval, error) {
	return gval{}, fmt.Errorf("%s is supported only as input preprocessing (by a constant, right after the input)", n.Op)
}

// activation lowers the stand-alone activation ops.
func (c *graphConv) activation(n *tfNode) (gval, error) {
	x, err := c.value(n, 0)
	if err != nil {
		return gval{}, err
	}
	act, err := lookupActivation(tfActivations, n.Op)
	if err != nil {
		return gval{}, err
	}
	return c.node(n, act.op, []string{x}, nil, act.attrs), nil
}

// pool lowers AvgPool and MaxPool.
func (c *graphConv) pool(n *tfNode) (gval, error) {
	x, err := c.value(n, 0)
	if err != nil {
		return gval{}, err
	}
	s, err := c.b.shape(x)
	if err != nil {
		return gval{}, err
	}
	k, err := n.nhwc("ksize")
	if err != nil {
		return gval{}, err
	}
	st, err := n.nhwc("strides")
	if err != nil {
		return gval{}, err
	}
	if k[0] == 0 {
		return gval{}, errors.New("no ksize")
	}
	a := ir.Attrs{Kernel: k, Stride: st}
	p, err := n.str("padding")
	if err != nil {
		return gval{}, err
	}
	if n.Op == "AvgPool" && p == "VALID" && k == [2]int{s[0], s[1]} {
		// A window over the whole map is a global pool, which is what
		// marks the embedding.
		return c.node(n, ir.GlobalAvgPool, []string{x}, nil, ir.Attrs{}), nil
	}
	if p == "EXPLICIT" {
		return gval{}, errors.New("explicit padding of a pool is not supported")
	}
	if err := n.padding(&a, s, k[0], k[1]); err != nil {
		return gval{}, err
	}
	op := ir.AvgPool
	if n.Op == "MaxPool" {
		op = ir.MaxPool
	}
	return c.node(n, op, []string{x}, nil, a), nil
}

// mean lowers a Mean over H and W: a global average pool.
func (c *graphConv) mean(n *tfNode) (gval, error) {
	x, err := c.value(n, 0)
	if err != nil {
		return gval{}, err
	}
	axes, err := c.konst(n, 1)
	if err != nil {
		return gval{}, err
	}
	set := map[float32]bool{}
	for _, v := range axes.data {
		set[v] = true
	}
	if len(set) != 2 || !(set[1] || set[-3]) || !(set[2] || set[-2]) {
		return gval{}, fmt.Errorf("a mean over axes %v is not supported (only [1, 2], a global average pool)", axes.data)
	}
	return c.node(n, ir.GlobalAvgPool, []string{x}, nil, ir.Attrs{}), nil
}

func (c *graphConv) squeeze(n *tfNode) (gval, error) {
	x, err := c.value(n, 0)
	if err != nil {
		return gval{}, err
	}
	s, err := c.b.shape(x)
	if err != nil {
		return gval{}, err
	}
	dims, err := n.ints("squeeze_dims")
	if err != nil {
		return gval{}, err
	}
	for _, d := range dims {
		if d != 1 && d != 2 && d != 0 && d != -2 && d != -3 {
			return gval{}, fmt.Errorf("squeezing axis %d is not supported", d)
		}
	}
	if s[0]*s[1] != 1 {
		return gval{}, fmt.Errorf("squeezing a %v value is not supported", s)
	}
	return gval{value: x}, nil // {1, 1, C} is the IR's vector
}

// reshape converts only reshapes that keep every element in place: to a
// vector (Flatten) or between vector forms.
func (c *graphConv) reshape(n *tfNode) (gval, error) {
	x, err := c.value(n, 0)
	if err != nil {
		return gval{}, err
	}
	s, err := c.b.shape(x)
	if err != nil {
		return gval{}, err
	}
	t, err := c.konst(n, 1)
	if err != nil {
		return gval{}, err
	}
	last := 0
	if len(t.data) > 0 {
		last = int(t.data[len(t.data)-1])
	}
	lead := 1
	for _, d := range t.data[:max(len(t.data)-1, 0)] {
		if d != 1 && d != -1 {
			lead = 0
		}
	}
	if lead == 1 && (last == s.Size() || (last == -1 && len(t.data) > 1)) {
		if s[0]*s[1] == 1 {
			return gval{value: x}, nil
		}
		if len(t.data) == 2 {
			return c.node(n, ir.Flatten, []string{x}, nil, ir.Attrs{}), nil
		}
	}
	return gval{}, fmt.Errorf("reshape of %v to %v is not supported", s, t.data)
}

func (c *graphConv) concat(n *tfNode) (gval, error) {
	ins, err := dataInputs(n)
	if err != nil {
		return gval{}, err
	}
	if len(ins) < 2 {
		return gval{}, errors.New("no axis input")
	}
	axis, err := c.konst(n, len(ins)-1)
	if err != nil {
		return gval{}, err
	}
	if len(axis.data) != 1 || (axis.data[0] != 3 && axis.data[0] != -1) {
		return gval{}, fmt.Errorf("concatenation along axis %v is not supported (only channels)", axis.data)
	}
	var xs []string
	for i := range len(ins) - 1 {
		x, err := c.value(n, i)
		if err != nil {
			return gval{}, err
		}
		xs = append(xs, x)
	}
	return c.node(n, ir.Concat, xs, nil, ir.Attrs{}), nil
}

// pad lowers Pad and PadV2 with zeros, of H and W only.
func (c *graphConv) pad(n *tfNode) (gval, error) {
	x, err := c.value(n, 0)
	if err != nil {
		return gval{}, err
	}
	p, err := c.konst(n, 1)
	if err != nil {
		return gval{}, err
	}
	if n.Op == "PadV2" {
		v, err := c.konst(n, 2)
		if err != nil {
			return gval{}, err
		}
		if len(v.data) != 1 || v.data[0] != 0 {
			return gval{}, fmt.Errorf("padding with %v is not supported (only zeros)", v.data)
		}
	}
	d := p.data
	if len(d) != 8 || d[0] != 0 || d[1] != 0 || d[6] != 0 || d[7] != 0 {
		return gval{}, fmt.Errorf("paddings %v do not pad only H and W", d)
	}
	for _, v := range d {
		if v < 0 || v > 1<<20 || v != float32(math.Trunc(float64(v))) {
			return gval{}, fmt.Errorf("bad paddings %v", d)
		}
	}
	return c.node(n, ir.Pad, []string{x}, nil, ir.Attrs{Pads: ir.Pads{int(d[2]), int(d[4]), int(d[3]), int(d[5])}}), nil
}

func (c *graphConv) batchNorm(n *tfNode) (gval, error) {
	x, err := c.value(n, 0)
	if err != nil {
		return gval{}, err
	}
	if n.boolean("is_training") {
		return gval{}, errors.New("a batch norm in training mode is not supported")
	}
	s, err := c.b.shape(x)
	if err != nil {
		return gval{}, err
	}
	weights, err := c.bnWeights(n, 1, s[2])
	if err != nil {
		return gval{}, err
	}
	eps, err := n.float("epsilon", 1e-3)
	if err != nil {
		return gval{}, err
	}
	return c.node(n, ir.BatchNorm, []string{x}, weights, ir.Attrs{Epsilon: float32(eps)}), nil
}

// bnWeights reads scale, offset, mean and variance from inputs first..+3.
func (c *graphConv) bnWeights(n *tfNode, first, ch int) ([]string, error) {
	var weights []string
	for i := range 4 {
		w, err := c.konst(n, first+i)
		if err != nil {
			return nil, err
		}
		t, err := c.tensor(w, []int{ch}, nil)
		if err != nil {
			return nil, err
		}
		weights = append(weights, t)
	}
	return weights, nil
}

// addBias folds x + constant into the convolution or dense layer that
// makes x, when nothing else reads x: the form an unfused graph has.
func (c *graphConv) addBias(n *tfNode, x string, k *weight) (gval, error) {
	p := c.b.g.Producer(x)
	ins, _ := dataInputs(n)
	src := ins[0]
	if c.vals[src].value != x {
		src = ins[1]
	}
	if p == nil || (p.Op != ir.Conv2D && p.Op != ir.Dense) || len(p.Weights) > 1 || p.Attrs.Act != ir.ActNone || c.consumers[src] != 1 {
		return gval{}, errors.New("adding a constant is supported only as the bias of a convolution or matrix product")
	}
	kernel := c.b.g.Tensors[p.Weights[0]]
	outC := kernel.Shape[len(kernel.Shape)-1]
	if len(k.data) != outC {
		return gval{}, fmt.Errorf("bias %q has shape %v, want [%d]", k.name, k.shape, outC)
	}
	p.Weights = append(p.Weights, c.b.g.AddTensor(k.name, []int{outC}, k.data))
	return gval{value: x}, nil
}

func (c *graphConv) conv(n *tfNode) (gval, error) {
	x, err := c.value(n, 0)
	if err != nil {
		return gval{}, err
	}
	s, err := c.b.shape(x)
	if err != nil {
		return gval{}, err
	}
	f, err := c.konst(n, 1)
	if err != nil {
		return gval{}, err
	}
	if len(f.shape) != 4 {
		return gval{}, fmt.Errorf("filter %q has shape %v, want [KH KW Cin Cout]", f.name, f.shape)
	}
	var a ir.Attrs
	if a.Stride, err = n.nhwc("strides"); err != nil {
		return gval{}, err
	}
	if a.Dilation, err = n.nhwc("dilations"); err != nil {
		return gval{}, err
	}
	kh, kw := f.shape[0], f.shape[1]
	var kernel string
	var cout int
	if strings.Contains(n.Op, "Depthwise") {
		cin, mult := f.shape[2], f.shape[3]
		if cin != s[2] {
			return gval{}, fmt.Errorf("depthwise filter %q has shape %v for %d input channels", f.name, f.shape, s[2])
		}
		var store []int
		store, a.Groups = depthwiseAsGrouped(kh, kw, cin, mult)
		cout = store[3]
		kernel = c.b.g.AddTensor(f.name, store, f.data)
	} else {
		if f.shape[2] <= 0 || s[2]%f.shape[2] != 0 {
			return gval{}, fmt.Errorf("filter %q has shape %v for %d input channels", f.name, f.shape, s[2])
		}
		cout = f.shape[3]
		kernel = c.b.g.AddTensor(f.name, f.shape, f.data)
		a.Groups = s[2] / f.shape[2]
	}
	if err := n.padding(&a, s, kh, kw); err != nil {
		return gval{}, err
	}
	first, act, err := n.fused()
	if err != nil {
		return gval{}, err
	}
	weights := []string{kernel}
	switch first {
	case "BiasAdd":
		bw, err := c.konst(n, 2)
		if err != nil {
			return gval{}, err
		}
		bias, err := c.tensor(bw, []int{cout}, nil)
		if err != nil {
			return gval{}, err
		}
		weights = append(weights, bias)
	case "FusedBatchNorm":
		bn, err := c.bnWeights(n, 2, cout)
		if err != nil {
			return gval{}, err
		}
		eps, err := n.float("epsilon", 1e-3)
		if err != nil {
			return gval{}, err
		}
		v := c.b.add(n.Name+"/conv", ir.Conv2D, []string{x}, weights, a)
		name := n.Name
		if act.op != "" {
			name += "/bn"
		}
		v = c.b.add(name, ir.BatchNorm, []string{v}, bn, ir.Attrs{Epsilon: float32(eps)})
		if act.op != "" {
			v = c.b.add(n.Name, act.op, []string{v}, nil, act.attrs)
		}
		return gval{value: v}, nil
	}
	a.Act = act.fused
	return gval{value: c.b.add(n.Name, ir.Conv2D, []string{x}, weights, a)}, nil
}
