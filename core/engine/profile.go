package engine

import (
	"fmt"
	"time"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// LayerProfile is what one step of an engine costs: the work it does, the
// memory it must at least touch, and the fastest time it took.
type LayerProfile struct {
	// Name is the layer's name in the graph (after lowering, so a folded
	// batch norm or fused activation has no line of its own).
	Name string
	// Op says what runs, with its window: "conv1x1", "conv3x3s2",
	// "dwconv3x3s1", "dense", "add", "gap", ...
	Op string
	// In and Out are the shapes read and written, "HxWxC".
	In, Out string
	// FLOPs counts a multiply-add as two; element-wise steps count one per
	// output value.
	FLOPs int64
	// Bytes is what the step must read and write at the least: its inputs,
	// its output and its packed weights, once each.
	Bytes int64
	// Seconds is the fastest of the profiled runs.
	Seconds float64
}

// Profile runs the engine runs times on input, timing every step, and
// returns each step's fastest time beside its work. It computes the same
// outputs as Run; the timer reads between steps make the sum a little
// slower than Run.
func (e *Engine) Profile(input []float32, runs int) ([]LayerProfile, error) {
	if len(input) != e.input.len {
		return nil, fmt.Errorf("input has %d values, the model takes %v = %d", len(input), e.inShape, e.input.len)
	}
	if e.q != nil {
		return e.q.profile(e, input, runs), nil
	}
	prof := make([]LayerProfile, len(e.steps))
	for i := range e.steps {
		prof[i] = e.describe(&e.steps[i])
	}
	for r := 0; r < max(runs, 1); r++ {
		copy(e.view(e.input), input)
		for i := range e.steps {
			t := time.Now()
			e.runStep(&e.steps[i])
			d := time.Since(t).Seconds()
			if r == 0 || d < prof[i].Seconds {
				prof[i].Seconds = d
			}
		}
	}
	return prof, nil
}

// profile is Profile for a calibrated model: one line per int8 step
// (their ops end in ".i8"), float32 step and conversion between the two
// ("quantize", "dequantize").
func (p *qplan) profile(e *Engine, input []float32, runs int) []LayerProfile {
	prof := make([]LayerProfile, len(p.steps))
	for i := range p.steps {
		prof[i] = p.describe(e, &p.steps[i])
	}
	for r := 0; r < max(runs, 1); r++ {
		copy(e.view(e.input), input)
		for i := range p.steps {
			t := time.Now()
			p.runStep(e, &p.steps[i])
			d := time.Since(t).Seconds()
			if r == 0 || d < prof[i].Seconds {
				prof[i].Seconds = d
			}
		}
	}
	return prof
}

// describe names a step and counts its work and its memory traffic.
func (e *Engine) describe(st *step) LayerProfile {
	p := LayerProfile{Name: st.name, Out: st.outSh.String()}
	if len(st.inShape) > 0 {
		p.In = st.inShape[0].String()
	}
	out := int64(st.outSh.Size())
	bytes := out
	for _, s := range st.inShape {
		bytes += int64(s.Size())
	}
	for _, w := range st.packed {
		bytes += int64(len(w))
	}
	bytes += int64(len(st.bias))
	p.Bytes = 4 * bytes
	c := &st.conv
	window := fmt.Sprintf("%dx%ds%d", c.KH, c.KW, c.SH)
	switch st.kind {
	case kGEMM:
		p.Op, p.FLOPs = "conv1x1", 2*out*int64(st.gemmK)
		if st.op == ir.Dense {
			p.Op = "dense"
		}
	case kConvIm2Col:
		p.Op, p.FLOPs = "conv"+window, 2*out*int64(st.gemmK)
		if st.groups > 1 {
			p.Op += fmt.Sprintf("g%d", st.groups)
		}
	case kDWConv:
		p.Op, p.FLOPs = "dwconv"+window, 2*out*int64(c.KH*c.KW)
	case kMaxPool, kAvgPool:
		p.Op, p.FLOPs = "maxpool"+window, out*int64(c.KH*c.KW)
		if st.kind == kAvgPool {
			p.Op = "avgpool" + window
		}
	case kGlobalAvgPool:
		p.Op, p.FLOPs = "gap", int64(st.inShape[0].Size())
	default:
		p.Op, p.FLOPs = [...]string{kAdd: "add", kMul: "mul", kConcat: "concat", kActivate: "act",
			kHardSigmoid: "hardsigmoid", kTanh: "tanh", kSoftmax: "softmax", kPad: "pad"}[st.kind], out
	}
	return p
}
