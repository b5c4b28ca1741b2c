package convert

import (
	"math"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// close32 compares against values worked out by hand (in double
// precision) to float32's precision.
func close32(got [3]float32, want [3]float64) bool {
	for i := range got {
		if math.Abs(float64(got[i])-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
			return false
		}
	}
	return true
}

func TestParsePreprocess(t *testing.T) {
	rgb := ir.Shape{224, 224, 3}
	// torchvision's Normalize(mean, std) on ToTensor's x/255, as
	// v*scale + offset: scale = 1/(255 std), offset = -mean/std.
	tvScale := [3]float64{0.01712475383166367, 0.01750700280112045, 0.017429193899782137}
	tvOffset := [3]float64{-2.1179039301310043, -2.0357142857142856, -1.8044444444444445}
	stretchUnit := ir.Preprocess{Resize: ir.ResizeStretch, Scale: [3]float32{1, 1, 1}, Channels: "RGB"}
	cases := []struct {
		spec          string
		base          ir.Preprocess
		input         ir.Shape
		resize        string
		resizeTo      int
		scale, offset [3]float64
		channels      string
	}{
		{"torchvision", ir.Preprocess{}, rgb, "shorter", 256, tvScale, tvOffset, "RGB"},
		{"resize=shorter:256,crop=center,mean=0.485/0.456/0.406,std=0.229/0.224/0.225,channels=RGB", stretchUnit, rgb,
			"shorter", 256, tvScale, tvOffset, "RGB"},
		{"mean=0.485:0.456:0.406, std=0.229:0.224:0.225", stretchUnit, rgb, "stretch", 0, tvScale, tvOffset, "RGB"},
		{"scale=1/255,offset=0", ir.TorchvisionPreprocess(224, 224), rgb, "shorter", 256,
			[3]float64{1.0 / 255, 1.0 / 255, 1.0 / 255}, [3]float64{}, "RGB"},
		{"range=-1:1,resize=stretch", ir.TorchvisionPreprocess(224, 224), rgb, "stretch", 0,
			[3]float64{2.0 / 255, 2.0 / 255, 2.0 / 255}, [3]float64{-1, -1, -1}, "RGB"},
		{"range=0:1", ir.TorchvisionPreprocess(224, 224), rgb, "shorter", 256,
			[3]float64{1.0 / 255, 1.0 / 255, 1.0 / 255}, [3]float64{}, "RGB"},
		// Caffe: BGR, mean subtracted on the 0..255 scale; lists follow the
		// network's channel order.
		{"channels=bgr,mean=103.939/255:116.779/255:123.68/255", stretchUnit, rgb, "stretch", 0,
			[3]float64{1.0 / 255, 1.0 / 255, 1.0 / 255}, [3]float64{-103.939 / 255, -116.779 / 255, -123.68 / 255}, "BGR"},
		{"resize=shorter", stretchUnit, ir.Shape{160, 192, 3}, "shorter", 192, [3]float64{1, 1, 1}, [3]float64{}, "RGB"},
		{"torchvision,resize=shorter:320", ir.Preprocess{}, rgb, "shorter", 320, tvScale, tvOffset, "RGB"},
		{"std=0.5", stretchUnit, rgb, "stretch", 0, [3]float64{2.0 / 255, 2.0 / 255, 2.0 / 255}, [3]float64{}, "RGB"},
		{"channels=L,scale=1/255", stretchUnit, ir.Shape{32, 32, 1}, "stretch", 0,
			[3]float64{1.0 / 255, 1.0 / 255, 1.0 / 255}, [3]float64{}, "L"},
	}
	for _, c := range cases {
		p, err := ParsePreprocess(c.spec, c.base, c.input)
		if err != nil {
			t.Errorf("%q: %v", c.spec, err)
			continue
		}
		if p.Resize != c.resize || p.ResizeTo != c.resizeTo || p.Channels != c.channels ||
			!close32(p.Scale, c.scale) || !close32(p.Offset, c.offset) {
			t.Errorf("%q: got %+v", c.spec, p)
		}
		if (p.Resize == ir.ResizeShorter) != (p.Crop == "center") {
			t.Errorf("%q: resize %q with crop %q", c.spec, p.Resize, p.Crop)
		}
		// What FormatPreprocess writes reads back to the same values.
		back, err := ParsePreprocess(FormatPreprocess(p), ir.Preprocess{}, c.input)
		if err != nil || back != p {
			t.Errorf("%q: FormatPreprocess gives %q, which reads back as %+v (%v)", c.spec, FormatPreprocess(p), back, err)
		}
	}
}

func TestParsePreprocessBad(t *testing.T) {
	base := ir.TorchvisionPreprocess(224, 224)
	rgb := ir.Shape{224, 224, 3}
	cases := []struct {
		spec  string
		input ir.Shape
		want  string
	}{
		{"", rgb, "empty spec"},
		{"resize", rgb, "not key=value"},
		{"size=224", rgb, `unknown key "size"`},
		{"resize=shorter:100", rgb, "from the input's side 224"},
		{"resize=shorter:x", rgb, "must be an integer"},
		{"resize=fit", rgb, "want stretch, shorter"},
		{"resize=stretch,crop=center", rgb, "crop=center needs resize=shorter"},
		{"crop=left", rgb, "the only crop is center"},
		{"mean=0.5,mean=0.4", rgb, "mean is given twice"},
		{"mean=0.5,scale=1/255", rgb, "give one normalisation"},
		{"range=-1:1,std=0.5", rgb, "give one normalisation"},
		{"mean=0.1:0.2", rgb, "want one number, or three"},
		{"mean=0.1/0.2/0.3/0.4", rgb, "not a finite number"},
		{"std=0", rgb, "standard deviation of 0"},
		{"scale=1/0", rgb, "divides by zero"},
		{"scale=nan", rgb, "not a finite number"},
		{"offset=1e300", rgb, "not finite float32"},
		{"range=1:-1", rgb, "LO < HI"},
		{"range=1", rgb, "LO < HI"},
		{"channels=RGBA", rgb, "want RGB, BGR or L"},
		{"channels=L", rgb, "for an input of 3 channels"},
		{"channels=RGB", ir.Shape{32, 32, 1}, "for an input of 1 channels"},
		{"mean=0.1:0.2:0.3", ir.Shape{32, 32, 1}, "1-channel input"},
		{"resize=stretch,torchvision", rgb, "must come first"},
	}
	for _, c := range cases {
		_, err := ParsePreprocess(c.spec, base, c.input)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--preprocess") {
			t.Errorf("%q: error %v, want one saying %q", c.spec, err, c.want)
		}
	}
}
