//go:build js && wasm

package browser

import (
	"errors"
	"fmt"
	"image"
	"syscall/js"

	"github.com/glimpse-ml/glimpse/core/imageprep"
)

// Runtime is one program's runtime: its memory policy and the buffers every
// picture is read through. Make one with New and keep it for the life of
// the program. Its methods run on goroutines of the one wasm thread; the
// picture Pixels returns is valid until the next call.
type Runtime struct {
	mem    memory
	canvas js.Value // the OffscreenCanvas pictures are drawn on, made on first use
	ctx    js.Value
	pix    []byte // the last picture's RGBA bytes, reused
}

// New makes the program's runtime.
func New() *Runtime { return &Runtime{} }

// bitmapOptions decode a picture as the command line does: no colour
// management, straight (not premultiplied) alpha, EXIF orientation
// applied.
var bitmapOptions = map[string]any{"colorSpaceConversion": "none", "premultiplyAlpha": "none", "imageOrientation": "from-image"}

// Pixels reads the pixels of a picture the browser holds: ImageData, an
// HTMLImageElement (loaded), an HTMLVideoElement (playing), an
// HTMLCanvasElement, an OffscreenCanvas, an ImageBitmap, or a Blob holding
// an image (decoded by the browser). Only the pixels are copied: resizing
// and normalizing are core/imageprep's, as the model file says. The image
// shares the runtime's buffer and is valid until the next call. It blocks
// the calling goroutine while the browser decodes (an <img> or a Blob).
func (rt *Runtime) Pixels(src js.Value) (*image.NRGBA, error) {
	switch {
	case isInstance(src, "ImageData"):
		return rt.copy(src.Get("data"), src.Get("width").Int(), src.Get("height").Int())
	case isInstance(src, "HTMLVideoElement"):
		if src.Get("readyState").Int() < 2 || src.Get("videoWidth").Int() == 0 {
			return nil, fmt.Errorf("the video has no frame yet (readyState %d): wait for its 'playing' event", src.Get("readyState").Int())
		}
		return rt.draw(src, src.Get("videoWidth").Int(), src.Get("videoHeight").Int(), "video")
	case isInstance(src, "HTMLImageElement"):
		if !src.Get("complete").Bool() {
			return nil, errors.New("the image has not finished loading: wait for its 'load' event or await img.decode()")
		}
		if src.Get("naturalWidth").Int() == 0 {
			name := src.Get("currentSrc").String()
			if name == "" {
				name = src.Get("src").String()
			}
			if name == "" {
				name = "(no src)"
			}
			return nil, fmt.Errorf("the image %s has no pixels: it is empty or failed to decode", name)
		}
		return rt.bitmap(src, "the image")
	case isInstance(src, "ImageBitmap"):
		return rt.draw(src, src.Get("width").Int(), src.Get("height").Int(), "ImageBitmap")
	case isInstance(src, "HTMLCanvasElement") || isInstance(src, "OffscreenCanvas"):
		return rt.draw(src, src.Get("width").Int(), src.Get("height").Int(), "canvas")
	case isInstance(src, "Blob"):
		name := "the image Blob"
		if n := src.Get("name"); n.Type() == js.TypeString && n.String() != "" {
			name = n.String()
		}
		if src.Get("size").Int() == 0 {
			return nil, fmt.Errorf("%s is empty", name)
		}
		return rt.bitmap(src, name)
	}
	return nil, errors.New("expected an HTMLImageElement, HTMLVideoElement, HTMLCanvasElement, OffscreenCanvas, ImageBitmap, ImageData or Blob")
}

// bitmap decodes src with the platform and reads the result.
func (rt *Runtime) bitmap(src js.Value, name string) (*image.NRGBA, error) {
	bmp, err := Decode(src, name)
	if err != nil {
		return nil, err
	}
	defer bmp.Call("close")
	return rt.draw(bmp, bmp.Get("width").Int(), bmp.Get("height").Int(), "image")
}

// Decode decodes a picture (a Blob holding an image file, an <img>) with
// the platform as Pixels does, into an ImageBitmap that Pixels reads and a
// page can draw (a thumbnail); close it when done. name names the picture
// in the error.
func Decode(src js.Value, name string) (js.Value, error) {
	p, err := Call(js.Global(), "createImageBitmap", src, js.ValueOf(bitmapOptions))
	var bmp js.Value
	if err == nil {
		bmp, err = Await(p)
	}
	if err != nil {
		return js.Value{}, fmt.Errorf("%s: the browser could not decode it (%v)", name, err)
	}
	return bmp, nil
}

// Frame takes a playing video's current frame as an ImageBitmap, which a
// page sends to a Worker: it holds the pixels Pixels reads from the video
// (createImageBitmap without options draws a video as drawImage does;
// asking for no colour conversion gives the same pixels from a camera but
// takes longer).
func Frame(video js.Value) (js.Value, error) {
	p, err := Call(js.Global(), "createImageBitmap", video)
	var bmp js.Value
	if err == nil {
		bmp, err = Await(p)
	}
	if err != nil {
		return js.Value{}, fmt.Errorf("the video's frame could not be read (%v)", err)
	}
	return bmp, nil
}

// draw copies a drawable's pixels out through the runtime's canvas, at
// their own size.
func (rt *Runtime) draw(src js.Value, w, h int, kind string) (*image.NRGBA, error) {
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("the %s is %dx%d pixels: nothing to see", kind, w, h)
	}
	if int64(w)*int64(h) > imageprep.DefaultMaxPixels {
		return nil, fmt.Errorf("the %s is %dx%d pixels, more than the %d allowed", kind, w, h, imageprep.DefaultMaxPixels)
	}
	if rt.ctx.IsUndefined() {
		if js.Global().Get("OffscreenCanvas").Type() != js.TypeFunction {
			return nil, errors.New("this browser has no OffscreenCanvas to read pixels with")
		}
		rt.canvas = js.Global().Get("OffscreenCanvas").New(w, h)
		rt.ctx = rt.canvas.Call("getContext", "2d", map[string]any{"willReadFrequently": true})
	}
	if rt.canvas.Get("width").Int() != w || rt.canvas.Get("height").Int() != h {
		rt.canvas.Set("width", w)
		rt.canvas.Set("height", h)
	} else {
		rt.ctx.Call("clearRect", 0, 0, w, h)
	}
	if _, err := Call(rt.ctx, "drawImage", src, 0, 0, w, h); err != nil {
		return nil, fmt.Errorf("the %s could not be drawn: %v", kind, err)
	}
	data, err := Call(rt.ctx, "getImageData", 0, 0, w, h)
	if err != nil {
		return nil, fmt.Errorf("the %s's pixels could not be read: %v", kind, err)
	}
	return rt.copy(data.Get("data"), w, h)
}

// copy copies RGBA bytes into the runtime's buffer.
func (rt *Runtime) copy(data js.Value, w, h int) (*image.NRGBA, error) {
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("the image is %dx%d pixels: nothing to see", w, h)
	}
	if int64(w)*int64(h) > imageprep.DefaultMaxPixels {
		return nil, fmt.Errorf("the image is %dx%d pixels, more than the %d allowed", w, h, imageprep.DefaultMaxPixels)
	}
	if !isBytes(data) {
		return nil, errors.New("the pixels are not a Uint8Array or Uint8ClampedArray")
	}
	n := data.Get("byteLength").Int()
	if n != 4*w*h {
		return nil, fmt.Errorf("a %dx%d RGBA image needs %d bytes, got %d", w, h, 4*w*h, n)
	}
	if cap(rt.pix) < n {
		rt.pix = make([]byte, n)
	}
	rt.pix = rt.pix[:n]
	js.CopyBytesToGo(rt.pix, data)
	rt.mem.account(n)
	return imageprep.FromRGBA(w, h, rt.pix)
}
