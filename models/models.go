package models

import (
	"fmt"
	"math"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Options choose a variant of an architecture. Zero values mean the
// architecture's defaults.
type Options struct {
	// Width is the MobileNets' width multiplier (0 means 1). Channel counts
	// become c*Width rounded as torchvision rounds them. Other
	// architectures accept only 0 and 1.
	Width float64
	// Input is the side of the square input image (0 means 224; 32 for
	// LeNet-5).
	Input int
	// Classes is the classifier's output size (0 means 1000, ImageNet's
	// classes; 10 for LeNet-5).
	Classes int
}

// Bounds on Options. They keep every count well inside int64 and reject
// values no one means; they are not limits of the architectures.
const (
	MaxWidth   = 4.0
	MaxInput   = 4096
	MaxClasses = 1 << 20
)

type arch struct {
	name     string
	width    bool // takes a width multiplier
	input    int  // default input side
	classes  int  // default classifier size
	channels int  // input channels
	build    func(b *builder, width float64, classes int) error
}

// archs is a function, not a package-level table, so that nothing in the
// package is mutable.
func archs() []arch {
	return []arch{
		{"mobilenet_v1", true, 224, 1000, 3, mobileNetV1},
		{"mobilenet_v2", true, 224, 1000, 3, mobileNetV2},
		{"mobilenet_v3_small", true, 224, 1000, 3, mobileNetV3Small},
		{"mobilenet_v3_large", true, 224, 1000, 3, mobileNetV3Large},
		{"lenet5", false, 32, 10, 1, leNet5},
		{"lenet5_1998", false, 32, 10, 1, leNet5_1998},
		{"alexnet", false, 224, 1000, 3, alexNet},
		{"vgg16", false, 224, 1000, 3, vgg16},
		{"googlenet", false, 224, 1000, 3, googLeNet},
	}
}

// Names lists the architectures Build knows: the MobileNets, which the app
// runs, then the classic networks a course compares them with.
func Names() []string {
	var names []string
	for _, a := range archs() {
		names = append(names, a.name)
	}
	return names
}

// Build returns the named architecture's graph: shape-only tensors (Data
// nil) named as torchvision names them, metadata (architecture, width,
// embedding, preprocessing) set. It fails on an unknown name, options out
// of range, or an input too small for the network (the error names the
// first layer that has nothing left to work on).
func Build(name string, opt Options) (*ir.Graph, error) {
	var a *arch
	all := archs()
	for i := range all {
		if all[i].name == name {
			a = &all[i]
		}
	}
	if a == nil {
		return nil, fmt.Errorf("models: unknown architecture %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	width := opt.Width
	switch {
	case math.IsNaN(width) || math.IsInf(width, 0) || width < 0 || width > MaxWidth:
		return nil, fmt.Errorf("models: %s: width multiplier %v is outside (0, %v]", name, opt.Width, MaxWidth)
	case width == 0:
		width = 1
	case !a.width && width != 1:
		return nil, fmt.Errorf("models: %s has no width multiplier (got %v); only the MobileNets do", name, opt.Width)
	}
	input := opt.Input
	switch {
	case input < 0 || input > MaxInput:
		return nil, fmt.Errorf("models: %s: input size %d is outside [1, %d]", name, input, MaxInput)
	case input == 0:
		input = a.input
	}
	classes := opt.Classes
	switch {
	case classes < 0 || classes > MaxClasses:
		return nil, fmt.Errorf("models: %s: %d classes is outside [1, %d]", name, classes, MaxClasses)
	case classes == 0:
		classes = a.classes
	}

	b := &builder{g: ir.New(ir.Shape{input, input, a.channels})}
	if err := a.build(b, width, classes); err != nil {
		return nil, fmt.Errorf("models: %s at %dx%d: %w", name, input, input, err)
	}
	g := b.g
	if _, err := checkShapes(g); err != nil {
		return nil, fmt.Errorf("models: %s at %dx%d: %w", name, input, input, err)
	}
	g.Meta.Architecture = name
	if a.width {
		g.Meta.Width = float32(width)
	}
	g.Meta.Preprocess = ir.TorchvisionPreprocess(input, input)
	switch name {
	case "googlenet":
		// torchvision's pretrained GoogLeNet runs with transform_input on:
		// it takes the ImageNet-normalised image and maps it back to
		// (x/255 - 0.5) / 0.5, the normalisation its weights were trained
		// with. The graph leaves that step out, so the preprocessing does
		// it all at once: x*2/255 - 1 on every channel.
		for c := range 3 {
			g.Meta.Preprocess.Scale[c] = 2.0 / 255
			g.Meta.Preprocess.Offset[c] = -1
		}
	case "lenet5", "lenet5_1998":
		// A grey ("L", as PIL calls 8-bit grey) image stretched to the
		// input size, scaled to [0, 1]: what a network trained from
		// scratch on MNIST-like data expects. Only channel 0 is used.
		g.Meta.Preprocess = ir.Preprocess{
			Resize:   ir.ResizeStretch,
			Scale:    [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255},
			Channels: "L",
		}
	}
	return g, nil
}

// checkShapes runs ir.Infer and then rejects what Infer allows but no one
// means: a strided convolution or pool applied to a 1-pixel-wide map.
// Padded networks such as the MobileNets never run out of pixels (a 3x3
// stride-2 convolution with padding 1 maps 1 pixel to 1), so without this
// check MobileNetV2 would "work" on an 8x8 image by downsampling a single
// pixel over and over.
func checkShapes(g *ir.Graph) (map[string]ir.Shape, error) {
	shapes, err := g.Infer()
	if err != nil {
		return nil, err
	}
	for _, n := range g.Nodes {
		if n.Op != ir.Conv2D && n.Op != ir.MaxPool && n.Op != ir.AvgPool {
			continue
		}
		in := shapes[n.Inputs[0]]
		sh, sw := n.Attrs.Strides()
		if (sh > 1 && in[0] == 1) || (sw > 1 && in[1] == 1) {
			return nil, &ir.Error{Node: n.Name, Msg: fmt.Sprintf(
				"stride %dx%d on a %dx%d map: the input image is too small for this network", sh, sw, in[0], in[1])}
		}
	}
	return shapes, nil
}

// makeDivisible is torchvision's _make_divisible (from TF's slim): round v
// to the nearest multiple of divisor, at least divisor, and never more than
// 10% below v. Go's int() truncation matches Python's for the positive
// values used here.
func makeDivisible(v float64, divisor int) int {
	d := float64(divisor)
	n := max(divisor, int(v+d/2)/divisor*divisor)
	if float64(n) < 0.9*v {
		n += divisor
	}
	return n
}

// builder appends layers to a graph, naming each node and tensor as
// torchvision names its module and state_dict entries.
type builder struct {
	g *ir.Graph
}

// conv adds a square convolution with symmetric padding (torch's), bias
// only when asked (convolutions followed by batch norm have none).
func (b *builder) conv(name, in string, cin, cout, k, stride, pad, groups int, bias bool) string {
	w := []string{b.g.AddTensor(name+".weight", []int{k, k, cin / groups, cout}, nil)}
	if bias {
		w = append(w, b.g.AddTensor(name+".bias", []int{cout}, nil))
	}
	a := ir.Attrs{Stride: [2]int{stride, stride}, Pads: ir.Pads{pad, pad, pad, pad}}
	if groups > 1 {
		a.Groups = groups
	}
	return b.g.AddNode(name, ir.Conv2D, []string{in}, w, a)
}

// bn adds inference batch norm with torch's state_dict names.
func (b *builder) bn(name, in string, c int, eps float32) string {
	var w []string
	for _, t := range []string{"weight", "bias", "running_mean", "running_var"} {
		w = append(w, b.g.AddTensor(name+"."+t, []int{c}, nil))
	}
	return b.g.AddNode(name, ir.BatchNorm, []string{in}, w, ir.Attrs{Epsilon: eps})
}

// act adds a stand-alone activation. HardSigmoid is torch's relu6(x+3)/6.
func (b *builder) act(name, in string, op ir.Op) string {
	var a ir.Attrs
	if op == ir.HardSigmoid {
		a.Alpha, a.Beta = 1.0/6, 0.5
	}
	return b.g.AddNode(name, op, []string{in}, nil, a)
}

// dense adds a fully connected layer; its kernel is the IR's [In, Out].
func (b *builder) dense(name, in string, nin, nout int) string {
	w := []string{
		b.g.AddTensor(name+".weight", []int{nin, nout}, nil),
		b.g.AddTensor(name+".bias", []int{nout}, nil),
	}
	return b.g.AddNode(name, ir.Dense, []string{in}, w, ir.Attrs{})
}

func (b *builder) pool(name, in string, op ir.Op, k, stride, pad int, ceil bool) string {
	return b.g.AddNode(name, op, []string{in}, nil, ir.Attrs{
		Kernel: [2]int{k, k}, Stride: [2]int{stride, stride}, Pads: ir.Pads{pad, pad, pad, pad}, Ceil: ceil,
	})
}

func (b *builder) node(name string, op ir.Op, inputs ...string) string {
	return b.g.AddNode(name, op, inputs, nil, ir.Attrs{})
}

// shape infers the shape of value from the graph built so far.
func (b *builder) shape(value string) (ir.Shape, error) {
	outs := b.g.Outputs
	b.g.Outputs = []string{value}
	defer func() { b.g.Outputs = outs }()
	shapes, err := checkShapes(b.g)
	if err != nil {
		return ir.Shape{}, err
	}
	return shapes[value], nil
}

// adaptiveAvgPool lowers torch's AdaptiveAvgPool2d((n, n)), which AlexNet
// and VGG put between their features and classifier. Its windows are
// [floor(i*H/n), ceil((i+1)*H/n)): at the 224 input the features are
// already n x n and it is the identity, so no node is added; when n divides
// H the windows are uniform and it is exactly an AvgPool with kernel and
// stride H/n; otherwise the windows overlap unevenly, which no IR op
// expresses, and the input size is refused. The second result is false
// when no node was added.
func (b *builder) adaptiveAvgPool(name, in string, n int) (string, bool, error) {
	s, err := b.shape(in)
	if err != nil {
		return "", false, err
	}
	switch {
	case s[0] == n && s[1] == n:
		return in, false, nil
	case s[0]%n == 0 && s[1]%n == 0 && s[0] == s[1]:
		return b.pool(name, in, ir.AvgPool, s[0]/n, s[0]/n, 0, false), true, nil
	}
	return "", false, &ir.Error{Node: name, Msg: fmt.Sprintf(
		"AdaptiveAvgPool2d((%d, %d)) on a %v map is not a uniform pool; choose an input whose feature map is a multiple of %d (224 gives %d)",
		n, n, s, n, n)}
}
