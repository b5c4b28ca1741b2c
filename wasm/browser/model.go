//go:build js && wasm

package browser

import (
	"bytes"
	"errors"
	"fmt"
	"syscall/js"

	"github.com/glimpse-ml/glimpse/core/augment"
	"github.com/glimpse-ml/glimpse/core/classifier"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
)

// Model is a model loaded in the browser: core/model fed with pictures the
// browser holds.
type Model struct {
	rt *Runtime
	g  *ir.Graph       // the network as read
	k  kernels.Kernels // the kernels it is planned on
	m  *model.Model    // the whole network, planned: at once by Open, at first use after LoadInside
	// plan plans m, for a model LoadInside read; nil once done.
	plan   func() (*model.Model, error)
	in     *inside // the plan Inside keeps values with, once asked
	closed bool
}

// Load reads a model file from source (see ReadModel) with progress and
// plans it (see Open).
func (rt *Runtime) Load(name string, source js.Value, simd bool, progress Progress) (*Model, error) {
	data, err := ReadModel(name, source, progress)
	if err != nil {
		return nil, err
	}
	mark("glimpse:read " + name)
	m, err := rt.Open(name, data, simd)
	if err == nil {
		mark("glimpse:planned " + name)
	}
	return m, err
}

// mark records a User Timing mark (performance.mark), so that a page's
// performance panel, and the startup benchmark, show where a load's time
// went: the file read, then decoded, folded and packed.
func mark(name string) {
	if p := js.Global().Get("performance"); p.Type() == js.TypeObject && p.Get("mark").Type() == js.TypeFunction {
		p.Call("mark", name)
	}
}

// LoadInside is Load for a page that shows what happens inside the
// network: the file is read and checked, but the whole network is planned
// only when something other than Inside first needs it (Embed, Classify,
// Info...). Inside plans just the layers that lead to the values it is
// asked for, so a page's first look at the early layers costs the
// packing of those layers' weights only, not the whole network's.
func (rt *Runtime) LoadInside(name string, source js.Value, simd bool, progress Progress) (*Model, error) {
	data, err := ReadModel(name, source, progress)
	if err != nil {
		return nil, err
	}
	// ReadInfo has checked the graph (its shapes infer, as Open's
	// Report needs).
	g, info, err := format.ReadInfo(bytes.NewReader(data), int64(len(data)), name)
	if err != nil {
		return nil, err
	}
	k := kernelsFor(simd)
	m := &Model{rt: rt, g: g, k: k}
	m.plan = func() (*model.Model, error) { return model.FromGraph(name, g, info, model.Options{Kernels: k}) }
	return m, nil
}

// Kernels names the kernels models are planned on here: the WebAssembly
// SIMD ones when the page loaded their module, the pure-Go ones otherwise.
func Kernels() string { return kernels.Best().Name() }

// kernelsFor is the kernels a model is planned on (see Open).
func kernelsFor(simd bool) kernels.Kernels {
	if !simd {
		return kernels.Go{}
	}
	return kernels.Best()
}

// Open plans a model file held in memory on the WebAssembly SIMD kernels
// when the page loaded them, or on the pure-Go kernels when simd is false
// (benchmarks, and a way out should a browser's SIMD misbehave).
func (rt *Runtime) Open(name string, data []byte, simd bool) (*Model, error) {
	k := kernelsFor(simd)
	m, err := model.FromBytes(name, data, model.Options{Kernels: k})
	if err != nil {
		return nil, err
	}
	if _, _, err := m.Graph.Report(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	data = nil
	rt.mem.tune()
	return &Model{rt: rt, g: m.Graph, k: k, m: m}, nil
}

// Close tells the runtime the model is no longer used, so that the memory
// policy follows the smaller live heap once the model is garbage.
func (m *Model) Close() {
	m.m, m.in, m.plan, m.closed = nil, nil, nil, true
	m.rt.mem.tune()
}

// model is the whole network, planned.
func (m *Model) model() (*model.Model, error) {
	if m == nil || m.closed {
		return nil, errors.New("this model was disposed")
	}
	if m.m == nil {
		mm, err := m.plan()
		if err != nil {
			return nil, err
		}
		m.m, m.plan = mm, nil
		m.rt.mem.tune()
	}
	return m.m, nil
}

// Info is what a model file says about itself (the JavaScript API's
// model.info()).
type Info struct {
	Architecture  string
	Params, MACs  int64
	InputSize     ir.Shape
	Labels        []string
	HasClassifier bool
	EmbeddingSize int
	Kernels       string
	Source        string
	License       string
	// Hash names the file (see format.Info.Hash) and Preprocess is the
	// rule its pictures are prepared with: what a saved project records.
	Hash       string
	Preprocess ir.Preprocess
}

// Info describes the model (planning it if LoadInside has not yet).
func (m *Model) Info() Info {
	if _, err := m.model(); err != nil {
		return Info{}
	}
	g := m.m.Graph
	_, totals, _ := g.Report()
	info := Info{
		Architecture: g.Meta.Architecture, Params: totals.Params, MACs: totals.MACs, InputSize: g.InputShape,
		Labels: append([]string{}, g.Meta.Labels...), HasClassifier: m.m.HasClassifier(), EmbeddingSize: m.m.EmbeddingSize(),
		Kernels: m.m.Engine().Kernels(), Source: g.Meta.Source, License: g.Meta.License, Preprocess: m.m.Preprocess(),
	}
	if fi := m.m.Info(); fi != nil {
		info.Hash = fi.Hash()
	}
	if q := m.m.Engine().Int8Kernels(); q != "" {
		info.Kernels += " int8=" + q // a calibrated model computes in int8, as the CLI's bench says
	}
	return info
}

// Embed returns the backbone's features for a picture (see Pixels).
func (m *Model) Embed(src js.Value) ([]float32, error) {
	mm, err := m.model()
	if err != nil {
		return nil, err
	}
	if mm.EmbeddingSize() == 0 {
		return nil, errors.New("this model names no embedding layer, so it cannot embed")
	}
	img, err := m.rt.Pixels(src)
	if err != nil {
		return nil, err
	}
	return mm.Embed(img)
}

// EmbedWithViews returns the features of a picture and of views augmented
// views of it (augment.Default, drawn from seed for example number index).
func (m *Model) EmbedWithViews(src js.Value, views int, seed uint64, index int) ([]float32, [][]float32, error) {
	mm, err := m.model()
	if err != nil {
		return nil, nil, err
	}
	img, err := m.rt.Pixels(src)
	if err != nil {
		return nil, nil, err
	}
	e, err := mm.Embed(img)
	if err != nil {
		return nil, nil, err
	}
	var out [][]float32
	for v := 1; v <= views; v++ {
		vi, err := augment.Default().View(img, seed, index, v)
		if err != nil {
			return nil, nil, err
		}
		ve, err := mm.Embed(vi)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, ve)
	}
	return e, out, nil
}

// Classify returns the top k classes of a picture (k <= 0: all), most
// probable first.
func (m *Model) Classify(src js.Value, k int) ([]model.Prediction, error) {
	mm, err := m.model()
	if err != nil {
		return nil, err
	}
	if !mm.HasClassifier() {
		return nil, errors.New("this model has no classes; use embed() or train a classifier")
	}
	img, err := m.rt.Pixels(src)
	if err != nil {
		return nil, err
	}
	return mm.Classify(img, k)
}

// Graph is the model's network (for exporters).
func (m *Model) Graph() *ir.Graph { return m.g }

// Features returns the model whose embedding a head of config cfg reads
// (classifier.Features: this model, or its multi-level features on the
// same weights), for a page that embeds its pictures once and trains on
// them later, as the app does.
func (m *Model) Features(cfg train.Config) (*Model, error) {
	mm, err := m.model()
	if err != nil {
		return nil, err
	}
	f, _, err := classifier.Features(mm, cfg)
	if err != nil {
		return nil, err
	}
	return &Model{rt: m.rt, g: f.Graph, k: m.k, m: f}, nil
}

// Attach returns this backbone's network with head h on the features h
// was trained on (for exporters such as Teachable Machine's).
func (m *Model) Attach(h *train.Head) (*ir.Graph, error) {
	f, err := m.Features(h.Config)
	if err != nil {
		return nil, err
	}
	return h.Attach(f.m.Graph)
}

// Export returns the model with a head trained on its features (a saved
// project's) as one self-contained model file, stored as
// classifier.ExportDType says.
func (m *Model) Export(h *train.Head) ([]byte, error) {
	mm, err := m.model()
	if err != nil {
		return nil, err
	}
	f, _, err := classifier.Features(mm, h.Config)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := classifier.Write(&buf, h, f, ""); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
