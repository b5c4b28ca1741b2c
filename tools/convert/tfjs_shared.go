package convert

import (
	"fmt"
	"sort"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// This file holds what the two TF.js front ends (tfjs_layers.go for Keras
// layers models, tfjs_graph.go for TensorFlow graph models) share: which
// activations the IR can compute and how, TensorFlow's depthwise filters
// as grouped convolutions, and TensorFlow's SAME padding. Each rule lives
// here once, so the two front ends cannot disagree on it.

// tfjsActivation is how the IR computes one activation of a TF.js model.
type tfjsActivation struct {
	// fused is the activation a Conv2D or Dense carries; fusable says the
	// IR can fuse this one at all (linear fuses as ActNone).
	fused   ir.Activation
	fusable bool
	// op and attrs are the stand-alone node that computes it; op is ""
	// for linear, which needs no node.
	op    ir.Op
	attrs ir.Attrs
}

// kerasActivations are the activation names of a layers model's
// `activation` config (Keras's spelling) that the IR can compute.
var kerasActivations = map[string]tfjsActivation{
	"linear":  {fusable: true},
	"relu":    {fused: ir.ActReLU, fusable: true, op: ir.ReLU},
	"relu6":   {fused: ir.ActReLU6, fusable: true, op: ir.ReLU6},
	"sigmoid": {fused: ir.ActSigmoid, fusable: true, op: ir.Sigmoid},
	"softmax": {op: ir.Softmax},
	// TF.js's and Keras 2's hard sigmoid: clip(0.2x + 0.5, 0, 1).
	"hard_sigmoid": {op: ir.HardSigmoid, attrs: ir.Attrs{Alpha: 0.2, Beta: 0.5}},
}

// tfActivations are the TensorFlow activation ops (a graph model's
// stand-alone nodes and the activations in a _Fused* node's fused_ops)
// that the IR can compute.
var tfActivations = map[string]tfjsActivation{
	"Relu":    {fused: ir.ActReLU, fusable: true, op: ir.ReLU},
	"Relu6":   {fused: ir.ActReLU6, fusable: true, op: ir.ReLU6},
	"Sigmoid": {fused: ir.ActSigmoid, fusable: true, op: ir.Sigmoid},
	"Softmax": {op: ir.Softmax},
}

// lookupActivation finds an activation by the name the file spells it
// with; the error names it so and lists what the IR can compute instead.
// Callers wrap it with the layer or node.
func lookupActivation(table map[string]tfjsActivation, name string) (tfjsActivation, error) {
	if a, ok := table[name]; ok {
		return a, nil
	}
	known := make([]string, 0, len(table))
	for k := range table {
		known = append(known, k)
	}
	sort.Strings(known)
	return tfjsActivation{}, fmt.Errorf("activation %q cannot be expressed in Glimpse's IR (it computes %s)", name, strings.Join(known, ", "))
}

// depthwiseAsGrouped gives the HWIO shape and group count under which a
// TensorFlow depthwise filter [KH, KW, Cin, multiplier] is an ordinary
// grouped convolution: its output channel c*multiplier+m lies at the same
// offset as in HWIO [KH, KW, 1, Cin*multiplier] with Cin groups, so the
// values are kept as they are and only the shape changes.
func depthwiseAsGrouped(kh, kw, cin, mult int) (store []int, groups int) {
	return []int{kh, kw, 1, cin * mult}, cin
}

// samePads is TF's SAME padding of one axis: the output is ceil(in/stride)
// long and the padding it needs is split with the extra cell after (at the
// bottom or right), unlike torch's symmetric padding.
func samePads(in, k, stride, dilation int) (before, after int) {
	out := (in + stride - 1) / stride
	total := (out-1)*stride + (k-1)*dilation + 1 - in
	if total < 0 {
		total = 0
	}
	return total / 2, total - total/2
}

// sameAttrs fills attrs' per-side padding for TF SAME on an input of shape
// in, given the window and the attrs' stride and dilation.
func sameAttrs(a *ir.Attrs, in ir.Shape, kh, kw int) {
	sh, sw := a.Strides()
	dh, dw := a.Dilations()
	t, bt := samePads(in[0], kh, sh, dh)
	l, r := samePads(in[1], kw, sw, dw)
	a.Pads = ir.Pads{t, l, bt, r}
}
