package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeClassifier writes a TF.js layers model, a global pool and a softmax
// Dense to n classes, whose bias makes class win the most probable.
func writeClassifier(t *testing.T, n, win int) string {
	t.Helper()
	dir := t.TempDir()
	model := map[string]any{
		"format": "layers-model",
		"modelTopology": map[string]any{"class_name": "Sequential", "config": map[string]any{"name": "tiny", "layers": []any{
			map[string]any{"class_name": "GlobalAveragePooling2D", "config": map[string]any{"name": "gap", "batch_input_shape": []any{nil, 2, 2, 3}}},
			map[string]any{"class_name": "Dense", "config": map[string]any{"name": "fc", "units": n, "activation": "softmax"}},
		}}},
		"weightsManifest": []any{map[string]any{"paths": []string{"w.bin"}, "weights": []any{
			map[string]any{"name": "fc/kernel", "shape": []int{3, n}, "dtype": "float32"},
			map[string]any{"name": "fc/bias", "shape": []int{n}, "dtype": "float32"},
		}}},
	}
	data, err := json.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]byte, 4*(3*n+n))
	binary.LittleEndian.PutUint32(w[4*(3*n+win):], math.Float32bits(10))
	for _, f := range []struct {
		name string
		data []byte
	}{{"model.json", data}, {"w.bin", w}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "model.json")
}

// TestConvertImageNetLabels: a 1000-output classifier is written with
// ImageNet's names in torchvision's order (class 2 is "great white
// shark"), a 1001-output one with "background" first, and the summary
// line says which labels were used; --labels overrides them, and labels of
// the wrong count fail with nothing written.
func TestConvertImageNetLabels(t *testing.T) {
	photo := "../convert/testdata/photos/" + firstPhoto(t)
	top := func(model string) string {
		status, stdout, stderr := glimpse(t, "predict", "-m", model, "--top", "1", "--json", photo)
		if status != 0 {
			t.Fatal(stderr)
		}
		var pred predictOutput
		if err := json.Unmarshal([]byte(stdout), &pred); err != nil {
			t.Fatal(err)
		}
		return pred.Results[0].Predictions[0].ClassName
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		n, win   int
		args     []string
		summary  string
		topClass string
	}{
		{1000, 2, nil, "labels: ImageNet's 1000 class names (1000)", "great white shark"},
		{1001, 3, nil, `labels: "background" and ImageNet's 1000 class names (1001)`, "great white shark"},
		{1001, 0, nil, `labels: "background"`, "background"},
		{1000, 2, []string{"--labels", "none"}, "labels: none", "class 2"},
		{1000, 2, []string{"--labels", writeLabels(t, 1000)}, "labels.txt (1000)", "thing 2"},
		{5, 2, nil, "labels: none", "class 2"},
	} {
		out := filepath.Join(dir, fmt.Sprintf("m%d-%d.glimpse", tc.n, len(tc.args)))
		status, stdout, stderr := glimpse(t, append([]string{"convert", writeClassifier(t, tc.n, tc.win), "-o", out}, tc.args...)...)
		if status != 0 {
			t.Fatal(stderr)
		}
		if !strings.Contains(stdout, tc.summary) || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%d outputs %v: summary %q, want it to say %q", tc.n, tc.args, stdout, tc.summary)
		}
		if got := top(out); got != tc.topClass {
			t.Errorf("%d outputs %v: top class %q, want %q", tc.n, tc.args, got, tc.topClass)
		}
	}
	// A 1000-class model that is not ImageNet, with a labels file one
	// short: the error names the file and both counts; nothing is written.
	out := filepath.Join(dir, "short.glimpse")
	labels := writeLabels(t, 999)
	status, _, stderr := glimpse(t, "convert", writeClassifier(t, 1000, 2), "-o", out, "--labels", labels)
	if status == 0 || !strings.Contains(stderr, labels+": 999 labels") || !strings.Contains(stderr, "1000 classes") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("999 labels for 1000 classes: status %d, stderr %q", status, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s was written", out)
	}
}

func writeLabels(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "thing %d\n", i)
	}
	path := filepath.Join(t.TempDir(), "labels.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func firstPhoto(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob("../convert/testdata/photos/*.jpg")
	if err != nil || len(files) == 0 {
		files, _ = filepath.Glob("../convert/testdata/photos/*.png")
	}
	if len(files) == 0 {
		t.Fatal("no test photo")
	}
	return filepath.Base(files[0])
}
