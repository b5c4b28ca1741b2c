package imageprep

import "image"

// Go's JPEG decoder returns chroma at its stored resolution, and
// image.YCbCr's own conversion repeats each chroma sample over 2×2 pixels.
// libjpeg-turbo, which Pillow (hence torchvision) and Chromium decode
// with, interpolates chroma instead ("fancy upsampling") and uses its own
// fixed-point colour conversion. Replicating both here brings a 4:2:0
// photograph from several levels (up to tens at colour edges) away from
// Pillow's pixels to about one level (the IDCTs still round differently).

// ycbcrToRGB is libjpeg's YCbCr to RGB conversion (jdcolor.c): 16-bit
// fixed point, rounded half up, clamped.
func ycbcrToRGB(y, cb, cr int32) (byte, byte, byte) {
	const half = 1 << 15
	cb -= 128
	cr -= 128
	r := y + (91881*cr+half)>>16
	g := y + (-22554*cb+half-46802*cr)>>16
	b := y + (116130*cb+half)>>16
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int32) byte {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return byte(v)
}

// fancyYCbCr converts m to RGB with libjpeg-turbo's triangle-filter chroma
// upsampling, calling put for each pixel in row-major order. It handles
// the subsampling ratios cameras and encoders write (4:4:4, 4:2:2, 4:2:0)
// for images whose bounds start at the origin, as decoded ones do, and
// reports false for anything else.
func fancyYCbCr(m *image.YCbCr, put func(i int, r, g, b byte)) bool {
	if m.Rect.Min != (image.Point{}) {
		return false
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	var hs, vs int // chroma subsampling shifts
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		hs = 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 1, 1
	default:
		return false
	}
	cw, ch := (w+hs)>>hs, (h+vs)>>vs // libjpeg's downsampled_width/height
	cy := func(y int) int32 { return int32(m.Y[y]) }
	i := 0
	for y := range h {
		yrow := y * m.YStride
		// The chroma row this pixel row lies in, and the next nearest
		// (above for even rows, below for odd), replicated at the edges.
		c0 := y >> vs
		c1 := c0
		if vs == 1 {
			if y&1 == 0 {
				c1 = max(c0-1, 0)
			} else {
				c1 = min(c0+1, ch-1)
			}
		}
		r0, r1 := c0*m.CStride, c1*m.CStride
		// colsum is the vertically filtered chroma at column c: 3 parts
		// the nearer row, 1 part the further (libjpeg's thiscolsum).
		colsum := func(p []byte, c int) int32 {
			return 3*int32(p[r0+c]) + int32(p[r1+c])
		}
		for x := range w {
			var cb, cr int32
			if hs == 0 { // 4:4:4
				cb, cr = int32(m.Cb[r0+x]), int32(m.Cr[r0+x])
			} else {
				// 3/4 the nearer column, 1/4 the further: left for
				// even pixels, right for odd, with libjpeg's biases.
				c := x >> 1
				far, b2, b4 := max(c-1, 0), int32(1), int32(8)
				if x&1 == 1 {
					far, b2, b4 = min(c+1, cw-1), 2, 7
				}
				if vs == 0 { // 4:2:2 (h2v1)
					cb = (3*int32(m.Cb[r0+c]) + int32(m.Cb[r0+far]) + b2) >> 2
					cr = (3*int32(m.Cr[r0+c]) + int32(m.Cr[r0+far]) + b2) >> 2
				} else { // 4:2:0 (h2v2)
					cb = (3*colsum(m.Cb, c) + colsum(m.Cb, far) + b4) >> 4
					cr = (3*colsum(m.Cr, c) + colsum(m.Cr, far) + b4) >> 4
				}
			}
			r, g, b := ycbcrToRGB(cy(yrow+x), cb, cr)
			put(i, r, g, b)
			i++
		}
	}
	return true
}
