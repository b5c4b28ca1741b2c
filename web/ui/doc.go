// Package ui is the Glimpse app's user interface, written in Go on
// honnef.co/go/js/dom/v2 and compiled with the app to WebAssembly
// (wasm/app). The page's HTML and CSS are static (web/app); this package
// fills them in and wires them up: classes as cards, webcam capture,
// uploads, training with a live chart, live predictions, autosave to
// IndexedDB, and export and import.
//
// No math lives here: embeddings come from core/model, heads from
// core/train, the project file from web/project. Go under WebAssembly
// runs on the page's one thread, so every long task (recording, training)
// runs in a goroutine that regularly waits on the browser (an animation
// frame, a timer) and the page stays responsive.
package ui
