// Package ui is the Glimpse app's user interface, written in Go on
// honnef.co/go/js/dom/v2 and compiled with the app to WebAssembly
// (wasm/app). The page's HTML and CSS are static (web/app); this package
// fills them in and wires them up: classes as cards, webcam capture,
// uploads, training with a live chart, live predictions, autosave to
// IndexedDB, and export and import.
//
// It only draws. The model lives in the app's dedicated Worker
// (web/appworker), which embeds camera frames and uploads, judges them
// with the trained head and trains it, on the browser runtime
// (wasm/browser), the same code glimpse.js runs; pictures go there as
// ImageBitmaps, transferred. The project (its classes, samples and head,
// IndexedDB, the project file, web/project's) stays here. Go under
// WebAssembly runs on one thread, so whatever waits (the Worker, the
// store, the camera) waits on a goroutine, and the page's thread is free
// meanwhile.
package ui
