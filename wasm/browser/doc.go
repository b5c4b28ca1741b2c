//go:build js && wasm

// Package browser is Glimpse's one browser runtime: everything a GOOS=js
// program needs between a page and the engine, written once. Both browser
// programs stand on it, the library behind glimpse.js (wasm/glimpse, whose
// bridge only converts JavaScript values) and the app (its interface,
// wasm/app and web/ui, and its Worker, wasm/appworker and web/appworker,
// which holds the model); none talks to the engine except through it.
//
// What it owns:
//
//   - Loading a model with progress (load.go): a fetch Response, a Promise
//     of one, a URL or a Blob is streamed in with a fraction from 0 to 1,
//     refused past MaxModelBytes, and planned on the SIMD kernels (or the
//     pure-Go ones when asked).
//   - Reading pixels from any browser source (pixels.go): ImageData, an
//     <img>, a <video>, a canvas or OffscreenCanvas, an ImageBitmap or a
//     Blob, decoded by the browser without colour conversion and copied
//     into one reused buffer. Resizing is core/imageprep's, as the model
//     file says, never the canvas's: a PNG gets the command line's numbers.
//   - Yielding to the page (yield.go): Await, Yield, Sleep, NextFrame and a
//     Pacer that hands the thread back every ~50 ms of work.
//   - Memory policy (memory.go): the garbage collector's goal follows the
//     live heap, and a collection runs every 100 pictures or 32 MB of
//     pixels, so WebAssembly memory (which never shrinks) stays flat.
//   - The error boundary (boundary.go): Guard and Promise turn errors and
//     panics into {error} results and rejected Promises; the Go program
//     outlives any bad model or picture.
//   - Looking inside (inside.go): any layer's values on a picture, for the
//     course page's feature maps, class activation maps and logits.
//   - The classifier (classifier.go): core/classifier trained with a yield
//     after every epoch and between batches, on kernels.Exact, so a seed
//     gives the command line's head.
//
// The runtime is built to run in a dedicated Worker as well as on the
// page's thread: it uses no document, only OffscreenCanvas,
// createImageBitmap, fetch, setTimeout and the SIMD module, which Workers
// have. A Worker has no <img> or <video>: the page side turns those into
// an ImageBitmap (createImageBitmap, transferable) before posting them,
// and Pixels reads that as it reads any other source. NextFrame needs
// requestAnimationFrame, which dedicated Workers have in Chromium and
// Firefox; Yield and Sleep work everywhere.
package browser
