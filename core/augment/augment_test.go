package augment

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"testing"
)

func noise(w, h int, seed uint64) *image.NRGBA {
	rng := rand.New(rand.NewPCG(seed, seed))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255
	}
	return img
}

// TestZeroAndFlip: the zero Augment gives the picture back pixel for
// pixel, and a flip alone mirrors it, against a plain loop.
func TestZeroAndFlip(t *testing.T) {
	src := noise(23, 17, 1)
	same, err := Augment{}.Apply(src, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	flipped := 0
	for seed := uint64(0); seed < 8; seed++ {
		got, err := Augment{Flip: true}.Apply(src, rand.New(rand.NewPCG(seed, 2)))
		if err != nil {
			t.Fatal(err)
		}
		mirror := true
		for y := 0; y < 17; y++ {
			for x := 0; x < 23; x++ {
				if same.NRGBAAt(x, y) != src.NRGBAAt(x, y) {
					t.Fatalf("zero augment changed (%d,%d): %v vs %v", x, y, same.NRGBAAt(x, y), src.NRGBAAt(x, y))
				}
				mirror = mirror && got.NRGBAAt(x, y) == src.NRGBAAt(22-x, y)
			}
		}
		if mirror {
			flipped++
		} else if !equal(got, src) {
			t.Fatalf("seed %d: a flip-only view is neither the picture nor its mirror", seed)
		}
	}
	if flipped == 0 || flipped == 8 {
		t.Errorf("%d of 8 seeds flipped: want about half", flipped)
	}
}

func equal(a, b *image.NRGBA) bool {
	for y := 0; y < a.Rect.Dy(); y++ {
		for x := 0; x < a.Rect.Dx(); x++ {
			if a.NRGBAAt(x, y) != b.NRGBAAt(x, y) {
				return false
			}
		}
	}
	return true
}

// TestViewIsReproducible: a view depends only on the seed, the example
// and the view number, and a large picture is reduced to augmentSide.
func TestViewIsReproducible(t *testing.T) {
	src := noise(900, 600, 2)
	a := Default()
	v1, err := a.View(src, 7, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := a.View(src, 7, 3, 1)
	v3, _ := a.View(src, 7, 3, 2)
	if !equal(v1, v2) || equal(v1, v3) {
		t.Fatal("views are not a function of (seed, example, view)")
	}
	if v1.Rect.Dx() != augmentSide || v1.Rect.Dy() != 299 {
		t.Fatalf("view is %v, want %dx299", v1.Rect, augmentSide)
	}
	if _, err := a.View(image.NewNRGBA(image.Rect(0, 0, 0, 5)), 1, 0, 1); err == nil {
		t.Error("an empty picture gave a view")
	}
	if err := (Augment{MinArea: 2}).Check(); err == nil {
		t.Error("a crop of twice the area passed Check")
	}
}

// TestCopyIsDraw: copyNRGBA gives draw.Draw's pixels for every source
// kind it meets (NRGBA off the origin, premultiplied RGBA with partial
// alpha, grey, YCbCr, paletted, and a type only image.Image knows).
func TestCopyIsDraw(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	r := image.Rect(3, 2, 20, 13)
	fill := func(pix []byte) {
		for i := range pix {
			pix[i] = byte(rng.IntN(256))
		}
	}
	nrgba, rgba, gray := image.NewNRGBA(r), image.NewRGBA(r), image.NewGray(r)
	fill(nrgba.Pix)
	fill(gray.Pix)
	for i := 0; i < len(rgba.Pix); i += 4 {
		a := byte(rng.IntN(256))
		rgba.Pix[i+3] = a
		for c := 0; c < 3; c++ {
			rgba.Pix[i+c] = byte(rng.IntN(int(a) + 1))
		}
	}
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	fill(ycc.Y)
	fill(ycc.Cb)
	fill(ycc.Cr)
	pal := image.NewPaletted(r, color.Palette{color.NRGBA{1, 2, 3, 40}, color.RGBA{200, 100, 50, 255}, color.Gray{7}})
	for i := range pal.Pix {
		pal.Pix[i] = byte(rng.IntN(3))
	}
	for _, src := range []image.Image{nrgba, rgba, gray, ycc, pal, onlyImage{nrgba}} {
		want := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
		draw.Draw(want, want.Rect, src, r.Min, draw.Src)
		if got := copyNRGBA(src); !bytes.Equal(got.Pix, want.Pix) || got.Rect != want.Rect {
			t.Errorf("%T: the copy differs from draw.Draw's", src)
		}
	}
}

// onlyImage hides every method but image.Image's.
type onlyImage struct{ image.Image }
