//go:build js && wasm

// Command appworker is the Glimpse app's dedicated Worker, compiled with
// GOOS=js GOARCH=wasm to dist/app-worker.wasm and started by
// web/app/app-worker.js: it holds the model and the classifier, embeds
// pictures, predicts and trains, while the page's thread (wasm/app) only
// draws. Its protocol is web/appworker's.
package main

import "github.com/glimpse-ml/glimpse/web/appworker"

func main() { appworker.Serve() }
