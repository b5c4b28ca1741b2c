package imageprep

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

var mobilenet = ir.Preprocess{
	Resize: ir.ResizeShorter, ResizeTo: 256, Crop: "center", Channels: "RGB",
	Scale:  [3]float32{1 / (255 * 0.229), 1 / (255 * 0.224), 1 / (255 * 0.225)},
	Offset: [3]float32{-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225},
}

// TestFromRGBAMatchesDecodedPNG is the browser's path against the CLI's:
// the same PNG, decoded by Go or handed over as raw RGBA bytes (as
// ImageData gives them), must give bit-identical network inputs.
func TestFromRGBAMatchesDecodedPNG(t *testing.T) {
	for _, name := range []string{"in_photo.png", "in_alpha21x15.png", "in_pal33x19.png", "in_grey29x31.png"} {
		img := mustDecode(t, name)
		b := img.Bounds()
		raw := make([]byte, 0, b.Dx()*b.Dy()*4)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
				raw = append(raw, c.R, c.G, c.B, c.A)
			}
		}
		frame, err := FromRGBA(b.Dx(), b.Dy(), raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, shape := range []ir.Shape{{224, 224, 3}, {28, 28, 1}} {
			p := mobilenet
			if shape[2] == 1 {
				p = ir.Preprocess{Resize: ir.ResizeStretch, Scale: [3]float32{1 / 255.}}
			}
			a := make([]float32, shape.Size())
			c := make([]float32, shape.Size())
			if err := Prepare(img, p, shape, a); err != nil {
				t.Fatal(err)
			}
			if err := Prepare(frame, p, shape, c); err != nil {
				t.Fatal(err)
			}
			for i := range a {
				if a[i] != c[i] {
					t.Fatalf("%s %v: value %d is %v decoded, %v from RGBA", name, shape, i, a[i], c[i])
				}
			}
		}
	}
}

// TestImageTypesAgree feeds one picture as the image types decoders
// produce and expects the same input from each.
func TestImageTypesAgree(t *testing.T) {
	src := mustDecode(t, "in_noise64x64.png").(*image.RGBA) // an opaque PNG decodes to RGBA
	b := src.Bounds()
	nrgba := image.NewNRGBA(b)
	gray := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			nrgba.Set(x, y, src.At(x, y))
			gray.Set(x, y, src.At(x, y))
		}
	}
	// A sub-image whose bounds do not start at the origin.
	big := image.NewNRGBA(image.Rect(-5, -7, 70, 80))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			big.Set(x+3, y+2, src.At(x, y))
		}
	}
	sub := big.SubImage(image.Rect(3, 2, 67, 66))
	shape := ir.Shape{40, 24, 3}
	want := make([]float32, shape.Size())
	if err := Prepare(src, mobilenet, shape, want); err != nil {
		t.Fatal(err)
	}
	for name, img := range map[string]image.Image{"NRGBA": nrgba, "sub-image": sub} {
		got := make([]float32, shape.Size())
		if err := Prepare(img, mobilenet, shape, got); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: value %d is %v, RGBA gives %v", name, i, got[i], want[i])
			}
		}
	}
	// Grey: a Gray image (Go's own luma) against a grey network input of
	// an RGB image (Pillow's luma) may differ by rounding only.
	grey := ir.Preprocess{Scale: [3]float32{1}}
	g1 := make([]float32, 30*30)
	g2 := make([]float32, 30*30)
	if err := Prepare(gray, grey, ir.Shape{30, 30, 1}, g1); err != nil {
		t.Fatal(err)
	}
	if err := Prepare(src, grey, ir.Shape{30, 30, 1}, g2); err != nil {
		t.Fatal(err)
	}
	for i := range g1 {
		if d := g1[i] - g2[i]; d > 1 || d < -1 {
			t.Fatalf("grey value %d: %v from Gray, %v from RGB", i, g1[i], g2[i])
		}
	}
}

// TestChannelOrderAndScale checks BGR and per-channel scale on a flat
// colour, where the expected values are obvious.
func TestChannelOrderAndScale(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 7, 5))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 10, 20, 30, 0 // alpha 0 is ignored
	}
	p := ir.Preprocess{Channels: "BGR", Scale: [3]float32{1, 2, 4}, Offset: [3]float32{-1, -2, -3}}
	dst := make([]float32, 3*3*3+1)
	dst[len(dst)-1] = 42
	if err := Prepare(img, p, ir.Shape{3, 3, 3}, dst); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 27; i += 3 {
		if dst[i] != 29 || dst[i+1] != 38 || dst[i+2] != 37 {
			t.Fatalf("pixel %d = %v, want [29 38 37]", i/3, dst[i:i+3])
		}
	}
	if dst[27] != 42 {
		t.Error("wrote past the input")
	}
	// Grey takes Scale[0] and Offset[0]: luma(10,20,30) = 18.
	if err := Prepare(img, p, ir.Shape{2, 2, 1}, dst); err != nil {
		t.Fatal(err)
	}
	if dst[0] != 17 {
		t.Errorf("grey = %v, want 17", dst[0])
	}
}

// TestCropPlacement uses an image whose pixels encode their column, so
// the crop offset is read off the output. torchvision: Resize(8) of a
// 8x21 image keeps it; CenterCrop(8) takes left = round(13/2) = 6 (half to
// even), and CenterCrop(10, 12) pads by 1 above and 2 on the left.
func TestCropPlacement(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 21, 8))
	for y := range 8 {
		for x := range 21 {
			img.Pix[y*img.Stride+x] = byte(10 * (x + 1))
		}
	}
	p := ir.Preprocess{Resize: ir.ResizeShorter, ResizeTo: 8, Scale: [3]float32{1}}
	dst := make([]float32, 12*12)
	if err := Prepare(img, p, ir.Shape{8, 8, 1}, dst); err != nil {
		t.Fatal(err)
	}
	if dst[0] != 70 || dst[7] != 140 {
		t.Errorf("crop columns start at %v and end at %v, want 70 and 140", dst[0], dst[7])
	}
	img2 := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img2.Pix {
		img2.Pix[i] = 200
	}
	if err := Prepare(img2, p, ir.Shape{10, 12, 1}, dst); err != nil {
		t.Fatal(err)
	}
	for y := range 10 {
		for x := range 12 {
			want := float32(200)
			if y < 1 || y >= 9 || x < 2 || x >= 10 {
				want = 0
			}
			if got := dst[y*12+x]; got != want {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

// TestPrepareReusesBuffers: a Preparer fed frames of one size allocates
// nothing, which matters at video rate in the browser.
func TestPrepareReusesBuffers(t *testing.T) {
	pix := make([]byte, 640*480*4)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	frame, err := FromRGBA(640, 480, pix)
	if err != nil {
		t.Fatal(err)
	}
	var pr Preparer
	dst := make([]float32, 224*224*3)
	for _, p := range []ir.Preprocess{mobilenet, {Resize: ir.ResizeStretch, Scale: [3]float32{1, 1, 1}}} {
		allocs := testing.AllocsPerRun(5, func() {
			if err := pr.Prepare(frame, p, ir.Shape{224, 224, 3}, dst); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per frame, want 0", p.Resize, allocs)
		}
	}
}

func TestPrepareErrors(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	dst := make([]float32, 8*8*3)
	cases := []struct {
		p     ir.Preprocess
		shape ir.Shape
		dst   []float32
		want  string
	}{
		{ir.Preprocess{}, ir.Shape{8, 8, 4}, dst, "1 or 3 channels"},
		{ir.Preprocess{}, ir.Shape{0, 8, 3}, dst, "out of range"},
		{ir.Preprocess{}, ir.Shape{8, 8, 3}, dst[:10], "needs 192"},
		{ir.Preprocess{Resize: "fit"}, ir.Shape{8, 8, 3}, dst, `unknown resize policy "fit"`},
		{ir.Preprocess{Resize: ir.ResizeShorter}, ir.Shape{8, 8, 3}, dst, "shorter side to 0"},
		{ir.Preprocess{Resize: ir.ResizeShorter, ResizeTo: 1 << 20}, ir.Shape{8, 8, 3}, dst, "out of range"},
		{ir.Preprocess{Crop: "random"}, ir.Shape{8, 8, 3}, dst, `unknown crop "random"`},
		{ir.Preprocess{Channels: "RGBA"}, ir.Shape{8, 8, 3}, dst, `unknown channel order "RGBA"`},
	}
	for _, c := range cases {
		err := Prepare(img, c.p, c.shape, c.dst)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v %v: error %v, want %q", c.p, c.shape, err, c.want)
		}
	}
	if err := Prepare(image.NewNRGBA(image.Rect(0, 0, 0, 5)), ir.Preprocess{}, ir.Shape{8, 8, 3}, dst); err == nil {
		t.Error("no error for an empty image")
	}
	// An image 1 pixel wide and very tall resized on its shorter side is
	// fine: only the crop is computed.
	thin := image.NewGray(image.Rect(0, 0, 1, 5000))
	if err := Prepare(thin, mobilenet, ir.Shape{224, 224, 3}, make([]float32, 224*224*3)); err != nil {
		t.Error(err)
	}
}

func TestFromRGBAErrors(t *testing.T) {
	for _, c := range []struct {
		w, h, n int
		want    string
	}{
		{0, 3, 0, "0x3"},
		{3, 3, 35, "needs 36 bytes, got 35"},
		{3, 3, 37, "needs 36 bytes, got 37"},
		{1 << 20, 1 << 20, 16, "pixels allowed"},
	} {
		_, err := FromRGBA(c.w, c.h, make([]byte, c.n))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("FromRGBA(%d, %d, %d bytes): %v, want %q", c.w, c.h, c.n, err, c.want)
		}
	}
}

// TestFancyYCbCrEdges converts tiny YCbCr images of every size and
// supported ratio (edge replication must stay in bounds) and checks 4:4:4,
// which needs no upsampling, against the standard conversion.
func TestFancyYCbCrEdges(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
	} {
		for w := 1; w <= 5; w++ {
			for h := 1; h <= 5; h++ {
				m := image.NewYCbCr(image.Rect(0, 0, w, h), ratio)
				for i := range m.Y {
					m.Y[i] = byte(40 * i)
				}
				for i := range m.Cb {
					m.Cb[i], m.Cr[i] = byte(90*i), byte(255-60*i)
				}
				n := 0
				ok := fancyYCbCr(m, func(i int, r, g, b byte) {
					n++
					if ratio != image.YCbCrSubsampleRatio444 {
						return
					}
					x, y := i%w, i/w
					c := m.YCbCrAt(x, y)
					r2, g2, b2 := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
					for _, d := range []int{int(r) - int(r2), int(g) - int(g2), int(b) - int(b2)} {
						if d < -1 || d > 1 {
							t.Fatalf("%v %dx%d (%d,%d): %v %v %v, want about %v %v %v", ratio, w, h, x, y, r, g, b, r2, g2, b2)
						}
					}
				})
				if !ok || n != w*h {
					t.Fatalf("%v %dx%d: ok %v, %d pixels", ratio, w, h, ok, n)
				}
			}
		}
	}
	if fancyYCbCr(image.NewYCbCr(image.Rect(0, 0, 4, 4), image.YCbCrSubsampleRatio411), func(int, byte, byte, byte) {}) {
		t.Error("4:1:1 claimed")
	}
}
