//go:build js && wasm

package appworker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"syscall/js"
	"time"

	"github.com/glimpse-ml/glimpse/core/tfjsexport"
	"github.com/glimpse-ml/glimpse/core/train"
	"github.com/glimpse-ml/glimpse/wasm/browser"
	"github.com/glimpse-ml/glimpse/web/project"
)

// AugmentSeed seeds the augmented views of recorded samples, so that the
// same sample always gets the same view.
const AugmentSeed = 1

// reportEvery is the shortest time between two of training's progress
// messages: a few a frame at most, so the page's bar and chart still move
// smoothly.
const reportEvery = 50 * time.Millisecond

// server is the Worker's state: the backbone, the model that embeds
// samples for the app's head (the backbone itself, or its multi-level
// features), and the head live pictures are judged by.
type server struct {
	rt       *browser.Runtime
	backbone *browser.Model
	features *browser.Model
	// multiLevel says features are multi-level (the preset's, on a
	// backbone that has them).
	multiLevel bool
	head       *train.Head
	where      string // the global scope's kind, which answers carry as a witness
}

// Serve answers the page's requests, one at a time in the order they
// came, for the life of the Worker. It tells the page it listens by
// posting {ready: true}: a message posted to a Worker before its handler
// is set would be lost.
func Serve() {
	s := &server{rt: browser.New(), where: js.Global().Get("constructor").Get("name").String()}
	inbox := newMailbox()
	js.Global().Set("onmessage", js.FuncOf(func(_ js.Value, a []js.Value) any {
		inbox.put(a[0].Get("data"))
		return nil
	}))
	js.Global().Call("postMessage", map[string]any{"ready": true})
	for {
		s.answer(inbox.take())
	}
}

// answer runs one request and posts its answer: {id, value} with the
// value's buffers transferred, or {id, error}.
func (s *server) answer(m js.Value) {
	id := m.Get("id")
	var transfer []any
	v, err := browser.Catch(func() (any, error) {
		v, t, err := s.run(m.Get("op").String(), m, func(event any) {
			js.Global().Call("postMessage", map[string]any{"id": id, "event": event})
		})
		transfer = t
		return v, err
	})
	if err != nil {
		js.Global().Call("postMessage", map[string]any{"id": id, "error": err.Error()})
		return
	}
	js.Global().Call("postMessage", map[string]any{"id": id, "value": v}, transfer)
}

func (s *server) run(op string, m js.Value, event func(any)) (any, []any, error) {
	if op != "load" && s.backbone == nil {
		return nil, nil, errors.New("no model is loaded")
	}
	switch op {
	case "load":
		return s.load(m, event)
	case "embed":
		return s.embed(m)
	case "head":
		return nil, nil, s.setHead(m.Get("head"))
	case "train":
		return s.train(m, event)
	case "export", "teachable":
		return s.export(op, m)
	}
	return nil, nil, fmt.Errorf("unknown request %q", op)
}

// load reads the backbone from a URL, with progress events, and picks
// the features the head preset reads.
func (s *server) load(m js.Value, progress func(any)) (any, []any, error) {
	name, preset := m.Get("name").String(), m.Get("preset").String()
	cfg, err := train.Preset(preset)
	if err != nil {
		return nil, nil, err
	}
	source := m.Get("url")
	// app-worker.js started fetching the page's model before Go ran.
	if pre := js.Global().Get("appModelPrefetch"); pre.Type() == js.TypeObject && pre.Get("url").Equal(source) {
		source = pre.Get("response")
		js.Global().Delete("appModelPrefetch")
	}
	b, err := s.rt.Load(name, source, true, func(f float64, _, _ int64) { progress(f) })
	if err != nil {
		return nil, nil, err
	}
	f, err := b.Features(cfg)
	single := false
	if err != nil && cfg.MultiLevel {
		// A backbone that flattens its last map into dense layers (AlexNet,
		// VGG16) has no global average pool to take the level below from:
		// its head reads the embedding alone.
		cfg.MultiLevel = false
		f, err = b.Features(cfg)
		single = true
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", name, err)
	}
	if s.backbone != nil {
		s.backbone.Close()
	}
	s.backbone, s.features, s.multiLevel, s.head = b, f, cfg.MultiLevel, nil
	s.warmUp(cfg)
	info := b.Info()
	return map[string]any{
		"architecture": info.Architecture, "kernels": info.Kernels, "hash": info.Hash,
		"preprocess": info.Preprocess.String(), "embeddingSize": f.Info().EmbeddingSize,
		"backboneEmbeddingSize": info.EmbeddingSize, "singleLevel": single,
	}, nil, nil
}

// embed embeds a picture (an ImageBitmap, closed here) and views
// augmented views of it (sample number index's), and with predict the
// head's probabilities for it, when there is a head.
func (s *server) embed(m js.Value) (any, []any, error) {
	pic := m.Get("picture")
	defer func() {
		if pic.Type() == js.TypeObject && pic.Get("close").Type() == js.TypeFunction {
			pic.Call("close")
		}
	}()
	emb, views, err := s.features.EmbedWithViews(pic, m.Get("views").Int(), AugmentSeed, m.Get("index").Int())
	if err != nil {
		return nil, nil, err
	}
	e := toJS(emb)
	transfer := []any{e.Get("buffer")}
	vs := make([]any, len(views))
	for i, v := range views {
		a := toJS(v)
		vs[i], transfer = a, append(transfer, a.Get("buffer"))
	}
	out := map[string]any{"embedding": e, "views": vs, "probabilities": nil, "where": s.where}
	if m.Get("predict").Bool() && s.head != nil {
		p, err := s.head.Probabilities(emb)
		if err != nil {
			return nil, nil, err
		}
		out["probabilities"] = toJS(p)
	}
	return out, transfer, nil
}

// warmUp trains a throwaway head of cfg on made-up samples (two classes
// of warmUpSamples, a few epochs) through the same request as the page's,
// once the model is loaded and before the page asks for anything else.
// V8 runs WebAssembly first as its baseline compiler translated it and
// optimizes a function only after it has run a while: a page's first
// training ran five times slower than the next (1.7 s against 0.33 s for
// 2 x 100 samples, 200 epochs), preparing the samples as much as
// training. The warm-up takes a few tens of milliseconds.
func (s *server) warmUp(cfg train.Config) {
	const epochs = 10
	dim := s.features.Info().EmbeddingSize
	cfg.Epochs = epochs
	conf, err := json.Marshal(cfg)
	if err != nil {
		return
	}
	x := make([]float32, warmUpSamples*dim)
	cls := make([]int32, warmUpSamples)
	for i := range x {
		x[i] = float32(i%97) / 97
	}
	for i := range cls {
		cls[i] = int32(i % 2)
	}
	m := js.Global().Get("Object").New()
	m.Set("config", string(conf))
	m.Set("classes", []any{"a", "b"})
	m.Set("examples", toJS(x))
	m.Set("exampleClass", toJS(cls))
	m.Set("views", toJS([]float32{}))
	m.Set("viewOf", toJS([]int32{}))
	_, _, _ = s.train(m, func(any) {})
	s.head = nil
}

// warmUpSamples is the made-up samples warmUp trains on: enough that the
// functions a training runs are each called, or loop, long enough for V8
// to optimize them.
const warmUpSamples = 64

// setHead makes a stored head (project.EncodeHead's bytes) the one live
// pictures are judged by; null removes it.
func (s *server) setHead(b js.Value) error {
	if b.IsNull() || b.IsUndefined() {
		s.head = nil
		return nil
	}
	h, err := s.decodeHead(b)
	if err != nil {
		return err
	}
	s.head = h
	return nil
}

func (s *server) decodeHead(b js.Value) (*train.Head, error) {
	raw, err := browser.BytesFromJS(b)
	if err != nil {
		return nil, err
	}
	h, err := project.DecodeHead("the head", raw)
	if err != nil {
		return nil, err
	}
	if want := s.features.Info().EmbeddingSize; h.In != want {
		return nil, fmt.Errorf("the head reads %d features, the model gives %d", h.In, want)
	}
	return h, nil
}

// train trains a head on the page's samples, posting the epochs as
// events (each an array of the epochs since the last), and makes it the head live pictures are judged by. The samples
// come as one array of every example's embedding (exampleClass[i] is
// example i's class, an index into classes) and one of the augmented
// views' (viewOf[j] is the example view j belongs to, in order); they are
// added as the page lists them, each example followed by its views, which
// is the order training sees them in.
func (s *server) train(m js.Value, epoch func(any)) (any, []any, error) {
	var cfg train.Config
	if err := json.Unmarshal([]byte(m.Get("config").String()), &cfg); err != nil {
		return nil, nil, fmt.Errorf("training settings: %v", err)
	}
	// The features loaded with the backbone, when the config reads them:
	// made anew, they cost more than training 200 samples.
	var clf *browser.Classifier
	var err error
	if cfg.MultiLevel == s.multiLevel {
		clf, err = s.backbone.NewClassifierOn(s.features, cfg)
	} else {
		clf, err = s.backbone.NewClassifier(cfg)
	}
	if err != nil {
		return nil, nil, err
	}
	classes := m.Get("classes")
	x, ok1 := fromJS[float32](m.Get("examples"))
	cls, ok2 := fromJS[int32](m.Get("exampleClass"))
	vx, ok3 := fromJS[float32](m.Get("views"))
	of, ok4 := fromJS[int32](m.Get("viewOf"))
	dim := clf.Dim()
	if !ok1 || !ok2 || !ok3 || !ok4 || len(x) != len(cls)*dim || len(vx) != len(of)*dim {
		return nil, nil, fmt.Errorf("the samples do not fit the model's %d features", dim)
	}
	examples, views := rows(x, dim), rows(vx, dim)
	v := 0
	for i, e := range examples {
		k := int(cls[i])
		if k < 0 || k >= classes.Length() {
			return nil, nil, fmt.Errorf("sample %d names class %d of %d", i+1, k, classes.Length())
		}
		idx, err := clf.AddExample(e, classes.Index(k).String())
		if err != nil {
			return nil, nil, err
		}
		for ; v < len(views) && int(of[v]) == i; v++ {
			if err := clf.AddView(views[v], idx); err != nil {
				return nil, nil, err
			}
		}
	}
	if v != len(views) {
		return nil, nil, fmt.Errorf("view %d belongs to no example", v+1)
	}
	x, vx, examples, views = nil, nil, nil, nil
	// Epochs go to the page in batches, one message every reportEvery at
	// most: 200 epochs of 200 samples take about a second, and a message
	// (and a repaint of the page's chart) per epoch cost the page's
	// thread and the Worker more than the epochs' arithmetic.
	var pending []any
	last := time.Now()
	flush := func() {
		if len(pending) > 0 {
			epoch(pending)
			pending, last = nil, time.Now()
		}
	}
	report, err := clf.Train(cfg, func(e train.Epoch) bool {
		pending = append(pending, map[string]any{
			"epoch": e.Epoch, "epochs": e.Epochs, "loss": e.Loss, "accuracy": e.Accuracy,
			"hasValidation": e.HasValidation, "valLoss": e.ValLoss, "valAccuracy": e.ValAccuracy,
		})
		if e.Epoch == e.Epochs || time.Since(last) >= reportEvery {
			flush()
		}
		return true
	})
	flush()
	if err != nil {
		return nil, nil, err
	}
	conf, err := clf.Confusion()
	if err != nil {
		return nil, nil, err
	}
	b, err := project.EncodeHead(clf.Head())
	if err != nil {
		return nil, nil, err
	}
	s.head = clf.Head()
	matrix := make([]any, len(conf))
	for i, row := range conf {
		r := make([]any, len(row))
		for j, n := range row {
			r[j] = n
		}
		matrix[i] = r
	}
	head := browser.BytesToJS(b)
	return map[string]any{
		"head": head, "train": report.Train, "validation": report.Validation, "stopped": report.Stopped,
		"confusion": matrix, "where": s.where,
	}, []any{head.Get("buffer")}, nil
}

// export writes the backbone with a head on top: a Glimpse model file
// ("export") or Teachable Machine's zip ("teachable"), whose head goes on
// the features it was trained on (for a multi-level head, a functional
// TF.js model that pools two levels and joins them, which Teachable
// Machine's loader runs like its own) and whose metadata says which head
// it holds.
func (s *server) export(op string, m js.Value) (any, []any, error) {
	h, err := s.decodeHead(m.Get("head"))
	if err != nil {
		return nil, nil, err
	}
	var out []byte
	if op == "export" {
		if out, err = s.backbone.Export(h); err != nil {
			return nil, nil, err
		}
	} else {
		g, err := s.backbone.Attach(h)
		if err != nil {
			return nil, nil, err
		}
		var buf bytes.Buffer
		at := time.UnixMilli(int64(m.Get("time").Float()))
		user := map[string]any{"head": h.Config.Head, "multiLevel": h.Config.MultiLevel, "standardized": h.Config.Standardize}
		if err := tfjsexport.Teachable(&buf, g, tfjsexport.TeachableOptions{ModelName: "glimpse", Time: at, UserMetadata: user}); err != nil {
			return nil, nil, err
		}
		out = buf.Bytes()
	}
	a := browser.BytesToJS(out)
	return a, []any{a.Get("buffer")}, nil
}
