package engine

import (
	"fmt"
	"math"
	"slices"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// A calibrated model (ir.Meta.Quant) runs in integer arithmetic: every
// node whose op has an int8 form and whose values all carry a scale and
// zero point runs an int8 kernel with its requantization fused into the
// epilogue; the rest (a softmax) run the float32 kernels, with a quantize
// or dequantize step wherever a float32 value meets an int8 one.
// FORMAT.md section 4.1 is the arithmetic this file implements.

// qkind is what an int8 plan step does.
type qkind uint8

const (
	qGEMM       qkind = iota // 1x1 convolution or dense layer
	qIm2Col                  // general convolution: im2col per group, then GEMM
	qDWConv                  // depthwise convolution
	qAdd                     // element-wise sum
	qGAP                     // global average pool
	qCopy                    // Flatten: the same numbers
	qQuantize                // float32 value to its int8 form
	qDequantize              // int8 value to its float32 form
	qFloat                   // a float32 step of the ordinary engine
)

// qstep is one step of an int8 plan.
type qstep struct {
	kind   qkind
	name   string
	in     []*qvalue
	out    *qvalue
	conv   kernels.ConvShape
	groups int
	gemm   []*kernels.QS8GEMMWeights // per group
	dw     *kernels.QS8DWWeights
	add    kernels.QS8AddParams
	o      kernels.QS8Out
	mult   float32 // global average pool
	dense  bool    // qGEMM of a Dense layer, for Profile
	f32    step    // qFloat: the float32 step, its spans into the f32 arena
}

// qvalue is one activation value and its buffers: i8 when some step reads
// or writes its int8 form, f32 (a span of the float32 arena) when some step
// or the caller needs it as float32.
type qvalue struct {
	name  string
	shape ir.Shape
	q     ir.QParams
	i8    []int8
	f32   span
	hasF  bool
	// needI8 says the value has an int8 form, at its span of the plan's
	// int8 arena.
	needI8 bool
	at     span
}

// qplan is the part of an Engine that runs a calibrated model.
type qplan struct {
	k       kernels.Int8
	values  map[string]*qvalue
	steps   []qstep
	scratch []int8 // im2col rows
	arena   []int8 // every int8 form, sharing space where lifetimes allow (place)
	input   *qvalue
}

// int8Capable reports whether a node has an int8 form (FORMAT.md 4.1).
func int8Capable(n *node) bool {
	switch n.attrs.Act {
	case ir.ActNone, ir.ActReLU, ir.ActReLU6:
	default:
		return false
	}
	switch n.op {
	case ir.Conv2D, ir.Dense, ir.Add, ir.GlobalAvgPool, ir.Flatten:
		return true
	}
	return false
}

// NewInt8 is New for a calibrated model with the given int8 kernels (and
// float32 ones for the steps without an int8 form).
func NewInt8(g *ir.Graph, k kernels.Kernels, qk kernels.Int8) (*Engine, error) {
	if len(g.Meta.Quant) == 0 {
		return nil, fmt.Errorf("the model is not calibrated (it has no int8 activations): use New")
	}
	if _, err := g.Infer(); err != nil {
		return nil, err
	}
	nodes, err := lower(g)
	if err != nil {
		return nil, err
	}
	shapes, err := lowShapes(g, nodes)
	if err != nil {
		return nil, err
	}
	e := &Engine{k: k, inShape: g.InputShape, inputName: g.Input, outputs: append([]string(nil), g.Outputs...), shapes: shapes, values: map[string]span{}}
	p := &qplan{k: qk, values: map[string]*qvalue{}}
	quant := g.Meta.Quant
	val := func(name string) *qvalue {
		v := p.values[name]
		if v == nil {
			v = &qvalue{name: name, shape: shapes[name], q: quant[name]}
			p.values[name] = v
		}
		return v
	}
	// Which nodes run int8, and which form each value is made in.
	isInt8 := map[*node]bool{}
	madeInt8 := map[string]bool{}
	for _, n := range nodes {
		ok := int8Capable(n)
		for _, v := range append([]string{n.output}, n.inputs...) {
			if _, q := quant[v]; !q {
				ok = false
			}
		}
		isInt8[n] = ok
		madeInt8[n.output] = ok
	}
	// Forms needed: int8 inputs of int8 nodes, float32 for the rest and the outputs.
	needI8, needF := map[string]bool{}, map[string]bool{g.Input: true}
	for _, n := range nodes {
		for _, in := range n.inputs {
			if isInt8[n] {
				needI8[in] = true
			} else {
				needF[in] = true
			}
		}
		if madeInt8[n.output] {
			needI8[n.output] = true
		} else {
			needF[n.output] = true
		}
	}
	for _, o := range g.Outputs {
		needF[o] = true
	}
	// The float32 arena holds every float32 form, unshared (calibrated
	// models keep few: the input and the tail after the last int8 node).
	total := 0
	for _, name := range append([]string{g.Input}, outputsOf(nodes)...) {
		v := val(name)
		v.needI8 = needI8[name]
		if needF[name] {
			const align = 16
			v.f32, v.hasF = span{total, v.shape.Size()}, true
			e.values[name] = v.f32
			total += (v.shape.Size() + align - 1) / align * align
		}
	}
	p.input = val(g.Input)
	e.input = p.input.f32
	convert := func(v *qvalue) {
		switch {
		case madeInt8[v.name] && v.hasF:
			p.steps = append(p.steps, qstep{kind: qDequantize, name: v.name, in: []*qvalue{v}, out: v})
		case !madeInt8[v.name] && v.needI8:
			p.steps = append(p.steps, qstep{kind: qQuantize, name: v.name, in: []*qvalue{v}, out: v})
		}
	}
	convert(p.input)
	scratch, fscratch := 0, 0
	for _, n := range nodes {
		st := qstep{name: n.name, out: val(n.output)}
		for _, in := range n.inputs {
			st.in = append(st.in, val(in))
		}
		if isInt8[n] {
			need, err := p.makeStep(&st, n, shapes)
			if err != nil {
				return nil, err
			}
			scratch = max(scratch, need)
		} else {
			fs, need, err := e.makeStep(n)
			if err != nil {
				return nil, err
			}
			st.kind, st.f32 = qFloat, fs
			fscratch = max(fscratch, need)
		}
		p.steps = append(p.steps, st)
		convert(st.out)
	}
	e.scratch = span{total, fscratch}
	e.arena = make([]float32, total+fscratch)
	p.scratch = make([]int8, scratch)
	p.place()
	e.q = p
	return e, nil
}

// place gives every int8 form a span of one shared int8 arena: values
// whose lifetimes (from the step that writes them to the last that reads
// them) overlap get disjoint spans, greedily, biggest first, as
// Engine.build places float32 values.
func (p *qplan) place() {
	first, last := map[*qvalue]int{}, map[*qvalue]int{}
	var order []*qvalue
	touch := func(v *qvalue, at int) {
		if _, ok := first[v]; !ok {
			first[v] = at
			order = append(order, v)
		}
		last[v] = max(last[v], at)
	}
	for i := range p.steps {
		st := &p.steps[i]
		switch st.kind {
		case qFloat:
			continue // float32 forms only
		case qQuantize:
			touch(st.out, i)
			continue
		}
		for _, v := range st.in {
			touch(v, i)
		}
		if st.kind != qDequantize {
			touch(st.out, i)
		}
	}
	slices.SortStableFunc(order, func(a, b *qvalue) int { return b.shape.Size() - a.shape.Size() })
	const align = 64 // bytes: a cache line, whole vectors
	roundUp := func(n int) int { return (n + align - 1) / align * align }
	var placed []*qvalue
	total := 0
	for _, v := range order {
		need := roundUp(v.shape.Size())
		var busy []span
		for _, q := range placed {
			if first[q] <= last[v] && first[v] <= last[q] {
				busy = append(busy, q.at)
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
		v.at = span{off, v.shape.Size()}
		placed = append(placed, v)
		total = max(total, off+need)
	}
	p.arena = make([]int8, total)
	p.slice()
}

// slice points every placed value's int8 form at its span of the arena.
func (p *qplan) slice() {
	for _, v := range p.values {
		if v.needI8 {
			v.i8 = p.arena[v.at.off : v.at.off+v.at.len : v.at.off+v.at.len]
		}
	}
}

func outputsOf(nodes []*node) []string {
	var out []string
	for _, n := range nodes {
		out = append(out, n.output)
	}
	return out
}

// clampFor is the output clamp of a fused activation (FORMAT.md 4.1).
func clampFor(act ir.Activation, out ir.QParams) kernels.QS8Out {
	o := kernels.QS8Out{Zero: out.Zero, Min: -128, Max: 127}
	switch act {
	case ir.ActReLU, ir.ActReLU6:
		o.Min = int8(max(-128, min(127, out.Zero)))
		if act == ir.ActReLU6 {
			hi := int64(out.Zero) + int64(math.RoundToEven(6/float64(out.Scale)))
			o.Max = int8(max(int64(o.Min), min(127, hi)))
		}
	}
	return o
}

// quantizeKernel gives a kernel's int8 numbers per output channel (the
// last axis), as FORMAT.md section 7 stores them, and each channel's scale.
func quantizeKernel(w []float32, channels int) ([]int8, []float32) {
	scales := make([]float32, channels)
	for i, v := range w {
		c := i % channels
		scales[c] = max(scales[c], float32(math.Abs(float64(v))))
	}
	for c, m := range scales {
		scales[c] = m / 127
		if scales[c] == 0 && m > 0 {
			scales[c] = math.SmallestNonzeroFloat32
		}
	}
	q := make([]int8, len(w))
	for i, v := range w {
		if s := scales[i%channels]; s != 0 {
			q[i] = int8(max(-127, min(127, math.Round(float64(v)/float64(s)))))
		}
	}
	return q, scales
}

// requant gives a layer's int32 bias and float32 multipliers for input
// scale sIn, kernel scales sW and output scale sOut, refusing a bias that
// int32 cannot hold or a sum of k products that could overflow it.
func requant(name string, bias []float32, sIn float32, sW []float32, sOut float32, k int) ([]int32, []float32, error) {
	n := len(sW)
	qb := make([]int32, n)
	mult := make([]float32, n)
	for c := 0; c < n; c++ {
		s := float64(sIn) * float64(sW[c])
		if sW[c] == 0 {
			// An all-zero channel: its output is its bias alone, on any scale.
			s = float64(sOut)
		}
		mult[c] = float32(s / float64(sOut))
		var b float64
		if bias != nil {
			b = math.Round(float64(bias[c]) / s)
		}
		worst := math.Abs(b) + float64(k)*255*127
		if math.IsNaN(b) || worst > math.MaxInt32 {
			return nil, nil, fmt.Errorf("layer %q: output channel %d overflows int32 in int8 arithmetic (bias %v on the scale %g, %d products); the activations' ranges do not suit int8",
				name, c, bias[c], s, k)
		}
		qb[c] = int32(b)
	}
	return qb, mult, nil
}

// makeStep prepares an int8 node and returns the im2col scratch it needs.
func (p *qplan) makeStep(st *qstep, n *node, shapes map[string]ir.Shape) (int, error) {
	in, out := st.in[0], st.out
	st.o = clampFor(n.attrs.Act, out.q)
	a := n.attrs
	switch n.op {
	case ir.Flatten:
		st.kind = qCopy
		if in.q != out.q {
			return 0, fmt.Errorf("layer %q: Flatten's input and output have different quantization (%+v, %+v)", n.name, in.q, out.q)
		}
		return 0, nil
	case ir.Add:
		st.kind = qAdd
		x, y := st.in[0].q, st.in[1].q
		st.add = kernels.QS8AddParams{XZero: x.Zero, YZero: y.Zero,
			XMult: float32(float64(x.Scale) / float64(out.q.Scale)), YMult: float32(float64(y.Scale) / float64(out.q.Scale)), Out: st.o}
		return 0, nil
	case ir.GlobalAvgPool:
		st.kind = qGAP
		hw := in.shape[0] * in.shape[1]
		st.mult = float32(float64(in.q.Scale) / (float64(hw) * float64(out.q.Scale)))
		return 0, nil
	case ir.Dense:
		st.kind, st.dense = qGEMM, true
		kin, cout := n.kshape[0], n.kshape[1]
		w, sw := quantizeKernel(n.kernel, cout)
		bias, mult, err := requant(n.name, n.bias, in.q.Scale, sw, out.q.Scale, kin)
		if err != nil {
			return 0, err
		}
		st.gemm = []*kernels.QS8GEMMWeights{p.k.PackQS8GEMM(w, kin, cout, bias, mult, in.q.Zero)}
		return 0, nil
	}
	// Conv2D.
	kh, kw, cinG, cout := n.kshape[0], n.kshape[1], n.kshape[2], n.kshape[3]
	groups := a.GroupCount()
	dh, dw := a.Dilations()
	sh, sw := a.Strides()
	inC := in.shape[2]
	st.conv = kernels.ConvShape{InH: in.shape[0], InW: in.shape[1], InC: inC, OutH: out.shape[0], OutW: out.shape[1], OutC: cout,
		KH: kh, KW: kw, SH: sh, SW: sw, DH: dh, DW: dw, PadTop: a.Pads[0], PadLeft: a.Pads[1], PadBottom: a.Pads[2], PadRight: a.Pads[3]}
	w, sW := quantizeKernel(n.kernel, cout)
	taps := kh * kw * cinG
	bias, mult, err := requant(n.name, n.bias, in.q.Scale, sW, out.q.Scale, taps)
	if err != nil {
		return 0, err
	}
	switch {
	case groups == inC && cinG == 1 && cout == inC:
		st.kind = qDWConv
		st.dw = p.k.PackQS8DWConv(w, kh, kw, cout, bias, mult)
		return 0, nil
	case groups == 1 && kh == 1 && kw == 1 && sh == 1 && sw == 1 && a.Pads == (ir.Pads{}):
		st.kind = qGEMM
		st.gemm = []*kernels.QS8GEMMWeights{p.k.PackQS8GEMM(w, inC, cout, bias, mult, in.q.Zero)}
		return 0, nil
	}
	st.kind = qIm2Col
	st.groups = groups
	coutG := cout / groups
	for g := 0; g < groups; g++ {
		b := make([]int8, taps*coutG)
		for r := 0; r < taps; r++ {
			copy(b[r*coutG:(r+1)*coutG], w[r*cout+g*coutG:r*cout+(g+1)*coutG])
		}
		st.gemm = append(st.gemm, p.k.PackQS8GEMM(b, taps, coutG, bias[g*coutG:(g+1)*coutG], mult[g*coutG:(g+1)*coutG], in.q.Zero))
	}
	return out.shape[0] * out.shape[1] * taps, nil
}

// run computes one inference; the input is already in the float32 arena.
func (p *qplan) run(e *Engine) {
	for i := range p.steps {
		p.runStep(e, &p.steps[i])
	}
}

// runStep runs one step's kernels.
func (p *qplan) runStep(e *Engine, st *qstep) {
	k := p.k
	switch st.kind {
	case qQuantize:
		k.QuantizeF32(e.view(st.in[0].f32), 1/st.in[0].q.Scale, st.in[0].q.Zero, st.out.i8)
	case qDequantize:
		k.DequantizeF32(st.in[0].i8, st.in[0].q.Scale, st.in[0].q.Zero, e.view(st.out.f32))
	case qFloat:
		e.runStep(&st.f32)
	case qCopy:
		copy(st.out.i8, st.in[0].i8)
	case qAdd:
		k.QS8Add(st.in[0].i8, st.in[1].i8, st.out.i8, &st.add)
	case qGAP:
		s := st.in[0].shape
		k.QS8GlobalAvgPool(s[0]*s[1], s[2], st.in[0].i8, st.in[0].q.Zero, st.mult, st.out.i8, st.o)
	case qDWConv:
		k.QS8DWConv(&st.conv, st.in[0].i8, st.in[0].q.Zero, st.dw, st.out.i8, st.o)
	case qGEMM:
		s := st.out.shape
		w := st.gemm[0]
		k.QS8GEMM(s[0]*s[1], st.in[0].i8, w.K, w, st.out.i8, s[2], st.o)
	case qIm2Col:
		s := st.out.shape
		m := s[0] * s[1]
		cinG := st.conv.InC / st.groups
		coutG := s[2] / st.groups
		for g, w := range st.gemm {
			cols := p.scratch[:m*w.K]
			k.QS8Im2Col(&st.conv, st.in[0].i8, int8(st.in[0].q.Zero), g*cinG, cinG, cols)
			k.QS8GEMM(m, cols, w.K, w, st.out.i8[g*coutG:], s[2], st.o)
		}
	}
}

// describe names an int8 step and counts its work and memory traffic as
// Engine.describe does for float32 steps, int8 values taking a byte each.
func (p *qplan) describe(e *Engine, st *qstep) LayerProfile {
	if st.kind == qFloat {
		return e.describe(&st.f32)
	}
	lp := LayerProfile{Name: st.name, Out: st.out.shape.String()}
	if len(st.in) > 0 {
		lp.In = st.in[0].shape.String()
	}
	out := int64(st.out.shape.Size())
	bytes := out
	for _, v := range st.in {
		bytes += int64(v.shape.Size())
	}
	for _, w := range st.gemm {
		bytes += int64(len(w.W) + 2*len(w.W16) + 8*len(w.Bias))
	}
	if st.dw != nil {
		bytes += int64(len(st.dw.W) + 8*len(st.dw.Bias))
	}
	c := &st.conv
	window := fmt.Sprintf("%dx%ds%d", c.KH, c.KW, c.SH)
	switch st.kind {
	case qQuantize, qDequantize:
		lp.Op, lp.FLOPs = "quantize", out
		if st.kind == qDequantize {
			lp.Op = "dequantize"
			bytes += 3 * out // the output is float32
		} else {
			bytes += 3 * out // the input is float32
		}
	case qGEMM:
		lp.Op, lp.FLOPs = "conv1x1", 2*out*int64(st.gemm[0].K)
		if st.dense {
			lp.Op = "dense"
		}
	case qIm2Col:
		lp.Op, lp.FLOPs = "conv"+window, 2*out*int64(st.gemm[0].K)
		if st.groups > 1 {
			lp.Op += fmt.Sprintf("g%d", st.groups)
		}
	case qDWConv:
		lp.Op, lp.FLOPs = "dwconv"+window, 2*out*int64(c.KH*c.KW)
	case qAdd:
		lp.Op, lp.FLOPs = "add", out
	case qGAP:
		lp.Op, lp.FLOPs = "gap", int64(st.in[0].shape.Size())
	case qCopy:
		lp.Op = "copy"
	}
	if st.kind != qQuantize && st.kind != qDequantize {
		lp.Op += ".i8"
	}
	lp.Bytes = bytes
	return lp
}

// clone gives a plan sharing the packed weights with buffers of its own.
func (p *qplan) clone() *qplan {
	c := &qplan{k: p.k, values: map[string]*qvalue{}, scratch: make([]int8, len(p.scratch)), arena: make([]int8, len(p.arena))}
	for name, v := range p.values {
		nv := *v
		c.values[name] = &nv
	}
	c.slice()
	c.input = c.values[p.input.name]
	c.steps = make([]qstep, len(p.steps))
	for i, st := range p.steps {
		st.out = c.values[st.out.name]
		ins := make([]*qvalue, len(st.in))
		for j, v := range st.in {
			ins[j] = c.values[v.name]
		}
		st.in = ins
		c.steps[i] = st
	}
	return c
}

// Int8Kernels names the int8 kernels a calibrated model runs on, or ""
// when the engine computes in float32.
func (e *Engine) Int8Kernels() string {
	if e.q == nil {
		return ""
	}
	return e.q.k.Name()
}

// Int8Op reports whether a node of a lowered graph has an int8 form, so a
// calibrated model runs it in integer arithmetic when its values carry
// scales (FORMAT.md section 4.1).
func Int8Op(n *ir.Node) bool {
	return int8Capable(&node{op: n.Op, attrs: n.Attrs})
}

// bytes is the size of the int8 buffers, scratch included.
func (p *qplan) bytes() int {
	return len(p.scratch) + len(p.arena)
}
