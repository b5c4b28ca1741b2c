//go:build !js

// Decoding is for the command line and the native tools only: in the
// browser the platform decodes (createImageBitmap) and hands over RGBA
// bytes (FromRGBA), so GOOS=js builds leave this file, and with it Go's
// PNG, JPEG and GIF decoders, out of glimpse.wasm.

package imageprep

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"
)

// maxFileBytes bounds what DecodeFile reads into memory. No image within
// DefaultMaxPixels needs more than this in any sane encoding.
const maxFileBytes = 1 << 30

// maxJPEGScans bounds the scans of a progressive JPEG. Each scan may
// revisit every block of the image, and a scan that skips all blocks
// with end-of-band runs costs a few dozen bytes, so a small hostile file
// could otherwise keep the decoder busy for minutes. Encoders write about
// ten; libjpeg-turbo's tools refuse more than a few hundred.
const maxJPEGScans = 256

// Decoder decodes JPEG, PNG and GIF images with a bound on their size.
// The zero value uses DefaultMaxPixels.
type Decoder struct {
	// MaxPixels is the largest width*height accepted; 0 means
	// DefaultMaxPixels.
	MaxPixels int
}

// Decode decodes a JPEG, PNG or GIF image held in data, with the default
// size limit. name is only used in error messages, which always start
// with it.
func Decode(name string, data []byte) (image.Image, error) {
	return Decoder{}.Decode(name, data)
}

// DecodeFile reads and decodes the image file at path with the default
// size limit.
func DecodeFile(path string) (image.Image, error) {
	return Decoder{}.DecodeFile(path)
}

// DecodeFile reads and decodes the image file at path.
func (d Decoder) DecodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > maxFileBytes {
		return nil, fmt.Errorf("%s: file is %d bytes, too large for an image", path, st.Size())
	}
	// Read through a LimitReader: the file may grow after Stat.
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s: file is too large for an image", path)
	}
	return d.Decode(path, data)
}

// format is an image container this package decodes, named as in
// error messages.
type format string

const (
	formatPNG  format = "PNG"
	formatJPEG format = "JPEG"
	formatGIF  format = "GIF"
)

func (f format) decodeConfig(r io.Reader) (image.Config, error) {
	switch f {
	case formatPNG:
		return png.DecodeConfig(r)
	case formatJPEG:
		return jpeg.DecodeConfig(r)
	}
	return gif.DecodeConfig(r)
}

func (f format) decode(r io.Reader) (image.Image, error) {
	switch f {
	case formatPNG:
		return png.Decode(r)
	case formatJPEG:
		return jpeg.Decode(r)
	}
	return gif.Decode(r)
}

// sniff identifies the container by its magic bytes rather than by the
// file name, which is often wrong (a ".jpg" that is really a PNG).
func sniff(data []byte) (format, string) {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG, ""
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		return formatJPEG, ""
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return formatGIF, ""
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return "", "WebP images are not supported (convert to PNG or JPEG)"
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		return "", "HEIF/AVIF images are not supported (convert to PNG or JPEG)"
	case len(data) == 0:
		return "", "empty file, not an image"
	}
	return "", "not a JPEG, PNG or GIF image"
}

// Decode decodes a JPEG, PNG or GIF image held in data. JPEG orientation
// recorded in EXIF is applied, as browsers do, so the CLI sees a phone
// photo the same way up as the web app does.
func (d Decoder) Decode(name string, data []byte) (image.Image, error) {
	f, problem := sniff(data)
	if problem != "" {
		return nil, fmt.Errorf("%s: %s", name, problem)
	}
	maxPixels := d.MaxPixels
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, decodeError(name, f, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%s: image is %dx%d", name, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, fmt.Errorf("%s: image is %dx%d, more than the %d pixels allowed",
			name, cfg.Width, cfg.Height, maxPixels)
	}
	if f == formatJPEG {
		if n := jpegScans(data); n > maxJPEGScans {
			return nil, fmt.Errorf("%s: JPEG has %d scans, more than the %d allowed", name, n, maxJPEGScans)
		}
	}
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, decodeError(name, f, err)
	}
	if b := img.Bounds(); b.Empty() {
		return nil, fmt.Errorf("%s: image is %dx%d", name, b.Dx(), b.Dy())
	}
	if f == formatJPEG {
		img = orient(img, exifOrientation(data))
	}
	return img, nil
}

// decodeError names the file and the format, and says "truncated" rather
// than the decoder's bare "unexpected EOF".
func decodeError(name string, f format, err error) error {
	// image/png reports a short file as a FormatError("unexpected EOF").
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		strings.HasSuffix(err.Error(), "unexpected EOF") {
		return fmt.Errorf("%s: truncated %s image", name, f)
	}
	return fmt.Errorf("%s: invalid %s image: %v", name, f, err)
}

// jpegScans counts the start-of-scan markers of a JPEG by walking its
// marker segments and skipping entropy-coded data (where 0xFF is always
// followed by 0x00 or a restart marker), so that 0xFFDA bytes inside
// metadata do not count. It stops at anything malformed and leaves the
// error to the decoder.
func jpegScans(data []byte) int {
	scans := 0
	p := 2 // after SOI
	for p+4 <= len(data) {
		if data[p] != 0xff {
			return scans
		}
		m := data[p+1]
		switch {
		case m == 0xff: // fill byte
			p++
			continue
		case m == 0xd9: // end of image
			return scans
		case m == 0x01 || (m >= 0xd0 && m <= 0xd7): // markers without a length
			p += 2
			continue
		}
		p += 2 + (int(data[p+2])<<8 | int(data[p+3]))
		if m != 0xda {
			continue
		}
		scans++
		for p+1 < len(data) {
			if n := data[p+1]; data[p] == 0xff && n != 0 && (n < 0xd0 || n > 0xd7) {
				break
			}
			p++
		}
	}
	return scans
}
