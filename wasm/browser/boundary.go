//go:build js && wasm

package browser

import (
	"errors"
	"fmt"
	"syscall/js"
)

// Guard runs f and gives its result as {value} or {error}: what a
// synchronous function called from JavaScript returns, so that nothing
// thrown by Go ever unwinds into the page. A panic (a bug met by a strange
// input) becomes an error too: a Go program that died cannot be restarted
// without reloading the page.
func Guard(f func() (any, error)) (result any) {
	v, err := Catch(f)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	return map[string]any{"value": v}
}

// Promise runs f on a goroutine, so that it may block on the browser
// (decoding a picture, yielding during training), and returns a Promise
// of its result; an error or a panic rejects it with an Error.
func Promise(f func() (any, error)) js.Value {
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, a []js.Value) any {
		resolve, reject := a[0], a[1]
		go func() {
			v, err := Catch(f)
			if err != nil {
				reject.Invoke(NewError(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	p := js.Global().Get("Promise").New(executor)
	executor.Release()
	return p
}

// Catch runs f, turning a panic into an error.
func Catch(f func() (any, error)) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	return f()
}

// NewError makes a JavaScript Error with err's message.
func NewError(err error) js.Value { return js.Global().Get("Error").New(err.Error()) }

// Call calls a method that may throw, turning the exception into an
// error (js.Value.Call panics instead).
func Call(v js.Value, method string, args ...any) (res js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = errors.New(ErrorText(je.Value))
				return
			}
			panic(r)
		}
	}()
	return v.Call(method, args...), nil
}

// ErrorText gives a thrown JavaScript value's message, with the DOM
// exception's name when it has one (QuotaExceededError, NotAllowedError).
func ErrorText(v js.Value) string {
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

// ErrorName is the DOM exception's name in an error made by Await or Call
// ("" if none).
func ErrorName(err error) string {
	s := err.Error()
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			return s[:i]
		case !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'):
			return ""
		}
	}
	return ""
}

// BytesToJS copies b into a new Uint8Array.
func BytesToJS(b []byte) js.Value {
	a := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(a, b)
	return a
}

// BytesFromJS copies an ArrayBuffer, Uint8Array or Uint8ClampedArray into
// Go.
func BytesFromJS(v js.Value) ([]byte, error) {
	if v.InstanceOf(js.Global().Get("ArrayBuffer")) {
		v = js.Global().Get("Uint8Array").New(v)
	}
	if !isBytes(v) {
		return nil, errors.New("want an ArrayBuffer or a Uint8Array")
	}
	b := make([]byte, v.Get("byteLength").Int())
	js.CopyBytesToGo(b, v)
	return b, nil
}

// isBytes tells whether v is a Uint8Array or Uint8ClampedArray, the two
// types js.CopyBytesToGo accepts (it panics on others).
func isBytes(v js.Value) bool {
	return v.Type() == js.TypeObject && (v.InstanceOf(js.Global().Get("Uint8Array")) || v.InstanceOf(js.Global().Get("Uint8ClampedArray")))
}
