package ir

import (
	"errors"
	"strings"
	"testing"
)

// TestConvOutSize checks the output-size rule against cases worked out by
// hand from the course's (W − F + 2P)/S + 1 and from torch's ceil_mode
// rule (torch.nn.functional.max_pool2d on the same sizes gives these).
func TestConvOutSize(t *testing.T) {
	cases := []struct {
		in, k, s, d, p0, p1 int
		ceil                bool
		want                int
	}{
		{32, 5, 1, 1, 0, 0, false, 28},   // LeNet-5 C1: (32-5)/1+1
		{227, 11, 4, 1, 0, 0, false, 55}, // AlexNet conv1 as in the paper's 227 input
		{224, 11, 4, 1, 2, 2, false, 55}, // torchvision AlexNet: (224-11+4)/4+1
		{224, 3, 1, 1, 1, 1, false, 224}, // VGG: 3x3 "same"
		{224, 2, 2, 1, 0, 0, false, 112}, // 2x2 max pool
		{224, 3, 2, 1, 0, 1, false, 112}, // TF SAME stride 2: pads 0 before, 1 after
		{225, 3, 2, 1, 1, 1, false, 113},
		{112, 3, 2, 1, 0, 0, true, 56},  // GoogLeNet maxpool1: ceil((112-3)/2)+1
		{112, 3, 2, 1, 0, 0, false, 55}, // the same without ceil mode
		{14, 2, 2, 1, 0, 0, true, 7},
		{7, 3, 2, 1, 1, 1, true, 4}, // ceil: the last window starts inside the input
		{6, 3, 2, 1, 1, 1, true, 4},
		{5, 2, 2, 1, 1, 1, true, 3},   // ceil: a window starting in the padding is dropped
		{2, 3, 2, 1, 0, 0, true, 1},   // torch gives 1x1 for a 2x2 map, k=3, s=2, ceil
		{2, 3, 2, 1, 0, 0, false, 0},  // and nothing without ceil
		{10, 3, 1, 2, 0, 0, false, 6}, // dilation 2: the window spans 5
	}
	for _, c := range cases {
		if got := ConvOutSize(c.in, c.k, c.s, c.d, c.p0, c.p1, c.ceil); got != c.want {
			t.Errorf("ConvOutSize(in=%d k=%d s=%d d=%d pads=%d,%d ceil=%v) = %d, want %d", c.in, c.k, c.s, c.d, c.p0, c.p1, c.ceil, got, c.want)
		}
	}
}

// TestInferNamesTheLayer: shape errors say which layer is at fault.
func TestInferNamesTheLayer(t *testing.T) {
	g := New(Shape{8, 8, 3})
	w := g.AddTensor("conv.w", []int{3, 3, 4, 8}, nil) // wants 4 input channels, gets 3
	g.AddNode("conv", Conv2D, []string{g.Input}, []string{w}, Attrs{})
	g.Outputs = []string{"conv"}
	_, err := g.Infer()
	var e *Error
	if !errors.As(err, &e) || e.Node != "conv" || !strings.Contains(err.Error(), `layer "conv"`) {
		t.Fatalf("got %v, want an error naming layer conv", err)
	}

	g = New(Shape{8, 8, 3})
	g.AddNode("pool", MaxPool, []string{g.Input}, nil, Attrs{Kernel: [2]int{9, 9}})
	g.Outputs = []string{"pool"}
	if _, err := g.Infer(); err == nil || !strings.Contains(err.Error(), "pool") {
		t.Fatalf("a 9x9 pool on 8x8 gave %v", err)
	}

	g = New(Shape{8, 8, 3})
	g.AddNode("add", Add, []string{g.Input, "nowhere"}, nil, Attrs{})
	g.Outputs = []string{"add"}
	if _, err := g.Infer(); err == nil || !strings.Contains(err.Error(), `"nowhere"`) {
		t.Fatalf("an undefined input gave %v", err)
	}
}

// TestPrune keeps exactly what the outputs need.
func TestPrune(t *testing.T) {
	g := New(Shape{4, 4, 2})
	a := g.AddNode("a", ReLU, []string{g.Input}, nil, Attrs{})
	pool := g.AddNode("pool", GlobalAvgPool, []string{a}, nil, Attrs{})
	w := g.AddTensor("fc.w", []int{2, 3}, make([]float32, 6))
	fc := g.AddNode("fc", Dense, []string{pool}, []string{w}, Attrs{})
	g.Outputs = []string{fc}
	g.Outputs = []string{pool}
	g.Prune()
	if len(g.Nodes) != 2 || len(g.Tensors) != 0 {
		t.Fatalf("after cutting at the pool: %d nodes, %d tensors; want 2 and 0", len(g.Nodes), len(g.Tensors))
	}
}
