package engine

import (
	"fmt"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// makeStep prepares one lowered node for Run: it picks the kernel, packs
// the weights for it and returns how many scratch floats it needs.
func (e *Engine) makeStep(n *node) (step, int, error) {
	st := step{name: n.name, op: n.op, out: e.values[n.output], outSh: e.shapes[n.output], act: acts[n.attrs.Act]}
	for _, in := range n.inputs {
		st.in = append(st.in, e.values[in])
		st.inShape = append(st.inShape, e.shapes[in])
	}
	a := n.attrs
	window := func(kh, kw, dh, dw int) kernels.ConvShape {
		in, out := st.inShape[0], st.outSh
		sh, sw := a.Strides()
		return kernels.ConvShape{InH: in[0], InW: in[1], InC: in[2], OutH: out[0], OutW: out[1], OutC: out[2],
			KH: kh, KW: kw, SH: sh, SW: sw, DH: dh, DW: dw,
			PadTop: a.Pads[0], PadLeft: a.Pads[1], PadBottom: a.Pads[2], PadRight: a.Pads[3]}
	}
	switch n.op {
	case ir.Conv2D:
		kh, kw, cinG, cout := n.kshape[0], n.kshape[1], n.kshape[2], n.kshape[3]
		groups := a.GroupCount()
		dh, dw := a.Dilations()
		st.conv = window(kh, kw, dh, dw)
		st.bias = n.bias
		inC := st.inShape[0][2]
		sh, sw := a.Strides()
		switch {
		case groups == inC && cinG == 1 && cout == inC:
			st.kind = kDWConv
			st.packed = [][]float32{e.k.PackDWConvWeights(n.kernel, kh, kw, cout)}
			return st, 0, nil
		case groups == 1 && kh == 1 && kw == 1 && sh == 1 && sw == 1 && a.Pads == (ir.Pads{}):
			st.kind = kGEMM
			st.gemmK = inC
			st.packed = [][]float32{e.k.PackGEMMWeights(n.kernel, inC, cout)}
			return st, 0, nil
		}
		st.kind = kConvIm2Col
		st.groups = groups
		coutG := cout / groups
		rows := kh * kw * cinG
		st.gemmK = rows
		for g := 0; g < groups; g++ {
			b := make([]float32, rows*coutG)
			for r := 0; r < rows; r++ {
				copy(b[r*coutG:(r+1)*coutG], n.kernel[r*cout+g*coutG:r*cout+(g+1)*coutG])
			}
			st.packed = append(st.packed, e.k.PackGEMMWeights(b, rows, coutG))
		}
		return st, st.outSh[0] * st.outSh[1] * rows, nil
	case ir.Dense:
		st.kind = kGEMM
		st.gemmK = n.kshape[0]
		st.bias = n.bias
		st.packed = [][]float32{e.k.PackGEMMWeights(n.kernel, n.kshape[0], n.kshape[1])}
		return st, 0, nil
	case ir.MaxPool, ir.AvgPool:
		st.kind = kMaxPool
		if n.op == ir.AvgPool {
			st.kind = kAvgPool
		}
		st.conv = window(a.Kernel[0], a.Kernel[1], 1, 1)
		st.countPd = a.CountPad
		return st, 0, nil
	case ir.GlobalAvgPool:
		st.kind = kGlobalAvgPool
	case ir.Add:
		st.kind = kAdd
	case ir.Mul:
		st.kind = kMul
		if st.inShape[0].Size() < st.inShape[1].Size() {
			st.mulBig = 1
		}
	case ir.Concat:
		st.kind = kConcat
	case ir.Pad:
		st.kind = kPad
		st.pads = a.Pads
	case ir.ReLU, ir.ReLU6, ir.HardSwish, ir.Sigmoid:
		act, _ := ir.ActivationOf(n.op)
		st.kind = kActivate
		st.act = acts[act]
	case ir.HardSigmoid:
		st.kind = kHardSigmoid
		st.alpha, st.beta = a.Alpha, a.Beta
	case ir.Tanh:
		st.kind = kTanh
		st.alpha, st.beta = a.TanhScales()
	case ir.Softmax:
		st.kind = kSoftmax
	default:
		return st, 0, fmt.Errorf("layer %q: the engine cannot run %s", n.name, n.op)
	}
	return st, 0, nil
}

// view returns a value's slice of the arena.
func (e *Engine) view(s span) []float32 { return e.arena[s.off : s.off+s.len : s.off+s.len] }

// Run computes every output for one input of InputShape (NHWC). It
// allocates nothing; read the results with Output until the next Run.
func (e *Engine) Run(input []float32) error {
	if len(input) != e.input.len {
		return fmt.Errorf("input has %d values, the model takes %v = %d", len(input), e.inShape, e.input.len)
	}
	copy(e.view(e.input), input)
	if e.q != nil {
		e.q.run(e)
		return nil
	}
	for i := range e.steps {
		e.runStep(&e.steps[i])
	}
	return nil
}

// runStep runs one step's kernels.
func (e *Engine) runStep(st *step) {
	k := e.k
	out := e.view(st.out)
	switch st.kind {
	case kGEMM:
		m := st.outSh[0] * st.outSh[1]
		k.GEMM(m, st.outSh[2], st.gemmK, e.view(st.in[0]), st.gemmK, st.packed[0], st.bias, out, st.outSh[2], st.act)
	case kConvIm2Col:
		m := st.outSh[0] * st.outSh[1]
		cout := st.outSh[2]
		coutG, cinG := cout/st.groups, st.inShape[0][2]/st.groups
		cols := e.arena[e.scratch.off : e.scratch.off+m*st.gemmK]
		in := e.view(st.in[0])
		for g := 0; g < st.groups; g++ {
			k.Im2Col(&st.conv, in, g*cinG, cinG, cols)
			var bias []float32
			if st.bias != nil {
				bias = st.bias[g*coutG : (g+1)*coutG]
			}
			k.GEMM(m, coutG, st.gemmK, cols, st.gemmK, st.packed[g], bias, out[g*coutG:], cout, st.act)
		}
	case kDWConv:
		k.DWConv(&st.conv, e.view(st.in[0]), st.packed[0], st.bias, out, st.act)
	case kMaxPool:
		k.MaxPool(&st.conv, e.view(st.in[0]), out)
	case kAvgPool:
		k.AvgPool(&st.conv, e.view(st.in[0]), out, st.countPd)
	case kGlobalAvgPool:
		s := st.inShape[0]
		k.GlobalAvgPool(s[0]*s[1], s[2], e.view(st.in[0]), out)
	case kAdd:
		k.Add(e.view(st.in[0]), e.view(st.in[1]), out, st.act)
	case kMul:
		x, y := e.view(st.in[st.mulBig]), e.view(st.in[1-st.mulBig])
		if len(x) == len(y) {
			k.MulChannels(1, len(x), x, y, out)
		} else {
			s := st.outSh
			k.MulChannels(s[0]*s[1], s[2], x, y, out)
		}
	case kConcat:
		e.concat(st, out)
	case kPad:
		e.pad(st, out)
	case kActivate:
		copy(out, e.view(st.in[0]))
		k.Activate(out, st.act)
	case kHardSigmoid:
		copy(out, e.view(st.in[0]))
		k.HardSigmoid(out, st.alpha, st.beta)
	case kTanh:
		copy(out, e.view(st.in[0]))
		k.Tanh(out, st.alpha, st.beta)
	case kSoftmax:
		copy(out, e.view(st.in[0]))
		s := st.outSh
		k.Softmax(s[0]*s[1], s[2], out)
	}
}

// concat interleaves its inputs' channels pixel by pixel (NHWC).
func (e *Engine) concat(st *step, out []float32) {
	pixels := st.outSh[0] * st.outSh[1]
	c := st.outSh[2]
	off := 0
	for i, sp := range st.in {
		in := e.view(sp)
		ci := st.inShape[i][2]
		for p := 0; p < pixels; p++ {
			copy(out[p*c+off:p*c+off+ci], in[p*ci:(p+1)*ci])
		}
		off += ci
	}
}

// pad writes its input into the middle of a zeroed output.
func (e *Engine) pad(st *step, out []float32) {
	clear(out)
	in := e.view(st.in[0])
	s := st.inShape[0]
	w, c := st.outSh[1], st.outSh[2]
	row := s[1] * s[2]
	for y := 0; y < s[0]; y++ {
		dst := ((y+st.pads[0])*w + st.pads[1]) * c
		copy(out[dst:dst+row], in[y*row:(y+1)*row])
	}
}

// Output returns the named value computed by the last Run (a view into the
// arena, valid until the next Run), or nil if it is not an output.
func (e *Engine) Output(name string) []float32 {
	for _, o := range e.outputs {
		if o == name {
			return e.view(e.values[name])
		}
	}
	return nil
}

// Outputs names the values Run computes for the caller, in graph order.
func (e *Engine) Outputs() []string { return e.outputs }

// Shape returns the shape of a value.
func (e *Engine) Shape(name string) ir.Shape { return e.shapes[name] }

// InputShape is the {H, W, C} the engine was planned for.
func (e *Engine) InputShape() ir.Shape { return e.inShape }

// Kernels names the kernel implementation in use.
func (e *Engine) Kernels() string { return e.k.Name() }

// ArenaBytes is the size of the activation arena, scratch included.
func (e *Engine) ArenaBytes() int {
	n := 4 * len(e.arena)
	if e.q != nil {
		n += e.q.bytes()
	}
	return n
}

// Clone returns an engine that shares this one's packed weights and plan
// but owns its own arena, for running on another goroutine.
func (e *Engine) Clone() *Engine {
	c := *e
	c.arena = make([]float32, len(e.arena))
	if e.q != nil {
		c.q = e.q.clone()
	}
	return &c
}
