package engine

import (
	"maps"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Lower returns g as the engine runs it: batch norm folded into the
// convolution before it, zero padding into the next convolution, stand-
// alone activations fused into their producers (the rewrites New makes).
// The result computes the same function with its own copies of the
// weights; g is not modified. Calibration measures the values of this
// graph, since they are the ones an int8 kernel's epilogue writes.
func Lower(g *ir.Graph) (*ir.Graph, error) {
	if _, err := g.Infer(); err != nil {
		return nil, err
	}
	nodes, err := lower(g)
	if err != nil {
		return nil, err
	}
	lg := ir.New(g.InputShape)
	lg.Input = g.Input
	lg.Outputs = append([]string(nil), g.Outputs...)
	lg.Meta = g.Meta
	lg.Meta.Labels = append([]string(nil), g.Meta.Labels...)
	lg.Meta.Quant = maps.Clone(g.Meta.Quant)
	for _, n := range nodes {
		var weights []string
		if n.kernel != nil {
			weights = append(weights, lg.AddTensor(n.name+".kernel", n.kshape, n.kernel))
			if n.bias != nil {
				weights = append(weights, lg.AddTensor(n.name+".bias", []int{len(n.bias)}, n.bias))
			}
		}
		a := n.attrs
		if n.op == ir.Conv2D {
			a.Kernel = [2]int{n.kshape[0], n.kshape[1]}
		}
		lg.Nodes = append(lg.Nodes, &ir.Node{Name: n.name, Op: n.op, Inputs: append([]string(nil), n.inputs...), Output: n.output, Weights: weights, Attrs: a})
	}
	if _, err := lg.Infer(); err != nil {
		return nil, err
	}
	return lg, nil
}
