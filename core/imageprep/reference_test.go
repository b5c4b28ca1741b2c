package imageprep

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// The files in testdata were made by testdata/make_reference.py with
// Pillow and torchvision; these tests compare this package with them.

type refCase struct {
	Kind        string    `json:"kind"`
	Input       string    `json:"input"`
	Output      string    `json:"output"`
	Mode        string    `json:"mode"`
	Size        [2]int    `json:"size"`
	Resize      any       `json:"resize"` // shorter side (number) or [h, w]
	Crop        []int     `json:"crop"`
	Mean        []float32 `json:"mean"`
	Std         []float32 `json:"std"`
	Grey        bool      `json:"grey"`
	Channels    string    `json:"channels"`
	Shape       []int     `json:"shape"`
	Orientation int       `json:"orientation"`
}

func loadManifest(t *testing.T) []refCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Cases []refCase }
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Cases) == 0 {
		t.Fatal("manifest has no cases")
	}
	return m.Cases
}

// rgbBytes returns img's pixels packed as RGB, or grey when grey is set
// (the reference PNGs are stored as RGB or L).
func rgbBytes(t *testing.T, img image.Image, grey bool) []byte {
	t.Helper()
	var pr Preparer
	return append([]byte(nil), pr.source(img, grey).packed()...)
}

// packed copies a view into a tightly packed buffer.
func (p pixels) packed() []byte {
	out := make([]byte, 0, p.w*p.h*p.n)
	for y := range p.h {
		for x := range p.w {
			i := y*p.stride + x*p.step
			out = append(out, p.pix[i:i+p.n]...)
		}
	}
	return out
}

// TestResizeMatchesPillow asserts every resized pixel equals Pillow's
// Image.resize(BILINEAR) exactly, up and down, at odd sizes, for RGB,
// RGBA (alpha dropped), palette and grey inputs.
func TestResizeMatchesPillow(t *testing.T) {
	var pr Preparer // reused across cases, as the browser does
	n := 0
	for _, c := range loadManifest(t) {
		if c.Kind != "resize" {
			continue
		}
		n++
		t.Run(c.Output+"/"+c.Mode+fmt.Sprint(c.Size), func(t *testing.T) {
			img := mustDecode(t, c.Input)
			want := rgbBytes(t, mustDecode(t, c.Output), c.Mode == "L")
			w, h := c.Size[0], c.Size[1]
			ch := 3
			if c.Mode == "L" {
				ch = 1
			}
			// Through the public path: stretch with scale 1, offset 0
			// yields the 8-bit values as floats.
			dst := make([]float32, w*h*ch)
			p := ir.Preprocess{Resize: ir.ResizeStretch, Scale: [3]float32{1, 1, 1}, Channels: "RGB"}
			if err := pr.Prepare(img, p, ir.Shape{h, w, ch}, dst); err != nil {
				t.Fatal(err)
			}
			diff, maxDiff := 0, 0
			for i, v := range dst {
				if d := int(math.Abs(float64(v) - float64(want[i]))); d != 0 {
					diff++
					maxDiff = max(maxDiff, d)
				}
			}
			if diff != 0 {
				t.Errorf("%d of %d values differ from Pillow, by up to %d", diff, len(dst), maxDiff)
			}
			if ch == 3 {
				got, err := pr.Resize(img, w, h)
				if err != nil {
					t.Fatal(err)
				}
				if g := rgbBytes(t, got, false); string(g) != string(want) {
					t.Error("Resize differs from Pillow")
				}
			}
		})
	}
	if n < 20 {
		t.Fatalf("only %d resize cases", n)
	}
}

// TestResizeToSameSizeIsIdentity checks that no pixel moves when the size
// does not change, independently of the fixtures.
func TestResizeToSameSizeIsIdentity(t *testing.T) {
	img := mustDecode(t, "in_grad37x53.png")
	got, err := new(Preparer).Resize(img, 37, 53)
	if err != nil {
		t.Fatal(err)
	}
	if string(rgbBytes(t, got, false)) != string(rgbBytes(t, img, false)) {
		t.Fatal("resizing to the same size changed pixels")
	}
}

// TestTorchvisionEvalTransform compares Prepare with torchvision's
// Resize, CenterCrop, ToTensor, Normalize (and Grayscale) tensors.
func TestTorchvisionEvalTransform(t *testing.T) {
	var pr Preparer
	n := 0
	for _, c := range loadManifest(t) {
		if c.Kind != "eval" && c.Kind != "crop8" {
			continue
		}
		n++
		t.Run(c.Output, func(t *testing.T) {
			img := mustDecode(t, c.Input)
			p := ir.Preprocess{Crop: "center", Channels: "RGB"}
			var h, w int
			switch r := c.Resize.(type) {
			case float64:
				p.Resize, p.ResizeTo = ir.ResizeShorter, int(r)
				h, w = c.Crop[0], c.Crop[1]
			case []any:
				p.Resize = ir.ResizeStretch
				h, w = int(r[0].(float64)), int(r[1].(float64))
			default:
				t.Fatalf("bad resize %v", c.Resize)
			}
			if len(c.Crop) == 2 {
				h, w = c.Crop[0], c.Crop[1]
			} else if c.Crop != nil {
				t.Fatalf("bad crop %v", c.Crop)
			}
			ch := 3
			if c.Grey {
				ch = 1
			}
			var want []float32
			tol := 0.0
			if c.Kind == "crop8" {
				p.Scale = [3]float32{1, 1, 1}
				for _, b := range rgbBytes(t, mustDecode(t, c.Output), false) {
					want = append(want, float32(b))
				}
			} else {
				// v*Scale+Offset with Scale = 1/(255 std), Offset =
				// -mean/std, as a converter would write them; the order
				// of floating-point operations differs from torch's
				// (v/255-mean)/std by a few ulp.
				p.Channels = c.Channels
				for i := range ch {
					p.Scale[i] = 1 / (255 * c.Std[i])
					p.Offset[i] = -c.Mean[i] / c.Std[i]
				}
				want = readCHW(t, c.Output, c.Shape)
				tol = 1e-5
			}
			got := make([]float32, h*w*ch)
			if err := pr.Prepare(img, p, ir.Shape{h, w, ch}, got); err != nil {
				t.Fatal(err)
			}
			if len(want) != len(got) {
				t.Fatalf("reference has %d values, want %d", len(want), len(got))
			}
			bad, worst := 0, 0.0
			for i := range got {
				d := math.Abs(float64(got[i] - want[i]))
				worst = max(worst, d)
				if d > tol {
					bad++
				}
			}
			t.Logf("%d values, worst difference from torchvision %.3g", len(got), worst)
			if bad > 0 {
				t.Errorf("%d of %d values differ from torchvision by more than %g (worst %g)", bad, len(got), tol, worst)
			}
		})
	}
	if n < 8 {
		t.Fatalf("only %d eval cases", n)
	}
}

// readCHW reads a little-endian float32 CHW tensor and returns it HWC.
func readCHW(t *testing.T, name string, shape []int) []float32 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	c, h, w := shape[0], shape[1], shape[2]
	if len(data) != 4*c*h*w {
		t.Fatalf("%s: %d bytes for shape %v", name, len(data), shape)
	}
	out := make([]float32, c*h*w)
	for ci := range c {
		for i := range h * w {
			out[i*c+ci] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*(ci*h*w+i):]))
		}
	}
	return out
}
