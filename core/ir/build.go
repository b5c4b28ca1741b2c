package ir

// AddTensor stores a weight tensor under name and returns the name. data
// may be nil for a graph that only describes shapes (the models/ zoo does
// so for inspect), and is filled by a front end that has the weights.
func (g *Graph) AddTensor(name string, shape []int, data []float32) string {
	g.Tensors[name] = &Tensor{Name: name, Shape: append([]int(nil), shape...), Data: data}
	return name
}

// AddNode appends a node whose output value bears the node's name, and
// returns that value so calls can be chained into a network.
func (g *Graph) AddNode(name string, op Op, inputs []string, weights []string, attrs Attrs) string {
	g.Nodes = append(g.Nodes, &Node{Name: name, Op: op, Inputs: inputs, Output: name, Weights: weights, Attrs: attrs})
	return name
}

// Prune drops the nodes and tensors that no output depends on. Front ends
// call it after cutting a graph at its embedding (--drop-head).
func (g *Graph) Prune() {
	need := map[string]bool{}
	for _, o := range g.Outputs {
		need[o] = true
	}
	keep := make([]bool, len(g.Nodes))
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		if !need[n.Output] {
			continue
		}
		keep[i] = true
		for _, in := range n.Inputs {
			need[in] = true
		}
	}
	nodes := g.Nodes[:0]
	used := map[string]bool{}
	for i, n := range g.Nodes {
		if keep[i] {
			nodes = append(nodes, n)
			for _, w := range n.Weights {
				used[w] = true
			}
		}
	}
	g.Nodes = nodes
	for name := range g.Tensors {
		if !used[name] {
			delete(g.Tensors, name)
		}
	}
}
