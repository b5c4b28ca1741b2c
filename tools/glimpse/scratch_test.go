package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/format"
)

// barsFolder writes n pictures a class of two classes a classifier can
// tell apart: bright vertical bars ("vertical") and horizontal ones
// ("horizontal"), at a random offset, in the sizes given in turn.
func barsFolder(t *testing.T, n int, sizes ...int) string {
	t.Helper()
	dir := t.TempDir()
	for ci, class := range []string{"horizontal", "vertical"} {
		os.MkdirAll(filepath.Join(dir, class), 0o755)
		for i := 0; i < n; i++ {
			s := sizes[i%len(sizes)]
			img := image.NewGray(image.Rect(0, 0, s, s))
			for y := 0; y < s; y++ {
				for x := 0; x < s; x++ {
					v := x
					if ci == 0 {
						v = y
					}
					if (v+i)%6 < 2 {
						img.SetGray(x, y, color.Gray{Y: 255})
					}
				}
			}
			var buf bytes.Buffer
			png.Encode(&buf, img)
			os.WriteFile(filepath.Join(dir, class, strings.Repeat("0", 3)+string(rune('a'+i%26))+string(rune('a'+i/26))+".png"), buf.Bytes(), 0o644)
		}
	}
	return dir
}

// TestTrainFromScratch trains LeNet-5 from scratch on pictures of two
// kinds of bars in two sizes, with a hold-out, and reads the result back:
// a classifier whose labels are the folder names and which eval finds
// right on the same pictures; the same seed writes the same file.
func TestTrainFromScratch(t *testing.T) {
	dir := barsFolder(t, 24, 28, 40)
	tmp := t.TempDir()
	out := filepath.Join(tmp, "bars.glimpse")
	args := []string{"train", "--arch", "lenet5", "-d", dir, "-o", out, "--epochs", "4", "--batch", "8", "--val", "0.25", "--seed", "3", "--license", "CC0"}
	// trainCommand, not run: progress goes to the stderr given here.
	var so, se bytes.Buffer
	if err := trainCommand(args[1:], &so, &se); err != nil {
		t.Fatal(err)
	}
	stdout, stderr := so.String(), se.String()
	t.Log(stdout, stderr)
	if n := strings.Count(stderr, "examples/s"); n != 4 || !strings.Contains(stderr, "epoch 4/4 loss ") || !strings.Contains(stderr, "val_acc") {
		t.Errorf("want one progress line per epoch with the held-out accuracy:\n%s", stderr)
	}
	if !strings.Contains(stderr, "the pictures come in 2 sizes (28x28: 24, 40x40: 24)") {
		t.Errorf("no note of the mixed sizes:\n%s", stderr)
	}
	if !strings.Contains(stdout, "wrote "+out+": lenet5 from scratch, 2 classes, 48 pictures") {
		t.Errorf("summary: %s", stdout)
	}
	g, err := format.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(g.Meta.Labels, ",") != "horizontal,vertical" || g.Meta.License != "CC0" ||
		!strings.Contains(g.Meta.Source, "glimpse train --arch lenet5 --epochs 4 --batch 8 --lr 0.001 --val 0.25 --seed 3") {
		t.Errorf("metadata %+v", g.Meta)
	}
	status, stdout, stderr := glimpse(t, "eval", "-m", out, "-d", dir)
	if status != 0 {
		t.Fatal(stderr)
	}
	t.Log(stdout)

	again := filepath.Join(tmp, "again.glimpse")
	args[6] = again
	if status, _, stderr := glimpse(t, args...); status != 0 {
		t.Fatal(stderr)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("the same seed wrote a different file")
	}
}

// TestTrainFromScratchBadInput: each mistake is one line naming the
// problem, and nothing is written.
func TestTrainFromScratchBadInput(t *testing.T) {
	tmp := t.TempDir()
	out := filepath.Join(tmp, "out.glimpse")
	bars := barsFolder(t, 4, 28)
	empty := t.TempDir()
	one := t.TempDir()
	os.MkdirAll(filepath.Join(one, "only"), 0o755)
	b, _ := os.ReadFile(filepath.Join(bars, "vertical", "000aa.png"))
	os.WriteFile(filepath.Join(one, "only", "x.png"), b, 0o644)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"empty folder", []string{"--arch", "lenet5", "-d", empty}, "no class folders"},
		{"one class", []string{"--arch", "lenet5", "-d", one}, "only one class folder"},
		{"unknown arch", []string{"--arch", "lenet6", "-d", bars}, `unknown architecture "lenet6"`},
		{"too big", []string{"--arch", "alexnet", "-d", bars}, "alexnet has 57,012,034 parameters"},
		{"with a model", []string{"--arch", "lenet5", "-m", "x.glimpse", "-d", bars}, "not both"},
		{"a head flag", []string{"--arch", "lenet5", "--head", "tm", "-d", bars}, "--head is for a head on -m MODEL"},
		{"licence without arch", []string{"-m", "x.glimpse", "--license", "MIT", "-d", bars}, "--license is for --arch"},
		{"bad batch", []string{"--arch", "lenet5", "--batch", "0", "-d", bars}, "batch size 0"},
		{"NaN loss", []string{"--arch", "lenet5", "--lr", "1e30", "-d", bars}, "lower the learning rate (now 1e+30); nothing written"},
	} {
		status, _, stderr := glimpse(t, append(append([]string{"train"}, c.args...), "-o", out)...)
		if status == 0 || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 && !strings.Contains(stderr, "epoch") {
			t.Errorf("%s: status %d, stderr %q (want %q)", c.name, status, stderr, c.want)
		} else {
			t.Logf("%s: %s", c.name, strings.TrimSpace(stderr))
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: %s was written", c.name, out)
			os.Remove(out)
		}
	}
}
