package ir

// Layer is one row of a graph's per-layer report: what `inspect` prints
// and what a course compares between architectures. It marshals to the
// same JSON the reference script under models/testdata writes from
// torchvision, so the two can be compared row by row.
type Layer struct {
	Name string `json:"name"`
	Op   string `json:"op"`
	// Kernel and Stride are {H, W}. Convolutions and pools have them; a
	// GlobalAvgPool reports its window, the whole input, as both. Other
	// ops leave them zero.
	Kernel  [2]int `json:"kernel"`
	Stride  [2]int `json:"stride"`
	Padding Pads   `json:"padding"` // {top, left, bottom, right}
	Output  Shape  `json:"output"`  // {H, W, C}
	Params  int64  `json:"params"`
	MACs    int64  `json:"macs"`
}

// Report lists every node with its output shape and cost, in graph order,
// and the totals. It fails, naming the layer, wherever Infer does.
func (g *Graph) Report() (layers []Layer, totals Cost, err error) {
	shapes, err := g.Infer()
	if err != nil {
		return nil, Cost{}, err
	}
	layers = make([]Layer, 0, len(g.Nodes))
	for _, n := range g.Nodes {
		l := Layer{Name: n.Name, Op: string(n.Op), Output: shapes[n.Output]}
		a := &n.Attrs
		switch n.Op {
		case Conv2D, MaxPool, AvgPool:
			sh, sw := a.Strides()
			l.Kernel = a.Kernel
			l.Stride = [2]int{sh, sw}
			l.Padding = a.Pads
		case GlobalAvgPool:
			in := shapes[n.Inputs[0]]
			l.Kernel = [2]int{in[0], in[1]}
			l.Stride = l.Kernel
		case Pad:
			l.Padding = a.Pads
		}
		c := g.NodeCost(n, shapes)
		l.Params, l.MACs = c.Params, c.MACs
		totals.Params += c.Params
		totals.MACs += c.MACs
		layers = append(layers, l)
	}
	return layers, totals, nil
}
