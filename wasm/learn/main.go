//go:build js && wasm

// Command learn is the course page, "Inside the CNN", compiled with
// GOOS=js GOARCH=wasm to dist/learn.wasm and started by web/learn/learn.js.
// It is a program of its own, not part of glimpse.wasm, so the library
// stays lean. The interface itself is package web/learnui.
package main

import "github.com/glimpse-ml/glimpse/web/learnui"

func main() { learnui.Run() }
