// Package model is what the CLI and the browser library hold: a network
// read from a Glimpse file, planned on the engine, with its preprocessing
// and labels, answering "what is in this picture" (Classify) and "what does
// the backbone see" (Embed).
//
// It is the one place that turns pixels into predictions, so the command
// line and the browser cannot disagree: both hand it an image and it
// applies the file's own preprocessing through core/imageprep. Everything
// a prediction needs besides the run (which output is the classifier,
// whether it ends in a softmax, the class names, the preprocessing) is
// resolved once, in New, and the graph New is given is never changed.
package model

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"

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

// Options says how Open and FromBytes plan a model. The zero value is
// what the command line uses: the fastest kernels here, the file's own
// preprocessing.
type Options struct {
	// Kernels runs the network; nil means kernels.Best().
	Kernels kernels.Kernels
	// Preprocess, when not nil, replaces the file's preprocessing (for a
	// study of another resize rule, or a test). The model's Graph then
	// carries it too, so a model exported from this one keeps the rule
	// it was run with. The model file is where a rule belongs: no
	// program overrides it for its users.
	Preprocess *ir.Preprocess
}

func (o Options) kernels() kernels.Kernels {
	if o.Kernels == nil {
		return kernels.Best()
	}
	return o.Kernels
}

// Model is a loaded network. It is not safe for concurrent use; Clone
// gives another that shares the weights.
type Model struct {
	Name  string    // the file it came from, for messages
	Graph *ir.Graph // the network as given to New, never changed by the model

	info   *format.Info // the file's header; nil for a model made from a graph
	kern   kernels.Kernels
	eng    *engine.Engine
	prep   *imageprep.Preparer
	pre    ir.Preprocess
	input  []float32
	output string // the classifier's output value, "" for a backbone cut at its embedding
	embed  string // the embedding value, "" when the file names none

	// Resolved once by New for Predictions: whether the output already
	// holds probabilities, and a name for every class.
	softmaxed bool
	labels    []string
}

// ErrNoClassifier is returned by Classify on a backbone that was cut at
// its embedding: it has features but no classes.
var ErrNoClassifier = errors.New("the model has no classifier: it was cut at its embedding")

// Open reads a Glimpse file and plans it.
func Open(path string, opt Options) (*Model, error) {
	g, info, err := format.ReadFileInfo(path)
	if err != nil {
		return nil, err
	}
	return FromGraph(path, g, info, opt)
}

// FromBytes reads a Glimpse file held in memory (the browser's fetch).
func FromBytes(name string, data []byte, opt Options) (*Model, error) {
	g, info, err := format.ReadInfo(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		return nil, err
	}
	return FromGraph(name, g, info, opt)
}

// FromGraph plans a graph just read from a Glimpse file described by info
// (format.ReadInfo), so its own to change: FromBytes in two steps, for a
// caller that looks at the graph before it pays for planning.
func FromGraph(name string, g *ir.Graph, info *format.Info, opt Options) (*Model, error) {
	if opt.Preprocess != nil {
		g.Meta.Preprocess = *opt.Preprocess
	}
	m, err := New(name, g, opt.kernels())
	if err != nil {
		return nil, err
	}
	m.info = info
	return m, nil
}

// New plans g on the kernels k. The classifier output is the graph's first
// output unless that is the embedding; the engine computes the embedding
// (g.Meta.Embedding) too, so Embed needs no second pass. g is not
// changed: the engine runs a copy of its node list and outputs.
func New(name string, g *ir.Graph, k kernels.Kernels) (*Model, error) {
	m := &Model{Name: name, Graph: g, embed: g.Meta.Embedding, kern: k, pre: g.Meta.Preprocess}
	if len(g.Outputs) > 0 && g.Outputs[0] != m.embed {
		m.output = g.Outputs[0]
	}
	if m.embed != "" && g.Producer(m.embed) == nil {
		return nil, fmt.Errorf("%s: embedding %q is not a value of the network", name, m.embed)
	}
	run := g
	if m.embed != "" && !slices.Contains(g.Outputs, m.embed) {
		c := *g
		c.Outputs = append(slices.Clone(g.Outputs), m.embed)
		run = &c
	}
	eng, err := engine.New(run, k)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	m.eng = eng
	m.prep = new(imageprep.Preparer)
	m.input = make([]float32, g.InputShape.Size())
	if m.output != "" {
		p := g.Producer(m.output)
		m.softmaxed = p != nil && p.Op == ir.Softmax
		m.labels = make([]string, eng.Shape(m.output).Size())
		for i := range m.labels {
			m.labels[i] = fmt.Sprintf("class %d", i)
			if i < len(g.Meta.Labels) {
				m.labels[i] = g.Meta.Labels[i]
			}
		}
	}
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

// Kernels is what the model runs on.
func (m *Model) Kernels() kernels.Kernels { return m.kern }

// Info is the header of the file the model was read from: how its weights
// are stored, its checksums. It is nil for a model made by New.
func (m *Model) Info() *format.Info { return m.info }

// Preprocess is the rule the model prepares pictures with.
func (m *Model) Preprocess() ir.Preprocess { return m.pre }

// HasClassifier tells whether Classify can answer.
func (m *Model) HasClassifier() bool { return m.output != "" }

// EmbeddingSize is the length of Embed's vector, 0 without an embedding.
func (m *Model) EmbeddingSize() int {
	if m.embed == "" {
		return 0
	}
	return m.eng.Shape(m.embed).Size()
}

// Prepare writes img as the network's input, preprocessed as the model
// file says, into dst (of the input's size).
func (m *Model) Prepare(img image.Image, dst []float32) error {
	return m.prep.Prepare(img, m.pre, m.Graph.InputShape, dst)
}

// run preprocesses img and runs the network once.
func (m *Model) run(img image.Image) error {
	if err := m.Prepare(img, m.input); err != nil {
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
	if m.softmaxed {
		for i, v := range out {
			probs[i] = float64(v)
		}
	} else {
		softmax(out, probs)
	}
	return Top(m.labels, probs, k)
}

// Top pairs probabilities with their class names and returns the k most
// probable (k <= 0: all), most probable first; ties keep class order.
//
// A few of many (a classify's top 5 of ImageNet's 1000) are kept by
// insertion in one pass; sort.SliceStable over all of them cost 1.4 ms a
// picture under WebAssembly, as much as a tenth of the network.
func Top(labels []string, probs []float64, k int) []Prediction {
	if k <= 0 || k > len(probs) {
		k = len(probs)
	}
	if k > 32 {
		preds := make([]Prediction, len(probs))
		for i, p := range probs {
			preds[i] = Prediction{ClassName: labels[i], Probability: p}
		}
		slices.SortStableFunc(preds, func(a, b Prediction) int {
			switch {
			case a.Probability > b.Probability:
				return -1
			case b.Probability > a.Probability:
				return 1
			}
			return 0
		})
		return preds[:k]
	}
	top := make([]Prediction, 0, k)
	for i, p := range probs {
		if len(top) == k && !(p > top[k-1].Probability) {
			continue
		}
		// After every kept prediction at least as probable.
		j := len(top)
		for j > 0 && p > top[j-1].Probability {
			j--
		}
		if len(top) < k {
			top = append(top, Prediction{})
		}
		copy(top[j+1:], top[j:len(top)-1])
		top[j] = Prediction{ClassName: labels[i], Probability: p}
	}
	return top
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
