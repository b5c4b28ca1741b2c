package course

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Head is a network's classifier as the class activation map reads it:
// fully connected layers (with ReLU between them, or none) on an
// embedding that is the global average of one feature map, or the
// concatenated averages of several (multi-level features).
type Head struct {
	// Maps are the values whose global averages make the embedding, in
	// order; Offsets where each one's channels start in it.
	Maps    []string
	Offsets []int
	In      int // the embedding's length
	Layers  []Dense
	Labels  []string
}

// Dense is one fully connected layer: W is [In, Out] row-major, B is
// [Out] or nil, ReLU follows it or not.
type Dense struct {
	In, Out int
	W, B    []float32
	ReLU    bool
}

// ErrNoClassifier is a model whose output is not a classifier on pooled
// features: a backbone (the app's default model) or a network that ends
// anywhere else.
var ErrNoClassifier = errors.New("the model has no classifier")

// ErrFlattens is a classifier that reads a flattened map: every cell has
// weights of its own, so there is no weight per channel to map back.
var ErrFlattens = errors.New("the classifier flattens a feature map")

// HeadOf finds the classifier of g, walking back from its output through
// a softmax, fully connected layers and ReLUs to the global average pool
// (or the concatenation of pools) they read. A network that flattens a
// whole map into its first fully connected layer (LeNet, AlexNet, VGG) has
// no single weight per channel to map back, and is refused by name.
func HeadOf(g *ir.Graph) (*Head, error) {
	if len(g.Outputs) != 1 {
		return nil, fmt.Errorf("%w: it has %d outputs", ErrNoClassifier, len(g.Outputs))
	}
	shapes, err := g.Infer()
	if err != nil {
		return nil, err
	}
	h := &Head{Labels: slices.Clone(g.Meta.Labels)}
	v := g.Outputs[0]
	relu := false
	for {
		n := g.Producer(v)
		if n == nil {
			return nil, fmt.Errorf("%w: its output is its input", ErrNoClassifier)
		}
		switch n.Op {
		case ir.Softmax:
			if len(h.Layers) > 0 {
				return nil, fmt.Errorf("%w: layer %q is a softmax inside the classifier", ErrNoClassifier, n.Name)
			}
		case ir.ReLU:
			relu = true
		case ir.Dense:
			if n.Attrs.Act != ir.ActNone && n.Attrs.Act != ir.ActReLU {
				return nil, fmt.Errorf("layer %q: a class activation map follows ReLU only, not %s", n.Name, n.Attrs.Act)
			}
			w := g.Tensors[n.Weights[0]]
			if w == nil || w.Data == nil {
				return nil, fmt.Errorf("layer %q has no weights", n.Name)
			}
			d := Dense{In: w.Shape[0], Out: w.Shape[1], W: w.Data, ReLU: relu || n.Attrs.Act == ir.ActReLU}
			if len(n.Weights) > 1 && n.Weights[1] != "" {
				if b := g.Tensors[n.Weights[1]]; b != nil {
					d.B = b.Data
				}
			}
			h.Layers = append([]Dense{d}, h.Layers...)
			relu = false
		case ir.Flatten:
			if s := shapes[n.Inputs[0]]; s[0]*s[1] > 1 {
				if len(h.Layers) == 0 {
					return nil, fmt.Errorf("%w: its output is a flattened map", ErrNoClassifier)
				}
				return nil, fmt.Errorf("%w: layer %q flattens a %v map into the fully connected layers; every cell has weights of its own, and a class activation map needs global average pooling", ErrFlattens, n.Name, s)
			}
		case ir.GlobalAvgPool:
			if len(h.Layers) == 0 {
				return nil, fmt.Errorf("%w: it ends in the pooled features (a backbone); train a classifier on it first", ErrNoClassifier)
			}
			h.Maps, h.Offsets, h.In = []string{n.Inputs[0]}, []int{0}, shapes[n.Output][2]
		case ir.Concat:
			if len(h.Layers) == 0 {
				return nil, fmt.Errorf("%w: it ends in features (a backbone); train a classifier on it first", ErrNoClassifier)
			}
			for _, in := range n.Inputs {
				p := g.Producer(in)
				if p == nil || p.Op != ir.GlobalAvgPool {
					return nil, fmt.Errorf("layer %q joins values that are not global average pools", n.Name)
				}
				h.Maps = append(h.Maps, p.Inputs[0])
				h.Offsets = append(h.Offsets, h.In)
				h.In += shapes[in][2]
			}
		default:
			if len(h.Layers) == 0 {
				return nil, fmt.Errorf("%w: it ends in a %s (layer %q)", ErrNoClassifier, n.Op, n.Name)
			}
			return nil, fmt.Errorf("the classifier reads layer %q, a %s, not a global average pool", n.Name, n.Op)
		}
		if h.Maps != nil {
			break
		}
		v = n.Inputs[0]
	}
	if h.In != h.Layers[0].In {
		return nil, fmt.Errorf("the classifier reads %d features, the pools give %d", h.Layers[0].In, h.In)
	}
	return h, nil
}

// Linear tells whether the head is one fully connected layer: then its
// map is the original class activation map (Zhou et al. 2016); otherwise
// it is Grad-CAM's (Selvaraju et al. 2017).
func (h *Head) Linear() bool { return len(h.Layers) == 1 }

// Logits runs the head on an embedding, in float64.
func (h *Head) Logits(e []float32) ([]float64, error) {
	if len(e) != h.In {
		return nil, fmt.Errorf("the embedding has %d values, the head reads %d", len(e), h.In)
	}
	x := make([]float64, len(e))
	for i, v := range e {
		x[i] = float64(v)
	}
	for _, l := range h.Layers {
		x = l.forward(x)
	}
	return x, nil
}

func (l Dense) forward(x []float64) []float64 {
	y := make([]float64, l.Out)
	for o := range y {
		if l.B != nil {
			y[o] = float64(l.B[o])
		}
	}
	for i, v := range x {
		row := l.W[i*l.Out : (i+1)*l.Out]
		for o, w := range row {
			y[o] += v * float64(w)
		}
	}
	if l.ReLU {
		for o := range y {
			y[o] = max(y[o], 0)
		}
	}
	return y
}

// Gradient is ∂z_class/∂e, the gradient of one class's logit with respect
// to the embedding: the last layer's column for class, carried back
// through each ReLU (zero where the unit was off) and each layer's weights.
func (h *Head) Gradient(e []float32, class int) ([]float64, error) {
	if len(e) != h.In {
		return nil, fmt.Errorf("the embedding has %d values, the head reads %d", len(e), h.In)
	}
	last := h.Layers[len(h.Layers)-1]
	if class < 0 || class >= last.Out {
		return nil, fmt.Errorf("class %d is outside 0..%d", class, last.Out-1)
	}
	// forward, keeping each layer's input
	acts := make([][]float64, len(h.Layers)+1)
	acts[0] = make([]float64, len(e))
	for i, v := range e {
		acts[0][i] = float64(v)
	}
	for i, l := range h.Layers {
		acts[i+1] = l.forward(acts[i])
	}
	g := make([]float64, last.Out)
	g[class] = 1
	for i := len(h.Layers) - 1; i >= 0; i-- {
		l := h.Layers[i]
		if l.ReLU {
			for o := range g {
				if acts[i+1][o] <= 0 {
					g[o] = 0
				}
			}
		}
		in := make([]float64, l.In)
		for r := range in {
			row := l.W[r*l.Out : (r+1)*l.Out]
			var s float64
			for o, w := range row {
				s += float64(w) * g[o]
			}
			in[r] = s
		}
		g = in
	}
	return g, nil
}

// Map is one feature map's values, H x W x C in HWC order.
type Map struct {
	Shape  ir.Shape
	Values []float32
}

// Activation is a class activation map: Heat on an H x W grid (the
// finest of the maps), row-major, and what the head made of the picture.
type Activation struct {
	H, W  int
	Heat  []float64 // ReLU of each cell's share of the logit
	Share []float64 // each cell's share before ReLU; they sum to Logit − Bias for a linear head
	// Logits are the head's outputs on the maps' averages; Class the one mapped.
	Logits []float64
	Class  int
	Linear bool
}

// CAM maps class onto the picture. The head reads each map A through its
// global average e_k = (1/Z) Σ A_ijk; to first order its logit is
// Σ_k g_k e_k for the gradient g = ∂z/∂e (exact for a linear head, where
// g is the class's weights), so each cell contributes (1/Z) Σ_k g_k A_ijk:
// the class activation map, and with a hidden layer Grad-CAM (whose
// channel weights, the spatial mean of ∂z/∂A, are the same g_k/Z). With
// several maps (multi-level features) every map is brought to the finest
// grid, each coarse cell's share spread over the fine cells it covers, and
// the shares add. Cells the class argues against are cut to zero (ReLU),
// as in both papers. class < 0 maps the most probable class.
func (h *Head) CAM(maps []Map, class int) (*Activation, error) {
	if len(maps) != len(h.Maps) {
		return nil, fmt.Errorf("the head reads %d maps, got %d", len(h.Maps), len(maps))
	}
	e := make([]float32, h.In)
	fh, fw := 0, 0
	for m, mp := range maps {
		s := mp.Shape
		if len(mp.Values) != s.Size() || s.Size() == 0 {
			return nil, fmt.Errorf("map %d has %d values for shape %v", m, len(mp.Values), s)
		}
		next := h.In
		if m+1 < len(h.Offsets) {
			next = h.Offsets[m+1]
		}
		if s[2] != next-h.Offsets[m] {
			return nil, fmt.Errorf("map %d has %d channels, the head reads %d", m, s[2], next-h.Offsets[m])
		}
		z := float64(s[0] * s[1])
		for c := range s[2] {
			var sum float64
			for p := range s[0] * s[1] {
				sum += float64(mp.Values[p*s[2]+c])
			}
			e[h.Offsets[m]+c] = float32(sum / z)
		}
		if s[0]*s[1] > fh*fw {
			fh, fw = s[0], s[1]
		}
	}
	logits, err := h.Logits(e)
	if err != nil {
		return nil, err
	}
	if class < 0 {
		class = 0
		for i, z := range logits {
			if z > logits[class] {
				class = i
			}
		}
	}
	g, err := h.Gradient(e, class)
	if err != nil {
		return nil, err
	}
	a := &Activation{H: fh, W: fw, Share: make([]float64, fh*fw), Heat: make([]float64, fh*fw), Logits: logits, Class: class, Linear: h.Linear()}
	for m, mp := range maps {
		s := mp.Shape
		// each fine cell gets the share of the coarse cell over it, divided
		// by how many fine cells that coarse cell covers
		cover := float64(fh*fw) / float64(s[0]*s[1])
		z := float64(s[0]*s[1]) * cover
		gm := g[h.Offsets[m] : h.Offsets[m]+s[2]]
		for i := range fh {
			for j := range fw {
				ci, cj := i*s[0]/fh, j*s[1]/fw
				v := mp.Values[(ci*s[1]+cj)*s[2]:]
				var sum float64
				for k, w := range gm {
					sum += w * float64(v[k])
				}
				a.Share[i*fw+j] += sum / z
			}
		}
	}
	for i, v := range a.Share {
		a.Heat[i] = math.Max(v, 0)
	}
	return a, nil
}
