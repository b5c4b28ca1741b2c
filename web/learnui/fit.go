package learnui

import (
	"io"

	"github.com/glimpse-ml/glimpse/core/format"
)

// Whether a network fits is decided before its file is read: a
// torchvision VGG16 holds 138 million weights, and a page that runs out of
// memory halfway through reading it is a crashed tab, not a message. The
// file's header (read first, from the start of the file) counts the
// weights; what the loaded network needs is estimated from them and set
// against the least of the limits the browser tells.

// activationAllowance is what the estimate adds for the network's
// activations and the page's own use: VGG16's largest two activations at
// 224x224 take 25 MB, and a lesson keeps a few more.
const activationAllowance = 64 << 20

// wasmLimit is the most memory a 32-bit WebAssembly program can address.
const wasmLimit = 4 << 30

// need is what a model file needs once loaded.
type need struct {
	File    int64 // the file's bytes, held while they are decoded
	Params  int64 // its weights, every tensor's elements
	Weights int64 // those weights as float32, as the engine computes
	// Total is the file, the weights twice (as read, and arranged for the
	// kernels), and the activation allowance.
	Total int64
}

func needOf(info *format.Info, size int64) need {
	n := need{File: size}
	for i := range info.Tensors {
		n.Params += info.Tensors[i].Elements()
	}
	n.Weights = 4 * n.Params
	n.Total = n.File + 2*n.Weights + activationAllowance
	return n
}

// budget is the memory the page may use for a model, and the limit that
// sets it.
type budget struct {
	Limit int64
	// By is the limit that decides: "wasm" (4 GiB less what the program
	// holds already), "device" (half the memory the device reports) or
	// "heap" (the browser's own limit for the page).
	By string
	// Device is navigator.deviceMemory in bytes, 0 when not told.
	Device int64
}

// budgetOf takes the least of the limits: used is the memory the program
// holds now, device the device's memory (0: unknown), heap the browser's
// heap limit for the page (0: unknown).
func budgetOf(used, device, heap int64) budget {
	b := budget{Limit: wasmLimit - used, By: "wasm", Device: device}
	if device > 0 && device/2 < b.Limit {
		b.Limit, b.By = device/2, "device"
	}
	if heap > 0 && heap < b.Limit {
		b.Limit, b.By = heap, "heap"
	}
	return b
}

// prefixReader reads the first bytes of a file whose whole size is known;
// short records a read past them, so the caller knows to fetch more.
type prefixReader struct {
	b     []byte
	short bool
}

func (r *prefixReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > int64(len(r.b)) {
		r.short = true
		return 0, io.ErrUnexpectedEOF
	}
	return copy(p, r.b[off:]), nil
}
