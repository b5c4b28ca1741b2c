//go:build js && wasm

// Command glimpse is the program behind the JavaScript API: compiled with
// GOOS=js GOARCH=wasm it becomes dist/glimpse.wasm, which glimpse.js (the
// ES module beside this file, the public API) starts once per page. It
// exposes one global object, __glimpse, whose functions take and return
// plain JavaScript values, and is only that bridge: loading, pixels,
// yielding, memory, errors and the classifier are the browser runtime's
// (wasm/browser), which the app stands on too.
//
// Built with the tag classifier it becomes dist/glimpse-classifier.wasm,
// the same bridge with model.classifier()'s calls (classifier.go),
// published as __glimpseClassifier. Training a head and writing a model
// file take a tenth of the download (core/train, core/classifier, the
// file writer), which pages that only classify or embed never run, so
// glimpse.js starts that program only when a classifier is first made.
//
// Synchronous functions return {value} or {error} and never throw; the
// others return a Promise. glimpse.js turns errors into rejections.
//
// The program is kept lean (it is the download every user of the library
// pays for): no net/http, no DOM bindings, no user interface.
package main

import (
	"errors"
	"runtime"
	"syscall/js"
	"unsafe"

	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/version"
	"github.com/glimpse-ml/glimpse/wasm/browser"
)

// bridge holds the models and classifiers of this page by handle.
type bridge struct {
	rt          *browser.Runtime
	models      map[int]*browser.Model
	classifiers map[int]*browser.Classifier
	next        int
}

func main() {
	b := &bridge{rt: browser.New(), models: map[int]*browser.Model{}, classifiers: map[int]*browser.Classifier{}}
	api := js.Global().Get("Object").New()
	api.Set("version", runtime.Version())
	api.Set("glimpseVersion", version.Version)
	api.Set("kernels", browser.Kernels())
	// The functions live as long as the program: they are never released.
	sync := map[string]func([]js.Value) (any, error){
		"dispose": b.dispose,
		"stats":   b.stats,
	}
	async := map[string]func([]js.Value) (any, error){
		"load":     b.load,
		"classify": b.classify,
		"embed":    b.embed,
	}
	b.addClassifierCalls(sync, async)
	for name, f := range sync {
		api.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any {
			return browser.Guard(func() (any, error) { return f(args) })
		}))
	}
	for name, f := range async {
		api.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any {
			return browser.Promise(func() (any, error) { return f(args) })
		}))
	}
	js.Global().Set(apiName, api)
	if ready := js.Global().Get(apiName + "Ready"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // serve calls until the page goes away
}

// load(source, name, simd, onProgress) reads a model file from a URL, a
// fetch Response (or a Promise of one) or a Blob and resolves to its
// handle and description. onProgress, if a function, hears (fraction,
// {loaded, total}).
func (b *bridge) load(args []js.Value) (any, error) {
	if len(args) != 4 || args[1].Type() != js.TypeString || args[2].Type() != js.TypeBoolean {
		return nil, errors.New("load takes (source, name, simd, onProgress)")
	}
	var progress browser.Progress
	if cb := args[3]; cb.Type() == js.TypeFunction {
		progress = func(f float64, loaded, total int64) {
			t := any(nil)
			if total > 0 {
				t = total
			}
			cb.Invoke(f, map[string]any{"loaded": loaded, "total": t})
		}
	}
	m, err := b.rt.Load(args[1].String(), args[0], args[2].Bool(), progress)
	if err != nil {
		return nil, err
	}
	h := b.handle()
	b.models[h] = m
	info := m.Info()
	labels := make([]any, len(info.Labels))
	for i, l := range info.Labels {
		labels[i] = l
	}
	return map[string]any{
		"handle":        h,
		"architecture":  info.Architecture,
		"params":        info.Params,
		"macs":          info.MACs,
		"inputSize":     []any{info.InputSize[0], info.InputSize[1], info.InputSize[2]},
		"labels":        labels,
		"hasClassifier": info.HasClassifier,
		"embeddingSize": info.EmbeddingSize,
		"kernels":       info.Kernels,
		"source":        info.Source,
		"license":       info.License,
		// The file's hash tells glimpse.js that the classifier program
		// loaded the same file again (it is not part of model.info()).
		"hash": info.Hash,
	}, nil
}

func (b *bridge) handle() int {
	h := b.next
	b.next++
	return h
}

func (b *bridge) model(v js.Value) (*browser.Model, error) {
	if v.Type() != js.TypeNumber {
		return nil, errors.New("want a model handle")
	}
	m := b.models[v.Int()]
	if m == nil {
		return nil, errors.New("this model was disposed")
	}
	return m, nil
}

// classify(handle, picture, topk) resolves to [{className, probability}],
// most probable first (topk <= 0: every class).
func (b *bridge) classify(args []js.Value) (any, error) {
	if len(args) != 3 || args[2].Type() != js.TypeNumber {
		return nil, errors.New("classify takes (handle, picture, topk)")
	}
	m, err := b.model(args[0])
	if err != nil {
		return nil, err
	}
	preds, err := m.Classify(args[1], args[2].Int())
	if err != nil {
		return nil, err
	}
	return predictions(preds), nil
}

func predictions(preds []model.Prediction) []any {
	out := make([]any, len(preds))
	for i, p := range preds {
		out[i] = map[string]any{"className": p.ClassName, "probability": p.Probability}
	}
	return out
}

// embed(handle, picture) resolves to the backbone's features as the bytes
// of a little-endian Float32Array (glimpse.js views them as one).
func (b *bridge) embed(args []js.Value) (any, error) {
	if len(args) != 2 {
		return nil, errors.New("embed takes (handle, picture)")
	}
	m, err := b.model(args[0])
	if err != nil {
		return nil, err
	}
	feats, err := m.Embed(args[1])
	if err != nil {
		return nil, err
	}
	arr := browser.BytesToJS(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(feats))), 4*len(feats)))
	runtime.KeepAlive(feats)
	return arr, nil
}

// dispose(handle) forgets a model so the garbage collector can take its
// weights and buffers.
func (b *bridge) dispose(args []js.Value) (any, error) {
	if len(args) != 1 || args[0].Type() != js.TypeNumber {
		return nil, errors.New("dispose takes (handle)")
	}
	if m := b.models[args[0].Int()]; m != nil {
		delete(b.models, args[0].Int())
		m.Close()
	}
	return nil, nil
}

// stats() reports the Go heap (runtimeInfo() in glimpse.js shows it).
func (b *bridge) stats([]js.Value) (any, error) {
	s := browser.ReadStats()
	return map[string]any{
		"heapAlloc": s.HeapAlloc,
		"heapSys":   s.HeapSys,
		"numGC":     s.NumGC,
		"sys":       s.Sys,
		"models":    len(b.models),
	}, nil
}
