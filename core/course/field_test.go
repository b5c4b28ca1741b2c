package course

import (
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/models"
)

// Receptive fields published by Araujo, Norris and Sim, "Computing
// receptive fields of convolutional neural networks", Distill 2019
// (table of architectures: alexnet_v2 195, vgg_16 212, mobilenet_v1 315),
// and LeNet-5's worked by hand from the paper's layer sizes (5, 6, 14, 16).
func TestFieldsPublished(t *testing.T) {
	for _, c := range []struct {
		arch  string
		layer string
		want  int
	}{
		{"lenet5", "conv1", 5}, {"lenet5", "pool1", 6}, {"lenet5", "conv2", 14}, {"lenet5", "pool2", 16},
		{"alexnet", "features.12", 195},
		{"vgg16", "features.30", 212},
		{"mobilenet_v1", "features.13.1.0", 315},
	} {
		g, err := models.Build(c.arch, models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f, err := Fields(g)
		if err != nil {
			t.Fatal(err)
		}
		n := nodeNamed(g, c.layer)
		if n == nil {
			t.Fatalf("%s has no layer %s", c.arch, c.layer)
		}
		if got := f[n.Output]; got.Size != [2]int{c.want, c.want} || got.Whole {
			t.Errorf("%s %s: %+v, want %d", c.arch, c.layer, got, c.want)
		}
	}
}

func nodeNamed(g *ir.Graph, name string) *ir.Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// The field measured on the engine: change one input pixel at a time and
// see which pixels change a chosen output cell. With positive weights and
// inputs every path is live, so the pixels that matter fill exactly the
// field (clipped to the picture).
func TestFieldsMeasured(t *testing.T) {
	for _, c := range []struct {
		arch     string
		input    int
		layer    string
		row, col int
	}{
		{"lenet5", 32, "conv2", 5, 5},
		{"lenet5", 32, "pool2", 2, 3},
		{"mobilenet_v2", 48, "features.3.conv.2", 3, 4},
		{"googlenet", 40, "maxpool1", 3, 3},
	} {
		t.Run(c.arch, func(t *testing.T) { measureField(t, c.arch, c.input, c.layer, c.row, c.col) })
	}
}

func measureField(t *testing.T, arch string, input int, layer string, row, col int) {
	c := struct {
		arch     string
		input    int
		layer    string
		row, col int
	}{arch, input, layer, row, col}
	{
		g, err := models.Build(c.arch, models.Options{Input: c.input})
		if err != nil {
			t.Fatal(err)
		}
		n := nodeNamed(g, c.layer)
		if n == nil {
			t.Fatalf("%s has no layer %s", c.arch, c.layer)
		}
		fields, err := Fields(g)
		if err != nil {
			t.Fatal(err)
		}
		g.Outputs = []string{n.Output}
		g.Prune()
		models.FillRandom(g, 1)
		e, err := engine.New(g, kernels.Go{})
		if err != nil {
			t.Fatal(err)
		}
		shapes, _ := g.Infer()
		out := shapes[n.Output]
		in := g.InputShape
		x := make([]float32, in.Size())
		for i := range x {
			x[i] = 0.5
		}
		cell := func() []float32 {
			if err := e.Run(x); err != nil {
				t.Fatal(err)
			}
			o := e.Output(n.Output)
			off := (c.row*out[1] + c.col) * out[2]
			return append([]float32(nil), o[off:off+out[2]]...)
		}
		base := cell()
		// Change one whole row (then one whole column) of the picture at a
		// time: the rows and columns that change the cell are the field's
		// extent, clipped to the picture.
		lines := func(count int, at func(line, k int) int, other int) (first, last int) {
			first, last = count, -1
			for l := range count {
				saved := make([]float32, other)
				for k := range other {
					saved[k] = x[at(l, k)]
					x[at(l, k)] = 5
				}
				changed := cell()
				for k := range other {
					x[at(l, k)] = saved[k]
				}
				for k := range base {
					if changed[k] != base[k] {
						first, last = min(first, l), max(last, l)
						break
					}
				}
			}
			return first, last
		}
		r0, r1 := lines(in[0], func(i, j int) int { return (i*in[1] + j) * in[2] }, in[1])
		c0, c1 := lines(in[1], func(j, i int) int { return (i*in[1] + j) * in[2] }, in[0])
		f := fields[n.Output]
		// The cell's field starts at row*jump − (padding so far); measure
		// its extent where it lies inside the picture.
		wantRows := min(in[0]-1, r0+f.Size[0]-1) - r0 + 1
		wantCols := min(in[1]-1, c0+f.Size[1]-1) - c0 + 1
		if r0 > 0 {
			wantRows = min(f.Size[0], in[0]-r0)
		}
		if c0 > 0 {
			wantCols = min(f.Size[1], in[1]-c0)
		}
		if r1-r0+1 != wantRows || c1-c0+1 != wantCols || r1 < 0 {
			t.Errorf("%s %s cell (%d,%d): pixels rows %d..%d cols %d..%d change it; field %v",
				c.arch, c.layer, c.row, c.col, r0, r1, c0, c1, f.Size)
		}
		if f.Size[0] > in[0] && r0 > 0 && r1 < in[0]-1 {
			t.Errorf("%s %s: field %v larger than the picture but only rows %d..%d matter", c.arch, c.layer, f.Size, r0, r1)
		}
	}
}

func TestFieldsWhole(t *testing.T) {
	g, err := models.Build("mobilenet_v3_small", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Fields(g)
	if err != nil {
		t.Fatal(err)
	}
	// Squeeze-and-excite in the first block already weighs channels by the
	// whole picture; the stem convolution before it does not.
	if f[nodeNamed(g, "features.0.0").Output].Whole || !f[nodeNamed(g, "features.1.block.1").Output].Whole {
		t.Errorf("stem %+v, first squeeze-excite %+v", f[nodeNamed(g, "features.0.0").Output], f[nodeNamed(g, "features.1.block.1").Output])
	}
	if !f[g.Outputs[0]].Whole {
		t.Error("the classifier's output does not see the whole picture")
	}
}
