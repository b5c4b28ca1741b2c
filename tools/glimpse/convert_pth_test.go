package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/format"
)

const pthFixtures = "../convert/testdata/pth"

// TestConvertPyTorch converts torchvision's MobileNetV3-small state_dict
// from the command line and predicts a photo: the probabilities are
// torch's (testdata/make_pth_fixtures.py), so --arch, the weights and the
// default preprocessing all reached the file.
func TestConvertPyTorch(t *testing.T) {
	var ref struct {
		References []struct {
			Photo         string
			Probabilities []float64
		}
	}
	data, err := os.ReadFile(filepath.Join(pthFixtures, "mobilenet_v3_small.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "v3.glimpse")
	status, stdout, stderr := glimpse(t, "convert", filepath.Join(pthFixtures, "mobilenet_v3_small.pth"), "--arch", "mobilenet_v3_small", "-o", out)
	if status != 0 {
		t.Fatal(stderr)
	}
	if !strings.Contains(stdout, "mobilenet_v3_small, 1,528,106 params, f32") || !strings.Contains(stdout, "from pytorch:mobilenet_v3_small.pth") {
		t.Errorf("summary %q", stdout)
	}
	r := ref.References[1]
	status, stdout, stderr = glimpse(t, "predict", "-m", out, "--top", "10", "--json", filepath.Join(pthFixtures, r.Photo))
	if status != 0 {
		t.Fatal(stderr)
	}
	var pred predictOutput
	if err := json.Unmarshal([]byte(stdout), &pred); err != nil {
		t.Fatal(err)
	}
	if len(pred.Results) != 1 || len(pred.Results[0].Predictions) != 10 {
		t.Fatalf("predictions %s", stdout)
	}
	for _, p := range pred.Results[0].Predictions {
		c, err := strconv.Atoi(strings.TrimPrefix(p.ClassName, "class "))
		if err != nil || c < 0 || c >= 10 {
			t.Fatalf("class name %q", p.ClassName)
		}
		if d := math.Abs(p.Probability - r.Probabilities[c]); d > 1e-4 {
			t.Errorf("class %d: probability %v, torch %v", c, p.Probability, r.Probabilities[c])
		}
	}
}

// TestConvertPreprocessFlag overrides the source's preprocessing.
func TestConvertPreprocessFlag(t *testing.T) {
	out := filepath.Join(t.TempDir(), "lenet.glimpse")
	status, _, stderr := glimpse(t, "convert", filepath.Join(pthFixtures, "lenet5_legacy.pth"), "--arch", "lenet5",
		"--preprocess", "resize=shorter:36,scale=1/255,offset=-0.5", "-o", out)
	if status != 0 {
		t.Fatal(stderr)
	}
	g, err := format.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	p := g.Meta.Preprocess
	if p.Resize != "shorter" || p.ResizeTo != 36 || p.Crop != "center" || p.Channels != "L" ||
		p.Scale[0] != float32(1.0/255) || p.Offset[0] != -0.5 {
		t.Errorf("preprocess %+v", p)
	}
}

func TestConvertPyTorchBad(t *testing.T) {
	dir := t.TempDir()
	pth := filepath.Join(pthFixtures, "mobilenet_v3_small.pth")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no arch", []string{"convert", pth, "-o", filepath.Join(dir, "a.glimpse")},
			[]string{"--arch", "mobilenet_v3_small", "googlenet"}},
		{"wrong arch", []string{"convert", pth, "--arch", "mobilenet_v3_large", "-o", filepath.Join(dir, "b.glimpse")},
			[]string{"mobilenet_v3_small.pth", "does not fit mobilenet_v3_large", "the file fits --arch mobilenet_v3_small", "features.2.block.0.0.weight is [72 16 1 1] in the file, [64 16 1 1] in mobilenet_v3_large"}},
		{"arch for onnx", []string{"convert", "../convert/testdata/onnx/mobilenet_v2_w0.5.onnx", "--arch", "mobilenet_v2", "-o", filepath.Join(dir, "c.glimpse")},
			[]string{"apply to PyTorch state_dicts"}},
		{"bad spec", []string{"convert", pth, "--arch", "mobilenet_v3_small", "--preprocess", "resize=shorter:10", "-o", filepath.Join(dir, "d.glimpse")},
			[]string{"--preprocess", "resize=shorter:10"}},
	}
	for _, c := range cases {
		status, _, stderr := glimpse(t, c.args...)
		if status == 0 {
			t.Errorf("%s: succeeded", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q does not say %q", c.name, stderr, w)
			}
		}
		if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || strings.Contains(stderr, "panic") {
			t.Errorf("%s: stderr is not one plain line: %q", c.name, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed conversions left %d files behind", len(entries))
	}
}
