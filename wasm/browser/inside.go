//go:build js && wasm

package browser

import (
	"errors"
	"fmt"
	"slices"
	"syscall/js"

	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
)

// Values are some of a network's values (any layer's output) computed on
// one picture, for pages that show what happens inside a network: the
// course's feature maps, class activation maps and logits.
type Values struct {
	Shapes []ir.Shape
	Data   [][]float32 // valid until the next Inside call on the model
}

// inside is a plan of the model that keeps the values a page asked for.
type inside struct {
	values []string
	m      *model.Model
	input  []float32
}

// Inside runs the model on a picture (see Pixels) and returns the values
// named. The engine frees every value as soon as nothing reads it, so the
// model is planned again, once per set of values, with those values kept;
// the weights are shared, not copied.
func (m *Model) Inside(src js.Value, values []string) (*Values, error) {
	mm, err := m.model()
	if err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, errors.New("no values asked for")
	}
	g := mm.Graph
	for _, v := range values {
		if v != g.Input && g.Producer(v) == nil {
			return nil, fmt.Errorf("the network has no value %q", v)
		}
	}
	if (m.in == nil || !slices.Equal(m.in.values, values)) && m.keeps(values) {
		m.in = &inside{values: slices.Clone(values), m: mm, input: make([]float32, g.InputShape.Size())}
	}
	if m.in == nil || !slices.Equal(m.in.values, values) {
		c := *g
		c.Outputs = slices.Clone(g.Outputs)
		for _, v := range values {
			if !slices.Contains(c.Outputs, v) {
				c.Outputs = append(c.Outputs, v)
			}
		}
		k := kernels.Best()
		if mm.Engine().Kernels() == (kernels.Go{}).Name() {
			k = kernels.Go{}
		}
		im, err := model.New(mm.Name, &c, k)
		if err != nil {
			return nil, err
		}
		m.in = &inside{values: slices.Clone(values), m: im, input: make([]float32, g.InputShape.Size())}
		m.rt.mem.tune()
	}
	img, err := m.rt.Pixels(src)
	if err != nil {
		return nil, err
	}
	if err := imageprep.Prepare(img, mm.Preprocess(), g.InputShape, m.in.input); err != nil {
		return nil, err
	}
	if err := m.in.m.RunInput(m.in.input); err != nil {
		return nil, err
	}
	out := &Values{}
	for _, v := range values {
		out.Shapes = append(out.Shapes, m.in.m.Engine().Shape(v))
		out.Data = append(out.Data, m.in.m.Output(v))
	}
	return out, nil
}

// keeps tells whether the model's own plan keeps every value asked for.
func (m *Model) keeps(values []string) bool {
	for _, v := range values {
		if !slices.Contains(m.kept, v) {
			return false
		}
	}
	return len(m.kept) > 0
}
