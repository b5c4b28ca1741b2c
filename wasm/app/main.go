//go:build js && wasm

// Command app is the Glimpse web app, compiled with GOOS=js GOARCH=wasm
// to dist/app.wasm and started by web/app/app.js. The interface itself is
// package web/ui.
package main

import "github.com/glimpse-ml/glimpse/web/ui"

func main() { ui.Run() }
