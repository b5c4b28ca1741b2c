//go:build !js

package imageprep

import (
	"bytes"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// fixCRC rewrites the CRC at the end of a PNG chunk given as type+data+CRC.
func fixCRC(chunk []byte) {
	n := len(chunk) - 4
	c := crc32.ChecksumIEEE(chunk[:n])
	chunk[n], chunk[n+1], chunk[n+2], chunk[n+3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
}

// FuzzDecode feeds arbitrary bytes to Decode and prepares whatever
// decodes: nothing may panic, hang or allocate without bound (the pixel
// limit is kept small so the fuzzer's memory stays small too).
func FuzzDecode(f *testing.F) {
	img := image.NewNRGBA(image.Rect(0, 0, 6, 4))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 37)
	}
	var g bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.Black, color.White})
	if err := gif.Encode(&g, pal, nil); err != nil {
		f.Fatal(err)
	}
	for _, seed := range [][]byte{encode(f, img, false), encode(f, img, true), g.Bytes()} {
		f.Add(seed)
		for _, n := range []int{2, 8, 20, 33, len(seed) / 2, len(seed) - 1} {
			if n < len(seed) {
				f.Add(seed[:n])
			}
		}
	}
	exif := encode(f, img, true)
	app1 := []byte("\xff\xe1\x00\x22Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")
	f.Add(append(append([]byte{0xff, 0xd8}, app1...), exif[2:]...))

	dec := Decoder{MaxPixels: 1 << 16}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := dec.Decode("fuzz", data)
		if err != nil {
			if img != nil {
				t.Fatal("image and error")
			}
			return
		}
		b := img.Bounds()
		if b.Empty() || b.Dx()*b.Dy() > 1<<16 {
			t.Fatalf("decoded %v", b)
		}
		var pr Preparer
		dst := make([]float32, 9*7*3)
		if err := pr.Prepare(img, ir.Preprocess{Resize: ir.ResizeShorter, ResizeTo: 8, Scale: [3]float32{1, 1, 1}}, ir.Shape{9, 7, 3}, dst); err != nil {
			t.Fatal(err)
		}
	})
}
