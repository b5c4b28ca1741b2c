//go:build js && wasm && !classifier

package main

import "syscall/js"

// apiName is the global this program publishes its functions on.
const apiName = "__glimpse"

// addClassifierCalls adds nothing: model.classifier()'s calls are the
// classifier program's (classifier.go).
func (b *bridge) addClassifierCalls(sync, async map[string]func([]js.Value) (any, error)) {}
