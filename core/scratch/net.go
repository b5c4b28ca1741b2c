// Package scratch trains a whole network of the zoo (package models) from
// scratch: LeNet-5 as courses teach it, or in its 1998 form. It turns the
// IR graph into a chain of layers (layers.go: spago autograd operators over
// the engine's kernels), whose parameters are the graph's own weight
// tensors, initialises them as torch does, and runs epochs of Adam over
// mini-batches of pictures already prepared as the model's input. The trained graph is an ordinary model: the engine runs
// it, the file format stores it.
package scratch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// MaxParams bounds the networks that train here: LeNet-5 has 61,706
// parameters; AlexNet's 61 million would take days on a CPU and gigabytes
// of optimizer state, and is refused with its count.
const MaxParams = 2_000_000

// Net is a graph made trainable.
type Net struct {
	Graph   *ir.Graph
	Chain   *Chain
	Logits  string // the value holding the logits (the graph's output, or the input of its final Softmax)
	Input   ir.Shape
	Classes int
}

// New makes the graph g (one chain of nodes from the input to one output,
// weights filled in) trainable on kern. The chain's parameters share their
// values with g's tensors, so training updates g in place. Ops that cannot
// train here (batch norm, branches) are refused by name.
func New(g *ir.Graph, kern kernels.Kernels) (*Net, error) {
	if len(g.Outputs) != 1 {
		return nil, fmt.Errorf("the network has %d outputs; training from scratch takes one", len(g.Outputs))
	}
	shapes, err := g.Infer()
	if err != nil {
		return nil, err
	}
	_, totals, err := g.Report()
	if err != nil {
		return nil, err
	}
	if totals.Params > MaxParams {
		return nil, fmt.Errorf("%s has %s parameters; training from scratch takes networks of at most %s",
			name(g), thousands(totals.Params), thousands(MaxParams))
	}
	nodes := g.Nodes
	logits := g.Outputs[0]
	if p := g.Producer(logits); p != nil && p.Op == ir.Softmax {
		logits = p.Inputs[0]
		nodes = nodes[:len(nodes)-1]
		if len(nodes) == 0 || nodes[len(nodes)-1].Output != logits {
			return nil, fmt.Errorf("layer %q: the softmax must be the last layer", p.Name)
		}
	}
	uses := g.Consumers()
	n := &Net{Graph: g, Logits: logits, Input: g.InputShape, Chain: &Chain{Kern: kern, In: g.InputShape.Size()}}
	prev := g.Input
	for i := 0; i < len(nodes); i++ {
		nd := nodes[i]
		if len(nd.Inputs) != 1 || nd.Inputs[0] != prev {
			return nil, fmt.Errorf("layer %q: training from scratch takes a chain of layers, each reading the one before", nd.Name)
		}
		in, out := shapes[nd.Inputs[0]], shapes[nd.Output]
		// A ReLU right after a convolution or dense layer, and read by
		// nothing else, is fused into it.
		fuse := func() bool {
			if i+1 < len(nodes) && nodes[i+1].Op == ir.ReLU && uses[nd.Output] == 1 && nd.Attrs.Act == ir.ActNone {
				i++
				prev = nodes[i].Output
				return true
			}
			return false
		}
		prev = nd.Output
		var l Layer
		switch nd.Op {
		case ir.Conv2D:
			act, err := layerAct(nd)
			if err != nil {
				return nil, err
			}
			w, b, err := params(g, nd)
			if err != nil {
				return nil, err
			}
			prev = nd.Output
			if fuse() {
				act = kernels.ActReLU
			}
			s := convShape(nd, in, out)
			s.KH, s.KW = w.Shape[0], w.Shape[1]
			l = &Conv2DLayer{Shape: s, Groups: nd.Attrs.GroupCount(), Act: act, W: w, B: b}
		case ir.Dense:
			act, err := layerAct(nd)
			if err != nil {
				return nil, err
			}
			w, b, err := params(g, nd)
			if err != nil {
				return nil, err
			}
			prev = nd.Output
			if fuse() {
				act = kernels.ActReLU
			}
			if in[0] != 1 || in[1] != 1 {
				n.Chain.Layers = append(n.Chain.Layers, &FlattenLayer{Size: in.Size()})
			}
			l = &DenseLayer{In: in.Size(), Out: out[2], Act: act, W: w, B: b}
		case ir.MaxPool, ir.AvgPool:
			s := convShape(nd, in, out)
			l = &PoolLayer{Shape: s, Max: nd.Op == ir.MaxPool, CountPad: nd.Attrs.CountPad}
		case ir.ReLU:
			l = &ActLayer{}
		case ir.Tanh:
			alpha, beta := nd.Attrs.TanhScales()
			l = &ActLayer{Tanh: true, Alpha: alpha, Beta: beta}
		case ir.Flatten:
			l = &FlattenLayer{Size: in.Size()}
		default:
			return nil, fmt.Errorf("layer %q: %s cannot train from scratch here (Conv2D, Dense, MaxPool, AvgPool, ReLU, Tanh and Flatten can)", nd.Name, nd.Op)
		}
		n.Chain.Layers = append(n.Chain.Layers, l)
	}
	if prev != logits {
		return nil, fmt.Errorf("the network's output %q is not the end of its chain of layers", logits)
	}
	if s := shapes[logits]; s[0] != 1 || s[1] != 1 {
		return nil, fmt.Errorf("the network's output is %v, not a vector of class scores", s)
	}
	n.Classes = shapes[logits][2]
	n.Chain.Classes = n.Classes
	return n, nil
}

// name is the graph's architecture, or "the network".
func name(g *ir.Graph) string {
	if g.Meta.Architecture != "" {
		return g.Meta.Architecture
	}
	return "the network"
}

// thousands writes n with commas: 61,706.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// layerAct is a layer's own fused activation, if the layers here can
// differentiate it.
func layerAct(nd *ir.Node) (kernels.Act, error) {
	switch nd.Attrs.Act {
	case ir.ActNone:
		return kernels.ActNone, nil
	case ir.ActReLU:
		return kernels.ActReLU, nil
	case ir.ActReLU6:
		return kernels.ActReLU6, nil
	}
	return 0, fmt.Errorf("layer %q: activation %q cannot train from scratch here", nd.Name, nd.Attrs.Act)
}

// params returns a node's kernel and bias as parameters sharing the
// graph's tensors, which must hold their weights.
func params(g *ir.Graph, nd *ir.Node) (w, b *Param, err error) {
	get := func(i int) (*Param, error) {
		t := g.Tensors[nd.Weights[i]]
		if t == nil || len(t.Data) != t.Elements() {
			return nil, fmt.Errorf("layer %q: weight %q has no values (fill the graph first)", nd.Name, nd.Weights[i])
		}
		p := NewParam(nd.Weights[i], t.Shape, t.Data)
		// The parameter holds its own copy: the tensor reads it from
		// now on, so training updates the graph.
		t.Data = p.Data()
		return p, nil
	}
	if len(nd.Weights) == 0 || nd.Weights[0] == "" {
		return nil, nil, fmt.Errorf("layer %q has no kernel", nd.Name)
	}
	if w, err = get(0); err != nil {
		return nil, nil, err
	}
	if len(nd.Weights) > 1 && nd.Weights[1] != "" {
		if b, err = get(1); err != nil {
			return nil, nil, err
		}
	}
	return w, b, nil
}

// convShape is the kernels' window description of a convolution or pool.
func convShape(nd *ir.Node, in, out ir.Shape) kernels.ConvShape {
	a := &nd.Attrs
	sh, sw := a.Strides()
	dh, dw := 1, 1
	if nd.Op == ir.Conv2D {
		dh, dw = a.Dilations()
	}
	kh, kw := a.Kernel[0], a.Kernel[1]
	return kernels.ConvShape{InH: in[0], InW: in[1], InC: in[2], OutH: out[0], OutW: out[1], OutC: out[2],
		KH: kh, KW: kw, SH: sh, SW: sw, DH: dh, DW: dw,
		PadTop: a.Pads[0], PadLeft: a.Pads[1], PadBottom: a.Pads[2], PadRight: a.Pads[3]}
}

// Init fills every weight tensor of g with torch's default initialisation
// of Conv2d and Linear, drawn from seed in the graph's node order: weights
// and biases uniform in ±1/sqrt(fan in), fan in being a convolution's
// KH*KW*Cin/groups or a dense layer's inputs (kaiming_uniform with a = √5,
// as torch's reset_parameters does).
func Init(g *ir.Graph, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 0x6c656e6574)) // "lenet"
	for _, nd := range g.Nodes {
		if nd.Op != ir.Conv2D && nd.Op != ir.Dense {
			if len(nd.Weights) > 0 {
				return fmt.Errorf("layer %q: %s has weights that training from scratch cannot initialise", nd.Name, nd.Op)
			}
			continue
		}
		if len(nd.Weights) == 0 {
			return fmt.Errorf("layer %q has no kernel", nd.Name)
		}
		kernel := g.Tensors[nd.Weights[0]]
		if kernel == nil || len(kernel.Shape) < 2 {
			return fmt.Errorf("layer %q: kernel %q is missing", nd.Name, nd.Weights[0])
		}
		fanIn := kernel.Elements() / kernel.Shape[len(kernel.Shape)-1]
		bound := 1 / math.Sqrt(float64(fanIn))
		for _, name := range nd.Weights {
			t := g.Tensors[name]
			if name == "" || t == nil {
				continue
			}
			t.Data = make([]float32, t.Elements())
			for i := range t.Data {
				t.Data[i] = float32((2*rng.Float64() - 1) * bound)
			}
		}
	}
	return nil
}

// Classifier returns g with a Softmax after its logits (when it has none),
// the class names and the source line set: the model a trained network
// becomes. Tensors are shared with g.
func Classifier(g *ir.Graph, labels []string, source string) (*ir.Graph, error) {
	out := &ir.Graph{Input: g.Input, InputShape: g.InputShape, Nodes: slices.Clone(g.Nodes),
		Outputs: slices.Clone(g.Outputs), Tensors: g.Tensors, Meta: g.Meta}
	if p := out.Producer(out.Outputs[0]); p == nil || p.Op != ir.Softmax {
		out.Outputs = []string{out.AddNode("probabilities", ir.Softmax, []string{out.Outputs[0]}, nil, ir.Attrs{})}
	}
	out.Meta.Labels = slices.Clone(labels)
	out.Meta.Source = source
	shapes, err := out.Infer()
	if err != nil {
		return nil, err
	}
	if k := shapes[out.Outputs[0]][2]; k != len(labels) {
		return nil, fmt.Errorf("the network has %d outputs for %d classes", k, len(labels))
	}
	return out, nil
}
