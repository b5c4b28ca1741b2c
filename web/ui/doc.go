// Package ui is the Glimpse app's user interface, written in Go on
// honnef.co/go/js/dom/v2 and compiled with the app to WebAssembly
// (wasm/app). The page's HTML and CSS are static (web/app); this package
// fills them in and wires them up: classes as cards, webcam capture,
// uploads, training with a live chart, live predictions, autosave to
// IndexedDB, and export and import.
//
// It only draws. Loading the model, reading pixels from the camera and
// from uploads, yielding to the page, the memory policy and training are
// the browser runtime's (wasm/browser), the same code glimpse.js runs;
// the project file is web/project's. Go under WebAssembly runs on the
// page's one thread, so every long task (recording, training) runs in a
// goroutine that regularly waits on the browser through the runtime, and
// the page stays responsive.
package ui
