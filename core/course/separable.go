package course

import "github.com/glimpse-ml/glimpse/core/ir"

// Separable is one depthwise-separable block of a real network: a
// depthwise KxK convolution over M channels followed by a pointwise 1x1
// convolution to N channels, on a D×D output map, set against the one
// standard KxK convolution from M to N channels that it replaces.
type Separable struct {
	Depthwise string `json:"depthwise"` // layer names
	Pointwise string `json:"pointwise"`
	K         int    `json:"k"`
	M         int    `json:"m"`
	N         int    `json:"n"`
	D         [2]int `json:"d"`
	// The multiply-accumulates of the real layers, and of a standard
	// convolution: K²·M·N·D².
	DepthwiseMACs int64 `json:"depthwiseMACs"`
	PointwiseMACs int64 `json:"pointwiseMACs"`
	StandardMACs  int64 `json:"standardMACs"`
	// The weights (no biases) of the real layers and of the standard one.
	SeparableParams int64 `json:"separableParams"`
	StandardParams  int64 `json:"standardParams"`
	// Ratio is (DepthwiseMACs + PointwiseMACs) / StandardMACs, from the
	// layers; Formula is the paper's 1/N + 1/K², from their sizes. They
	// are equal: the table shows both so a student can check.
	Ratio   float64 `json:"ratio"`
	Formula float64 `json:"formula"`
}

// separableBlocks pairs every depthwise convolution with the pointwise
// convolution that reads its output, following the main path through
// batch norm, activations and squeeze-and-excite (whose own 1x1
// convolutions read the pooled vector, not the main path).
func separableBlocks(g *ir.Graph, rows []Row) []Separable {
	var blocks []Separable
	for i, r := range rows {
		if r.Kind != KindDepthwise || r.Kernel[0] != r.Kernel[1] {
			continue
		}
		cur := g.Nodes[i].Output
	walk:
		for j := i + 1; j < len(g.Nodes); j++ {
			n := g.Nodes[j]
			if len(n.Inputs) == 0 || !contains(n.Inputs, cur) {
				continue
			}
			p := rows[j]
			if p.Kind == KindPointwise {
				k, m, nOut := int64(r.Kernel[0]), int64(r.Output[2]), int64(p.Output[2])
				d := int64(r.Output[0] * r.Output[1])
				b := Separable{
					Depthwise: r.Name, Pointwise: p.Name, K: r.Kernel[0], M: r.Output[2], N: p.Output[2],
					D:             [2]int{r.Output[0], r.Output[1]},
					DepthwiseMACs: r.MACs, PointwiseMACs: p.MACs,
					StandardMACs:    k * k * m * nOut * d,
					SeparableParams: k*k*m + m*nOut,
					StandardParams:  k * k * m * nOut,
					Formula:         1/float64(nOut) + 1/float64(k*k),
				}
				b.Ratio = float64(b.DepthwiseMACs+b.PointwiseMACs) / float64(b.StandardMACs)
				blocks = append(blocks, b)
				break walk
			}
			switch p.Kind {
			case KindBatchNorm, KindActivation, KindMul:
				cur = n.Output
				continue
			case KindGlobalPool:
				continue // squeeze-and-excite's branch
			}
			break walk
		}
	}
	return blocks
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
