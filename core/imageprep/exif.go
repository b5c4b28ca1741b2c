//go:build !js

// EXIF orientation serves the decoder (decode.go), native only: the
// browser applies a JPEG's orientation itself when it decodes.

package imageprep

import (
	"encoding/binary"
	"image"
)

// exifOrientation returns the EXIF orientation (1..8) of a JPEG, or 1 when
// it has none or the EXIF block cannot be read. Browsers rotate by it when
// they decode (createImageBitmap's imageOrientation "from-image"), and
// phones rely on it instead of rotating pixels, so the CLI honours it too.
// A damaged EXIF block is ignored rather than failing the image: the
// pixels are still fine.
func exifOrientation(data []byte) int {
	p := 2 // after SOI
	for p+4 <= len(data) {
		if data[p] != 0xff {
			return 1
		}
		marker := data[p+1]
		if marker == 0xff { // fill byte
			p++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[p+2:]))
		if n < 2 || p+2+n > len(data) {
			return 1
		}
		seg := data[p+4 : p+2+n]
		if marker == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		p += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd+2 > int64(len(t)) {
		return 1
	}
	count := int64(bo.Uint16(t[ifd:]))
	for i := int64(0); i < count; i++ {
		e := ifd + 2 + 12*i
		if e+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		if bo.Uint16(t[e+2:]) != 3 { // SHORT
			return 1
		}
		if o := int(bo.Uint16(t[e+8:])); o >= 1 && o <= 8 {
			return o
		}
		return 1
	}
	return 1
}

// orient returns img transformed so that it displays upright given its
// EXIF orientation o. Orientation 1 (and anything unknown) returns img.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	ow, oh := w, h
	if o >= 5 { // the four orientations that swap the axes
		ow, oh = h, w
	}
	// Convert through source, which decodes chroma as libjpeg does.
	var pr Preparer
	src := pr.source(img, false)
	dst := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// (x, y) is a stored pixel; (dx, dy) is where it is displayed.
			var dx, dy int
			switch o {
			case 2: // mirrored horizontally
				dx, dy = w-1-x, y
			case 3: // rotated 180°
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored vertically
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // rotate 90° clockwise to display
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // rotate 90° counter-clockwise to display
				dx, dy = y, w-1-x
			}
			i, j := dst.PixOffset(dx, dy), y*src.stride+x*src.step
			copy(dst.Pix[i:i+3], src.pix[j:j+3])
			dst.Pix[i+3] = 255
		}
	}
	return dst
}
