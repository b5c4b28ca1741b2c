//go:build js && wasm

package appworker

import (
	"sync"
	"syscall/js"
	"unsafe"
)

// mailbox is an unbounded queue of messages. A JavaScript callback puts
// into it without ever blocking (a callback that blocks holds up the event
// loop the reader may be waiting on), and one goroutine takes from it, in
// order.
type mailbox struct {
	mu    sync.Mutex
	items []js.Value
	wake  chan struct{}
}

func newMailbox() *mailbox { return &mailbox{wake: make(chan struct{}, 1)} }

func (m *mailbox) put(v js.Value) {
	m.mu.Lock()
	m.items = append(m.items, v)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// take blocks until a message is there and returns the oldest.
func (m *mailbox) take() js.Value {
	for {
		m.mu.Lock()
		if len(m.items) > 0 {
			v := m.items[0]
			m.items[0] = js.Undefined()
			m.items = m.items[1:]
			m.mu.Unlock()
			return v
		}
		m.mu.Unlock()
		<-m.wake
	}
}

// number is what crosses the boundary as a typed array.
type number interface{ float32 | float64 | int32 }

// typedArrays names each number's JavaScript array.
func typedArray[T number]() string {
	var z T
	switch any(z).(type) {
	case float32:
		return "Float32Array"
	case float64:
		return "Float64Array"
	}
	return "Int32Array"
}

func bytesOf[T number](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)*int(unsafe.Sizeof(v[0])))
}

// toJS copies v into a new typed array, whose buffer the message that
// carries it transfers.
func toJS[T number](v []T) js.Value {
	a := js.Global().Get(typedArray[T]()).New(len(v))
	if len(v) > 0 {
		js.CopyBytesToJS(js.Global().Get("Uint8Array").New(a.Get("buffer")), bytesOf(v))
	}
	return a
}

// fromJS copies a typed array of T's kind into Go; anything else gives
// ok false.
func fromJS[T number](a js.Value) (v []T, ok bool) {
	if a.Type() != js.TypeObject || !a.InstanceOf(js.Global().Get(typedArray[T]())) {
		return nil, false
	}
	v = make([]T, a.Length())
	if len(v) > 0 {
		js.CopyBytesToGo(bytesOf(v), js.Global().Get("Uint8Array").New(a.Get("buffer"), a.Get("byteOffset"), a.Get("byteLength")))
	}
	return v, true
}

// rows cuts flat into rows of dim values (sharing its memory).
func rows[T any](flat []T, dim int) [][]T {
	out := make([][]T, 0, len(flat)/max(dim, 1))
	for i := 0; i+dim <= len(flat) && dim > 0; i += dim {
		out = append(out, flat[i:i+dim:i+dim])
	}
	return out
}
