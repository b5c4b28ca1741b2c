package imageprep

import (
	"image"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// BenchmarkPrepareWebcam is the browser's hot path: a 640x480 RGBA frame
// to MobileNet's 224x224 input.
func BenchmarkPrepareWebcam(b *testing.B) {
	pix := make([]byte, 640*480*4)
	for i := range pix {
		pix[i] = byte(i * 7)
	}
	frame, err := FromRGBA(640, 480, pix)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, 224*224*3)
	for _, c := range []struct {
		name string
		p    ir.Preprocess
	}{
		{"stretch", ir.Preprocess{Resize: ir.ResizeStretch, Scale: [3]float32{1, 1, 1}}},
		{"shorter256crop224", mobilenet},
	} {
		b.Run(c.name, func(b *testing.B) {
			var pr Preparer
			b.ReportAllocs()
			for b.Loop() {
				if err := pr.Prepare(frame, c.p, ir.Shape{224, 224, 3}, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPrepareJPEG is the CLI's path for a decoded photo (YCbCr 4:2:0).
func BenchmarkPrepareJPEG(b *testing.B) {
	img := image.NewYCbCr(image.Rect(0, 0, 1024, 768), image.YCbCrSubsampleRatio420)
	for i := range img.Y {
		img.Y[i] = byte(i)
	}
	dst := make([]float32, 224*224*3)
	var pr Preparer
	b.ReportAllocs()
	for b.Loop() {
		if err := pr.Prepare(img, mobilenet, ir.Shape{224, 224, 3}, dst); err != nil {
			b.Fatal(err)
		}
	}
}
