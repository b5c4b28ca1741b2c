package models

import (
	"fmt"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Batch-norm epsilons: torch's default, and the 0.001 that MobileNetV3 and
// GoogLeNet use (inherited from their TensorFlow origins).
const (
	epsTorch = 1e-5
	epsTF    = 1e-3
)

// cna adds torchvision's Conv2dNormActivation: a bias-free convolution
// "<prefix>.0" padded to keep the size at stride 1, batch norm
// "<prefix>.1" and, unless act is empty, the activation "<prefix>.2".
func (b *builder) cna(prefix, in string, cin, cout, k, stride, groups int, act ir.Op, eps float32) string {
	x := b.conv(prefix+".0", in, cin, cout, k, stride, (k-1)/2, groups, false)
	x = b.bn(prefix+".1", x, cout, eps)
	if act != "" {
		x = b.act(prefix+".2", x, act)
	}
	return x
}

// globalPool ends a backbone with global average pooling "avgpool" (the
// embedding), which the classifier reads.
func (b *builder) globalPool(in string) string {
	x := b.node("avgpool", ir.GlobalAvgPool, in)
	b.g.Meta.Embedding = x
	return x
}

// mobileNetV1 follows Howard et al. 2017, Table 1: a full 3x3 convolution,
// 13 depthwise separable blocks, global average pooling, one dense layer.
// torchvision has no MobileNet v1; the module names are those of the torch
// definition in testdata/torchvision_layers.py, which mirror MobileNetV2's
// (features.i.j.k, classifier.1). The paper's ReLU is used, not Keras's
// ReLU6.
func mobileNetV1(b *builder, width float64, classes int) error {
	blocks := []struct{ c, s int }{
		{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2},
		{512, 1}, {512, 1}, {512, 1}, {512, 1}, {512, 1}, {1024, 2}, {1024, 1},
	}
	c := makeDivisible(32*width, 8)
	x := b.cna("features.0", b.g.Input, 3, c, 3, 2, 1, ir.ReLU, epsTorch)
	for i, blk := range blocks {
		o := makeDivisible(float64(blk.c)*width, 8)
		p := fmt.Sprintf("features.%d", i+1)
		x = b.cna(p+".0", x, c, c, 3, blk.s, c, ir.ReLU, epsTorch) // depthwise
		x = b.cna(p+".1", x, c, o, 1, 1, 1, ir.ReLU, epsTorch)     // pointwise
		c = o
	}
	x = b.globalPool(x)
	b.g.Outputs = []string{b.dense("classifier.1", x, c, classes)}
	return nil
}

// mobileNetV2 is torchvision's MobileNetV2 (Sandler et al. 2018): inverted
// residual blocks that expand with a 1x1 convolution, filter with a 3x3
// depthwise one, and project back with a linear 1x1 (no activation: the
// "linear bottleneck"), adding the block's input when the shapes allow.
func mobileNetV2(b *builder, width float64, classes int) error {
	settings := []struct{ t, c, n, s int }{
		{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
		{6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1},
	}
	in := makeDivisible(32*width, 8)
	last := makeDivisible(1280*max(1, width), 8)
	x := b.cna("features.0", b.g.Input, 3, in, 3, 2, 1, ir.ReLU6, epsTorch)
	idx := 1
	for _, st := range settings {
		out := makeDivisible(float64(st.c)*width, 8)
		for i := range st.n {
			stride := 1
			if i == 0 {
				stride = st.s
			}
			p := fmt.Sprintf("features.%d.conv.", idx)
			hidden := in * st.t
			y, j := x, 0
			if st.t != 1 {
				y = b.cna(p+"0", y, in, hidden, 1, 1, 1, ir.ReLU6, epsTorch)
				j++
			}
			y = b.cna(fmt.Sprint(p, j), y, hidden, hidden, 3, stride, hidden, ir.ReLU6, epsTorch)
			y = b.conv(fmt.Sprint(p, j+1), y, hidden, out, 1, 1, 0, 1, false)
			y = b.bn(fmt.Sprint(p, j+2), y, out, epsTorch)
			if stride == 1 && in == out {
				y = b.node(fmt.Sprintf("features.%d", idx), ir.Add, x, y)
			}
			x, in = y, out
			idx++
		}
	}
	x = b.cna(fmt.Sprintf("features.%d", idx), x, in, last, 1, 1, 1, ir.ReLU6, epsTorch)
	x = b.globalPool(x)
	b.g.Outputs = []string{b.dense("classifier.1", x, last, classes)}
	return nil
}

// v3Block is one row of torchvision's MobileNetV3 configuration, before
// the width multiplier: input, kernel, expanded and output channels,
// squeeze-excite, hard-swish (else ReLU), stride.
type v3Block struct {
	in, k, exp, out int
	se, hs          bool
	s               int
}

func mobileNetV3Large(b *builder, width float64, classes int) error {
	return mobileNetV3(b, width, classes, []v3Block{
		{16, 3, 16, 16, false, false, 1},
		{16, 3, 64, 24, false, false, 2},
		{24, 3, 72, 24, false, false, 1},
		{24, 5, 72, 40, true, false, 2},
		{40, 5, 120, 40, true, false, 1},
		{40, 5, 120, 40, true, false, 1},
		{40, 3, 240, 80, false, true, 2},
		{80, 3, 200, 80, false, true, 1},
		{80, 3, 184, 80, false, true, 1},
		{80, 3, 184, 80, false, true, 1},
		{80, 3, 480, 112, true, true, 1},
		{112, 3, 672, 112, true, true, 1},
		{112, 5, 672, 160, true, true, 2},
		{160, 5, 960, 160, true, true, 1},
		{160, 5, 960, 160, true, true, 1},
	}, 1280)
}

func mobileNetV3Small(b *builder, width float64, classes int) error {
	return mobileNetV3(b, width, classes, []v3Block{
		{16, 3, 16, 16, true, false, 2},
		{16, 3, 72, 24, false, false, 2},
		{24, 3, 88, 24, false, false, 1},
		{24, 5, 96, 40, true, true, 2},
		{40, 5, 240, 40, true, true, 1},
		{40, 5, 240, 40, true, true, 1},
		{40, 5, 120, 48, true, true, 1},
		{48, 5, 144, 48, true, true, 1},
		{48, 5, 288, 96, true, true, 2},
		{96, 5, 576, 96, true, true, 1},
		{96, 5, 576, 96, true, true, 1},
	}, 1024)
}

// mobileNetV3 is torchvision's MobileNetV3 (Howard et al. 2019): v2's
// inverted residuals with 5x5 kernels in places, squeeze-excite (pool the
// map to one value per channel, two 1x1 convolutions, a hard sigmoid, and
// rescale the channels by the result), hard-swish in the later layers, and
// a two-layer classifier.
func mobileNetV3(b *builder, width float64, classes int, blocks []v3Block, lastChannel int) error {
	adjust := func(c int) int { return makeDivisible(float64(c)*width, 8) }
	first := adjust(blocks[0].in)
	x := b.cna("features.0", b.g.Input, 3, first, 3, 2, 1, ir.HardSwish, epsTF)
	for i, blk := range blocks {
		p := fmt.Sprintf("features.%d", i+1)
		in, exp, out := adjust(blk.in), adjust(blk.exp), adjust(blk.out)
		act := ir.ReLU
		if blk.hs {
			act = ir.HardSwish
		}
		y, j := x, 0
		next := func() string { j++; return fmt.Sprintf("%s.block.%d", p, j-1) }
		if exp != in {
			y = b.cna(next(), y, in, exp, 1, 1, 1, act, epsTF)
		}
		y = b.cna(next(), y, exp, exp, blk.k, blk.s, exp, act, epsTF)
		if blk.se {
			sq := makeDivisible(float64(exp/4), 8)
			se := next()
			s := b.node(se+".avgpool", ir.GlobalAvgPool, y)
			s = b.conv(se+".fc1", s, exp, sq, 1, 1, 0, 1, true)
			s = b.act(se+".activation", s, ir.ReLU)
			s = b.conv(se+".fc2", s, sq, exp, 1, 1, 0, 1, true)
			s = b.act(se+".scale_activation", s, ir.HardSigmoid)
			y = b.node(se, ir.Mul, y, s)
		}
		y = b.cna(next(), y, exp, out, 1, 1, 1, "", epsTF) // linear projection
		if blk.s == 1 && in == out {
			y = b.node(p, ir.Add, x, y)
		}
		x = y
	}
	lastIn := adjust(blocks[len(blocks)-1].out)
	lastOut := 6 * lastIn
	x = b.cna(fmt.Sprintf("features.%d", len(blocks)+1), x, lastIn, lastOut, 1, 1, 1, ir.HardSwish, epsTF)
	x = b.globalPool(x)
	hidden := adjust(lastChannel)
	x = b.dense("classifier.0", x, lastOut, hidden)
	x = b.act("classifier.1", x, ir.HardSwish)
	b.g.Outputs = []string{b.dense("classifier.3", x, hidden, classes)}
	return nil
}
