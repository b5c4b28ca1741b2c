package engine

import (
	"fmt"
	"math"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// node is a layer after lowering: its weights are private copies that
// folding may rewrite, never the caller's tensors.
type node struct {
	name    string
	op      ir.Op
	inputs  []string
	output  string
	attrs   ir.Attrs
	kernel  []float32 // Conv2D HWIO or Dense [In, Out]
	kshape  []int
	bias    []float32 // nil when absent
	bnScale []float32 // BatchNorm that could not be folded: per-channel scale
	bnShift []float32 // ... and shift
}

// lower copies the graph into nodes and applies the rewrites that make it
// cheaper to run without changing what it computes: fold batch norm, fold
// zero padding into convolutions, fuse activations.
func lower(g *ir.Graph) ([]*node, error) {
	var nodes []*node
	for _, n := range g.Nodes {
		m := &node{name: n.Name, op: n.Op, inputs: append([]string(nil), n.Inputs...), output: n.Output, attrs: n.Attrs}
		tensor := func(i int) (*ir.Tensor, error) {
			if i >= len(n.Weights) || n.Weights[i] == "" {
				return nil, nil
			}
			t := g.Tensors[n.Weights[i]]
			if t == nil || t.Data == nil {
				return nil, fmt.Errorf("layer %q: tensor %q has no values", n.Name, n.Weights[i])
			}
			return t, nil
		}
		switch n.Op {
		case ir.Conv2D, ir.Dense:
			w, err := tensor(0)
			if err != nil {
				return nil, err
			}
			m.kernel = append([]float32(nil), w.Data...)
			m.kshape = append([]int(nil), w.Shape...)
			b, err := tensor(1)
			if err != nil {
				return nil, err
			}
			if b != nil {
				m.bias = append([]float32(nil), b.Data...)
			}
		case ir.BatchNorm:
			var v [4]*ir.Tensor
			for i := range v {
				t, err := tensor(i)
				if err != nil {
					return nil, err
				}
				if t == nil {
					return nil, fmt.Errorf("layer %q: batch norm lacks tensor %d", n.Name, i)
				}
				v[i] = t
			}
			c := len(v[0].Data)
			m.bnScale = make([]float32, c)
			m.bnShift = make([]float32, c)
			for i := 0; i < c; i++ {
				s := float64(v[0].Data[i]) / math.Sqrt(float64(v[3].Data[i])+float64(n.Attrs.Epsilon))
				m.bnScale[i] = float32(s)
				m.bnShift[i] = float32(float64(v[1].Data[i]) - float64(v[2].Data[i])*s)
			}
		}
		nodes = append(nodes, m)
	}
	outputs := map[string]bool{}
	for _, o := range g.Outputs {
		outputs[o] = true
	}
	nodes = foldBatchNorm(nodes, outputs)
	nodes = foldPad(nodes, outputs)
	nodes = fuseActivations(nodes, outputs)
	return nodes, nil
}

// readers counts the nodes that read each value.
func readers(nodes []*node) map[string]int {
	r := map[string]int{}
	for _, n := range nodes {
		for _, in := range n.inputs {
			r[in]++
		}
	}
	return r
}

// soleProducer returns the node making value when that value is read by
// nothing but one node and is not a graph output: only then may the
// producer absorb the reader.
func soleProducer(nodes []*node, value string, outputs map[string]bool, r map[string]int) *node {
	if outputs[value] || r[value] != 1 {
		return nil
	}
	for _, n := range nodes {
		if n.output == value {
			return n
		}
	}
	return nil
}

// foldBatchNorm folds y = (x-mean)*gamma/sqrt(var+eps) + beta into the
// convolution or dense layer that makes x: each output channel's weights
// are scaled and its bias shifted. A batch norm with nothing to fold into
// becomes a 1x1 depthwise convolution, which computes the same scale and
// shift.
func foldBatchNorm(nodes []*node, outputs map[string]bool) []*node {
	r := readers(nodes)
	var kept []*node
	for _, n := range nodes {
		if n.op != ir.BatchNorm {
			kept = append(kept, n)
			continue
		}
		p := soleProducer(kept, n.inputs[0], outputs, r)
		if p != nil && (p.op == ir.Conv2D || p.op == ir.Dense) && p.attrs.Act == ir.ActNone {
			cout := p.kshape[len(p.kshape)-1]
			if p.bias == nil {
				p.bias = make([]float32, cout)
			}
			// The kernel is [..., cout] with the output channel innermost:
			// row by row, without a division a weight (a page's first load
			// runs this before the browser has optimized it).
			scale := n.bnScale[:cout]
			for row := 0; row+cout <= len(p.kernel); row += cout {
				k := p.kernel[row : row+cout]
				for o := range k {
					k[o] *= scale[o]
				}
			}
			for o := 0; o < cout; o++ {
				p.bias[o] = p.bias[o]*n.bnScale[o] + n.bnShift[o]
			}
			p.output = n.output
			continue
		}
		c := len(n.bnScale)
		kept = append(kept, &node{
			name: n.name, op: ir.Conv2D, inputs: n.inputs, output: n.output,
			attrs:  ir.Attrs{Groups: c, Kernel: [2]int{1, 1}},
			kernel: n.bnScale, kshape: []int{1, 1, 1, c}, bias: n.bnShift,
		})
	}
	return kept
}

// foldPad moves a Pad (zeros) into the padding of the convolution that
// reads it, which pads with zeros too (Keras's ZeroPadding2D before a
// valid convolution, TF's explicit pads).
func foldPad(nodes []*node, outputs map[string]bool) []*node {
	r := readers(nodes)
	drop := map[*node]bool{}
	for _, n := range nodes {
		if n.op != ir.Conv2D {
			continue
		}
		p := soleProducer(nodes, n.inputs[0], outputs, r)
		if p == nil || p.op != ir.Pad {
			continue
		}
		for i := range n.attrs.Pads {
			n.attrs.Pads[i] += p.attrs.Pads[i]
		}
		n.inputs[0] = p.inputs[0]
		drop[p] = true
	}
	var kept []*node
	for _, n := range nodes {
		if !drop[n] {
			kept = append(kept, n)
		}
	}
	return kept
}

// fuseActivations moves a stand-alone activation into the epilogue of the
// Conv2D, Dense or Add that feeds it, saving a pass over memory.
func fuseActivations(nodes []*node, outputs map[string]bool) []*node {
	r := readers(nodes)
	var kept []*node
	for _, n := range nodes {
		act, ok := ir.ActivationOf(n.op)
		if n.op == ir.HardSigmoid && math.Abs(float64(n.attrs.Alpha)-1.0/6) < 1e-7 && n.attrs.Beta == 0.5 {
			act, ok = ir.ActHardSigmoid, true
		}
		if ok {
			p := soleProducer(kept, n.inputs[0], outputs, r)
			if p != nil && (p.op == ir.Conv2D || p.op == ir.Dense || p.op == ir.Add) && p.attrs.Act == ir.ActNone {
				p.attrs.Act = act
				p.output = n.output
				continue
			}
		}
		kept = append(kept, n)
	}
	return kept
}
