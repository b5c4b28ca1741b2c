package ir

import "fmt"

// stride1 reads a stride or dilation attribute, where zero means 1.
func one(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// Strides returns the node's stride with zeros read as 1.
func (a *Attrs) Strides() (int, int) { return one(a.Stride[0]), one(a.Stride[1]) }

// Dilations returns the node's dilation with zeros read as 1.
func (a *Attrs) Dilations() (int, int) { return one(a.Dilation[0]), one(a.Dilation[1]) }

// GroupCount returns the number of convolution groups, zero read as 1.
func (a *Attrs) GroupCount() int { return one(a.Groups) }

// TanhScales returns Tanh's Alpha and Beta with zeros read as 1.
func (a *Attrs) TanhScales() (alpha, beta float32) {
	alpha, beta = a.Alpha, a.Beta
	if alpha == 0 {
		alpha = 1
	}
	if beta == 0 {
		beta = 1
	}
	return alpha, beta
}

// ConvOutSize is the output length of a convolution or pool along one axis:
// floor((in + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1, the
// course's (W − F + 2P)/S + 1 with the padding given per side. With ceil
// it rounds up instead, as torch's ceil_mode does, and drops a last window
// that would start inside the trailing padding.
func ConvOutSize(in, k, stride, dilation, padBefore, padAfter int, ceil bool) int {
	span := dilation*(k-1) + 1
	num := in + padBefore + padAfter - span
	if ceil {
		// torch: a window may start inside the input and overhang the end
		num += stride - 1
	}
	if num < 0 {
		return 0
	}
	out := num/stride + 1
	if ceil && (out-1)*stride >= in+padBefore {
		out--
	}
	return out
}

// Infer checks the graph and returns the shape of every value. Errors name
// the layer at fault: an input that no earlier node makes, a missing or
// mis-shaped weight, shapes that do not fit together.
func (g *Graph) Infer() (map[string]Shape, error) {
	shapes := map[string]Shape{g.Input: g.InputShape}
	if g.InputShape.Size() <= 0 {
		return nil, errorf("", "input shape %v is empty", g.InputShape)
	}
	names := map[string]bool{}
	for _, n := range g.Nodes {
		if names[n.Name] {
			return nil, errorf(n.Name, "two layers have this name")
		}
		names[n.Name] = true
		if _, dup := shapes[n.Output]; dup {
			return nil, errorf(n.Name, "output %q is already defined", n.Output)
		}
		in := make([]Shape, len(n.Inputs))
		for i, v := range n.Inputs {
			s, ok := shapes[v]
			if !ok {
				return nil, errorf(n.Name, "input %q is not defined by an earlier layer", v)
			}
			in[i] = s
		}
		out, err := g.inferNode(n, in)
		if err != nil {
			return nil, err
		}
		if out.Size() <= 0 {
			return nil, errorf(n.Name, "output shape %v is empty (input %v)", out, in)
		}
		shapes[n.Output] = out
	}
	if len(g.Outputs) == 0 {
		return nil, errorf("", "the graph has no outputs")
	}
	for _, o := range g.Outputs {
		if _, ok := shapes[o]; !ok {
			return nil, errorf("", "output %q is not defined by any layer", o)
		}
	}
	return shapes, nil
}

// weight returns the node's i-th weight tensor, checking it exists.
func (g *Graph) weight(n *Node, i int, what string) (*Tensor, error) {
	if i >= len(n.Weights) || n.Weights[i] == "" {
		return nil, errorf(n.Name, "has no %s tensor", what)
	}
	t := g.Tensors[n.Weights[i]]
	if t == nil {
		return nil, errorf(n.Name, "%s tensor %q is missing", what, n.Weights[i])
	}
	if t.Data != nil && len(t.Data) != t.Elements() {
		return nil, errorf(n.Name, "%s tensor %q has %d values for shape %v", what, t.Name, len(t.Data), t.Shape)
	}
	return t, nil
}

func (g *Graph) vector(n *Node, i int, what string, size int) error {
	t, err := g.weight(n, i, what)
	if err != nil {
		return err
	}
	if len(t.Shape) != 1 || t.Shape[0] != size {
		return errorf(n.Name, "%s tensor %q has shape %v, want [%d]", what, t.Name, t.Shape, size)
	}
	return nil
}

func (g *Graph) inferNode(n *Node, in []Shape) (Shape, error) {
	want := func(k int) error {
		if len(in) != k {
			return errorf(n.Name, "%s takes %d input(s), has %d", n.Op, k, len(in))
		}
		return nil
	}
	a := &n.Attrs
	for _, p := range a.Pads {
		if p < 0 {
			return Shape{}, errorf(n.Name, "negative padding %v", a.Pads)
		}
	}
	switch n.Op {
	case Conv2D:
		if err := want(1); err != nil {
			return Shape{}, err
		}
		w, err := g.weight(n, 0, "kernel")
		if err != nil {
			return Shape{}, err
		}
		if len(w.Shape) != 4 {
			return Shape{}, errorf(n.Name, "kernel %q has shape %v, want [KH KW Cin/groups Cout]", w.Name, w.Shape)
		}
		groups := a.GroupCount()
		kh, kw, cin, cout := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
		if in[0][2]%groups != 0 || cout%groups != 0 || in[0][2]/groups != cin {
			return Shape{}, errorf(n.Name, "kernel %v with %d groups does not fit %d input channels", w.Shape, groups, in[0][2])
		}
		if a.Kernel != [2]int{} && a.Kernel != [2]int{kh, kw} {
			return Shape{}, errorf(n.Name, "kernel attribute %v disagrees with kernel tensor %v", a.Kernel, w.Shape)
		}
		a.Kernel = [2]int{kh, kw}
		if len(n.Weights) > 1 && n.Weights[1] != "" {
			if err := g.vector(n, 1, "bias", cout); err != nil {
				return Shape{}, err
			}
		}
		sh, sw := a.Strides()
		dh, dw := a.Dilations()
		oh := ConvOutSize(in[0][0], kh, sh, dh, a.Pads[0], a.Pads[2], false)
		ow := ConvOutSize(in[0][1], kw, sw, dw, a.Pads[1], a.Pads[3], false)
		return Shape{oh, ow, cout}, nil
	case BatchNorm:
		if err := want(1); err != nil {
			return Shape{}, err
		}
		for i, what := range []string{"gamma", "beta", "mean", "variance"} {
			if err := g.vector(n, i, what, in[0][2]); err != nil {
				return Shape{}, err
			}
		}
		return in[0], nil
	case Dense:
		if err := want(1); err != nil {
			return Shape{}, err
		}
		w, err := g.weight(n, 0, "kernel")
		if err != nil {
			return Shape{}, err
		}
		if len(w.Shape) != 2 || w.Shape[0] != in[0].Size() {
			return Shape{}, errorf(n.Name, "kernel %q has shape %v, want [%d Out] for input %v", w.Name, w.Shape, in[0].Size(), in[0])
		}
		if len(n.Weights) > 1 && n.Weights[1] != "" {
			if err := g.vector(n, 1, "bias", w.Shape[1]); err != nil {
				return Shape{}, err
			}
		}
		return Shape{1, 1, w.Shape[1]}, nil
	case MaxPool, AvgPool:
		if err := want(1); err != nil {
			return Shape{}, err
		}
		kh, kw := a.Kernel[0], a.Kernel[1]
		if kh <= 0 || kw <= 0 {
			return Shape{}, errorf(n.Name, "pool window %v is empty", a.Kernel)
		}
		if a.Pads[0] >= kh || a.Pads[2] >= kh || a.Pads[1] >= kw || a.Pads[3] >= kw {
			return Shape{}, errorf(n.Name, "padding %v is not smaller than the window %v", a.Pads, a.Kernel)
		}
		sh, sw := a.Strides()
		oh := ConvOutSize(in[0][0], kh, sh, 1, a.Pads[0], a.Pads[2], a.Ceil)
		ow := ConvOutSize(in[0][1], kw, sw, 1, a.Pads[1], a.Pads[3], a.Ceil)
		return Shape{oh, ow, in[0][2]}, nil
	case GlobalAvgPool:
		if err := want(1); err != nil {
			return Shape{}, err
		}
		return Shape{1, 1, in[0][2]}, nil
	case Add:
		if err := want(2); err != nil {
			return Shape{}, err
		}
		if in[0] != in[1] {
			return Shape{}, errorf(n.Name, "adds shapes %v and %v", in[0], in[1])
		}
		return in[0], nil
	case Mul:
		if err := want(2); err != nil {
			return Shape{}, err
		}
		x, y := in[0], in[1]
		if x == y {
			return x, nil
		}
		if y[0] == 1 && y[1] == 1 && y[2] == x[2] {
			return x, nil
		}
		if x[0] == 1 && x[1] == 1 && x[2] == y[2] {
			return y, nil
		}
		return Shape{}, errorf(n.Name, "multiplies shapes %v and %v (only equal shapes or a 1x1xC scale broadcast)", x, y)
	case Concat:
		if len(in) < 1 {
			return Shape{}, errorf(n.Name, "Concat has no inputs")
		}
		out := in[0]
		for _, s := range in[1:] {
			if s[0] != out[0] || s[1] != out[1] {
				return Shape{}, errorf(n.Name, "concatenates %v and %v along channels", out, s)
			}
			out[2] += s[2]
		}
		return out, nil
	case ReLU, ReLU6, HardSwish, HardSigmoid, Sigmoid, Tanh, Softmax:
		if err := want(1); err != nil {
			return Shape{}, err
		}
		return in[0], nil
	case Flatten:
		if err := want(1); err != nil {
			return Shape{}, err
		}
		return Shape{1, 1, in[0].Size()}, nil
	case Pad:
		if err := want(1); err != nil {
			return Shape{}, err
		}
		return Shape{in[0][0] + a.Pads[0] + a.Pads[2], in[0][1] + a.Pads[1] + a.Pads[3], in[0][2]}, nil
	}
	return Shape{}, errorf(n.Name, "unknown op %q", n.Op)
}

// Cost is what one layer weighs: its parameters counted as torchvision
// counts them (convolution and dense weights and biases, batch-norm gamma
// and beta, not running statistics) and its multiply-accumulates
// (convolution and dense only).
type Cost struct {
	Params int64
	MACs   int64
}

// NodeCost computes a node's cost given the shapes Infer returned.
func (g *Graph) NodeCost(n *Node, shapes map[string]Shape) Cost {
	var c Cost
	out := shapes[n.Output]
	size := func(i int) int64 {
		if i < len(n.Weights) && n.Weights[i] != "" {
			if t := g.Tensors[n.Weights[i]]; t != nil {
				return int64(t.Elements())
			}
		}
		return 0
	}
	switch n.Op {
	case Conv2D:
		w := size(0)
		c.Params = w + size(1)
		c.MACs = int64(out[0]*out[1]) * w
	case Dense:
		w := size(0)
		c.Params = w + size(1)
		c.MACs = w
	case BatchNorm:
		c.Params = size(0) + size(1)
	}
	return c
}

// String describes a node for error messages and listings.
func (n *Node) String() string { return fmt.Sprintf("%s %s(%v)", n.Name, n.Op, n.Inputs) }
