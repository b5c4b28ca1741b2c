//go:build js && wasm

// Command glimpse is the browser runtime: compiled with GOOS=js
// GOARCH=wasm it becomes dist/glimpse.wasm, the engine behind the
// JavaScript loader. It exposes one global object, __glimpse, whose
// functions take and return plain JavaScript values; the loader wraps them
// in the public API.
//
// Every call recovers from panics and reports them as errors: the Go
// program must outlive any bad model or image, since a dead Go runtime
// cannot be restarted without reloading the page.
package main

import (
	"fmt"
	"runtime"
	"syscall/js"

	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
)

// runtimeState holds the models loaded in this page, by handle.
type runtimeState struct {
	models []*model.Model
}

func main() {
	st := &runtimeState{}
	api := js.Global().Get("Object").New()
	api.Set("version", runtime.Version())
	api.Set("kernels", kernels.Best().Name())
	api.Set("load", js.FuncOf(func(this js.Value, args []js.Value) any { return guard(func() (any, error) { return st.load(args) }) }))
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

// load(bytes Uint8Array, name string) reads a model file and returns its
// handle and description.
func (st *runtimeState) load(args []js.Value) (any, error) {
	if len(args) != 2 || args[0].Type() != js.TypeObject || args[1].Type() != js.TypeString {
		return nil, fmt.Errorf("load takes (Uint8Array, name)")
	}
	data := make([]byte, args[0].Get("byteLength").Int())
	js.CopyBytesToGo(data, args[0])
	m, err := model.FromBytes(args[1].String(), data, kernels.Best())
	if err != nil {
		return nil, err
	}
	st.models = append(st.models, m)
	g := m.Graph
	_, totals, err := g.Report()
	if err != nil {
		return nil, err
	}
	labels := make([]any, len(g.Meta.Labels))
	for i, l := range g.Meta.Labels {
		labels[i] = l
	}
	return map[string]any{
		"handle":        len(st.models) - 1,
		"architecture":  g.Meta.Architecture,
		"params":        totals.Params,
		"macs":          totals.MACs,
		"input":         []any{g.InputShape[0], g.InputShape[1], g.InputShape[2]},
		"labels":        labels,
		"embeddingSize": m.EmbeddingSize(),
		"kernels":       m.Engine().Kernels(),
	}, nil
}
