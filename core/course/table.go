package course

import (
	"math/bits"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Kind names what a layer does in the words a course uses, which the IR's
// op alone does not say: a Conv2D is a standard, depthwise, pointwise or
// grouped convolution depending on its kernel and groups.
type Kind string

// The kinds of layer a table row can be.
const (
	KindConv       Kind = "conv"       // standard convolution
	KindDepthwise  Kind = "depthwise"  // one filter per channel (groups = channels)
	KindPointwise  Kind = "pointwise"  // 1x1 convolution mixing channels
	KindGrouped    Kind = "grouped"    // groups between 1 and the channel count
	KindScale      Kind = "scale"      // 1x1 depthwise: a coefficient and a bias per channel (LeNet's trainable subsampling)
	KindDense      Kind = "dense"      // fully connected
	KindBatchNorm  Kind = "batchnorm"  // batch normalisation
	KindMaxPool    Kind = "maxpool"    // max pooling
	KindAvgPool    Kind = "avgpool"    // average pooling
	KindGlobalPool Kind = "globalpool" // global average pooling
	KindAdd        Kind = "add"        // residual sum
	KindMul        Kind = "mul"        // channel scaling (squeeze-and-excite)
	KindConcat     Kind = "concat"     // joining branches along channels (Inception)
	KindActivation Kind = "activation" // ReLU, ReLU6, hard-swish, sigmoid...
	KindSoftmax    Kind = "softmax"
	KindFlatten    Kind = "flatten"
	KindPad        Kind = "pad"
)

// Row is one layer of a table.
type Row struct {
	ir.Layer
	Kind   Kind     `json:"kind"`
	Groups int      `json:"groups,omitempty"`
	Act    string   `json:"act,omitempty"` // fused or stand-alone activation
	Input  ir.Shape `json:"input"`         // the first input's shape
	// Height is the output-size formula along the height for convolutions
	// and pools; Ceil says the layer rounds up (torch's ceil_mode).
	Height *OutSize `json:"height,omitempty"`
	Ceil   bool     `json:"ceil,omitempty"`
	Field  Field    `json:"field"`
	// DenseParams is, for a convolution, the weights and biases a fully
	// connected layer from Input to Output would need: the cost of not
	// sharing the kernel across positions. Overflow is true when that
	// number does not fit in an int64.
	DenseParams int64 `json:"denseParams,omitempty"`
	Overflow    bool  `json:"overflow,omitempty"`
}

// Table is a network's per-layer report with totals.
type Table struct {
	Architecture string   `json:"architecture"`
	Input        ir.Shape `json:"input"`
	Rows         []Row    `json:"rows"`
	Params       int64    `json:"params"`
	MACs         int64    `json:"macs"`
	// Field is the receptive field of the last feature map with a spatial
	// extent, before global pooling or flattening.
	Field Field `json:"field"`
	// Blocks are the depthwise-separable pairs (MobileNet), in order.
	Blocks []Separable `json:"blocks,omitempty"`
}

// Explore builds the table of g: ir.Graph.Report's rows (the same numbers
// `glimpse inspect` prints) with the course's additions.
func Explore(g *ir.Graph) (*Table, error) {
	layers, totals, err := g.Report()
	if err != nil {
		return nil, err
	}
	shapes, err := g.Infer()
	if err != nil {
		return nil, err
	}
	fields, err := fieldsOf(g, shapes)
	if err != nil {
		return nil, err
	}
	t := &Table{Architecture: g.Meta.Architecture, Input: g.InputShape, Params: totals.Params, MACs: totals.MACs,
		Field: fields[g.Input]}
	for i, n := range g.Nodes {
		r := Row{Layer: layers[i], Field: fields[n.Output], Act: string(n.Attrs.Act)}
		if len(n.Inputs) > 0 {
			r.Input = shapes[n.Inputs[0]]
		}
		r.Kind = kindOf(n, r.Input, r.Output)
		if a, ok := ir.ActivationOf(n.Op); ok {
			r.Act = string(a)
		} else if n.Op == ir.HardSigmoid || n.Op == ir.Tanh {
			r.Act = strings.ToLower(string(n.Op))
		}
		switch n.Op {
		case ir.Conv2D:
			r.Groups = n.Attrs.GroupCount()
			r.DenseParams, r.Overflow = denseParams(r.Input, r.Output)
			fallthrough
		case ir.MaxPool, ir.AvgPool:
			dh, _ := n.Attrs.Dilations()
			if n.Op != ir.Conv2D {
				dh = 1
				r.Ceil = n.Attrs.Ceil
			}
			o, err := OutputSizePads(r.Input[0], dh*(r.Kernel[0]-1)+1, r.Padding[0], r.Padding[2], r.Stride[0])
			if err == nil {
				r.Height = &o
			}
		}
		if !r.Field.Whole && r.Output[0]*r.Output[1] > 1 {
			t.Field = r.Field
		}
		t.Rows = append(t.Rows, r)
	}
	t.Blocks = separableBlocks(g, t.Rows)
	return t, nil
}

func kindOf(n *ir.Node, in, out ir.Shape) Kind {
	switch n.Op {
	case ir.Conv2D:
		groups := n.Attrs.GroupCount()
		switch {
		case groups > 1 && groups == in[2] && groups == out[2] && n.Attrs.Kernel == [2]int{1, 1}:
			return KindScale
		case groups > 1 && groups == in[2] && groups == out[2]:
			return KindDepthwise
		case groups > 1:
			return KindGrouped
		case n.Attrs.Kernel == [2]int{1, 1}:
			return KindPointwise
		}
		return KindConv
	case ir.Dense:
		return KindDense
	case ir.BatchNorm:
		return KindBatchNorm
	case ir.MaxPool:
		return KindMaxPool
	case ir.AvgPool:
		return KindAvgPool
	case ir.GlobalAvgPool:
		return KindGlobalPool
	case ir.Add:
		return KindAdd
	case ir.Mul:
		return KindMul
	case ir.Concat:
		return KindConcat
	case ir.Softmax:
		return KindSoftmax
	case ir.Flatten:
		return KindFlatten
	case ir.Pad:
		return KindPad
	}
	return KindActivation
}

// denseParams is in·out + out, the weights and biases of a fully
// connected layer from every input value to every output value.
func denseParams(in, out ir.Shape) (int64, bool) {
	hi, lo := bits.Mul64(uint64(in.Size()), uint64(out.Size()))
	sum, carry := bits.Add64(lo, uint64(out.Size()), 0)
	if hi != 0 || carry != 0 || sum > 1<<63-1 {
		return 0, true
	}
	return int64(sum), false
}
