//go:build js && wasm

package learnui

import (
	"syscall/js"
)

// Waiting on the browser (a promise, a timer) and decoding a picture are
// the browser runtime's (wasm/browser), shared with the app and the
// library.

// canvas is a canvas element and its 2D context.
type canvas struct {
	el  js.Value
	ctx js.Value
}

func (p *Page) canvas(id string) canvas {
	el := p.node(id)
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
