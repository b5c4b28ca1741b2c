//go:build js && wasm

package learnui

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
			msg = errorText(a[0])
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

// errorText gives a thrown JavaScript value's message.
func errorText(v js.Value) string {
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

// sleep yields to the browser for ms milliseconds.
func sleep(ms int) {
	ch := make(chan struct{})
	f := js.FuncOf(func(js.Value, []js.Value) any { close(ch); return nil })
	js.Global().Call("setTimeout", f, ms)
	<-ch
	f.Release()
}

// canvas is a canvas element and its 2D context.
type canvas struct {
	el  js.Value
	ctx js.Value
}

func (p *Page) canvas(id string) canvas {
	el := p.el(id).Underlying()
	return canvas{el: el, ctx: el.Call("getContext", "2d")}
}

func offscreen(w, h int) canvas {
	el := js.Global().Get("document").Call("createElement", "canvas")
	el.Set("width", w)
	el.Set("height", h)
	opts := js.Global().Get("Object").New()
	opts.Set("willReadFrequently", true)
	return canvas{el: el, ctx: el.Call("getContext", "2d", opts)}
}

func (c canvas) size(w, h int) {
	if c.el.Get("width").Int() != w || c.el.Get("height").Int() != h {
		c.el.Set("width", w)
		c.el.Set("height", h)
	}
}

// put draws w x h RGBA bytes at the canvas's own size.
func (c canvas) put(rgba []byte, w, h int) {
	c.size(w, h)
	arr := js.Global().Get("Uint8ClampedArray").New(len(rgba))
	js.CopyBytesToJS(arr, rgba)
	img := js.Global().Get("ImageData").New(arr, w, h)
	c.ctx.Call("putImageData", img, 0, 0)
}

// grey maps values to grey RGBA bytes, lo to black and hi to white.
func grey(v []float32, lo, hi float32) []byte {
	out := make([]byte, 4*len(v))
	span := hi - lo
	for i, x := range v {
		g := byte(0)
		if span > 0 {
			t := (x - lo) / span
			g = byte(max(0, min(255, t*255+0.5)))
		}
		out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = g, g, g, 255
	}
	return out
}

// extent returns the smallest and largest of v.
func extent(v []float32) (lo, hi float32) {
	if len(v) == 0 {
		return 0, 0
	}
	lo, hi = v[0], v[0]
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}
