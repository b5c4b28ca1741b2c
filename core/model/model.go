// Package model is what the CLI and the browser library hold: a network
// read from a Glimpse file, planned on the engine, with its preprocessing
// and labels, answering "what is in this picture" (Classify) and "what does
// the backbone see" (Embed).
//
// It is the one place that turns pixels into predictions, so the command
// line and the browser cannot disagree: both hand it an image and it
// applies the file's own preprocessing through core/imageprep.
package model

import (
	"errors"
	"fmt"
	"image"
	"math"
	"sort"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// Prediction is one class and its probability, named as the TF.js models
// name them so that JSON consumers of either can read both.
type Prediction struct {
	ClassName   string  `json:"className"`
	Probability float64 `json:"probability"`
}

// Model is a loaded network. It is not safe for concurrent use; Clone
// gives another that shares the weights.
type Model struct {
	Name   string // the file it came from, for messages
	Graph  *ir.Graph
	eng    *engine.Engine
	prep   *imageprep.Preparer
	input  []float32
	output string // the classifier's output value, "" for a backbone cut at its embedding
	embed  string // the embedding value, "" when the file names none
	kern   kernels.Kernels
}

// ErrNoClassifier is returned by Classify on a backbone that was cut at
// its embedding: it has features but no classes.
var ErrNoClassifier = errors.New("the model has no classifier: it was cut at its embedding")

// Open reads a Glimpse file and plans it on the fastest kernels here.
func Open(path string) (*Model, error) {
	g, err := format.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return New(path, g, kernels.Best())
}

// FromBytes reads a Glimpse file held in memory (the browser's fetch).
func FromBytes(name string, data []byte, k kernels.Kernels) (*Model, error) {
	g, err := format.Read(byteReader(data), int64(len(data)), name)
	if err != nil {
		return nil, err
	}
	return New(name, g, k)
}

type byteReader []byte

func (b byteReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(b)) {
		return 0, fmt.Errorf("offset %d outside %d bytes", off, len(b))
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, errors.New("unexpected end of data")
	}
	return n, nil
}

// New plans g on the kernels k. The classifier output is the graph's first
// output unless that is the embedding; the embedding (g.Meta.Embedding)
// is made an output too so Embed needs no second pass.
func New(name string, g *ir.Graph, k kernels.Kernels) (*Model, error) {
	m := &Model{Name: name, Graph: g, embed: g.Meta.Embedding, kern: k}
	if len(g.Outputs) > 0 && g.Outputs[0] != m.embed {
		m.output = g.Outputs[0]
	}
	if m.embed != "" {
		present := false
		for _, o := range g.Outputs {
			present = present || o == m.embed
		}
		if !present {
			if g.Producer(m.embed) == nil {
				return nil, fmt.Errorf("%s: embedding %q is not a value of the network", name, m.embed)
			}
			g.Outputs = append(g.Outputs, m.embed)
		}
	}
	eng, err := engine.New(g, k)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m.eng = eng
	m.prep = new(imageprep.Preparer)
	m.input = make([]float32, g.InputShape.Size())
	return m, nil
}

// Clone returns a model sharing this one's weights, for another goroutine.
func (m *Model) Clone() *Model {
	c := *m
	c.eng = m.eng.Clone()
	c.prep = new(imageprep.Preparer)
	c.input = make([]float32, len(m.input))
	return &c
}

// Engine exposes the planned engine (benchmarks, info).
func (m *Model) Engine() *engine.Engine { return m.eng }

// HasClassifier tells whether Classify can answer.
func (m *Model) HasClassifier() bool { return m.output != "" }

// EmbeddingSize is the length of Embed's vector, 0 without an embedding.
func (m *Model) EmbeddingSize() int {
	if m.embed == "" {
		return 0
	}
	return m.eng.Shape(m.embed).Size()
}

// run preprocesses img and runs the network once.
func (m *Model) run(img image.Image) error {
	if err := m.prep.Prepare(img, m.Graph.Meta.Preprocess, m.Graph.InputShape, m.input); err != nil {
		return err
	}
	return m.eng.Run(m.input)
}

// RunInput runs the network on an already preprocessed NHWC input.
func (m *Model) RunInput(input []float32) error { return m.eng.Run(input) }

// Classify returns the top k classes (k <= 0: all), most probable first.
// A network whose last layer is not a softmax gets one applied here, so
// the numbers are always probabilities.
func (m *Model) Classify(img image.Image, k int) ([]Prediction, error) {
	if !m.HasClassifier() {
		return nil, ErrNoClassifier
	}
	if err := m.run(img); err != nil {
		return nil, err
	}
	return m.Predictions(k), nil
}

// Predictions reads the classifier output of the last run as top-k
// probabilities.
func (m *Model) Predictions(k int) []Prediction {
	out := m.eng.Output(m.output)
	probs := make([]float64, len(out))
	if p := m.Graph.Producer(m.output); p != nil && p.Op == ir.Softmax {
		for i, v := range out {
			probs[i] = float64(v)
		}
	} else {
		softmax(out, probs)
	}
	labels := m.Graph.Meta.Labels
	preds := make([]Prediction, len(probs))
	for i, p := range probs {
		name := fmt.Sprintf("class %d", i)
		if i < len(labels) {
			name = labels[i]
		}
		preds[i] = Prediction{ClassName: name, Probability: p}
	}
	sort.SliceStable(preds, func(a, b int) bool { return preds[a].Probability > preds[b].Probability })
	if k > 0 && k < len(preds) {
		preds = preds[:k]
	}
	return preds
}

func softmax(x []float32, out []float64) {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v))
	}
	sum := 0.0
	for i, v := range x {
		out[i] = math.Exp(float64(v) - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
}

// Embed returns the backbone's features for img (a new slice).
func (m *Model) Embed(img image.Image) ([]float32, error) {
	if m.embed == "" {
		return nil, fmt.Errorf("%s: the model names no embedding", m.Name)
	}
	if err := m.run(img); err != nil {
		return nil, err
	}
	return append([]float32(nil), m.eng.Output(m.embed)...), nil
}

// Output returns a named output of the last run (a view, valid until the
// next run).
func (m *Model) Output(name string) []float32 { return m.eng.Output(name) }
