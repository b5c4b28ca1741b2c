//go:build !js

package imageprep

// The decoder's own tests: the browser build has no decoder (the browser
// decodes), so these run natively only.

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mustDecode decodes a file of testdata with the package's decoder.
func mustDecode(t *testing.T, name string) image.Image {
	t.Helper()
	img, err := DecodeFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// encode returns img as PNG or JPEG bytes.
func encode(t testing.TB, img image.Image, jpg bool) []byte {
	var buf bytes.Buffer
	var err error
	if jpg {
		err = jpeg.Encode(&buf, img, nil)
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeErrors(t *testing.T) {
	small := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	pngData := encode(t, small, false)
	jpgData := encode(t, small, true)

	// A PNG header claiming 100000x100000 pixels (CRC fixed up so only
	// the size is wrong).
	huge := append([]byte(nil), pngData...)
	copy(huge[16:], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	fixCRC(huge[12 : 12+4+13+4])
	zero := append([]byte(nil), pngData...)
	copy(zero[16:], []byte{0, 0, 0, 0, 0, 0, 0, 0})
	fixCRC(zero[12 : 12+4+13+4])

	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"photo.txt", []byte("hello, world"), "photo.txt: not a JPEG, PNG or GIF image"},
		{"empty.png", nil, "empty.png: empty file"},
		{"x.webp", []byte("RIFF\x00\x00\x00\x00WEBPVP8 "), "x.webp: WebP images are not supported"},
		{"cut.png", pngData[:len(pngData)-20], "cut.png: truncated PNG image"},
		{"cut.jpg", jpgData[:len(jpgData)/2], "cut.jpg: truncated JPEG image"},
		{"head.jpg", jpgData[:20], "head.jpg: truncated JPEG image"},
		{"huge.png", huge, "huge.png: image is 100000x100000, more than the 67108864 pixels allowed"},
		{"x.png", zero, "x.png: invalid PNG image"},
	} {
		_, err := Decode(c.name, c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
	// A JPEG with many scans: the one scan of a baseline JPEG repeated.
	sos := bytes.Index(jpgData, []byte{0xff, 0xda})
	eoi := len(jpgData) - 2
	scans := append([]byte(nil), jpgData[:sos]...)
	for range 300 {
		scans = append(scans, jpgData[sos:eoi]...)
	}
	scans = append(scans, 0xff, 0xd9)
	if n := jpegScans(scans); n != 300 {
		t.Errorf("counted %d scans, want 300", n)
	}
	if n := jpegScans(jpgData); n != 1 {
		t.Errorf("counted %d scans in a baseline JPEG, want 1", n)
	}
	if _, err := Decode("scans.jpg", scans); err == nil || !strings.Contains(err.Error(), "scans.jpg: JPEG has 300 scans") {
		t.Errorf("scan limit not enforced: %v", err)
	}
	if _, err := (Decoder{MaxPixels: 14}).Decode("small.png", pngData); err == nil ||
		!strings.Contains(err.Error(), "small.png: image is 5x3, more than the 14 pixels allowed") {
		t.Errorf("MaxPixels not enforced: %v", err)
	}
	for name, data := range map[string][]byte{"ok.png": pngData, "ok.jpg": jpgData} {
		img, err := Decode(name, data)
		if err != nil || img.Bounds().Dx() != 5 || img.Bounds().Dy() != 3 {
			t.Errorf("%s: %v, %v", name, img, err)
		}
	}
	dir := t.TempDir()
	if _, err := DecodeFile(filepath.Join(dir, "missing.png")); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := DecodeFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
	p := filepath.Join(dir, "notes.jpg")
	if err := os.WriteFile(p, []byte("not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeFile(p); err == nil || !strings.HasPrefix(err.Error(), p+": not a JPEG") {
		t.Errorf("text file: %v", err)
	}
}

// TestEXIFOrientation compares decoding JPEGs carrying each EXIF
// orientation with Pillow's ImageOps.exif_transpose. Go's and libjpeg's
// JPEG decoders round differently, so values may differ by a few levels,
// but a wrong rotation or flip would differ by far more.
func TestEXIFOrientation(t *testing.T) {
	n := 0
	for _, c := range loadManifest(t) {
		if c.Kind != "exif" {
			continue
		}
		n++
		t.Run(c.Input, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", c.Input))
			if err != nil {
				t.Fatal(err)
			}
			if o := exifOrientation(data); o != c.Orientation {
				t.Fatalf("orientation %d, want %d", o, c.Orientation)
			}
			got := mustDecode(t, c.Input)
			want := mustDecode(t, c.Output)
			if got.Bounds().Size() != want.Bounds().Size() {
				t.Fatalf("size %v, want %v", got.Bounds().Size(), want.Bounds().Size())
			}
			g, w := rgbBytes(t, got, false), rgbBytes(t, want, false)
			sum, worst := 0, 0
			for i := range g {
				d := int(g[i]) - int(w[i])
				if d < 0 {
					d = -d
				}
				sum += d
				worst = max(worst, d)
			}
			if mean := float64(sum) / float64(len(g)); mean > 0.1 || worst > 4 {
				t.Errorf("differs from Pillow: mean %.2f, worst %d levels", mean, worst)
			}
		})
	}
	if n != 8 {
		t.Fatalf("%d orientation cases, want 8", n)
	}
}

// TestJPEGDecodeNearPillow decodes JPEGs (progressive, 4:2:0, 4:2:2,
// 4:4:4, odd sizes) and compares with Pillow's (libjpeg-turbo's)
// decoding. The IDCTs round differently, so this bounds the difference
// rather than requiring equality, and logs it. Without libjpeg's chroma
// upsampling (ycbcr.go) the 4:2:0 photo is off by 1.2 levels on average
// and up to 35.
func TestJPEGDecodeNearPillow(t *testing.T) {
	for _, c := range loadManifest(t) {
		if c.Kind != "jpeg" {
			continue
		}
		data, err := os.ReadFile(filepath.Join("testdata", c.Input))
		if err != nil {
			t.Fatal(err)
		}
		if n := jpegScans(data); n < 1 || n > maxJPEGScans {
			t.Errorf("%s: %d scans", c.Input, n)
		}
		g := rgbBytes(t, mustDecode(t, c.Input), false)
		w := rgbBytes(t, mustDecode(t, c.Output), false)
		if len(g) != len(w) {
			t.Fatalf("%s: %d values, Pillow %d", c.Input, len(g), len(w))
		}
		sum, worst, off := 0, 0, 0
		for i := range g {
			d := int(g[i]) - int(w[i])
			if d < 0 {
				d = -d
			}
			sum += d
			worst = max(worst, d)
			if d > 1 {
				off++
			}
		}
		mean := float64(sum) / float64(len(g))
		t.Logf("%s: Go vs Pillow decoding: mean %.3f levels, worst %d, %d of %d values off by more than 1",
			c.Input, mean, worst, off, len(g))
		if mean > 0.1 || worst > 4 {
			t.Errorf("%s: too far from Pillow's decoding", c.Input)
		}
	}
}
