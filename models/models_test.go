package models

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// reference is one report written by testdata/torchvision_layers.py from
// torch and torchvision.
type reference struct {
	Arch    string  `json:"arch"`
	Width   float64 `json:"width"`
	Input   int     `json:"input"`
	Classes int     `json:"classes"`
	Layers  []struct {
		ir.Layer
		Ceil *bool    `json:"ceil"`
		Eps  *float64 `json:"eps"`
	} `json:"layers"`
	Totals struct {
		Params int64 `json:"params"`
		MACs   int64 `json:"macs"`
	} `json:"totals"`
	StateDict map[string][]int `json:"state_dict"`
}

func loadReferences(t *testing.T) map[string]reference {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no reference reports in testdata (%v)", err)
	}
	refs := map[string]reference{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r reference
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		refs[strings.TrimSuffix(filepath.Base(f), ".json")] = r
	}
	return refs
}

// torchOp maps the class a reference layer was recorded from to the IR op
// that stands for it.
func torchOp(op string, out ir.Shape) ir.Op {
	switch op {
	case "Conv2d":
		return ir.Conv2D
	case "BatchNorm2d":
		return ir.BatchNorm
	case "Linear":
		return ir.Dense
	case "MaxPool2d":
		return ir.MaxPool
	case "AvgPool2d":
		return ir.AvgPool
	case "AdaptiveAvgPool2d":
		if out[0] == 1 && out[1] == 1 {
			return ir.GlobalAvgPool
		}
		return ir.AvgPool
	case "ReLU", "BasicConv2d": // BasicConv2d ends in F.relu
		return ir.ReLU
	case "ReLU6":
		return ir.ReLU6
	case "Hardswish":
		return ir.HardSwish
	case "Hardsigmoid":
		return ir.HardSigmoid
	case "Sigmoid":
		return ir.Sigmoid
	case "ScaledTanh":
		return ir.Tanh
	case "InvertedResidual":
		return ir.Add
	case "SqueezeExcitation":
		return ir.Mul
	case "Inception":
		return ir.Concat
	}
	return ir.Op("torch " + op)
}

// functional lists IR nodes that torch computes with a function inside a
// forward method rather than a module, so no hook saw them.
func functional(arch string, l ir.Layer) bool {
	return l.Op == string(ir.Flatten) || (arch == "mobilenet_v2" && l.Name == "avgpool")
}

// TestLayersMatchTorch compares every layer of every reference report with
// the graph Build makes for the same architecture, width and input: op,
// kernel, stride, padding, output shape, parameters and MACs, by name, in
// execution order, and the totals.
func TestLayersMatchTorch(t *testing.T) {
	for name, ref := range loadReferences(t) {
		t.Run(name, func(t *testing.T) {
			g, err := Build(ref.Arch, Options{Width: ref.Width, Input: ref.Input, Classes: ref.Classes})
			if err != nil {
				t.Fatal(err)
			}
			layers, totals, err := g.Report()
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]int{}
			for i, l := range layers {
				byName[l.Name] = i
			}
			nodes := map[string]*ir.Node{}
			for _, n := range g.Nodes {
				nodes[n.Name] = n
			}
			seen := map[string]bool{}
			last := -1
			for _, want := range ref.Layers {
				i, ok := byName[want.Name]
				if !ok {
					// AdaptiveAvgPool2d((n, n)) on an n x n map is the
					// identity, which the graph leaves out.
					if want.Op == "AdaptiveAvgPool2d" && want.Kernel == [2]int{1, 1} {
						continue
					}
					t.Errorf("torch layer %s (%s) is missing from the graph", want.Name, want.Op)
					continue
				}
				seen[want.Name] = true
				got := layers[i]
				if i < last {
					t.Errorf("layer %s comes before %s in the graph, after it in torch", got.Name, layers[last].Name)
				}
				last = i
				wantOp := torchOp(want.Op, want.Output)
				if ir.Op(got.Op) != wantOp {
					t.Errorf("layer %s: op %s, torch %s (%s)", got.Name, got.Op, wantOp, want.Op)
				}
				w := want.Layer
				w.Op = got.Op
				if got != w {
					t.Errorf("layer %s:\n got %+v\ntorch %+v", got.Name, got, w)
				}
				n := nodes[got.Name]
				if want.Ceil != nil && n.Attrs.Ceil != *want.Ceil {
					t.Errorf("layer %s: ceil mode %v, torch %v", got.Name, n.Attrs.Ceil, *want.Ceil)
				}
				if want.Eps != nil && math.Abs(float64(n.Attrs.Epsilon)-*want.Eps) > 1e-9 {
					t.Errorf("layer %s: epsilon %v, torch %v", got.Name, n.Attrs.Epsilon, *want.Eps)
				}
			}
			for _, l := range layers {
				if !seen[l.Name] && !functional(ref.Arch, l) {
					t.Errorf("graph layer %s (%s) has no counterpart in torch", l.Name, l.Op)
				}
			}
			if totals.Params != ref.Totals.Params || totals.MACs != ref.Totals.MACs {
				t.Errorf("totals %d params, %d MACs; torch %d params, %d MACs",
					totals.Params, totals.MACs, ref.Totals.Params, ref.Totals.MACs)
			}
		})
	}
}

// TestStateDictNames checks that the graph's tensors are exactly the
// entries of torch's state_dict, with the same shapes once torch's layouts
// (OIHW convolutions, [Out, In] linear layers) are transposed into the
// IR's (HWIO, [In, Out]), so that a checkpoint loads by name.
func TestStateDictNames(t *testing.T) {
	for name, ref := range loadReferences(t) {
		t.Run(name, func(t *testing.T) {
			if len(ref.StateDict) == 0 {
				t.Fatal("the reference lists no state_dict")
			}
			g, err := Build(ref.Arch, Options{Width: ref.Width, Input: ref.Input, Classes: ref.Classes})
			if err != nil {
				t.Fatal(err)
			}
			for key, shape := range ref.StateDict {
				tensor := g.Tensors[key]
				if tensor == nil {
					t.Errorf("state_dict entry %s %v has no tensor in the graph", key, shape)
					continue
				}
				want := shape
				switch len(shape) {
				case 4:
					want = []int{shape[2], shape[3], shape[1], shape[0]}
				case 2:
					want = []int{shape[1], shape[0]}
				}
				if !slices.Equal(tensor.Shape, want) {
					t.Errorf("tensor %s has shape %v; torch %v, so %v in the IR's layout", key, tensor.Shape, shape, want)
				}
				if tensor.Data != nil {
					t.Errorf("tensor %s has data; the zoo's graphs are shape-only", key)
				}
			}
			for key := range g.Tensors {
				if _, ok := ref.StateDict[key]; !ok {
					t.Errorf("graph tensor %s is not in torch's state_dict", key)
				}
			}
		})
	}
}

// TestTorchvisionTotals checks the parameter counts torchvision documents
// for its ImageNet weights, and the textbook's 61,706 for LeNet-5, at the
// default options.
func TestTorchvisionTotals(t *testing.T) {
	want := map[string]int64{
		"mobilenet_v2":       3504872,
		"mobilenet_v3_small": 2542856,
		"mobilenet_v3_large": 5483032,
		"alexnet":            61100840,
		"vgg16":              138357544,
		"googlenet":          6624904,
		"lenet5":             61706,
		"lenet5_1998":        61750,
		// Keras's MobileNet (alpha 1.0) has 4,231,976 trainable parameters.
		"mobilenet_v1": 4231976,
	}
	for _, name := range Names() {
		g, err := Build(name, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, totals, err := g.Report()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if totals.Params != want[name] {
			t.Errorf("%s: %d parameters, want %d", name, totals.Params, want[name])
		}
		if name == "mobilenet_v2" && math.Abs(float64(totals.MACs)-300.8e6) > 0.05e6 {
			t.Errorf("mobilenet_v2: %d MACs, want about 300.8 million", totals.MACs)
		}
	}
	if len(want) != len(Names()) {
		t.Errorf("Names() lists %d architectures, the test knows %d", len(Names()), len(want))
	}
}

// TestMakeDivisible compares with values printed by torchvision's own
// _make_divisible(v, 8).
func TestMakeDivisible(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want int
	}{
		{3.2, 8}, {2.8, 8}, {5.6, 8}, {8.399999999999999, 8}, {24.0, 24}, {1792.0, 1792},
		{33.599999999999994, 32}, {11.99, 16}, {12.0, 16}, {20.0, 24}, {36.0, 40}, {44.0, 48},
		{270.0, 272}, {142.85714285714286, 144}, {9.0, 16}, {17.9, 24}, {18.0, 24}, {19.99, 24},
	} {
		if got := makeDivisible(c.v, 8); got != c.want {
			t.Errorf("makeDivisible(%v, 8) = %d, want %d", c.v, got, c.want)
		}
	}
}

func TestMeta(t *testing.T) {
	cases := []struct {
		arch      string
		opt       Options
		width     float32
		embedding string
		shape     ir.Shape
		resizeTo  int
	}{
		{"mobilenet_v2", Options{}, 1, "avgpool", ir.Shape{1, 1, 1280}, 256},
		{"mobilenet_v2", Options{Width: 0.5, Input: 160}, 0.5, "avgpool", ir.Shape{1, 1, 1280}, 182},
		{"mobilenet_v3_large", Options{}, 1, "avgpool", ir.Shape{1, 1, 960}, 256},
		{"mobilenet_v1", Options{Width: 0.25, Input: 128}, 0.25, "avgpool", ir.Shape{1, 1, 256}, 146},
		{"googlenet", Options{}, 0, "avgpool", ir.Shape{1, 1, 1024}, 256},
		{"alexnet", Options{}, 0, "features.12", ir.Shape{6, 6, 256}, 256},
		{"alexnet", Options{Input: 415}, 0, "avgpool", ir.Shape{6, 6, 256}, 474},
		{"vgg16", Options{}, 0, "features.30", ir.Shape{7, 7, 512}, 256},
		{"lenet5", Options{}, 0, "pool2", ir.Shape{5, 5, 16}, 0},
	}
	for _, c := range cases {
		g, err := Build(c.arch, c.opt)
		if err != nil {
			t.Fatalf("%s %+v: %v", c.arch, c.opt, err)
		}
		m := g.Meta
		if m.Architecture != c.arch || m.Width != c.width || m.Embedding != c.embedding {
			t.Errorf("%s %+v: meta %q width %v embedding %q; want %q %v %q",
				c.arch, c.opt, m.Architecture, m.Width, m.Embedding, c.arch, c.width, c.embedding)
		}
		shapes, err := g.Infer()
		if err != nil {
			t.Fatal(err)
		}
		if shapes[m.Embedding] != c.shape {
			t.Errorf("%s %+v: embedding %s is %v, want %v", c.arch, c.opt, m.Embedding, shapes[m.Embedding], c.shape)
		}
		if m.Preprocess.ResizeTo != c.resizeTo {
			t.Errorf("%s %+v: resize to %d, want %d", c.arch, c.opt, m.Preprocess.ResizeTo, c.resizeTo)
		}
		if len(g.Outputs) != 1 {
			t.Errorf("%s: outputs %v", c.arch, g.Outputs)
		}
	}
}

// TestImageNetPreprocess checks the folded scale and offset against
// torchvision's Normalize(mean, std) applied to ToTensor's x/255.
func TestImageNetPreprocess(t *testing.T) {
	g, err := Build("mobilenet_v2", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := g.Meta.Preprocess
	if p.Resize != ir.ResizeShorter || p.Crop != "center" || p.Channels != "RGB" {
		t.Errorf("preprocess %+v, want shorter-side resize, centre crop, RGB", p)
	}
	mean := []float64{0.485, 0.456, 0.406}
	std := []float64{0.229, 0.224, 0.225}
	for c := range 3 {
		for _, v := range []float64{0, 1, 128, 255} {
			got := v*float64(p.Scale[c]) + float64(p.Offset[c])
			want := (v/255 - mean[c]) / std[c]
			if math.Abs(got-want) > 1e-5 {
				t.Errorf("channel %d, pixel %v: %v, torchvision gives %v", c, v, got, want)
			}
		}
	}
}

// TestGoogLeNetPreprocess checks GoogLeNet's scale and offset against
// torchvision's two steps for its pretrained weights: Normalize with
// ImageNet's mean and std, then GoogLeNet._transform_input
// (x * std/0.5 + (mean-0.5)/0.5 per channel).
func TestGoogLeNetPreprocess(t *testing.T) {
	g, err := Build("googlenet", Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := g.Meta.Preprocess
	mean := []float64{0.485, 0.456, 0.406}
	std := []float64{0.229, 0.224, 0.225}
	for c := range 3 {
		for _, v := range []float64{0, 1, 128, 255} {
			got := v*float64(p.Scale[c]) + float64(p.Offset[c])
			normalised := (v/255 - mean[c]) / std[c]
			want := normalised*(std[c]/0.5) + (mean[c]-0.5)/0.5
			if math.Abs(got-want) > 1e-5 {
				t.Errorf("channel %d, pixel %v: %v, torchvision gives %v", c, v, got, want)
			}
		}
	}
}

// TestBadOptions checks that every option out of range is refused with a
// message naming the problem, and that an input too small for a network
// names the layer where it runs out.
func TestBadOptions(t *testing.T) {
	cases := []struct {
		arch  string
		opt   Options
		layer string // the layer the error must name, if any; a trailing * matches a prefix
		msg   string
	}{
		{"resnet50", Options{}, "", "unknown architecture"},
		{"mobilenet_v2", Options{Width: math.NaN()}, "", "width"},
		{"mobilenet_v2", Options{Width: math.Inf(1)}, "", "width"},
		{"mobilenet_v2", Options{Width: -0.5}, "", "width"},
		{"mobilenet_v2", Options{Width: 100}, "", "width"},
		{"alexnet", Options{Width: 0.5}, "", "no width multiplier"},
		{"mobilenet_v2", Options{Input: -1}, "", "input size"},
		{"mobilenet_v2", Options{Input: 1 << 30}, "", "input size"},
		{"mobilenet_v2", Options{Classes: -3}, "", "classes"},
		// 8 -> 4 -> 2 -> 1, then features.7 would downsample a single pixel.
		{"mobilenet_v2", Options{Input: 8}, "features.7.conv.1.0", "too small"},
		{"mobilenet_v3_small", Options{Input: 8}, "features.4.block.1.0", "too small"},
		// Five 2x2 pools need at least 32 pixels.
		{"vgg16", Options{Input: 16}, "features.30", "empty"},
		{"lenet5", Options{Input: 8}, "conv2", "empty"},
		{"lenet5", Options{Input: 14}, "pool2", "empty"},
		{"alexnet", Options{Input: 32}, "features.12", "empty"},
		// torch's ceil mode keeps a window larger than a 2x2 map, where
		// ir.ConvOutSize gives 0: which max pool fails depends on that.
		{"googlenet", Options{Input: 16}, "maxpool*", ""},
		// Features end at 7x7: AdaptiveAvgPool2d((6, 6)) has uneven windows.
		{"alexnet", Options{Input: 256}, "avgpool", "not a uniform pool"},
	}
	for _, c := range cases {
		g, err := Build(c.arch, c.opt)
		if err == nil {
			t.Errorf("%s %+v: no error (graph with %d nodes)", c.arch, c.opt, len(g.Nodes))
			continue
		}
		if !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s %+v: error %q does not mention %q", c.arch, c.opt, err, c.msg)
		}
		if c.layer == "" {
			continue
		}
		var e *ir.Error
		if !errors.As(err, &e) || (e.Node != c.layer && !(strings.HasSuffix(c.layer, "*") && strings.HasPrefix(e.Node, strings.TrimSuffix(c.layer, "*")))) {
			t.Errorf("%s %+v: error %q does not name layer %s", c.arch, c.opt, err, c.layer)
		}
		if !strings.Contains(err.Error(), c.arch) {
			t.Errorf("%s %+v: error %q does not name the architecture", c.arch, c.opt, err)
		}
	}
}

// TestSmallestInputs checks that the sizes just above the failures above
// build, so the checks refuse only what cannot work.
func TestSmallestInputs(t *testing.T) {
	for _, c := range []struct {
		arch  string
		input int
	}{
		{"mobilenet_v2", 17}, {"mobilenet_v2", 32}, {"mobilenet_v3_small", 32}, {"vgg16", 255}, {"vgg16", 448},
		{"lenet5", 16}, {"googlenet", 32}, {"alexnet", 415}, {"mobilenet_v1", 1000},
	} {
		if _, err := Build(c.arch, Options{Input: c.input}); err != nil {
			t.Errorf("%s at %d: %v", c.arch, c.input, err)
		}
	}
}
