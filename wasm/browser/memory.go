//go:build js && wasm

package browser

import (
	"runtime"
	"runtime/debug"
)

// Collect at least this often, in pictures read and in bytes handed over
// from JavaScript.
const (
	collectCalls = 100
	collectBytes = 32 << 20
)

// gcHeadroom is how much garbage may pile up between collections.
const gcHeadroom = 8 << 20

// memory is the runtime's memory policy. WebAssembly memory, once grown,
// never shrinks, so the runtime keeps the heap near the live set: the
// models' weights (which never become garbage) plus a few megabytes.
type memory struct {
	calls, pinned int
}

// account runs the garbage collector every collectCalls pictures, or
// sooner when the bytes handed over add up to collectBytes. Each
// JavaScript object Go receives or returns (a call's arguments, a
// picture's pixels, a result) stays referenced from the JavaScript side
// until Go's collector finalizes its js.Value, and Go's pacer sees none of
// that: it only counts the Go heap, where a call leaves a few hundred
// bytes. Left to the pacer, a webcam would pin thousands of frames'
// pixels in the JavaScript heap, and the finalizer records would grow the
// WebAssembly memory, between two collections. The live heap is nearly
// all weights without pointers, so a collection takes about a millisecond.
func (m *memory) account(bytes int) {
	m.calls++
	m.pinned += bytes
	if m.calls >= collectCalls || m.pinned >= collectBytes {
		runtime.GC()
		m.calls, m.pinned = 0, 0
	}
}

// tune sets the collector's goal to the live heap plus gcHeadroom; call it
// when the set of models changed. Go's default (collect when the heap has
// doubled) would let the small garbage of each call accumulate to the size
// of the models before collecting. With a fixed headroom the memory a page
// needs is the models plus a few megabytes, and it stays flat however many
// frames it sees.
func (m *memory) tune() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	pct := 100
	if ms.HeapAlloc > 0 {
		pct = int(min(100, max(5, gcHeadroom*100/ms.HeapAlloc)))
	}
	debug.SetGCPercent(pct)
	m.calls, m.pinned = 0, 0
}

// Stats is the Go heap as runtimeInfo() shows it; tests watch it to tell
// garbage from a leak.
type Stats struct {
	HeapAlloc, HeapSys, Sys uint64
	NumGC                   uint32
}

// ReadStats reads the Go heap's figures.
func ReadStats() Stats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Stats{HeapAlloc: ms.HeapAlloc, HeapSys: ms.HeapSys, Sys: ms.Sys, NumGC: ms.NumGC}
}
