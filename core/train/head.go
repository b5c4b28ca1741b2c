package train

import (
	"fmt"
	"math"
	"slices"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// Head is a trained classifier on a backbone's embedding: an optional
// Dense(Hidden, ReLU) layer, then Dense(K) and a softmax. Weights are in
// the IR's layout, [In, Out] row-major.
type Head struct {
	Labels []string
	In     int       // embedding length
	Hidden int       // 0: no hidden layer
	W1, B1 []float32 // [In, Hidden] and [Hidden], when Hidden > 0
	W2     []float32 // [Hidden or In, K]
	B2     []float32 // [K], or nil: no output bias
	Config Config
	Report Report
}

// Classes is the number of classes.
func (h *Head) Classes() int { return len(h.Labels) }

// logits runs the head on n embeddings (n x In) with kern.
func (h *Head) logits(kern kernels.Kernels, x []float32, n int) []float32 {
	in := h.In
	if h.Hidden > 0 {
		hid := make([]float32, n*h.Hidden)
		kern.GEMM(n, h.Hidden, h.In, x, h.In, kern.PackGEMMWeights(h.W1, h.In, h.Hidden), h.B1, hid, h.Hidden, kernels.ActReLU)
		x, in = hid, h.Hidden
	}
	k := h.Classes()
	z := make([]float32, n*k)
	kern.GEMM(n, k, in, x, in, kern.PackGEMMWeights(h.W2, in, k), h.B2, z, k, kernels.ActNone)
	return z
}

// Probabilities returns the class probabilities for one embedding,
// computed as in training (pure-Go kernels, float64 softmax).
func (h *Head) Probabilities(x []float32) ([]float64, error) {
	if len(x) != h.In {
		return nil, fmt.Errorf("embedding has %d values, the head reads %d", len(x), h.In)
	}
	z := h.logits(kernels.Go{}, x, 1)
	p := make([]float64, len(z))
	mx := float64(z[0])
	for _, v := range z {
		mx = max(mx, float64(v))
	}
	sum := 0.0
	for i, v := range z {
		p[i] = expDet(float64(v) - mx)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p, nil
}

// Argmax returns the most probable class of each of the n embeddings in
// x (n x In), running the head on kern over all rows at once with its
// weights packed once: a confusion matrix over thousands of samples is
// then two GEMMs, not thousands of one-row products. Ties go to the lower
// class.
func (h *Head) Argmax(kern kernels.Kernels, x []float32, n int) ([]int, error) {
	if len(x) != n*h.In {
		return nil, fmt.Errorf("%d values for %d embeddings of %d", len(x), n, h.In)
	}
	k := h.Classes()
	z := h.logits(kern, x, n)
	out := make([]int, n)
	for i := range out {
		out[i] = argmax32(z[i*k : (i+1)*k])
	}
	return out, nil
}

// fold rewrites the first layer so that it reads raw embeddings instead of
// standardized ones: (x-m)*s*W + b = x*(s*W) + (b - (m*s)*W).
func (h *Head) fold(mean, inv []float32) {
	w, b, out := h.W2, h.B2, h.Classes()
	if h.Hidden > 0 {
		w, b, out = h.W1, h.B1, h.Hidden
	}
	if b == nil {
		b = make([]float32, out)
		h.B2 = b
	}
	shift := make([]float64, out)
	for i := 0; i < h.In; i++ {
		row := w[i*out : (i+1)*out]
		for j := range row {
			row[j] *= inv[i]
			shift[j] += float64(mean[i]) * float64(row[j])
		}
	}
	for j := range b {
		b[j] = float32(float64(b[j]) - shift[j])
	}
}

// Attach returns a new graph that is backbone up to its embedding followed
// by the head: Dense(+ReLU), Dense, Softmax, with the head's labels as the
// classes. A backbone that already has a classifier loses it. The
// backbone's weights are shared, not copied; its preprocessing, source
// and licence carry over, so the result is one self-contained model.
func (h *Head) Attach(backbone *ir.Graph) (*ir.Graph, error) {
	emb := backbone.Meta.Embedding
	if emb == "" {
		return nil, fmt.Errorf("the model names no embedding output (the features a head reads); convert it with glimpse convert to find one")
	}
	if backbone.Producer(emb) == nil {
		return nil, fmt.Errorf("the model's embedding %q is not a value of its network", emb)
	}
	g := &ir.Graph{
		Input:      backbone.Input,
		InputShape: backbone.InputShape,
		Nodes:      slices.Clone(backbone.Nodes),
		Outputs:    []string{emb},
		Tensors:    make(map[string]*ir.Tensor, len(backbone.Tensors)+5),
		Meta:       backbone.Meta,
	}
	for name, t := range backbone.Tensors {
		g.Tensors[name] = t
	}
	g.Prune()
	shapes, err := g.Infer()
	if err != nil {
		return nil, err
	}
	if n := shapes[emb].Size(); n != h.In {
		return nil, fmt.Errorf("the model's embedding has %d values, the head was trained on %d", n, h.In)
	}
	for _, w := range [][]float32{h.W1, h.B1, h.W2, h.B2} {
		for _, v := range w {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("the head holds %v", v)
			}
		}
	}
	prefix := "head"
	for i := 2; taken(g, prefix); i++ {
		prefix = fmt.Sprintf("head_%d", i)
	}
	x, in := emb, h.In
	if h.Hidden > 0 {
		w := g.AddTensor(prefix+"/hidden/kernel", []int{h.In, h.Hidden}, slices.Clone(h.W1))
		b := g.AddTensor(prefix+"/hidden/bias", []int{h.Hidden}, slices.Clone(h.B1))
		x = g.AddNode(prefix+"/hidden", ir.Dense, []string{x}, []string{w, b}, ir.Attrs{Act: ir.ActReLU})
		in = h.Hidden
	}
	k := h.Classes()
	weights := []string{g.AddTensor(prefix+"/logits/kernel", []int{in, k}, slices.Clone(h.W2))}
	if h.B2 != nil {
		weights = append(weights, g.AddTensor(prefix+"/logits/bias", []int{k}, slices.Clone(h.B2)))
	}
	x = g.AddNode(prefix+"/logits", ir.Dense, []string{x}, weights, ir.Attrs{})
	x = g.AddNode(prefix+"/softmax", ir.Softmax, []string{x}, nil, ir.Attrs{})
	g.Outputs = []string{x}
	g.Meta.Labels = slices.Clone(h.Labels)
	src := fmt.Sprintf("glimpse train --head %s (%d classes)", h.Config.Head, k)
	if backbone.Meta.Source != "" {
		src += " on " + backbone.Meta.Source
	}
	g.Meta.Source = src
	if _, err := g.Infer(); err != nil {
		return nil, err
	}
	return g, nil
}

// taken tells whether any node or tensor name of g starts with prefix+"/".
func taken(g *ir.Graph, prefix string) bool {
	p := prefix + "/"
	for _, n := range g.Nodes {
		if len(n.Name) >= len(p) && n.Name[:len(p)] == p || n.Output == prefix {
			return true
		}
	}
	for name := range g.Tensors {
		if len(name) >= len(p) && name[:len(p)] == p {
			return true
		}
	}
	return false
}
