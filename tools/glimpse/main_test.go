package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/models"
)

const nsfwjsDir = "../../build/nsfwjs" // decoded by make before the tests

// glimpse runs the CLI in-process and returns its exit status and output.
func glimpse(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	status := run(args, &stdout, &stderr)
	return status, stdout.String(), stderr.String()
}

func needModels(t *testing.T) {
	if _, err := os.Stat(nsfwjsDir); err != nil {
		t.Skipf("%s is absent: make decodes the nsfwjs models there before the tests", nsfwjsDir)
	}
}

type tfjsReference struct {
	Models map[string]struct {
		Photos map[string]struct {
			Probabilities []float64 `json:"probabilities"`
		} `json:"photos"`
	} `json:"models"`
}

type predictOutput struct {
	Model   string `json:"model"`
	Results []struct {
		Image       string `json:"image"`
		Predictions []struct {
			ClassName   string  `json:"className"`
			Probability float64 `json:"probability"`
		} `json:"predictions"`
	} `json:"results"`
}

// TestPredictMatchesTFJS converts both real nsfwjs MobileNetV2s in every
// dtype with the CLI and predicts every test photo with it, comparing with
// TF.js's probabilities: f32 within 1e-4, f16 within 2e-3, int8 within
// 0.02 and with the same top-1 wherever TF.js's top-1 leads by 0.05.
func TestPredictMatchesTFJS(t *testing.T) {
	needModels(t)
	var ref tfjsReference
	data, err := os.ReadFile("../convert/testdata/reference-tfjs.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	photos, _ := filepath.Glob("../convert/testdata/photos/*.png")
	if len(photos) < 6 {
		t.Fatalf("%d test photos, want at least 6", len(photos))
	}
	dir := t.TempDir()
	tolerance := map[string]float64{"f32": 1e-4, "f16": 2e-3, "int8": 0.02}
	for name, m := range ref.Models {
		for _, dtype := range []string{"f32", "f16", "int8"} {
			t.Run(name+"/"+dtype, func(t *testing.T) {
				out := filepath.Join(dir, name+"-"+dtype+".glimpse")
				if status, _, stderr := glimpse(t, "convert", filepath.Join(nsfwjsDir, name, "model.json"), "--dtype", dtype, "-o", out); status != 0 {
					t.Fatal(stderr)
				}
				status, stdout, stderr := glimpse(t, append([]string{"predict", "-m", out, "--top", "0", "--json"}, photos...)...)
				if status != 0 {
					t.Fatal(stderr)
				}
				var got predictOutput
				if err := json.Unmarshal([]byte(stdout), &got); err != nil {
					t.Fatal(err)
				}
				if len(got.Results) != len(photos) {
					t.Fatalf("%d results for %d photos", len(got.Results), len(photos))
				}
				for _, r := range got.Results {
					want := m.Photos[filepath.Base(r.Image)].Probabilities
					if len(r.Predictions) != len(want) {
						t.Fatalf("%s: %d classes, want %d", r.Image, len(r.Predictions), len(want))
					}
					probs := make([]float64, len(want))
					for _, p := range r.Predictions {
						i, err := strconv.Atoi(strings.TrimPrefix(p.ClassName, "class "))
						if err != nil || i < 0 || i >= len(want) {
							t.Fatalf("unexpected class name %q", p.ClassName)
						}
						probs[i] = p.Probability
					}
					for i := range want {
						if d := math.Abs(probs[i] - want[i]); d > tolerance[dtype] {
							t.Errorf("%s class %d: %.6f, TF.js %.6f (|d| = %.2g > %g)", filepath.Base(r.Image), i, probs[i], want[i], d, tolerance[dtype])
						}
					}
					order := make([]int, len(want))
					for i := range order {
						order[i] = i
					}
					sort.Slice(order, func(a, b int) bool { return want[order[a]] > want[order[b]] })
					if want[order[0]]-want[order[1]] >= 0.05 && r.Predictions[0].ClassName != classOf(order[0]) {
						t.Errorf("%s: top-1 %s, TF.js class %d", r.Image, r.Predictions[0].ClassName, order[0])
					}
				}
			})
		}
	}
}

func classOf(i int) string { return "class " + strconv.Itoa(i) }

// TestInspectArchitectures checks inspect's totals against torchvision's
// published parameter counts (the per-layer checks live in models).
func TestInspectArchitectures(t *testing.T) {
	want := map[string]int64{
		"mobilenet_v2": 3504872, "mobilenet_v3_small": 2542856, "mobilenet_v3_large": 5483032,
		"alexnet": 61100840, "vgg16": 138357544, "googlenet": 6624904, "lenet5": 61706,
	}
	for _, arch := range models.Names() {
		status, stdout, stderr := glimpse(t, "inspect", arch, "--json")
		if status != 0 {
			t.Fatalf("%s: %s", arch, stderr)
		}
		var r struct {
			Architecture string `json:"architecture"`
			Input        [3]int `json:"input"`
			Params       int64  `json:"params"`
			Layers       []struct {
				Name   string `json:"name"`
				Params int64  `json:"params"`
				MACs   int64  `json:"macs"`
			} `json:"layers"`
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, l := range r.Layers {
			sum += l.Params
		}
		if w, ok := want[arch]; ok && (r.Params != w || sum != w) {
			t.Errorf("%s: params %d (layers sum to %d), torchvision has %d", arch, r.Params, sum, w)
		}
	}
	status, stdout, _ := glimpse(t, "inspect", "mobilenet_v2", "--json")
	var r struct {
		MACs int64 `json:"macs"`
	}
	if status != 0 || json.Unmarshal([]byte(stdout), &r) != nil || math.Abs(float64(r.MACs)-300.8e6) > 0.01*300.8e6 {
		t.Errorf("mobilenet_v2 MACs %d, want 300.8M ± 1%%", r.MACs)
	}
}

// TestBadInput feeds the CLI what users get wrong: each case must exit
// non-zero with one line on stderr naming the file and the problem.
func TestBadInput(t *testing.T) {
	needModels(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.glimpse")
	if status, _, stderr := glimpse(t, "convert", filepath.Join(nsfwjsDir, "mobilenet_v2", "model.json"), "--drop-head", "--dtype", "int8", "-o", good); status != 0 {
		t.Fatal(stderr)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	truncated := write("truncated.glimpse", data[:len(data)/3])
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(i*7919 + i/13)
	}
	randomFile := write("random.glimpse", random)
	notImage := write("notes.png", []byte("these are not pixels\n"))

	// A model.json whose shard is missing, and one with an unknown layer.
	src, err := os.ReadFile(filepath.Join(nsfwjsDir, "mobilenet_v2", "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	noShard := filepath.Join(dir, "noshard")
	os.Mkdir(noShard, 0o755)
	os.WriteFile(filepath.Join(noShard, "model.json"), src, 0o644)
	unknown := filepath.Join(dir, "unknown")
	os.Mkdir(unknown, 0o755)
	os.WriteFile(filepath.Join(unknown, "model.json"), bytes.Replace(src, []byte(`"class_name":"ReLU"`), []byte(`"class_name":"FancyReLU"`), 1), 0o644)
	if !bytes.Contains(src, []byte(`"class_name":"ReLU"`)) {
		t.Fatal("the fixture model.json has no ReLU layer to rename")
	}
	shards, _ := filepath.Glob(filepath.Join(nsfwjsDir, "mobilenet_v2", "group1-shard*"))
	for _, s := range shards {
		b, _ := os.ReadFile(s)
		os.WriteFile(filepath.Join(unknown, filepath.Base(s)), b, 0o644)
	}

	cases := []struct {
		name string
		args []string
		want []string // substrings of the one stderr line
	}{
		{"truncated model", []string{"predict", "-m", truncated, notImage}, []string{"truncated.glimpse"}},
		{"random bytes", []string{"predict", "-m", randomFile, notImage}, []string{"random.glimpse"}},
		{"missing shard", []string{"convert", filepath.Join(noShard, "model.json"), "-o", filepath.Join(dir, "x.glimpse")}, []string{"group1-shard1of1"}},
		{"unknown layer", []string{"convert", filepath.Join(unknown, "model.json"), "-o", filepath.Join(dir, "y.glimpse")}, []string{"FancyReLU"}},
		{"not an image", []string{"predict", "-m", good, notImage}, []string{"notes.png"}},
		{"missing image", []string{"predict", "-m", good, filepath.Join(dir, "absent.jpg")}, []string{"absent.jpg"}},
		{"unknown architecture", []string{"inspect", "resnet9000"}, []string{"resnet9000"}},
		{"unknown command", []string{"frobnicate"}, []string{"frobnicate"}},
		{"bad dtype", []string{"convert", filepath.Join(nsfwjsDir, "mobilenet_v2", "model.json"), "--dtype", "f8", "-o", filepath.Join(dir, "z.glimpse")}, []string{"f8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, stderr := glimpse(t, c.args...)
			if status == 0 {
				t.Fatalf("exit status 0")
			}
			if strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") {
				t.Fatalf("stderr is not one line: %q", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
		})
	}
	for _, p := range []string{"x.glimpse", "y.glimpse", "z.glimpse"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("a failed convert left %s behind", p)
		}
	}
}

// TestPredictBackbone: a model cut at its embedding says so.
func TestPredictBackbone(t *testing.T) {
	needModels(t)
	out := filepath.Join(t.TempDir(), "backbone.glimpse")
	if status, _, stderr := glimpse(t, "convert", filepath.Join(nsfwjsDir, "mobilenet_v2", "model.json"), "--drop-head", "--dtype", "f16", "-o", out); status != 0 {
		t.Fatal(stderr)
	}
	status, stdout, stderr := glimpse(t, "predict", "-m", out, "../convert/testdata/photos/dog.png")
	if status != 0 {
		t.Fatal(stderr)
	}
	if !strings.Contains(stdout, "embedding") || !strings.Contains(stdout, "1280 features") {
		t.Errorf("predict on a backbone printed %q", stdout)
	}
}

// TestInspectFileTotals: a model file's parameters and MACs are its
// network's, as inspect reports them for the architecture it was built from.
func TestInspectFileTotals(t *testing.T) {
	g, err := models.Build("lenet5", models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	models.FillRandom(g, 1)
	path := filepath.Join(t.TempDir(), "lenet5.glimpse")
	if err := format.WriteFile(path, g, format.Options{}); err != nil {
		t.Fatal(err)
	}
	var file, arch struct {
		Params int64 `json:"params"`
		MACs   int64 `json:"macs"`
	}
	for _, c := range []struct {
		target string
		into   any
	}{{path, &file}, {"lenet5", &arch}} {
		status, stdout, stderr := glimpse(t, "inspect", c.target, "--json")
		if status != 0 || json.Unmarshal([]byte(stdout), c.into) != nil {
			t.Fatalf("inspect %s: %d %s", c.target, status, stderr)
		}
	}
	if file.Params != 61706 || file != arch {
		t.Errorf("file %+v, architecture %+v", file, arch)
	}
}
