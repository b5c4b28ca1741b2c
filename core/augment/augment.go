// Package augment makes augmented training views of a picture (flip,
// crop, rotation, brightness, contrast), drawn reproducibly from a seed,
// so that a view is the same whichever program makes it: the command
// line embedding a folder and the browser embedding an example as it is
// added.
package augment

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"

	"github.com/glimpse-ml/glimpse/core/imageprep"
)

// Augment says how to make extra training views of an image: each view
// is embedded once, when the samples are cached, so augmentation costs
// embedding time but nothing per epoch. The zero value changes nothing.
type Augment struct {
	Flip bool // mirror left-right with probability 1/2
	// MinArea turns on random resized crops: a crop of MinArea to all of
	// the image's area, of aspect ratio 3/4 to 4/3, stretched back to the
	// image's size. 0 or 1: no crop.
	MinArea float64
	Rotate  float64 // largest rotation, in degrees either way
	// Brightness and Contrast are the largest relative changes: a pixel
	// value v becomes ((v-128)*(1+c) + 128)*(1+b).
	Brightness, Contrast float64
}

// Default is what --augment turns on: mild changes that keep the object
// recognisable.
func Default() Augment {
	return Augment{Flip: true, MinArea: 0.7, Rotate: 10, Brightness: 0.2, Contrast: 0.2}
}

// Check reports settings that would not give an image back.
func (a Augment) Check() error {
	bad := func(v, lo, hi float64) bool { return math.IsNaN(v) || v < lo || v > hi }
	switch {
	case bad(a.MinArea, 0, 1):
		return fmt.Errorf("augment: crop area %v: want 0 to 1", a.MinArea)
	case bad(a.Rotate, 0, 180):
		return fmt.Errorf("augment: rotation %v: want 0 to 180 degrees", a.Rotate)
	case bad(a.Brightness, 0, 1), bad(a.Contrast, 0, 1):
		return fmt.Errorf("augment: brightness %v, contrast %v: want 0 to 1", a.Brightness, a.Contrast)
	}
	return nil
}

// augmentSide bounds the side of the image a view is made from: a 12
// megapixel photo is first reduced to this, twice a 224 network input,
// so a view costs milliseconds and the network still sees full detail.
const augmentSide = 448

// Apply returns one random view of img, drawn from rng. The view has the
// image's size (reduced to augmentSide on its longer side): the model's
// own preprocessing then resizes it as it would any picture.
func (a Augment) Apply(img image.Image, rng *rand.Rand) (*image.NRGBA, error) {
	src, err := toNRGBA(img)
	if err != nil {
		return nil, err
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	cw, ch := float64(w), float64(h)
	if a.MinArea > 0 && a.MinArea < 1 {
		area := (a.MinArea + (1-a.MinArea)*rng.Float64()) * cw * ch
		ratio := math.Exp(math.Log(3.0/4) + (math.Log(4.0/3)-math.Log(3.0/4))*rng.Float64())
		cw = min(math.Sqrt(area*ratio), float64(w))
		ch = min(math.Sqrt(area/ratio), float64(h))
	}
	// The crop's centre, anywhere that keeps the crop inside the image.
	cx := cw/2 + (float64(w)-cw)*rng.Float64()
	cy := ch/2 + (float64(h)-ch)*rng.Float64()
	theta := 0.0
	if a.Rotate > 0 {
		theta = (2*rng.Float64() - 1) * a.Rotate * math.Pi / 180
	}
	flip := a.Flip && rng.IntN(2) == 1
	gain := 1 + a.Brightness*(2*rng.Float64()-1)
	contrast := 1 + a.Contrast*(2*rng.Float64()-1)
	sin, cos := math.Sincos(theta)

	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	sx, sy := cw/float64(w), ch/float64(h)
	for v := 0; v < h; v++ {
		for u := 0; u < w; u++ {
			// The view's pixel centre, relative to the view's centre, in
			// source pixels of the crop.
			du := (float64(u) + 0.5 - float64(w)/2) * sx
			dv := (float64(v) + 0.5 - float64(h)/2) * sy
			if flip {
				du = -du
			}
			x := cx + du*cos - dv*sin - 0.5
			y := cy + du*sin + dv*cos - 0.5
			px := dst.Pix[v*dst.Stride+4*u:]
			bilinear(src, x, y, px[:3])
			for c := 0; c < 3; c++ {
				px[c] = clampByte(((float64(px[c])-128)*contrast + 128) * gain)
			}
			px[3] = 255
		}
	}
	return dst, nil
}

// toNRGBA converts img to a straight-alpha RGBA image whose longer side is
// at most augmentSide.
func toNRGBA(img image.Image) (*image.NRGBA, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("image is %dx%d", w, h)
	}
	if long := max(w, h); long > augmentSide {
		nw := max(1, int(math.Round(float64(w)*augmentSide/float64(long))))
		nh := max(1, int(math.Round(float64(h)*augmentSide/float64(long))))
		return new(imageprep.Preparer).Resize(img, nw, nh)
	}
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n, nil
	}
	return copyNRGBA(img), nil
}

// copyNRGBA copies img into a new NRGBA image at the origin, pixel for
// pixel as draw.Draw(dst, dst.Rect, img, b.Min, draw.Src) does (image/draw
// itself would weigh more in glimpse.wasm than the rest of this package):
// an NRGBA source's bytes as they are, any other through its 16-bit
// premultiplied colour, and one that is neither through its colour model.
func copyNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewNRGBA(image.Rect(0, 0, w, h))
	switch src := img.(type) {
	case *image.NRGBA:
		for y := 0; y < h; y++ {
			i := src.PixOffset(b.Min.X, b.Min.Y+y)
			copy(dst.Pix[y*dst.Stride:y*dst.Stride+4*w], src.Pix[i:i+4*w])
		}
	case image.RGBA64Image:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				dst.SetRGBA64(x, y, src.RGBA64At(b.Min.X+x, b.Min.Y+y))
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				dst.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
			}
		}
	}
	return dst
}

// bilinear samples src at (x, y) (pixel centres at integers), clamping
// at the edges, into rgb.
func bilinear(src *image.NRGBA, x, y float64, rgb []byte) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	x = min(max(x, 0), float64(w-1))
	y = min(max(y, 0), float64(h-1))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, w-1), min(y0+1, h-1)
	fx, fy := x-float64(x0), y-float64(y0)
	at := func(xx, yy, c int) float64 { return float64(src.Pix[yy*src.Stride+4*xx+c]) }
	for c := 0; c < 3; c++ {
		top := at(x0, y0, c)*(1-fx) + at(x1, y0, c)*fx
		bot := at(x0, y1, c)*(1-fx) + at(x1, y1, c)*fx
		rgb[c] = clampByte(top*(1-fy) + bot*fy)
	}
}

func clampByte(v float64) byte {
	return byte(min(max(math.Round(v), 0), 255))
}

// View returns augmented view number view (from 1) of example number
// index, drawn from seed: core/dataset and the browser's classifier draw
// views the same way, so a view is the same wherever it is made.
func (a Augment) View(img image.Image, seed uint64, index, view int) (*image.NRGBA, error) {
	return a.Apply(img, rand.New(rand.NewPCG(seed, uint64(index)<<16|uint64(view))))
}
