// Package imageprep turns an image into a network's input exactly as the
// model file's ir.Preprocess says: resize (stretch, or shorter side then
// centre crop), channel order, and a per-channel scale and offset.
//
// Resizing reproduces Pillow's bilinear resize bit for bit (see
// resample.go), which is what torchvision's evaluation transform
// (Resize, CenterCrop, ToTensor, Normalize) applies to PIL images. The
// same code runs natively and compiled to WebAssembly, where the browser
// decodes the image and hands over raw RGBA bytes (FromRGBA), so the CLI
// and the web app feed the network identical values for a PNG.
//
// JPEGs decoded here get their chroma upsampled and converted to RGB as
// libjpeg-turbo does (ycbcr.go), the decoder behind Pillow and Chromium,
// leaving only the IDCT's rounding between them: a few levels at most,
// 0.04 on average on the test photographs. A GIF gives its first frame.
//
// Alpha is ignored everywhere: a pixel's straight (non-premultiplied) RGB
// is used as is, as PIL's convert("RGB") does, and nothing is composited
// over a background.
package imageprep

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// DefaultMaxPixels bounds the pixel count of an image (64 Mi pixels, a
// 256 MiB RGBA image): Decode checks it against the header before any
// pixel memory is allocated, so a tiny file that claims to be huge cannot
// make the decoder allocate gigabytes, and FromRGBA and the browser check
// it before reading pixels back.
const DefaultMaxPixels = 1 << 26

// maxSide bounds every length this package computes with (input sizes,
// ResizeTo), far above any network's input, so that a corrupt model file
// cannot make it allocate without bound.
const maxSide = 1 << 14

// Preparer prepares images for a network and keeps its scratch buffers
// between calls: preparing frames of one size again and again (a webcam
// at video rate) allocates nothing after the first. A Preparer is not safe
// for concurrent use; its zero value is ready.
type Preparer struct {
	src    []byte // the image converted to packed RGB or grey, when needed
	tmp    []byte // the horizontal pass's output
	out    []byte // the resized, cropped 8-bit pixels
	cx, cy coeffs
}

// Prepare is Preparer.Prepare with a fresh Preparer.
func Prepare(img image.Image, p ir.Preprocess, shape ir.Shape, dst []float32) error {
	var pr Preparer
	return pr.Prepare(img, p, shape, dst)
}

// Prepare writes the network input for img into dst: shape.Size() floats
// in HWC order (shape is {H, W, C}). C is 3 (channels in p.Channels'
// order) or 1 (luma, computed before resizing as PIL's convert("L") does:
// (19595 R + 38470 G + 7471 B + 2^15) >> 16).
//
// Scale and Offset are indexed by the network's channel: with "BGR",
// Scale[0] applies to blue. An 8-bit value v becomes v*Scale[c]+Offset[c]
// in float32. Where a centre crop is larger than the resized image, the
// missing pixels are 0 before scaling, as torchvision pads them.
//
// Zero values default: Resize "" is stretch, Crop "" is centre, Channels
// "" is RGB.
func (pr *Preparer) Prepare(img image.Image, p ir.Preprocess, shape ir.Shape, dst []float32) error {
	oh, ow, c := shape[0], shape[1], shape[2]
	if c != 1 && c != 3 {
		return fmt.Errorf("imageprep: input shape %v: want 1 or 3 channels", shape)
	}
	if oh < 1 || ow < 1 || oh > maxSide || ow > maxSide {
		return fmt.Errorf("imageprep: input shape %v: size out of range", shape)
	}
	if len(dst) < shape.Size() {
		return fmt.Errorf("imageprep: destination holds %d floats, input %v needs %d", len(dst), shape, shape.Size())
	}
	var order [3]int
	switch p.Channels {
	case "", "RGB":
		order = [3]int{0, 1, 2}
	case "BGR":
		order = [3]int{2, 1, 0}
	case "L":
		if c != 1 {
			return fmt.Errorf("imageprep: grey (L) preprocessing for a %d-channel input %v", c, shape)
		}
	default:
		return fmt.Errorf("imageprep: unknown channel order %q (want RGB, BGR or L)", p.Channels)
	}
	b := img.Bounds()
	if b.Empty() {
		return fmt.Errorf("imageprep: image is %dx%d", b.Dx(), b.Dy())
	}
	g, err := layout(b.Dx(), b.Dy(), p, oh, ow)
	if err != nil {
		return err
	}
	out := pr.resample(pr.source(img, c == 1), g, ow, oh)
	sc, of := p.Scale, p.Offset
	if c == 1 {
		for i, v := range out[:oh*ow] {
			// The conversion rounds the product, so no platform fuses
			// it with the addition and all agree to the bit.
			dst[i] = float32(float32(v)*sc[0]) + of[0]
		}
		return nil
	}
	d := dst[:oh*ow*3]
	o0, o1, o2 := order[0], order[1], order[2]
	for i := 0; i < len(d); i += 3 {
		px := out[i : i+3 : i+3]
		d[i+0] = float32(float32(px[o0])*sc[0]) + of[0]
		d[i+1] = float32(float32(px[o1])*sc[1]) + of[1]
		d[i+2] = float32(float32(px[o2])*sc[2]) + of[2]
	}
	return nil
}

// Resize returns img resized to w×h, pixel for pixel as Pillow's
// img.convert("RGB").resize((w, h), Image.BILINEAR), fully opaque.
func (pr *Preparer) Resize(img image.Image, w, h int) (*image.NRGBA, error) {
	if w < 1 || h < 1 || w > maxSide || h > maxSide {
		return nil, fmt.Errorf("imageprep: resize to %dx%d: size out of range", w, h)
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("imageprep: image is %dx%d", b.Dx(), b.Dy())
	}
	out := pr.resample(pr.source(img, false), geometry{rw: w, rh: h}, w, h)
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		copy(dst.Pix[4*i:4*i+3], out[3*i:3*i+3])
		dst.Pix[4*i+3] = 255
	}
	return dst, nil
}

// FromRGBA wraps the browser's ImageData (width*height*4 bytes, straight
// alpha, rows top to bottom) as an image without copying it: the result
// aliases pix. Alpha is kept in the image but Prepare ignores it.
func FromRGBA(width, height int, pix []byte) (*image.NRGBA, error) {
	if width < 1 || height < 1 {
		return nil, fmt.Errorf("imageprep: image is %dx%d", width, height)
	}
	if int64(width)*int64(height) > DefaultMaxPixels {
		return nil, fmt.Errorf("imageprep: image is %dx%d, more than the %d pixels allowed", width, height, DefaultMaxPixels)
	}
	n := width * height * 4
	if len(pix) != n {
		return nil, fmt.Errorf("imageprep: %dx%d RGBA image needs %d bytes, got %d", width, height, n, len(pix))
	}
	return &image.NRGBA{Pix: pix, Stride: 4 * width, Rect: image.Rect(0, 0, width, height)}, nil
}

// geometry places the network input in the resized image: the image is
// resized to rw×rh and the input's pixel (x, y) is the resized image's
// pixel (left+x, top+y), or 0 outside it.
type geometry struct {
	rw, rh, left, top int
}

// layout computes the geometry torchvision's Resize and CenterCrop use.
func layout(w, h int, p ir.Preprocess, oh, ow int) (geometry, error) {
	switch p.Crop {
	case "", "center":
	default:
		return geometry{}, fmt.Errorf("imageprep: unknown crop %q (want center)", p.Crop)
	}
	switch p.Resize {
	case "", ir.ResizeStretch:
		return geometry{rw: ow, rh: oh}, nil
	case ir.ResizeShorter:
	default:
		return geometry{}, fmt.Errorf("imageprep: unknown resize policy %q (want %q or %q)",
			p.Resize, ir.ResizeStretch, ir.ResizeShorter)
	}
	s := p.ResizeTo
	if s < 1 || s > maxSide {
		return geometry{}, fmt.Errorf("imageprep: resize shorter side to %d: out of range", s)
	}
	// torchvision: new_long = int(size * long / short); integer division
	// gives the same truncation for any sizes that fit.
	var rw, rh int64
	if w <= h {
		rw, rh = int64(s), int64(s)*int64(h)/int64(w)
	} else {
		rw, rh = int64(s)*int64(w)/int64(h), int64(s)
	}
	if rw > 1<<30 || rh > 1<<30 {
		return geometry{}, errors.New("imageprep: image too elongated to resize")
	}
	return geometry{
		rw: int(rw), rh: int(rh),
		left: cropOffset(int(rw), ow),
		top:  cropOffset(int(rh), oh),
	}, nil
}

// cropOffset is torchvision's center_crop offset along one axis: when the
// crop is larger, the image is padded by (crop-size)//2 before it;
// otherwise the offset is Python's round((size-crop)/2), which rounds
// halves to even.
func cropOffset(size, crop int) int {
	if crop > size {
		return -((crop - size) / 2)
	}
	return int(math.RoundToEven(float64(size-crop) / 2))
}

// source returns img's pixels as 3-channel RGB or, when grey, 1-channel
// luma, viewing img's own memory when its layout allows (the browser's
// NRGBA frames) and converting into pr.src otherwise.
func (pr *Preparer) source(img image.Image, grey bool) pixels {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.NRGBA:
		if !grey {
			return pixels{pix: m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], w: w, h: h, stride: m.Stride, step: 4, n: 3}
		}
	case *image.Gray:
		if grey {
			return pixels{pix: m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], w: w, h: h, stride: m.Stride, step: 1, n: 1}
		}
	}
	n := 3
	if grey {
		n = 1
	}
	buf := grow(pr.src, w*h*n)
	pr.src = buf
	put := func(i int, r, g, b byte) {
		if grey {
			buf[i] = luma(r, g, b)
			return
		}
		buf[3*i], buf[3*i+1], buf[3*i+2] = r, g, b
	}
	i := 0
	switch m := img.(type) {
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range w {
				put(i, row[4*x], row[4*x+1], row[4*x+2])
				i++
			}
		}
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range w {
				px := row[4*x : 4*x+4]
				if px[3] == 255 {
					put(i, px[0], px[1], px[2])
				} else {
					// Premultiplied: recover the straight colour.
					c := color.NRGBAModel.Convert(color.RGBA{px[0], px[1], px[2], px[3]}).(color.NRGBA)
					put(i, c.R, c.G, c.B)
				}
				i++
			}
		}
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range w {
				put(i, row[x], row[x], row[x])
				i++
			}
		}
	case *image.YCbCr:
		if fancyYCbCr(m, put) {
			break
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				r, g, bl := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				put(i, r, g, bl)
				i++
			}
		}
	case *image.Paletted:
		var pal [256]color.NRGBA
		for j, c := range m.Palette {
			if j < len(pal) {
				pal[j] = color.NRGBAModel.Convert(c).(color.NRGBA)
			}
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):]
			for x := range w {
				c := pal[row[x]]
				put(i, c.R, c.G, c.B)
				i++
			}
		}
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				put(i, c.R, c.G, c.B)
				i++
			}
		}
	}
	return pixels{pix: buf, w: w, h: h, stride: w * n, step: n, n: n}
}

// luma is Pillow's RGB to "L" conversion (ITU-R 601-2 weights in 16-bit
// fixed point, rounded).
func luma(r, g, b byte) byte {
	return byte((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 0x8000) >> 16)
}

// resample resizes src to g.rw×g.rh and returns the ow×oh window at
// (g.left, g.top), packed with src.n bytes per pixel, 0 outside the
// resized image. Only the window is computed: each output pixel depends
// on the filter alone, so this equals resizing everything then cropping.
func (pr *Preparer) resample(src pixels, g geometry, ow, oh int) []byte {
	n := src.n
	out := grow(pr.out, ow*oh*n)
	pr.out = out
	x0, x1 := max(g.left, 0), min(g.left+ow, g.rw)
	y0, y1 := max(g.top, 0), min(g.top+oh, g.rh)
	if x0 >= x1 || y0 >= y1 {
		clear(out)
		return out
	}
	if x0 > g.left || x1 < g.left+ow || y0 > g.top || y1 < g.top+oh {
		clear(out) // padding around a small image
	}
	needH, needV := g.rw != src.w, g.rh != src.h

	// Source rows the vertical pass reads.
	sy0, sy1 := y0, y1
	if needV {
		pr.cy.compute(src.h, g.rh, y0, y1)
		last := y1 - y0 - 1
		sy0, sy1 = pr.cy.start[0], pr.cy.start[last]+pr.cy.count[last]
	}

	var mid pixels // the horizontally resized rows [sy0, sy1), columns [x0, x1)
	if needH {
		pr.cx.compute(src.w, g.rw, x0, x1)
		cols := x1 - x0
		tmp := grow(pr.tmp, cols*n*(sy1-sy0))
		pr.tmp = tmp
		hpass(tmp, src, sy0, sy1, &pr.cx)
		mid = pixels{pix: tmp, w: cols, h: sy1 - sy0, stride: cols * n, step: n, n: n}
	} else {
		mid = pixels{pix: src.pix[sy0*src.stride+x0*src.step:], w: x1 - x0, h: sy1 - sy0,
			stride: src.stride, step: src.step, n: n}
	}

	stride := ow * n
	dst := out[((y0-g.top)*ow+(x0-g.left))*n:]
	if needV {
		vpass(dst, stride, mid, sy0, &pr.cy)
		return out
	}
	for r := range y1 - y0 {
		row, d := mid.pix[r*mid.stride:], dst[r*stride:]
		if n == 3 && mid.step == 4 {
			// RGBA to RGB byte by byte: a copy call per pixel costs a
			// runtime call each under WebAssembly (0.3 ms of a 224x224
			// picture in Chromium).
			row, d := row[:4*mid.w], d[:3*mid.w]
			for x := range mid.w {
				d[3*x], d[3*x+1], d[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
			}
			continue
		}
		for x := range mid.w {
			copy(d[x*n:x*n+n], row[x*mid.step:x*mid.step+n])
		}
	}
	return out
}
