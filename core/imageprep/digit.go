package imageprep

import (
	"errors"
	"image"
	"image/color"
	"math"
)

// ErrBlankDigit is CenterDigit's answer to a picture with no ink.
var ErrBlankDigit = errors.New("the drawing is blank: draw a digit first")

// CenterDigit turns a hand-drawn digit (bright ink on a dark ground, any
// size) into an MNIST digit: the ink's bounding box scaled, keeping its
// proportions, to fit 20x20, then placed in a 28x28 picture so that its
// centre of mass is the centre, as LeCun et al. normalised MNIST. A
// network trained on MNIST reads a drawing only after this: a digit drawn
// large, small or off-centre on a pad is otherwise unlike any it saw.
// Ink is the luma of each pixel (alpha-weighted over black).
func CenterDigit(img image.Image) (*image.Gray, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	lum := make([]float64, w*h)
	x0, y0, x1, y1 := w, h, -1, -1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray)
			v := float64(c.Y)
			lum[y*w+x] = v
			if v > 32 {
				x0, y0 = min(x0, x), min(y0, y)
				x1, y1 = max(x1, x), max(y1, y)
			}
		}
	}
	if x1 < 0 {
		return nil, ErrBlankDigit
	}
	bw, bh := x1-x0+1, y1-y0+1
	scale := 20 / float64(max(bw, bh))
	sw, sh := max(1, int(math.Round(float64(bw)*scale))), max(1, int(math.Round(float64(bh)*scale)))
	// Area-average the box into sw x sh.
	small := make([]float64, sw*sh)
	for sy := 0; sy < sh; sy++ {
		fy0, fy1 := float64(sy)/scale, float64(sy+1)/scale
		for sx := 0; sx < sw; sx++ {
			fx0, fx1 := float64(sx)/scale, float64(sx+1)/scale
			sum, area := 0.0, 0.0
			for y := int(fy0); y < int(math.Ceil(fy1)) && y < bh; y++ {
				wy := math.Min(fy1, float64(y+1)) - math.Max(fy0, float64(y))
				for x := int(fx0); x < int(math.Ceil(fx1)) && x < bw; x++ {
					wx := math.Min(fx1, float64(x+1)) - math.Max(fx0, float64(x))
					sum += wx * wy * lum[(y0+y)*w+x0+x]
					area += wx * wy
				}
			}
			if area > 0 {
				small[sy*sw+sx] = sum / area
			}
		}
	}
	// Centre of mass of the scaled digit.
	mass, mx, my := 0.0, 0.0, 0.0
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			v := small[y*sw+x]
			mass += v
			mx += v * (float64(x) + 0.5)
			my += v * (float64(y) + 0.5)
		}
	}
	ox := int(math.Round(14 - mx/mass))
	oy := int(math.Round(14 - my/mass))
	out := image.NewGray(image.Rect(0, 0, 28, 28))
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			tx, ty := ox+x, oy+y
			if tx >= 0 && tx < 28 && ty >= 0 && ty < 28 {
				out.Pix[ty*28+tx] = uint8(math.Round(math.Min(255, small[y*sw+x])))
			}
		}
	}
	return out, nil
}
