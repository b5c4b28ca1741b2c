package course

import "fmt"

// Picture is what a picture weighs as numbers: W x H pixels of C
// channels, each channel value BitDepth bits, so 2^BitDepth brightness
// levels, and W·H·C·BitDepth/8 bytes uncompressed.
type Picture struct {
	W, H, Channels, BitDepth int
	Levels                   int64
	Values                   int64 // W·H·C numbers
	Bytes                    int64
}

// PictureSize works out a picture's numbers. Bit depths 1 to 32 and
// 1 to 4 channels are accepted.
func PictureSize(w, h, channels, bitDepth int) (Picture, error) {
	switch {
	case w < 1 || h < 1 || w > MaxSide || h > MaxSide:
		return Picture{}, fmt.Errorf("picture %dx%d is outside 1..%d", w, h, MaxSide)
	case channels < 1 || channels > 4:
		return Picture{}, fmt.Errorf("%d channels is outside 1..4", channels)
	case bitDepth < 1 || bitDepth > 32:
		return Picture{}, fmt.Errorf("bit depth %d is outside 1..32", bitDepth)
	}
	p := Picture{W: w, H: h, Channels: channels, BitDepth: bitDepth, Levels: 1 << bitDepth}
	p.Values = int64(w) * int64(h) * int64(channels)
	p.Bytes = (p.Values*int64(bitDepth) + 7) / 8
	return p, nil
}

// SplitRGBA splits w x h RGBA bytes (a canvas's ImageData) into its red,
// green and blue channels.
func SplitRGBA(rgba []byte, w, h int) (r, g, b []byte, err error) {
	if w < 1 || h < 1 || w > MaxSide || h > MaxSide || len(rgba) != 4*w*h {
		return nil, nil, nil, fmt.Errorf("%d bytes are not a %dx%d RGBA picture", len(rgba), w, h)
	}
	n := w * h
	r, g, b = make([]byte, n), make([]byte, n), make([]byte, n)
	for i := range n {
		r[i], g[i], b[i] = rgba[4*i], rgba[4*i+1], rgba[4*i+2]
	}
	return r, g, b, nil
}

// Blank reports whether every pixel of w x h RGBA bytes has the same
// colour: a covered camera or an empty picture, in which no network can
// see anything.
func Blank(rgba []byte) bool {
	for i := 4; i+3 < len(rgba); i += 4 {
		if rgba[i] != rgba[0] || rgba[i+1] != rgba[1] || rgba[i+2] != rgba[2] {
			return false
		}
	}
	return true
}
