package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
)

const fashionDir = "/usr/share/datasets/fashion-mnist" // Debian's dataset-fashion-mnist

// fashionFolders writes Fashion-MNIST images of three easy-to-tell
// classes as PNG class folders: the first perClass training images of
// each into train, the first test images of each (up to perClass) into
// test. It skips the test when Debian's package is absent, except in CI.
func fashionFolders(t *testing.T, perClass int) (trainDir, testDir string) {
	t.Helper()
	read := func(name string) []byte {
		f, err := os.Open(filepath.Join(fashionDir, name))
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%v: CI must install dataset-fashion-mnist", err)
			}
			t.Skipf("%v: install Debian's dataset-fashion-mnist", err)
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(z)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	names := map[byte]string{1: "trouser", 5: "sandal", 8: "bag"}
	base := t.TempDir()
	for _, part := range []struct{ prefix, dir string }{{"train", "train"}, {"t10k", "test"}} {
		images, labels := read(part.prefix+"-images-idx3-ubyte.gz"), read(part.prefix+"-labels-idx1-ubyte.gz")
		n := int(binary.BigEndian.Uint32(labels[4:]))
		count := map[byte]int{}
		for i := 0; i < n; i++ {
			name, ok := names[labels[8+i]]
			if !ok || count[labels[8+i]] == perClass {
				continue
			}
			count[labels[8+i]]++
			g := image.NewGray(image.Rect(0, 0, 28, 28))
			copy(g.Pix, images[16+i*784:16+(i+1)*784])
			dir := filepath.Join(base, part.dir, name)
			os.MkdirAll(dir, 0o755)
			var buf bytes.Buffer
			png.Encode(&buf, g)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%05d.png", i)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return filepath.Join(base, "train"), filepath.Join(base, "test")
}

type evalJSON struct {
	Accuracy  float64  `json:"accuracy"`
	Classes   []string `json:"classes"`
	Confusion [][]int  `json:"confusion"`
	PerClass  []struct {
		ClassName string  `json:"className"`
		Precision float64 `json:"precision"`
		Recall    float64 `json:"recall"`
		Support   int     `json:"support"`
	} `json:"perClass"`
}

// TestTrainEvalPredict trains a head on a dozen real Fashion-MNIST images
// of three classes with the real MobileNetV2 backbone, then checks the
// trained file with eval (against the test images' true labels) and
// predict, and eval's JSON for consistency: the confusion matrix's rows
// sum to the supports, its diagonal gives the accuracy and the recalls.
func TestTrainEvalPredict(t *testing.T) {
	needModels(t)
	trainDir, testDir := fashionFolders(t, 8)
	tmp := t.TempDir()
	backbone := filepath.Join(tmp, "backbone.glimpse")
	if status, _, stderr := glimpse(t, "convert", filepath.Join(nsfwjsDir, "mobilenet_v2", "model.json"), "--drop-head", "--dtype", "f16", "-o", backbone); status != 0 {
		t.Fatal(stderr)
	}
	out := filepath.Join(tmp, "fashion.glimpse")
	var stdout, stderr bytes.Buffer
	if err := trainCommand([]string{"-m", backbone, "-d", trainDir, "-o", out, "--head", "tm", "--epochs", "30", "--seed", "3"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	t.Log(strings.TrimSpace(stdout.String()))
	if !strings.Contains(stdout.String(), "3 classes, 24 images (0 unreadable)") || !strings.Contains(stderr.String(), "epoch 30/30") {
		t.Fatalf("summary %q, progress %q", stdout.String(), stderr.String())
	}

	status, js, errs := glimpse(t, "eval", "-m", out, "-d", testDir, "--json")
	if status != 0 {
		t.Fatal(errs)
	}
	var ev evalJSON
	if err := json.Unmarshal([]byte(js), &ev); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ev.Classes, ",") != "bag,sandal,trouser" || len(ev.Confusion) != 3 {
		t.Fatalf("classes %v", ev.Classes)
	}
	diag, total := 0, 0
	for i, row := range ev.Confusion {
		sum := 0
		for _, v := range row {
			sum += v
		}
		if sum != ev.PerClass[i].Support || ev.PerClass[i].Recall != float64(row[i])/float64(sum) {
			t.Fatalf("class %s: row %v, support %d, recall %v", ev.Classes[i], row, ev.PerClass[i].Support, ev.PerClass[i].Recall)
		}
		diag += row[i]
		total += sum
	}
	if total != 24 || ev.Accuracy != float64(diag)/float64(total) {
		t.Fatalf("accuracy %v for %d of %d", ev.Accuracy, diag, total)
	}
	t.Logf("eval on 24 unseen test images: accuracy %.3f", ev.Accuracy)
	if ev.Accuracy < 0.8 {
		t.Fatalf("trousers, sandals and bags told apart at %.3f only", ev.Accuracy)
	}

	// The text report (on one image of two classes, to keep the test
	// short) and predict on the trained file.
	var sample string
	filepath.WalkDir(filepath.Join(testDir, "bag"), func(p string, d os.DirEntry, err error) error {
		if sample == "" && strings.HasSuffix(p, ".png") {
			sample = p
		}
		return nil
	})
	small := t.TempDir()
	for _, class := range []string{"bag", "trouser"} {
		os.MkdirAll(filepath.Join(small, class), 0o755)
		data, _ := os.ReadFile(sample)
		os.WriteFile(filepath.Join(small, class, "x.png"), data, 0o644)
	}
	if status, text, errs := glimpse(t, "eval", "-m", out, "-d", small); status != 0 || !strings.Contains(text, "on 2 images") || !strings.Contains(text, "confusion") {
		t.Fatalf("eval text: %d %q %q", status, text, errs)
	}
	if status, text, errs := glimpse(t, "predict", "-m", out, "--top", "1", sample); status != 0 || !strings.Contains(text, "bag") {
		t.Fatalf("predict on a bag: %d %q %q", status, text, errs)
	}
}

// TestTrainBadInput: clear one-line errors, and no output file left.
func TestTrainBadInput(t *testing.T) {
	needModels(t)
	tmp := t.TempDir()
	backbone := filepath.Join(tmp, "backbone.glimpse")
	full := filepath.Join(tmp, "full.glimpse")
	src := filepath.Join(nsfwjsDir, "mobilenet_v2", "model.json")
	if status, _, stderr := glimpse(t, "convert", src, "--drop-head", "--dtype", "f16", "-o", backbone); status != 0 {
		t.Fatal(stderr)
	}
	if status, _, stderr := glimpse(t, "convert", src, "--dtype", "f16", "-o", full); status != 0 {
		t.Fatal(stderr)
	}
	// A small classifier that names no embedding.
	plain := ir.New(ir.Shape{8, 8, 3})
	x := plain.AddNode("pool", ir.GlobalAvgPool, []string{plain.Input}, nil, ir.Attrs{})
	x = plain.AddNode("fc", ir.Dense, []string{x}, []string{plain.AddTensor("fc/kernel", []int{3, 2}, []float32{1, 0, 0, 1, 1, 1})}, ir.Attrs{})
	plain.Outputs = []string{plain.AddNode("softmax", ir.Softmax, []string{x}, nil, ir.Attrs{})}
	plain.Meta.Labels = []string{"a", "b"}
	if err := format.WriteFile(filepath.Join(tmp, "plain.glimpse"), plain, format.Options{}); err != nil {
		t.Fatal(err)
	}
	// A backbone whose embedding is a flattened max pool, as LeNet's,
	// AlexNet's and VGG's are: no multi-level features.
	flat := ir.New(ir.Shape{8, 8, 3})
	x = flat.AddNode("pool", ir.MaxPool, []string{flat.Input}, nil, ir.Attrs{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}})
	flat.Meta.Embedding = flat.AddNode("flatten", ir.Flatten, []string{x}, nil, ir.Attrs{})
	flat.Outputs = []string{flat.Meta.Embedding}
	if err := format.WriteFile(filepath.Join(tmp, "flat.glimpse"), flat, format.Options{}); err != nil {
		t.Fatal(err)
	}
	mk := func(files map[string]string) string {
		dir := t.TempDir()
		for p, content := range files {
			os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755)
			os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644)
		}
		return dir
	}
	photo, err := os.ReadFile("../convert/testdata/photos/dog.png")
	if err != nil {
		t.Fatal(err)
	}
	good := string(photo)
	out := filepath.Join(tmp, "out.glimpse")
	cases := []struct {
		name, model, dir string
		extra            []string
		want             string
	}{
		{"empty class", backbone, mk(map[string]string{"a/x.png": good, "b/.keep": ""}), nil, `class folder "b" is empty`},
		{"single class", backbone, mk(map[string]string{"a/x.png": good}), nil, "only one class folder"},
		{"all unreadable", backbone, mk(map[string]string{"a/x.png": good, "b/y.png": "not a png"}), nil, `none of the 1 files of class "b"`},
		{"no embedding", filepath.Join(tmp, "plain.glimpse"), mk(map[string]string{"a/x.png": good, "b/y.png": good}), nil, "plain.glimpse"},
		{"strong without a global pool", filepath.Join(tmp, "flat.glimpse"), mk(map[string]string{"a/x.png": good, "b/y.png": good}), []string{"--head", "strong"}, "not a global average pool"},
		{"bad preset", backbone, mk(map[string]string{"a/x.png": good, "b/y.png": good}), []string{"--head", "cnn"}, `unknown head "cnn"`},
		{"bad epochs", backbone, mk(map[string]string{"a/x.png": good, "b/y.png": good}), []string{"--epochs", "0"}, "epochs 0"},
		{"lr overflow", backbone, mk(map[string]string{"a/x.png": good, "b/y.png": good}), []string{"--head", "tm", "--lr", "1e38", "--batch", "1", "--val", "0"}, "turned"},
	}
	for _, c := range cases {
		args := append([]string{"train", "-m", c.model, "-d", c.dir, "-o", out}, c.extra...)
		status, _, stderr := glimpse(t, args...)
		if status == 0 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 && !strings.Contains(stderr, "warning") {
			t.Errorf("%s: status %d, stderr %q (want %q)", c.name, status, stderr, c.want)
		} else {
			t.Logf("%s: %s", c.name, strings.TrimSpace(stderr))
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: an output file was written", c.name)
		}
	}

	// Unreadable files are listed in one warning and skipped.
	dir := mk(map[string]string{"a/x.png": good, "a/broken.png": "\x89PNG", "b/y.png": good, "b/z.txt": "notes"})
	var stdout, stderr bytes.Buffer
	if err := trainCommand([]string{"-m", backbone, "-d", dir, "-o", out, "--epochs", "2", "--val", "0"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	warn := ""
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "warning") {
			warn += l
		}
	}
	if !strings.Contains(warn, "skipped 2 unreadable") || !strings.Contains(warn, "broken.png") || !strings.Contains(warn, "z.txt") {
		t.Fatalf("warning %q", warn)
	}

	// eval on a model without a classifier, and on folders of other classes.
	if status, _, stderr := glimpse(t, "eval", "-m", backbone, "-d", dir); status == 0 || !strings.Contains(stderr, "no classifier") {
		t.Errorf("eval on a backbone: %d %q", status, stderr)
	}
	if status, _, stderr := glimpse(t, "eval", "-m", full, "-d", dir); status == 0 || !strings.Contains(stderr, "not one of the model's classes") {
		t.Errorf("eval on foreign classes: %d %q", status, stderr)
	}
}
