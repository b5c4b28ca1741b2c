//go:build js && wasm

package browser

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall/js"
)

// MaxModelBytes is the largest model file the runtime reads: no MobileNet
// comes near it, and reading on would only exhaust memory.
const MaxModelBytes = 512 << 20

// progressEstimate is the size progress is estimated against when the
// length is unknown (the server compressed the file): about a MobileNet's
// size. The fraction then approaches 1 without reaching it until the last
// byte arrives.
const progressEstimate = 8 << 20

// Progress hears how much of a model file has arrived: fraction goes from
// 0 to 1, never backwards, and is 1 exactly once, at the end; total is 0
// when the length is unknown.
type Progress func(fraction float64, loaded, total int64)

// ReadModel reads the bytes of a model file named name from source: a URL
// (a string, fetched), a fetch Response, a Promise of one (glimpse.js
// starts the download before the Go program is up), a Blob, or an
// ArrayBuffer or a Promise of one (a page that read the whole file while
// its program compiled: one copy, where a stream would be read chunk by
// chunk, each a round trip through the page's event loop). It blocks the
// calling goroutine.
func ReadModel(name string, source js.Value, progress Progress) ([]byte, error) {
	switch {
	case source.Type() == js.TypeString:
		p, err := Call(js.Global(), "fetch", source)
		if err != nil {
			return nil, fmt.Errorf("%s: could not fetch the model (%v)", name, err)
		}
		source = p
	case isInstance(source, "Blob"):
		size := int64(source.Get("size").Float())
		if size == 0 {
			return nil, fmt.Errorf("%s: the file is empty", name)
		}
		if size > MaxModelBytes {
			return nil, tooLarge(name)
		}
		return readStream(name, source.Call("stream"), size, progress)
	}
	if source.Type() == js.TypeObject && source.Get("then").Type() == js.TypeFunction {
		res, err := Await(source)
		if err != nil {
			return nil, fmt.Errorf("%s: could not fetch the model (%v)", name, err)
		}
		source = res
	}
	if isInstance(source, "ArrayBuffer") {
		return readBuffer(name, source, progress)
	}
	if !isInstance(source, "Response") {
		return nil, fmt.Errorf("%s: not a URL, a Response, a Blob or an ArrayBuffer", name)
	}
	if !source.Get("ok").Bool() {
		return nil, fmt.Errorf("%s", strings.TrimSpace(fmt.Sprintf("%s: the server answered HTTP %d %s", name, source.Get("status").Int(), source.Get("statusText").String())))
	}
	// A compressed body's Content-Length counts compressed bytes, not the
	// ones the stream gives.
	headers := source.Get("headers")
	total := int64(0)
	if enc := headers.Call("get", "Content-Encoding"); enc.IsNull() || enc.String() == "identity" {
		if l := headers.Call("get", "Content-Length"); !l.IsNull() {
			total, _ = strconv.ParseInt(l.String(), 10, 64)
		}
	}
	if source.Get("body").IsNull() {
		return nil, fmt.Errorf("%s: the file is empty", name)
	}
	return readStream(name, source.Get("body"), max(total, 0), progress)
}

// readBuffer copies a whole file held in an ArrayBuffer.
func readBuffer(name string, buf js.Value, progress Progress) ([]byte, error) {
	size := int64(buf.Get("byteLength").Float())
	if size == 0 {
		return nil, fmt.Errorf("%s: the file is empty", name)
	}
	if size > MaxModelBytes {
		return nil, tooLarge(name)
	}
	if progress != nil {
		progress(0, 0, size)
	}
	data := make([]byte, size)
	js.CopyBytesToGo(data, js.Global().Get("Uint8Array").New(buf))
	if progress != nil {
		progress(1, size, size)
	}
	return data, nil
}

func tooLarge(name string) error {
	return fmt.Errorf("%s: larger than %d MB, not a model Glimpse can load", name, MaxModelBytes>>20)
}

// readStream reads a ReadableStream of Uint8Arrays whole, reporting
// progress.
func readStream(name string, stream js.Value, total int64, progress Progress) ([]byte, error) {
	reader := stream.Call("getReader")
	last := -1.0
	var data []byte
	if total > 0 && total <= MaxModelBytes {
		data = make([]byte, 0, total)
	}
	report := func(f float64) {
		if progress != nil && f > last {
			last = f
			progress(f, int64(len(data)), total)
		}
	}
	report(0)
	for {
		chunk, err := Await(reader.Call("read"))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		if chunk.Get("done").Bool() {
			break
		}
		v := chunk.Get("value")
		n := v.Get("byteLength").Int()
		if int64(len(data))+int64(n) > MaxModelBytes {
			reader.Call("cancel")
			return nil, tooLarge(name)
		}
		off := len(data)
		data = slices.Grow(data, n)[:off+n]
		js.CopyBytesToGo(data[off:], v)
		got := float64(len(data))
		f := got / (got + progressEstimate)
		if total > 0 {
			f = got / float64(total)
		}
		report(min(f, 0.999))
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: the file is empty", name)
	}
	report(1)
	return data, nil
}

// isInstance tells whether v is an instance of the global constructor
// name, false where the constructor does not exist (a Worker has no
// HTMLImageElement).
func isInstance(v js.Value, name string) bool {
	c := js.Global().Get(name)
	return v.Type() == js.TypeObject && c.Type() == js.TypeFunction && v.InstanceOf(c)
}
