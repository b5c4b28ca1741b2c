// Package appworker runs the app's model and classifier in a dedicated
// Worker, so that the page's thread only draws. The page's half (Worker,
// used by web/ui) posts requests and waits for their answers; the
// Worker's half (Serve, the whole of wasm/appworker) owns the backbone,
// the head that predicts, and training, on the browser runtime
// (wasm/browser), as glimpse.js's Worker does.
//
// Why split here, and not move the whole interface into the Worker behind
// a proxy of the DOM: the interface makes thousands of small DOM calls
// (cards, thumbnails, meters, the chart), each of which would become a
// message, while the heavy work is a handful of calls with few, large
// arguments: a picture in, an embedding and probabilities out; every
// sample's embedding in, a trained head out. Those cross the thread
// boundary cheaply and once: a picture goes as an ImageBitmap made on the
// page and transferred, never copied; embeddings travel as one typed array
// whose buffer is transferred. The project (its samples, IndexedDB, the
// project file) stays the interface's, so the Worker keeps no state that
// could drift from it but the backbone and the head it predicts with,
// which the page sets whenever its own changes. It needs no special
// headers: a plain module Worker, no shared memory.
//
// The Worker answers requests one at a time, in the order they were
// posted, so a head set before a picture is the head that judges it.
package appworker
