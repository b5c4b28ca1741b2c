package convert

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// The quantization study measures what f16 and int8 weights cost against
// f32 on real photographs, per model: top-1 agreement over the photos
// whose f32 top-1 leads the runner-up by at least 0.05, the mean cosine
// similarity of the output vectors (and of the embeddings), and the file
// size. It needs the nsfwjs models (decoded by make) and torchvision's
// MobileNetV2 1.0 ONNX export (build/bench/mobilenet_v2.onnx, made by
// tools/js/make-bench-onnx.py), so it runs only from `make quant-study`,
// which sets GLIMPSE_QUANT_STUDY.
//
// nsfwjs ships uint8-quantized weights, which the writer stores exactly on
// their own grid (u8) under f16 and int8; the rows marked "forced" turn
// that off (format.Options.NoGrid) to show what f16 and int8 proper would
// cost on those weights.

// studyPhotos are real photographs from Debian packages (python3-skimage,
// opencv-doc, darknet); diagrams, drawings and synthetic images are left
// out.
func studyPhotos() []string {
	sk := "/usr/lib/python3/dist-packages/skimage/data/"
	cv := "/usr/share/doc/opencv-doc/examples/data/"
	dn := "/usr/share/darknet/data/"
	var out []string
	for _, f := range strings.Fields("astronaut.png chelsea.png coffee.png camera.png rocket.jpg hubble_deep_field.jpg " +
		"retina.jpg motorcycle_left.png motorcycle_right.png grass.png gravel.png brick.png coins.png moon.png") {
		out = append(out, sk+f)
	}
	for _, f := range strings.Fields("leuvenA.jpg leuvenB.jpg aloeL.jpg aloeR.jpg ela_original.jpg baboon.jpg board.jpg " +
		"fruits.jpg building.jpg messi5.jpg squirrel_cls.jpg aero1.jpg aero3.jpg apple.jpg orange.jpg butterfly.jpg " +
		"home.jpg stuff.jpg HappyFish.jpg chicky_512.png rubberwhale1.png rubberwhale2.png basketball1.png basketball2.png " +
		"box_in_scene.png smarties.png graf1.png graf3.png left01.jpg left05.jpg left09.jpg left13.jpg " +
		"licenseplate_motion.jpg starry_night.jpg") {
		out = append(out, cv+f)
	}
	for _, f := range strings.Fields("dog.jpg eagle.jpg giraffe.jpg horses.jpg kite.jpg person.jpg scream.jpg") {
		out = append(out, dn+f)
	}
	return out
}

type studyModel struct {
	name string
	load func() (*ir.Graph, error)
	// nsfwjs's weights are on a uint8 grid: also measure with it forced off.
	grid bool
	// targets says whether the accuracy targets apply (they do for every
	// model with weights that carry information, not for a random
	// initialisation whose outputs hardly depend on the image).
	targets bool
}

// studyRun is one model file's outputs on every photo.
type studyRun struct {
	out, emb [][]float32
}

func runStudy(t *testing.T, g *ir.Graph, imgs []image.Image) studyRun {
	t.Helper()
	g.Outputs = append(g.Outputs, g.Meta.Embedding)
	e, err := engine.New(g, kernels.Best())
	if err != nil {
		t.Fatal(err)
	}
	var r studyRun
	in := make([]float32, g.InputShape.Size())
	softmax := g.Producer(g.Outputs[0]).Op != ir.Softmax
	for _, img := range imgs {
		if err := imageprep.Prepare(img, g.Meta.Preprocess, g.InputShape, in); err != nil {
			t.Fatal(err)
		}
		if err := e.Run(in); err != nil {
			t.Fatal(err)
		}
		out := append([]float32(nil), e.Output(g.Outputs[0])...)
		if softmax {
			out = softmax64(out)
		}
		r.out = append(r.out, out)
		r.emb = append(r.emb, append([]float32(nil), e.Output(g.Meta.Embedding)...))
	}
	return r
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// margin is the lead of the top probability over the runner-up.
func margin(p []float32) float64 {
	first, second := math.Inf(-1), math.Inf(-1)
	for _, v := range p {
		switch x := float64(v); {
		case x > first:
			first, second = x, first
		case x > second:
			second = x
		}
	}
	return first - second
}

func TestQuantStudy(t *testing.T) {
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
	nsfwjs := "../../build/nsfwjs"
	models := []studyModel{
		{"nsfwjs MobileNetV2 1.0 (TF.js layers)", func() (*ir.Graph, error) {
			return FromTFJS(filepath.Join(nsfwjs, "mobilenet_v2", "model.json"), Options{})
		}, true, true},
		{"nsfwjs MobileNetV2 1.4 (TF.js graph)", func() (*ir.Graph, error) {
			return FromTFJS(filepath.Join(nsfwjs, "mobilenet_v2_mid", "model.json"), Options{})
		}, true, true},
		{"torchvision MobileNetV2 0.5 (ONNX fixture)", func() (*ir.Graph, error) {
			return FromONNX(filepath.Join(onnxFixtures, "mobilenet_v2_w0.5.onnx"), Options{})
		}, false, true},
		{"torchvision MobileNetV3-small (.pth fixture)", func() (*ir.Graph, error) {
			return FromPyTorch(filepath.Join(pthFixtures, "mobilenet_v3_small.pth"), "mobilenet_v3_small", 0, Options{})
		}, false, true},
		{"torchvision MobileNetV2 1.0 (ONNX, initial weights)", func() (*ir.Graph, error) {
			return FromONNX("../../build/bench/mobilenet_v2.onnx", Options{})
		}, false, false},
	}
	type variant struct {
		label string
		opt   format.Options
	}
	var table []string
	table = append(table, "| model | dtype | top-1 agreement (confident photos) | mean cosine, outputs | mean cosine, embeddings | bytes |",
		"|---|---|---|---|---|---|")
	for _, m := range models {
		g, err := m.load()
		if err != nil {
			t.Errorf("%s: %v", m.name, err)
			continue
		}
		variants := []variant{{"f32", format.Options{DType: "f32"}}, {"f16", format.Options{DType: "f16"}}, {"int8", format.Options{DType: "int8"}}}
		if m.grid {
			variants[1].label, variants[2].label = "f16 (u8 grid kept)", "int8 (u8 grid kept)"
			variants = append(variants, variant{"f16 forced", format.Options{DType: "f16", NoGrid: true}},
				variant{"int8 forced", format.Options{DType: "int8", NoGrid: true}})
		}
		var ref studyRun
		for i, v := range variants {
			var buf bytes.Buffer
			if err := format.Write(&buf, g, v.opt); err != nil {
				t.Fatalf("%s %s: %v", m.name, v.label, err)
			}
			q, err := format.Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), v.label)
			if err != nil {
				t.Fatalf("%s %s: %v", m.name, v.label, err)
			}
			run := runStudy(t, q, imgs)
			if i == 0 {
				ref = run
			}
			var agree, confident int
			var cosOut, cosEmb float64
			for p := range imgs {
				if margin(ref.out[p]) >= 0.05 {
					confident++
					if argmax(run.out[p]) == argmax(ref.out[p]) {
						agree++
					}
				}
				cosOut += cosine(run.out[p], ref.out[p])
				cosEmb += cosine(run.emb[p], ref.emb[p])
			}
			cosOut /= float64(len(imgs))
			cosEmb /= float64(len(imgs))
			rate := math.NaN()
			if confident > 0 {
				rate = float64(agree) / float64(confident)
			}
			table = append(table, fmt.Sprintf("| %s | %s | %d/%d (%.1f%%) | %.6f | %.6f | %d (%.2f MB) |",
				m.name, v.label, agree, confident, 100*rate, cosOut, cosEmb, buf.Len(), float64(buf.Len())/1e6))
			if i == 0 || !m.targets || v.opt.NoGrid { // the forced rows are diagnostics
				continue
			}
			want := 0.995
			if v.opt.DType == "f16" {
				want = 0.9999
			}
			if confident < 10 || rate < 0.99 || cosOut < want {
				t.Errorf("%s %s: agreement %d/%d, output cosine %.6f (want >= 99%% of at least 10 confident photos and cosine >= %v)",
					m.name, v.label, agree, confident, cosOut, want)
			}
		}
	}
	t.Logf("%d photos\n%s", len(imgs), strings.Join(table, "\n"))
}

// TestQuantStudySizes checks the size targets on MobileNetV2 1.0: a
// torchvision export (build/bench/mobilenet_v2.onnx) and nsfwjs's, with
// f16 and int8 applied to every kernel.
func TestQuantStudySizes(t *testing.T) {
	if os.Getenv("GLIMPSE_QUANT_STUDY") == "" {
		t.Skip("set GLIMPSE_QUANT_STUDY=1 (make quant-study) to run the quantization study")
	}
	tv, err := FromONNX("../../build/bench/mobilenet_v2.onnx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := FromTFJS("../../build/nsfwjs/mobilenet_v2/model.json", Options{})
	if err != nil {
		t.Fatal(err)
	}
	limits := map[string]int{"f16": 7_500_000, "int8": 4_000_000}
	for _, g := range []*ir.Graph{tv, ns} {
		for _, dtype := range []string{"f16", "int8"} {
			var buf bytes.Buffer
			if err := format.Write(&buf, g, format.Options{DType: dtype, NoGrid: true}); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s %d bytes (%.2f MB)", g.Meta.Source, dtype, buf.Len(), float64(buf.Len())/1e6)
			if buf.Len() > limits[dtype] {
				t.Errorf("%s: %s file of %d bytes, over the %d target", g.Meta.Source, dtype, buf.Len(), limits[dtype])
			}
		}
	}
}
