package models

import (
	"fmt"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// leNet5 is LeNet-5 (LeCun et al. 1998) as courses teach it today: the
// original 6-16-120-84-10 layout on a 32x32 grey image, with ReLU and max
// pooling in place of the scaled tanh and trainable subsampling of the
// paper. Module names are those of the torch definition in
// testdata/torchvision_layers.py (conv1, pool1, ..., fc3), the names of
// PyTorch's own tutorial network.
func leNet5(b *builder, _ float64, classes int) error {
	x := b.conv("conv1", b.g.Input, 1, 6, 5, 1, 0, 1, true)
	x = b.act("relu1", x, ir.ReLU)
	x = b.pool("pool1", x, ir.MaxPool, 2, 2, 0, false)
	x = b.conv("conv2", x, 6, 16, 5, 1, 0, 1, true)
	x = b.act("relu2", x, ir.ReLU)
	x = b.pool("pool2", x, ir.MaxPool, 2, 2, 0, false)
	b.g.Meta.Embedding = x
	s, err := b.shape(x)
	if err != nil {
		return err
	}
	x = b.node("flatten", ir.Flatten, x)
	x = b.dense("fc1", x, s.Size(), 120)
	x = b.act("relu3", x, ir.ReLU)
	x = b.dense("fc2", x, 120, 84)
	x = b.act("relu4", x, ir.ReLU)
	b.g.Outputs = []string{b.dense("fc3", x, 84, classes)}
	return nil
}

// leNet5_1998 is LeNet-5 in the form of the paper (LeCun et al. 1998) as
// the course describes it: the scaled tanh 1.7159·tanh(2x/3) after every
// layer, and trainable subsampling: each 2x2 average times a learned
// coefficient plus a learned bias, per channel, which the IR spells as an
// average pool then a 1x1 depthwise convolution. Two simplifications, as
// most courses make them: C3 reads all six S2 maps (the paper's partial
// connection table is left out) and the output is a dense layer rather
// than Euclidean RBF units. Module names are the paper's layer names (c1,
// s2, c3, s4, c5, f6), as in testdata/torchvision_layers.py.
func leNet5_1998(b *builder, _ float64, classes int) error {
	squash := func(name, in string) string {
		return b.g.AddNode(name, ir.Tanh, []string{in}, nil, ir.Attrs{Alpha: 1.7159, Beta: 2.0 / 3})
	}
	subsample := func(name, in string, c int) string {
		x := b.pool(name+"_pool", in, ir.AvgPool, 2, 2, 0, false)
		x = b.conv(name, x, c, c, 1, 1, 0, c, true)
		return squash(name+"_act", x)
	}
	x := squash("c1_act", b.conv("c1", b.g.Input, 1, 6, 5, 1, 0, 1, true))
	x = subsample("s2", x, 6)
	x = squash("c3_act", b.conv("c3", x, 6, 16, 5, 1, 0, 1, true))
	x = subsample("s4", x, 16)
	b.g.Meta.Embedding = x
	s, err := b.shape(x)
	if err != nil {
		return err
	}
	x = b.node("flatten", ir.Flatten, x)
	x = squash("c5_act", b.dense("c5", x, s.Size(), 120))
	x = squash("f6_act", b.dense("f6", x, 120, 84))
	b.g.Outputs = []string{b.dense("output", x, 84, classes)}
	return nil
}

// alexNet is torchvision's AlexNet (the single-GPU variant of Krizhevsky
// et al. 2012 from "One weird trick", with 64-192-384-256-256 channels).
func alexNet(b *builder, _ float64, classes int) error {
	x := b.conv("features.0", b.g.Input, 3, 64, 11, 4, 2, 1, true)
	x = b.act("features.1", x, ir.ReLU)
	x = b.pool("features.2", x, ir.MaxPool, 3, 2, 0, false)
	x = b.conv("features.3", x, 64, 192, 5, 1, 2, 1, true)
	x = b.act("features.4", x, ir.ReLU)
	x = b.pool("features.5", x, ir.MaxPool, 3, 2, 0, false)
	x = b.conv("features.6", x, 192, 384, 3, 1, 1, 1, true)
	x = b.act("features.7", x, ir.ReLU)
	x = b.conv("features.8", x, 384, 256, 3, 1, 1, 1, true)
	x = b.act("features.9", x, ir.ReLU)
	x = b.conv("features.10", x, 256, 256, 3, 1, 1, 1, true)
	x = b.act("features.11", x, ir.ReLU)
	x = b.pool("features.12", x, ir.MaxPool, 3, 2, 0, false)
	x, err := b.flatClassifierInput(x, 6)
	if err != nil {
		return err
	}
	x = b.dense("classifier.1", x, 256*6*6, 4096)
	x = b.act("classifier.2", x, ir.ReLU)
	x = b.dense("classifier.4", x, 4096, 4096)
	x = b.act("classifier.5", x, ir.ReLU)
	b.g.Outputs = []string{b.dense("classifier.6", x, 4096, classes)}
	return nil
}

// vgg16 is torchvision's VGG16 (configuration D of Simonyan and Zisserman
// 2014) without batch norm: thirteen 3x3 convolutions in five stages, each
// stage ending in a 2x2 max pool.
func vgg16(b *builder, _ float64, classes int) error {
	stages := [][]int{{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}}
	x, c, i := b.g.Input, 3, 0
	next := func() string { i++; return fmt.Sprintf("features.%d", i-1) }
	for _, stage := range stages {
		for _, o := range stage {
			x = b.conv(next(), x, c, o, 3, 1, 1, 1, true)
			x = b.act(next(), x, ir.ReLU)
			c = o
		}
		x = b.pool(next(), x, ir.MaxPool, 2, 2, 0, false)
	}
	x, err := b.flatClassifierInput(x, 7)
	if err != nil {
		return err
	}
	x = b.dense("classifier.0", x, 512*7*7, 4096)
	x = b.act("classifier.1", x, ir.ReLU)
	x = b.dense("classifier.3", x, 4096, 4096)
	x = b.act("classifier.4", x, ir.ReLU)
	b.g.Outputs = []string{b.dense("classifier.6", x, 4096, classes)}
	return nil
}

// flatClassifierInput lowers AlexNet's and VGG's "avgpool"
// (AdaptiveAvgPool2d((n, n))) and torch.flatten, and records the
// embedding: the pooled n x n map, or the last max pool's output when the
// adaptive pool is the identity.
func (b *builder) flatClassifierInput(x string, n int) (string, error) {
	x, _, err := b.adaptiveAvgPool("avgpool", x, n)
	if err != nil {
		return "", err
	}
	b.g.Meta.Embedding = x
	return b.node("flatten", ir.Flatten, x), nil
}

// basicConv is GoogLeNet's BasicConv2d: a bias-free convolution
// "<name>.conv", batch norm "<name>.bn" (eps 0.001) and a ReLU that torch
// applies functionally; the ReLU node takes the module's own name, since
// its output is the module's output.
func (b *builder) basicConv(name, in string, cin, cout, k, stride, pad int) string {
	x := b.conv(name+".conv", in, cin, cout, k, stride, pad, 1, false)
	x = b.bn(name+".bn", x, cout, epsTF)
	return b.act(name, x, ir.ReLU)
}

// inception is one Inception block: four branches over the same input,
// concatenated along channels (the Concat node takes the module's name).
// The "5x5" branch uses a 3x3 kernel, as torchvision's GoogLeNet does and
// as its pretrained weights require.
func (b *builder) inception(name, in string, cin, c1, c3r, c3, c5r, c5, pool int) (string, int) {
	b1 := b.basicConv(name+".branch1", in, cin, c1, 1, 1, 0)
	b2 := b.basicConv(name+".branch2.0", in, cin, c3r, 1, 1, 0)
	b2 = b.basicConv(name+".branch2.1", b2, c3r, c3, 3, 1, 1)
	b3 := b.basicConv(name+".branch3.0", in, cin, c5r, 1, 1, 0)
	b3 = b.basicConv(name+".branch3.1", b3, c5r, c5, 3, 1, 1)
	b4 := b.pool(name+".branch4.0", in, ir.MaxPool, 3, 1, 1, true)
	b4 = b.basicConv(name+".branch4.1", b4, cin, pool, 1, 1, 0)
	return b.node(name, ir.Concat, b1, b2, b3, b4), c1 + c3 + c5 + pool
}

// googLeNet is torchvision's GoogLeNet (Szegedy et al. 2014, Inception v1)
// with batch norm, for inference: no auxiliary classifiers, and no
// transform_input step (Build folds it into the preprocessing instead, as
// x*2/255 - 1). Its max pools use ceil mode.
func googLeNet(b *builder, _ float64, classes int) error {
	x := b.basicConv("conv1", b.g.Input, 3, 64, 7, 2, 3)
	x = b.pool("maxpool1", x, ir.MaxPool, 3, 2, 0, true)
	x = b.basicConv("conv2", x, 64, 64, 1, 1, 0)
	x = b.basicConv("conv3", x, 64, 192, 3, 1, 1)
	x = b.pool("maxpool2", x, ir.MaxPool, 3, 2, 0, true)
	c := 192
	blocks := []struct {
		name                         string
		c1, c3r, c3, c5r, c5, pool   int
		poolAfter, poolK, poolStride int
	}{
		{"inception3a", 64, 96, 128, 16, 32, 32, 0, 0, 0},
		{"inception3b", 128, 128, 192, 32, 96, 64, 3, 3, 2},
		{"inception4a", 192, 96, 208, 16, 48, 64, 0, 0, 0},
		{"inception4b", 160, 112, 224, 24, 64, 64, 0, 0, 0},
		{"inception4c", 128, 128, 256, 24, 64, 64, 0, 0, 0},
		{"inception4d", 112, 144, 288, 32, 64, 64, 0, 0, 0},
		{"inception4e", 256, 160, 320, 32, 128, 128, 4, 2, 2},
		{"inception5a", 256, 160, 320, 32, 128, 128, 0, 0, 0},
		{"inception5b", 384, 192, 384, 48, 128, 128, 0, 0, 0},
	}
	for _, blk := range blocks {
		x, c = b.inception(blk.name, x, c, blk.c1, blk.c3r, blk.c3, blk.c5r, blk.c5, blk.pool)
		if blk.poolAfter != 0 {
			x = b.pool(fmt.Sprintf("maxpool%d", blk.poolAfter), x, ir.MaxPool, blk.poolK, blk.poolStride, 0, true)
		}
	}
	x = b.globalPool(x)
	b.g.Outputs = []string{b.dense("fc", x, c, classes)}
	return nil
}
