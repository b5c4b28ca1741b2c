//go:build js && wasm

// Command glimpse is the browser runtime: compiled with GOOS=js
// GOARCH=wasm it becomes dist/glimpse.wasm, the engine behind glimpse.js
// (the ES module beside this file, which is the public API). It exposes
// one global object, __glimpse, whose functions take and return plain
// JavaScript values: every call returns {value} or {error}, never throws,
// and glimpse.js turns errors into rejected Promises.
//
// Every call recovers from panics and reports them as errors: the Go
// program must outlive any bad model or image, since a dead Go runtime
// cannot be restarted without reloading the page.
//
// The program is kept lean (it is the download every user of the library
// pays for): no net/http, no DOM bindings; pixels arrive as RGBA bytes
// that the JavaScript side read from a canvas.
package main

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"runtime/debug"
	"syscall/js"
	"unsafe"

	"github.com/glimpse-ml/glimpse/core/classifier"
	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/version"
)

// runtimeState holds the models loaded in this page, by handle, and the
// one pixel buffer every call copies its image into: reusing it keeps the
// wasm memory flat however many frames a page classifies.
type runtimeState struct {
	models map[int]*model.Model
	next   int
	pix    []byte

	// The classifiers being built in this page, by handle (from the same
	// counter as models), and the ones whose training is under way: while
	// a training yields to the event loop between epochs, the page must
	// not change or export what it trains on.
	classifiers map[int]*classifier.Classifier
	training    map[int]bool

	// The constructors isBytes tests against, looked up once: every
	// js.Value made from a JavaScript object costs a finalizer.
	uint8Array, uint8ClampedArray js.Value

	// Calls and bytes of JavaScript arrays received since the last
	// collection (see collect).
	calls, pinned int
}

func main() {
	st := &runtimeState{
		models:            map[int]*model.Model{},
		classifiers:       map[int]*classifier.Classifier{},
		training:          map[int]bool{},
		uint8Array:        js.Global().Get("Uint8Array"),
		uint8ClampedArray: js.Global().Get("Uint8ClampedArray"),
	}
	api := js.Global().Get("Object").New()
	api.Set("version", runtime.Version())
	api.Set("glimpseVersion", version.Version)
	api.Set("kernels", kernels.Best().Name())
	// The functions live as long as the program: they are never released.
	for name, f := range map[string]func([]js.Value) (any, error){
		"load":     st.load,
		"classify": st.classify,
		"embed":    st.embed,
		"dispose":  st.dispose,
		"stats":    st.stats,

		"classifierNew":     st.classifierNew,
		"classifierAdd":     st.classifierAdd,
		"classifierTrain":   st.classifierTrain,
		"classifierPredict": st.classifierPredict,
		"classifierExport":  st.classifierExport,
		"classifierDispose": st.classifierDispose,
	} {
		api.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any {
			defer st.collect()
			return guard(func() (any, error) { return f(args) })
		}))
	}
	js.Global().Set("__glimpse", api)
	if ready := js.Global().Get("__glimpseReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // serve calls until the page goes away
}

// guard runs f and turns its result into {value} or {error}, panics included.
func guard(f func() (any, error)) (result any) {
	defer func() {
		if r := recover(); r != nil {
			result = map[string]any{"error": fmt.Sprint("internal error: ", r)}
		}
	}()
	v, err := f()
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"value": v}
}

// load(bytes Uint8Array, name string, simd bool) reads a model file and
// returns its handle and description. simd false plans the model on the
// pure-Go kernels even when the SIMD module is loaded (benchmarks, and a
// way out should a browser's SIMD misbehave).
func (st *runtimeState) load(args []js.Value) (any, error) {
	if len(args) != 3 || !st.isBytes(args[0]) || args[1].Type() != js.TypeString || args[2].Type() != js.TypeBoolean {
		return nil, errors.New("load takes (Uint8Array, name, simd)")
	}
	name := args[1].String()
	n := args[0].Get("byteLength").Int()
	if n == 0 {
		return nil, fmt.Errorf("%s: the file is empty", name)
	}
	data := make([]byte, n)
	js.CopyBytesToGo(data, args[0])
	st.pinned += n
	k := kernels.Best()
	if !args[2].Bool() {
		k = kernels.Go{}
	}
	m, err := model.FromBytes(name, data, model.Options{Kernels: k})
	if err != nil {
		return nil, err
	}
	g := m.Graph
	_, totals, err := g.Report()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	h := st.next
	st.next++
	st.models[h] = m
	data = nil
	st.tuneGC()
	labels := make([]any, len(g.Meta.Labels))
	for i, l := range g.Meta.Labels {
		labels[i] = l
	}
	return map[string]any{
		"handle":        h,
		"architecture":  g.Meta.Architecture,
		"params":        totals.Params,
		"macs":          totals.MACs,
		"inputSize":     []any{g.InputShape[0], g.InputShape[1], g.InputShape[2]},
		"labels":        labels,
		"hasClassifier": m.HasClassifier(),
		"embeddingSize": m.EmbeddingSize(),
		"kernels":       m.Engine().Kernels(),
		"source":        g.Meta.Source,
		"license":       g.Meta.License,
	}, nil
}

// classify(handle, rgba, width, height, topk) returns [{className,
// probability}], most probable first (topk <= 0: every class).
func (st *runtimeState) classify(args []js.Value) (any, error) {
	if len(args) != 5 || args[4].Type() != js.TypeNumber {
		return nil, errors.New("classify takes (handle, rgba, width, height, topk)")
	}
	m, img, err := st.image(args[:4])
	if err != nil {
		return nil, err
	}
	if !m.HasClassifier() {
		return nil, errors.New("this model has no classes; use embed() or train a classifier")
	}
	preds, err := m.Classify(img, args[4].Int())
	if err != nil {
		return nil, err
	}
	out := make([]any, len(preds))
	for i, p := range preds {
		out[i] = map[string]any{"className": p.ClassName, "probability": p.Probability}
	}
	return out, nil
}

// embed(handle, rgba, width, height) returns the backbone's features as
// the bytes of a little-endian Float32Array (glimpse.js views them as one).
func (st *runtimeState) embed(args []js.Value) (any, error) {
	if len(args) != 4 {
		return nil, errors.New("embed takes (handle, rgba, width, height)")
	}
	m, img, err := st.image(args)
	if err != nil {
		return nil, err
	}
	if m.EmbeddingSize() == 0 {
		return nil, errors.New("this model names no embedding layer, so it cannot embed")
	}
	feats, err := m.Embed(img)
	if err != nil {
		return nil, err
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(feats))), 4*len(feats))
	arr := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(arr, b)
	runtime.KeepAlive(feats)
	return arr, nil
}

// dispose(handle) forgets a model so the garbage collector can take its
// weights and buffers.
func (st *runtimeState) dispose(args []js.Value) (any, error) {
	if len(args) != 1 || args[0].Type() != js.TypeNumber {
		return nil, errors.New("dispose takes (handle)")
	}
	delete(st.models, args[0].Int())
	st.tuneGC()
	return nil, nil
}

// stats() reports the Go heap (runtimeInfo() in glimpse.js shows it;
// tests watch it to tell garbage from a leak).
func (st *runtimeState) stats([]js.Value) (any, error) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return map[string]any{
		"heapAlloc": ms.HeapAlloc,
		"heapSys":   ms.HeapSys,
		"numGC":     ms.NumGC,
		"sys":       ms.Sys,
		"models":    len(st.models),
	}, nil
}

// Collect at least this often, in calls and in bytes of JavaScript arrays
// received.
const (
	collectCalls = 100
	collectBytes = 32 << 20
)

// collect runs the garbage collector every collectCalls calls, or sooner
// when the pixel arrays handed over add up to collectBytes. Each
// JavaScript object a call receives or returns (the call's arguments, an
// image's pixels, the result) stays referenced from the JavaScript side
// until Go's collector finalizes its js.Value, and Go's pacer sees none of
// that: it only counts the Go heap, where a call leaves a few hundred
// bytes. Left to the pacer, a webcam would pin thousands of frames'
// pixels in the JavaScript heap, and the finalizer records would grow the
// WebAssembly memory, between two collections. The live heap is nearly
// all weights without pointers, so a collection takes about a millisecond.
func (st *runtimeState) collect() {
	st.calls++
	if st.calls >= collectCalls || st.pinned >= collectBytes {
		runtime.GC()
		st.calls, st.pinned = 0, 0
	}
}

// gcHeadroom is how much garbage may pile up between collections.
const gcHeadroom = 8 << 20

// tuneGC sets the collector's goal to the live heap plus gcHeadroom, once
// the set of models changed. The live heap is nearly all weights, which
// never become garbage; Go's default (collect when the heap has doubled)
// would let the small garbage of each call accumulate to the size of the
// models before collecting, and WebAssembly memory, once grown, never
// shrinks. With a fixed headroom the memory a page needs is the models
// plus a few megabytes, and it stays flat however many frames it sees.
func (st *runtimeState) tuneGC() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	pct := 100
	if ms.HeapAlloc > 0 {
		pct = int(min(100, max(5, gcHeadroom*100/ms.HeapAlloc)))
	}
	debug.SetGCPercent(int(pct))
}

// image finds the model and wraps the RGBA pixels, copied into the reused
// buffer, as an image for core/imageprep.
func (st *runtimeState) image(args []js.Value) (*model.Model, *image.NRGBA, error) {
	if args[0].Type() != js.TypeNumber || !st.isBytes(args[1]) || args[2].Type() != js.TypeNumber || args[3].Type() != js.TypeNumber {
		return nil, nil, errors.New("want (handle, rgba Uint8Array, width, height)")
	}
	m := st.models[args[0].Int()]
	if m == nil {
		return nil, nil, errors.New("this model was disposed")
	}
	w, h := args[2].Int(), args[3].Int()
	if w < 1 || h < 1 {
		return nil, nil, fmt.Errorf("the image is %dx%d pixels: nothing to see", w, h)
	}
	if int64(w)*int64(h) > imageprep.DefaultMaxPixels {
		return nil, nil, fmt.Errorf("the image is %dx%d pixels, more than the %d allowed", w, h, imageprep.DefaultMaxPixels)
	}
	n := args[1].Get("byteLength").Int()
	if n != 4*w*h {
		return nil, nil, fmt.Errorf("a %dx%d RGBA image needs %d bytes, got %d", w, h, 4*w*h, n)
	}
	if cap(st.pix) < n {
		st.pix = make([]byte, n)
	}
	st.pix = st.pix[:n]
	js.CopyBytesToGo(st.pix, args[1])
	st.pinned += n
	img, err := imageprep.FromRGBA(w, h, st.pix)
	if err != nil {
		return nil, nil, err
	}
	return m, img, nil
}

// isBytes tells whether v is a Uint8Array or Uint8ClampedArray, the two
// types js.CopyBytesToGo accepts (it panics on others).
func (st *runtimeState) isBytes(v js.Value) bool {
	return v.Type() == js.TypeObject && (v.InstanceOf(st.uint8Array) || v.InstanceOf(st.uint8ClampedArray))
}
