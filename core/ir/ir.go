// Package ir is Glimpse's intermediate representation: a small directed
// acyclic graph over a closed set of operations and named weight tensors.
//
// Every front end (TF.js layers and graph models, ONNX, torchvision
// state_dicts loaded into a models/ builder) lowers into this IR, the file
// format stores it, and the engine runs only it. Keeping the op set closed
// and tiny (in the manner of tinygrad) means a new source format costs one
// front end and never a new kernel.
//
// Layout conventions, fixed for the whole project:
//   - activations are NHWC float32; the IR describes one sample, so a value's
//     Shape is {H, W, C} (a vector is {1, 1, C});
//   - convolution weights are HWIO: [KH, KW, Cin/groups, Cout], with the
//     output channels of group g at [g*Cout/groups, (g+1)*Cout/groups);
//   - dense weights are [In, Out]; the input is the flattened HWC value;
//   - padding is given per side: {top, left, bottom, right}.
package ir

import (
	"fmt"
	"strings"
)

// Op is one of the IR's operation types. The set is closed: the engine,
// the file format and every front end agree on exactly these.
type Op string

// The closed op set.
const (
	Conv2D        Op = "Conv2D"        // groups, stride, dilation, per-side padding, fused bias and activation
	BatchNorm     Op = "BatchNorm"     // inference batch norm; folded into the preceding Conv2D at load
	Dense         Op = "Dense"         // fully connected, fused bias and activation
	MaxPool       Op = "MaxPool"       // per-side padding, ceil mode
	AvgPool       Op = "AvgPool"       // per-side padding, ceil mode, with or without padded cells in the count
	GlobalAvgPool Op = "GlobalAvgPool" // {H, W, C} -> {1, 1, C}
	Add           Op = "Add"           // element-wise sum of two equal shapes, fused activation
	Mul           Op = "Mul"           // element-wise product; a {1, 1, C} operand broadcasts (squeeze-excite)
	Concat        Op = "Concat"        // along channels (Inception)
	ReLU          Op = "ReLU"
	ReLU6         Op = "ReLU6"
	HardSwish     Op = "HardSwish"
	HardSigmoid   Op = "HardSigmoid" // x*Alpha + Beta clipped to [0, 1]; torch: 1/6, 0.5
	Sigmoid       Op = "Sigmoid"
	Tanh          Op = "Tanh"    // Alpha * tanh(Beta * x), each 0 meaning 1; LeNet-5's scaled tanh is 1.7159, 2/3
	Softmax       Op = "Softmax" // over channels
	Flatten       Op = "Flatten" // {H, W, C} -> {1, 1, H*W*C} in HWC order
	Pad           Op = "Pad"     // constant padding per side of H and W
)

// Ops lists the closed op set in a stable order.
var Ops = []Op{Conv2D, BatchNorm, Dense, MaxPool, AvgPool, GlobalAvgPool, Add, Mul, Concat,
	ReLU, ReLU6, HardSwish, HardSigmoid, Sigmoid, Tanh, Softmax, Flatten, Pad}

// Activation is an element-wise function that Conv2D, Dense and Add apply to
// their output, and that stand-alone activation ops name.
type Activation string

// Activations that can be fused into Conv2D, Dense and Add.
const (
	ActNone        Activation = ""
	ActReLU        Activation = "relu"
	ActReLU6       Activation = "relu6"
	ActHardSwish   Activation = "hardswish"
	ActHardSigmoid Activation = "hardsigmoid" // torch's: relu6(x+3)/6
	ActSigmoid     Activation = "sigmoid"
)

// ActivationOf gives the Activation that a stand-alone activation op
// computes, and whether op is one.
func ActivationOf(op Op) (Activation, bool) {
	switch op {
	case ReLU:
		return ActReLU, true
	case ReLU6:
		return ActReLU6, true
	case HardSwish:
		return ActHardSwish, true
	case Sigmoid:
		return ActSigmoid, true
	}
	return ActNone, false
}

// Shape is the {H, W, C} shape of one sample's activation.
type Shape [3]int

// Size is the number of elements.
func (s Shape) Size() int { return s[0] * s[1] * s[2] }

func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s[0], s[1], s[2]) }

// Pads is padding per side: {top, left, bottom, right}.
type Pads [4]int

// Attrs holds the attributes of a node. Only the fields an op uses are set;
// the rest stay zero. See each op's documentation in Node.
type Attrs struct {
	Kernel   [2]int     `json:"kernel,omitempty"`   // KH, KW (Conv2D from its weight; pools)
	Stride   [2]int     `json:"stride,omitempty"`   // SH, SW; zero means 1
	Dilation [2]int     `json:"dilation,omitempty"` // DH, DW; zero means 1
	Pads     Pads       `json:"pads,omitempty"`     // top, left, bottom, right
	Groups   int        `json:"groups,omitempty"`   // Conv2D; zero means 1
	Act      Activation `json:"act,omitempty"`      // fused activation of Conv2D, Dense, Add
	Ceil     bool       `json:"ceil,omitempty"`     // pools: ceil instead of floor for the output size
	// CountPad makes AvgPool divide by the full window, padded cells
	// included (torch's count_include_pad=True); false divides by the cells
	// inside the input (TF and Keras).
	CountPad bool    `json:"count_pad,omitempty"`
	Epsilon  float32 `json:"epsilon,omitempty"` // BatchNorm
	// Alpha and Beta parameterise HardSigmoid, clip(x*Alpha+Beta, 0, 1),
	// and Tanh, Alpha*tanh(Beta*x) (there a zero means 1).
	Alpha float32 `json:"alpha,omitempty"`
	Beta  float32 `json:"beta,omitempty"`
}

// Node is one operation. Inputs and Output name values; Weights name
// tensors in the Graph.
//
// Weights by op:
//   - Conv2D: [kernel HWIO, bias (optional, [Cout])]
//   - BatchNorm: [gamma, beta, mean, variance], each [C]
//   - Dense: [kernel [In, Out], bias (optional, [Out])]
type Node struct {
	Name    string   `json:"name"`
	Op      Op       `json:"op"`
	Inputs  []string `json:"inputs"`
	Output  string   `json:"output"`
	Weights []string `json:"weights,omitempty"`
	Attrs   Attrs    `json:"attrs"`
}

// Tensor is a named weight tensor; Data is row-major over Shape.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// Elements is the product of the shape.
func (t *Tensor) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Graph is a network: its input, its nodes in topological order, its
// outputs, the weight tensors the nodes name, and free-form metadata that
// the file format carries along (architecture, preprocessing, labels...).
type Graph struct {
	Input      string             `json:"input"`
	InputShape Shape              `json:"inputShape"`
	Nodes      []*Node            `json:"nodes"`
	Outputs    []string           `json:"outputs"`
	Tensors    map[string]*Tensor `json:"-"`
	Meta       Meta               `json:"-"`
}

// New makes an empty graph whose input value is called "input".
func New(inputShape Shape) *Graph {
	return &Graph{Input: "input", InputShape: inputShape, Tensors: map[string]*Tensor{}}
}

// Error is a problem found in a graph; it names the node.
type Error struct {
	Node string
	Msg  string
}

func (e *Error) Error() string {
	if e.Node == "" {
		return e.Msg
	}
	return fmt.Sprintf("layer %q: %s", e.Node, e.Msg)
}

func errorf(node, format string, args ...any) error {
	return &Error{Node: node, Msg: fmt.Sprintf(format, args...)}
}

// Node returns the node that produces value, or nil.
func (g *Graph) Producer(value string) *Node {
	for _, n := range g.Nodes {
		if n.Output == value {
			return n
		}
	}
	return nil
}

// Consumers counts, for every value, how many node inputs and graph
// outputs read it.
func (g *Graph) Consumers() map[string]int {
	c := map[string]int{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			c[in]++
		}
	}
	for _, o := range g.Outputs {
		c[o]++
	}
	return c
}

// Summary is a one-line description of the op set a graph uses.
func (g *Graph) Summary() string {
	count := map[Op]int{}
	for _, n := range g.Nodes {
		count[n.Op]++
	}
	var parts []string
	for _, op := range Ops {
		if count[op] > 0 {
			parts = append(parts, fmt.Sprintf("%s×%d", op, count[op]))
		}
	}
	return strings.Join(parts, " ")
}
