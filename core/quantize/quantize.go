// Package quantize calibrates a model for int8 compute: it runs the
// lowered float32 network on sample inputs, records the range every
// activation value takes, and turns each range into an int8 scale and
// zero point (ir.Meta.Quant), which the engine then runs in integer
// arithmetic (FORMAT.md section 4.1).
package quantize

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// Calibrator measures the activations of one lowered graph.
type Calibrator struct {
	g      *ir.Graph // lowered, every value an output
	eng    *engine.Engine
	values []string
	lo, hi []float64
	// samples holds about samplesPerInput values of each value per input,
	// for choosing its range by the error it gives (fit).
	samples [][]float32
	// exact marks the values whose range stays the whole observed one:
	// those a float32 step reads or the caller gets (the logits before a
	// softmax), where clipping would change the answer itself.
	exact []bool
	// kept holds the first inputs, for correcting the biases (Graph).
	kept [][]float32
	n    int
}

// keepInputs is how many observed inputs bias correction reuses.
const keepInputs = 16

// samplesPerInput is how many elements of each value an input adds to
// the samples that fit chooses ranges from.
const samplesPerInput = 4096

// New lowers g (engine.Lower: batch norm folded, activations fused, as the
// int8 kernels will compute it) and prepares to observe its values.
func New(g *ir.Graph) (*Calibrator, error) {
	lg, err := engine.Lower(g)
	if err != nil {
		return nil, err
	}
	lg.Meta.Quant = nil
	c := &Calibrator{g: lg}
	seen := map[string]bool{}
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			c.values = append(c.values, v)
		}
	}
	// The input and every value an int8 node reads or writes.
	add(lg.Input)
	floatReads := map[string]bool{}
	for _, o := range lg.Outputs {
		floatReads[o] = true
	}
	for _, n := range lg.Nodes {
		if engine.Int8Op(n) {
			for _, in := range n.Inputs {
				add(in)
			}
			add(n.Output)
		} else {
			for _, in := range n.Inputs {
				floatReads[in] = true
			}
		}
	}
	c.samples = make([][]float32, len(c.values))
	c.exact = make([]bool, len(c.values))
	for i, v := range c.values {
		c.exact[i] = floatReads[v] || v == lg.Input
	}
	run := *lg
	run.Outputs = slices.Clone(c.values)
	for _, o := range lg.Outputs {
		if !seen[o] {
			run.Outputs = append(run.Outputs, o)
		}
	}
	if c.eng, err = engine.New(&run, kernels.Exact()); err != nil {
		return nil, err
	}
	c.lo = make([]float64, len(c.values))
	c.hi = make([]float64, len(c.values))
	for i := range c.lo {
		c.lo[i], c.hi[i] = math.Inf(1), math.Inf(-1)
	}
	return c, nil
}

// Observe runs the network on one preprocessed input and widens every
// value's range to what it took.
func (c *Calibrator) Observe(input []float32) error {
	if err := c.eng.Run(input); err != nil {
		return err
	}
	for i, v := range c.values {
		out := c.eng.Output(v)
		for _, x := range out {
			f := float64(x)
			if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > maxAbs {
				return fmt.Errorf("value %q took %v, beyond what int8 with a float32 scale can represent: the activations overflow", v, x)
			}
			c.lo[i] = min(c.lo[i], f)
			c.hi[i] = max(c.hi[i], f)
		}
		// An odd stride walks through every channel of an NHWC value.
		stride := max(1, len(out)/samplesPerInput) | 1
		for j := c.n % stride; j < len(out); j += stride {
			c.samples[i] = append(c.samples[i], out[j])
		}
	}
	if len(c.kept) < keepInputs {
		c.kept = append(c.kept, append([]float32(nil), input...))
	}
	c.n++
	return nil
}

// maxAbs bounds the activations calibration accepts: a value past it makes
// a scale whose products with int8 numbers and weight scales leave
// float32's range.
const maxAbs = 1e18

// Params turns the observed ranges into int8 scales and zero points: each
// range is widened to hold 0 (so a real zero, the padding, is exact) and
// spread over −128…127.
func (c *Calibrator) Params() (map[string]ir.QParams, error) {
	if c.n == 0 {
		return nil, fmt.Errorf("no input was observed")
	}
	q := make(map[string]ir.QParams, len(c.values))
	for i, v := range c.values {
		if c.exact[i] {
			q[v] = Range(c.lo[i], c.hi[i])
		} else {
			q[v] = fit(c.lo[i], c.hi[i], c.samples[i])
		}
	}
	// Flatten shares its input's numbers (FORMAT.md 4.1).
	for _, n := range c.g.Nodes {
		if n.Op == ir.Flatten {
			if p, ok := q[n.Inputs[0]]; ok {
				if _, ok := q[n.Output]; ok {
					q[n.Output] = p
				}
			}
		}
	}
	return q, nil
}

// fit chooses the range of a value whose int8 numbers only int8 kernels
// read: the observed [lo, hi] narrowed by the factor, of 1 and 50 steps
// down to 0.2, that gives the samples the least squared error after
// quantizing and dequantizing. A value with a few large outliers (a
// MobileNetV2 projection, where batch norm left some channels far wider
// than the rest) then trades clipping them for a finer step on everything
// else.
func fit(lo, hi float64, samples []float32) ir.QParams {
	best := Range(lo, hi)
	bestErr := math.Inf(1)
	for k := 0; k <= 50; k++ {
		a := 1 - 0.8*float64(k)/50
		p := Range(lo*a, hi*a)
		var e float64
		lo, hi := float64(-128-p.Zero), float64(127-p.Zero)
		inv := 1 / float64(p.Scale)
		for _, x := range samples {
			r := min(max(math.RoundToEven(float64(x)*inv), lo), hi)
			d := float64(x) - r*float64(p.Scale)
			e += d * d
		}
		if e < bestErr {
			best, bestErr = p, e
		}
	}
	return best
}

// Range is the int8 quantization of the interval [lo, hi] widened to hold
// 0: scale (hi−lo)/255 and the zero point that puts lo at −128 (rounded),
// so an interval from 0 (a ReLU's output) has zero point −128.
func Range(lo, hi float64) ir.QParams {
	lo, hi = min(lo, 0), max(hi, 0)
	if hi-lo == 0 {
		return ir.QParams{Scale: 1, Zero: 0}
	}
	scale := float32((hi - lo) / 255)
	if scale == 0 {
		scale = math.SmallestNonzeroFloat32
	}
	zero := math.Round(-128 - lo/float64(scale))
	return ir.QParams{Scale: scale, Zero: int32(min(127, max(-128, zero)))}
}

// Graph returns the lowered graph with the calibration attached: what a
// calibrated model file holds. It checks that the engine can run it in
// int8 (a bias or a sum that overflows int32 is an error naming the layer).
func (c *Calibrator) Graph() (*ir.Graph, error) {
	q, err := c.Params()
	if err != nil {
		return nil, err
	}
	g := *c.g
	g.Meta.Quant = q
	if _, err := engine.NewInt8(&g, kernels.Go{}, kernels.Int8Go{}); err != nil {
		return nil, err
	}
	g.Tensors = maps.Clone(c.g.Tensors)
	g.Nodes = make([]*ir.Node, len(c.g.Nodes))
	for i, n := range c.g.Nodes {
		nn := *n
		g.Nodes[i] = &nn
	}
	if err := c.correctBiases(&g); err != nil {
		return nil, err
	}
	return &g, nil
}

// channelMeans runs e on the kept inputs and returns each value's mean
// per channel.
func (c *Calibrator) channelMeans(e *engine.Engine, values []string) ([][]float64, error) {
	means := make([][]float64, len(values))
	for _, in := range c.kept {
		if err := e.Run(in); err != nil {
			return nil, err
		}
		for i, v := range values {
			s := e.Shape(v)
			if means[i] == nil {
				means[i] = make([]float64, s[2])
			}
			for j, x := range e.Output(v) {
				means[i][j%s[2]] += float64(x) / float64(len(c.kept)*s[0]*s[1])
			}
		}
	}
	return means, nil
}

// correctBiases is empirical bias correction, layer by layer in order:
// each int8 convolution's and dense layer's mean output per channel, over
// the kept inputs, is measured with the layers before it already
// corrected, and its bias moved by the difference from the float32
// model's mean. Rounding errors that lean one way (weights rounded per
// channel, activations clipped or stepped) then no longer shift a
// channel's mean and pile up through the network.
func (c *Calibrator) correctBiases(g *ir.Graph) error {
	var layers []*ir.Node
	var values []string
	for _, n := range g.Nodes {
		if (n.Op == ir.Conv2D || n.Op == ir.Dense) && engine.Int8Op(n) {
			if _, ok := g.Meta.Quant[n.Output]; ok {
				layers = append(layers, n)
				values = append(values, n.Output)
			}
		}
	}
	if len(layers) == 0 || len(c.kept) == 0 {
		return nil
	}
	fg := *c.g // the reference: the float32 graph as calibrated
	fg.Outputs = append(slices.Clone(g.Outputs), values...)
	fg.Meta.Quant = nil
	fe, err := engine.New(&fg, kernels.Exact())
	if err != nil {
		return err
	}
	want, err := c.channelMeans(fe, values)
	if err != nil {
		return err
	}
	for i, n := range layers {
		qg := *g
		qg.Outputs = append(slices.Clone(g.Outputs), n.Output)
		qe, err := engine.NewInt8(&qg, kernels.Exact(), kernels.BestInt8())
		if err != nil {
			return err
		}
		got, err := c.channelMeans(qe, []string{n.Output})
		if err != nil {
			return err
		}
		bias := make([]float32, len(want[i]))
		if len(n.Weights) > 1 && n.Weights[1] != "" {
			copy(bias, g.Tensors[n.Weights[1]].Data)
		}
		for ch := range bias {
			bias[ch] -= float32(got[0][ch] - want[i][ch])
		}
		name := n.Name + ".bias_corrected"
		g.Tensors[name] = &ir.Tensor{Name: name, Shape: []int{len(bias)}, Data: bias}
		n.Weights = []string{n.Weights[0], name}
	}
	return nil
}

// Observed is the number of inputs observed so far.
func (c *Calibrator) Observed() int { return c.n }
