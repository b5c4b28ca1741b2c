package convert

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/quantize"
)

// TestQuantStudyCalibrated measures int8 compute (a model calibrated on
// half the study's photos, written and read back) against the float32
// model on nsfwjs's MobileNetV2 1.0 with its 5-class head: top-1
// agreement on the confident photos and the mean cosine of the class
// probabilities over every photo, and on the photos calibration did not
// see, the largest difference of any class probability.
func TestQuantStudyCalibrated(t *testing.T) {
	if os.Getenv("GLIMPSE_QUANT_STUDY") == "" {
		t.Skip("set GLIMPSE_QUANT_STUDY=1 (make quant-study) to run the quantization study")
	}
	var imgs []image.Image
	for _, p := range studyPhotos() {
		img, err := imageprep.DecodeFile(p)
		if err != nil {
			t.Logf("skipping %s: %v", p, err)
			continue
		}
		imgs = append(imgs, img)
	}
	if len(imgs) < 50 {
		t.Fatalf("%d photos, want at least 50 (install python3-skimage, opencv-doc and darknet)", len(imgs))
	}
	g, err := FromTFJS(filepath.Join("../../build/nsfwjs", "mobilenet_v2", "model.json"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, g.InputShape.Size())
	c, err := quantize.New(g)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range imgs {
		if i%2 != 0 {
			continue // the odd photos are held out
		}
		if err := imageprep.Prepare(img, g.Meta.Preprocess, g.InputShape, in); err != nil {
			t.Fatal(err)
		}
		if err := c.Observe(in); err != nil {
			t.Fatal(err)
		}
	}
	qg, err := c.Graph()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := format.Write(&buf, qg, format.Options{DType: "int8"}); err != nil {
		t.Fatal(err)
	}
	qg, err = format.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "calibrated.glimpse")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := engine.New(g, kernels.Best())
	if err != nil {
		t.Fatal(err)
	}
	for _, qk := range kernels.AvailableInt8() {
		q, err := engine.NewInt8(qg, kernels.Best(), qk)
		if err != nil {
			t.Fatal(err)
		}
		var agree, confident int
		var cos, worst float64
		worstAt := ""
		for i, img := range imgs {
			if err := imageprep.Prepare(img, g.Meta.Preprocess, g.InputShape, in); err != nil {
				t.Fatal(err)
			}
			if err := ref.Run(in); err != nil {
				t.Fatal(err)
			}
			want := append([]float32(nil), ref.Output(g.Outputs[0])...)
			if err := q.Run(in); err != nil {
				t.Fatal(err)
			}
			got := q.Output(qg.Outputs[0])
			if margin(want) >= 0.05 {
				confident++
				if argmax(got) == argmax(want) {
					agree++
				}
			}
			cos += cosine(got, want)
			if i%2 == 1 {
				for j := range want {
					if d := math.Abs(float64(got[j] - want[j])); d > worst {
						worst, worstAt = d, fmt.Sprintf("photo %d class %d: %.4f vs %.4f", i, j, got[j], want[j])
					}
				}
			}
		}
		cos /= float64(len(imgs))
		rate := float64(agree) / float64(max(confident, 1))
		t.Logf("int8 compute (%s kernels), calibrated on %d of %d photos: top-1 agreement %d/%d (%.1f%%), mean output cosine %.6f, largest probability difference on held-out photos %.4f (%s), %d bytes",
			qk.Name(), c.Observed(), len(imgs), agree, confident, 100*rate, cos, worst, worstAt, buf.Len())
		if confident < 10 || rate < 0.99 || cos < 0.995 || worst > 0.05 {
			t.Errorf("%s: want top-1 agreement >= 99%% of at least 10 confident photos, cosine >= 0.995 and every held-out probability within 0.05", qk.Name())
		}
	}
	_ = ir.QParams{}
}
