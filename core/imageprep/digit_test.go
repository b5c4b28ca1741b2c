package imageprep

import (
	"errors"
	"image"
	"image/color"
	"testing"
)

// TestCenterDigit: a stroke drawn small in a corner of a large pad comes
// out as MNIST draws digits, its longer side 20 pixels, its centre of
// mass at the centre; a blank pad is refused.
func TestCenterDigit(t *testing.T) {
	pad := image.NewNRGBA(image.Rect(0, 0, 280, 280))
	for y := 0; y < 280; y++ {
		for x := 0; x < 280; x++ {
			pad.Set(x, y, color.NRGBA{A: 255})
		}
	}
	if _, err := CenterDigit(pad); !errors.Is(err, ErrBlankDigit) {
		t.Fatalf("blank pad: %v", err)
	}
	// A vertical bar 10 wide and 60 tall near the top-left corner.
	for y := 20; y < 80; y++ {
		for x := 30; x < 40; x++ {
			pad.Set(x, y, color.NRGBA{R: 255, G: 255, B: 255, A: 255})
		}
	}
	d, err := CenterDigit(pad)
	if err != nil {
		t.Fatal(err)
	}
	x0, y0, x1, y1 := 28, 28, -1, -1
	mass, mx, my := 0.0, 0.0, 0.0
	for y := 0; y < 28; y++ {
		for x := 0; x < 28; x++ {
			v := float64(d.GrayAt(x, y).Y)
			if v > 0 {
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
			mass += v
			mx += v * (float64(x) + 0.5)
			my += v * (float64(y) + 0.5)
		}
	}
	if h := y1 - y0 + 1; h != 20 {
		t.Errorf("the digit is %d pixels tall, want 20", h)
	}
	if cx, cy := mx/mass, my/mass; cx < 13.5 || cx > 14.5 || cy < 13.5 || cy > 14.5 {
		t.Errorf("centre of mass at (%.2f, %.2f), want (14, 14)", cx, cy)
	}
}
