//go:build js && wasm

package ui

import (
	"errors"
	"syscall/js"
)

// await blocks the calling goroutine (never a JavaScript callback's) until
// the promise settles.
func await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any {
		v := js.Undefined()
		if len(a) > 0 {
			v = a[0]
		}
		ch <- result{v: v}
		return nil
	})
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "unknown error"
		if len(a) > 0 {
			msg = jsErrorText(a[0])
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	p.Call("then", ok, fail)
	r := <-ch
	ok.Release()
	fail.Release()
	return r.v, r.err
}

// jsErrorText gives a thrown JavaScript value's message, with the DOM
// exception's name when it has one (QuotaExceededError, NotAllowedError).
func jsErrorText(v js.Value) string {
	if v.Type() == js.TypeObject {
		name, msg := v.Get("name"), v.Get("message")
		if msg.Type() == js.TypeString {
			if name.Type() == js.TypeString && name.String() != "Error" && name.String() != "" {
				return name.String() + ": " + msg.String()
			}
			return msg.String()
		}
	}
	return js.Global().Call("String", v).String()
}

// errName is the DOM exception's name in an error made by await ("" if none).
func errName(err error) string {
	s := err.Error()
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i]
		}
	}
	return ""
}

// sleep yields to the browser for ms milliseconds (0: until its next task).
func sleep(ms int) {
	ch := make(chan struct{})
	f := js.FuncOf(func(js.Value, []js.Value) any { close(ch); return nil })
	js.Global().Call("setTimeout", f, ms)
	<-ch
	f.Release()
}

// nextFrame waits for the browser's next animation frame.
func nextFrame() {
	ch := make(chan struct{})
	f := js.FuncOf(func(js.Value, []js.Value) any { close(ch); return nil })
	js.Global().Call("requestAnimationFrame", f)
	<-ch
	f.Release()
}

// call calls a method that may throw, turning the exception into an error.
func call(v js.Value, method string, args ...any) (res js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = errors.New(jsErrorText(je.Value))
				return
			}
			panic(r)
		}
	}()
	return v.Call(method, args...), nil
}

// bytesToJS copies b into a new Uint8Array.
func bytesToJS(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// bytesFromJS copies an ArrayBuffer, Uint8Array or Uint8ClampedArray into Go.
func bytesFromJS(v js.Value) []byte {
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		v = js.Global().Get("Uint8Array").New(v)
	}
	b := make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, v)
	return b
}
