package engine

import (
	"fmt"
	"slices"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// kind is what a step does; the switch in Run dispatches on it.
type kind uint8

const (
	kGEMM       kind = iota // pointwise convolution or dense layer: one GEMM over the input
	kConvIm2Col             // general convolution: im2col per group, then GEMM
	kDWConv
	kMaxPool
	kAvgPool
	kGlobalAvgPool
	kAdd
	kMul
	kConcat
	kActivate
	kHardSigmoid
	kTanh
	kSoftmax
	kPad
)

// span is a value's place in the arena.
type span struct{ off, len int }

// step is one kernel call with everything it needs precomputed.
type step struct {
	name    string
	op      ir.Op // the lowered node's op, for Profile
	kind    kind
	in      []span
	out     span
	inShape []ir.Shape
	outSh   ir.Shape
	conv    kernels.ConvShape
	act     kernels.Act
	groups  int
	packed  [][]float32 // per group: GEMM-packed weights, or depthwise taps
	bias    []float32
	gemmK   int
	pads    ir.Pads
	countPd bool
	alpha   float32
	beta    float32
	mulBig  int // Mul: which input is the full-size one (the other broadcasts)
}

// Engine runs one model at one input size.
type Engine struct {
	k       kernels.Kernels
	steps   []step
	values  map[string]span
	shapes  map[string]ir.Shape
	input   span
	inShape ir.Shape
	// inputName is the graph's input value.
	inputName string
	outputs   []string
	scratch   span // im2col rows
	arena     []float32
	// q runs a calibrated model in int8 (int8.go); nil otherwise.
	q *qplan
}

// New lowers, packs and plans g for the kernels k. The graph is not
// modified and may be dropped afterwards.
func New(g *ir.Graph, k kernels.Kernels) (*Engine, error) {
	if len(g.Meta.Quant) > 0 {
		return NewInt8(g, k, kernels.BestInt8())
	}
	if _, err := g.Infer(); err != nil {
		return nil, err
	}
	nodes, err := lower(g)
	if err != nil {
		return nil, err
	}
	e := &Engine{k: k, inShape: g.InputShape, inputName: g.Input, outputs: append([]string(nil), g.Outputs...)}
	// Shapes after lowering: re-infer through a throwaway graph built from the lowered nodes.
	shapes, err := lowShapes(g, nodes)
	if err != nil {
		return nil, err
	}
	e.shapes = shapes
	if err := e.build(nodes); err != nil {
		return nil, err
	}
	return e, nil
}

// lowShapes infers value shapes of the lowered nodes.
func lowShapes(g *ir.Graph, nodes []*node) (map[string]ir.Shape, error) {
	lg := ir.New(g.InputShape)
	lg.Input = g.Input
	for _, n := range nodes {
		var weights []string
		if n.kernel != nil {
			weights = append(weights, lg.AddTensor(n.name+"#w", n.kshape, n.kernel))
			if n.bias != nil {
				weights = append(weights, lg.AddTensor(n.name+"#b", []int{len(n.bias)}, n.bias))
			}
		}
		lg.Nodes = append(lg.Nodes, &ir.Node{Name: n.name, Op: n.op, Inputs: n.inputs, Output: n.output, Weights: weights, Attrs: n.attrs})
	}
	lg.Outputs = g.Outputs
	s, err := lg.Infer()
	if err != nil {
		return nil, fmt.Errorf("after lowering: %w", err)
	}
	return s, nil
}

var acts = map[ir.Activation]kernels.Act{
	ir.ActNone: kernels.ActNone, ir.ActReLU: kernels.ActReLU, ir.ActReLU6: kernels.ActReLU6,
	ir.ActHardSwish: kernels.ActHardSwish, ir.ActHardSigmoid: kernels.ActHardSigmoid, ir.ActSigmoid: kernels.ActSigmoid,
}

// build turns lowered nodes into steps and plans the arena.
func (e *Engine) build(nodes []*node) error {
	// Flatten is a view: its output is its input's buffer.
	alias := map[string]string{}
	root := func(v string) string {
		for {
			a, ok := alias[v]
			if !ok {
				return v
			}
			v = a
		}
	}
	var kept []*node
	for _, n := range nodes {
		if n.op == ir.Flatten {
			alias[n.output] = n.inputs[0]
			continue
		}
		kept = append(kept, n)
	}
	// Lifetimes over step indices; the input is written before step 0 and
	// graph outputs live to the end.
	first := map[string]int{}
	last := map[string]int{}
	var order []string
	def := func(v string, at int) {
		if _, ok := first[v]; !ok {
			first[v] = at
			last[v] = at
			order = append(order, v)
		}
	}
	use := func(v string, at int) {
		if at > last[v] {
			last[v] = at
		}
	}
	inputRoot := root(e.inputName)
	def(inputRoot, -1)
	for i, n := range kept {
		for _, in := range n.inputs {
			use(root(in), i)
		}
		def(root(n.output), i)
	}
	for _, o := range e.outputs {
		use(root(o), len(kept))
	}
	// Greedy first fit, biggest values first.
	sizes := map[string]int{}
	for _, v := range order {
		sizes[v] = e.shapes[v].Size()
	}
	byBig := slices.Clone(order)
	slices.SortStableFunc(byBig, func(a, b string) int { return sizes[b] - sizes[a] })
	const align = 16 // floats: 64-byte alignment for vector loads
	roundUp := func(n int) int { return (n + align - 1) / align * align }
	placed := []string{}
	spans := map[string]span{}
	total := 0
	for _, v := range byBig {
		need := roundUp(sizes[v])
		// Collect the busy intervals of values alive at the same time.
		var busy []span
		for _, p := range placed {
			if first[p] <= last[v] && first[v] <= last[p] {
				busy = append(busy, spans[p])
			}
		}
		slices.SortFunc(busy, func(a, b span) int { return a.off - b.off })
		off := 0
		for _, b := range busy {
			if off+need <= b.off {
				break
			}
			off = max(off, roundUp(b.off+b.len))
		}
		spans[v] = span{off, sizes[v]}
		placed = append(placed, v)
		total = max(total, roundUp(off+need))
	}
	e.values = map[string]span{}
	for v := range e.shapes {
		if s, ok := spans[root(v)]; ok {
			e.values[v] = span{s.off, e.shapes[v].Size()}
		}
	}
	e.input = e.values[inputRoot]
	scratch := 0
	for _, n := range kept {
		st, need, err := e.makeStep(n)
		if err != nil {
			return err
		}
		scratch = max(scratch, need)
		e.steps = append(e.steps, st)
	}
	e.scratch = span{total, scratch}
	e.arena = make([]float32, total+scratch)
	return nil
}
