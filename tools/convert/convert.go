// Package convert holds Glimpse's front ends: each reads one source format
// (a TF.js layers model, a TF.js graph model, ...) and lowers it into an
// ir.Graph with its weights and metadata, ready for core/format to write.
//
// One file per front end; this file holds what they share: the options, the
// finishing steps every converted graph goes through (finding the
// embedding, cutting the head, attaching labels, checking the whole graph),
// and a small graph builder that knows the shapes of the values built so
// far, which lowering needs for TF's SAME padding and similar decisions.
package convert

import (
	"errors"
	"fmt"
	"math"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Options are the choices a user makes when converting, whatever the
// source format.
type Options struct {
	// DropHead cuts the network at its embedding (the output of the last
	// global pooling before any classifier), which becomes the only
	// output; what only the head used is pruned. Transfer learning trains
	// a new head on that embedding.
	DropHead bool
	// Labels name the classes of the final output, one per channel.
	// Without them, a classifier with 1000 outputs (1001: TF-slim's
	// leading background class) gets ImageNet's class names, unless
	// NoLabels is set.
	Labels []string
	// LabelsFrom names where Labels came from (the labels file), for
	// messages and the Report.
	LabelsFrom string
	// NoLabels leaves the output's classes unnamed.
	NoLabels bool
	// Source says where the weights came from; a default naming the front
	// end and the model's folder is used when empty.
	Source string
	// Report, when not nil, receives what the conversion chose that the
	// graph does not say.
	Report *Report

	// headDropped tells finish that a front end has cut the head itself.
	headDropped bool
}

// Report tells the user what a conversion chose on its own.
type Report struct {
	// Labels says where the output's class names came from: a file, the
	// source's own metadata, ImageNet's (by the number of outputs), or
	// "none".
	Labels string
}

// finish applies what every front end does last: it records the
// embedding, cuts the head if asked, attaches the labels, and checks the
// whole graph so that a converted model is known to be runnable.
func finish(g *ir.Graph, opt Options) error {
	g.Meta.Source = opt.Source
	if g.Meta.Embedding == "" {
		// A front end that knows its embedding better (ONNX's pool before
		// the flatten) has set it; otherwise take the last global pooling.
		g.Meta.Embedding = embedding(g)
	}
	if opt.DropHead {
		if g.Meta.Embedding == "" {
			return errors.New("cannot drop the head: no global pooling layer marks the embedding")
		}
		if len(opt.Labels) > 0 {
			return errors.New("labels were given but the head is dropped: the embedding has no classes")
		}
		g.Outputs = []string{g.Meta.Embedding}
		g.Prune()
	}
	shapes, err := g.Infer()
	if err != nil {
		return err
	}
	labels, from := opt.Labels, opt.LabelsFrom
	out := shapes[g.Outputs[0]]
	if len(labels) > 0 {
		if from == "" {
			from = "the labels given"
		}
		if len(labels) != out[2] || out[0]*out[1] != 1 {
			return fmt.Errorf("%s: %d labels, but the output %q has shape %v (%d classes)", from, len(labels), g.Outputs[0], out, out[2])
		}
	} else if !opt.NoLabels && !opt.DropHead && !opt.headDropped && out[0]*out[1] == 1 {
		labels, from = imageNetFor(out[2])
	}
	g.Meta.Labels = append([]string(nil), labels...)
	if opt.Report != nil {
		opt.Report.Labels = "none"
		if len(labels) > 0 {
			opt.Report.Labels = fmt.Sprintf("%s (%d)", from, len(labels))
		}
	}
	if g.Meta.Architecture == "mobilenet_v2" {
		g.Meta.Width = mobileNetV2Width(g, shapes)
	}
	return nil
}

// embedding names the output of the last global average pooling, the
// features a classifier head reads; "" when the network has none.
func embedding(g *ir.Graph) string {
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		if g.Nodes[i].Op == ir.GlobalAvgPool {
			return g.Nodes[i].Output
		}
	}
	return ""
}

// mobileNetV2Width recovers the width multiplier from the channel counts
// that Keras's MobileNetV2 derives from it: the last 1x1 convolution has
// 1280*alpha channels when alpha > 1 (1280 otherwise), the stem
// make_divisible(32*alpha, 8). Widths 0.35 and 0.5 share a stem of 16 and
// are left unknown (0).
func mobileNetV2Width(g *ir.Graph, shapes map[string]ir.Shape) float32 {
	var stem, last int
	for _, n := range g.Nodes {
		if n.Op == ir.Conv2D {
			if stem == 0 {
				stem = shapes[n.Output][2]
			}
			last = shapes[n.Output][2]
		}
		if n.Output == g.Meta.Embedding {
			break
		}
	}
	round := func(x float64) float32 { return float32(math.Round(x*100) / 100) }
	switch {
	case last > 1280:
		return round(float64(last) / 1280)
	case stem > 16:
		return round(float64(stem) / 32)
	}
	return 0
}

// maxInputSide and maxInputChannels bound a model's declared input, far
// above any real network's, so that a hostile file cannot make the engine
// plan gigantic buffers.
const (
	maxInputSide     = 1 << 14
	maxInputChannels = 1 << 12
)

func checkInput(name string, s ir.Shape) error {
	if s[0] > maxInputSide || s[1] > maxInputSide || s[2] > maxInputChannels {
		return fmt.Errorf("input %q: shape %v is larger than this converter accepts (%d pixels a side, %d channels)", name, s, maxInputSide, maxInputChannels)
	}
	return nil
}

// builder appends nodes to a graph under construction and answers the
// shape of any value built so far (by running ir's own shape inference,
// so the rules live in one place).
type builder struct {
	g      *ir.Graph
	shapes map[string]ir.Shape
}

func newBuilder(g *ir.Graph) *builder {
	return &builder{g: g, shapes: map[string]ir.Shape{g.Input: g.InputShape}}
}

// shape returns the shape of value, inferring the graph built so far when
// it is not known yet.
func (b *builder) shape(value string) (ir.Shape, error) {
	if s, ok := b.shapes[value]; ok {
		return s, nil
	}
	saved := b.g.Outputs
	b.g.Outputs = []string{value}
	shapes, err := b.g.Infer()
	b.g.Outputs = saved
	if err != nil {
		return ir.Shape{}, err
	}
	b.shapes = shapes
	return shapes[value], nil
}

// add appends a node whose name is also its output value.
func (b *builder) add(name string, op ir.Op, inputs, weights []string, a ir.Attrs) string {
	return b.g.AddNode(name, op, inputs, weights, a)
}
