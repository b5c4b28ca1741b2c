//go:build js && wasm

package browser

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"syscall/js"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
)

// Values are some of a network's values (any layer's output) computed on
// one picture, for pages that show what happens inside a network: the
// course's feature maps, class activation maps and logits.
type Values struct {
	Shapes []ir.Shape
	Data   [][]float32 // valid until the next Inside call on the model
}

// inside is a plan of the layers that lead to the values a page asked for.
type inside struct {
	values []string
	e      *engine.Engine
	input  []float32
}

// Inside runs the model on a picture (see Pixels) and returns the values
// named. The engine frees every value as soon as nothing reads it, so the
// network is planned again, once per set of values, with those values as
// its outputs and only the layers they depend on: the feature maps of a
// first layer cost one layer's planning and computing, not the whole
// network's. The weights are shared, not copied.
func (m *Model) Inside(src js.Value, values []string) (*Values, error) {
	if m == nil || m.closed {
		return nil, errors.New("this model was disposed")
	}
	if len(values) == 0 {
		return nil, errors.New("no values asked for")
	}
	g := m.g
	for _, v := range values {
		if v != g.Input && g.Producer(v) == nil {
			return nil, fmt.Errorf("the network has no value %q", v)
		}
	}
	if m.in == nil || !slices.Equal(m.in.values, values) {
		c := *g
		c.Nodes = slices.Clone(g.Nodes)
		c.Tensors = maps.Clone(g.Tensors)
		c.Outputs = nil
		for _, v := range values {
			if !slices.Contains(c.Outputs, v) {
				c.Outputs = append(c.Outputs, v)
			}
		}
		c.Prune()
		e, err := engine.New(&c, m.k)
		if err != nil {
			return nil, err
		}
		m.in = &inside{values: slices.Clone(values), e: e, input: make([]float32, g.InputShape.Size())}
		m.rt.mem.tune()
	}
	img, err := m.rt.Pixels(src)
	if err != nil {
		return nil, err
	}
	if err := imageprep.Prepare(img, g.Meta.Preprocess, g.InputShape, m.in.input); err != nil {
		return nil, err
	}
	if err := m.in.e.Run(m.in.input); err != nil {
		return nil, err
	}
	out := &Values{}
	for _, v := range values {
		out.Shapes = append(out.Shapes, m.in.e.Shape(v))
		out.Data = append(out.Data, m.in.e.Output(v))
	}
	return out, nil
}
