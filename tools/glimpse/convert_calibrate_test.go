package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/format"
)

// calibrationFolder makes a dataset-style folder (one sub-folder per
// class) of real pictures, with a text file that is no picture beside
// them.
func calibrationFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for i, name := range []string{"exif_1.png", "exif_3.jpg", "crop8_photo_256_224.png", "exif_6.png"} {
		class := []string{"a", "b"}[i%2]
		data, err := os.ReadFile(filepath.Join("../../core/imageprep/testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, class), 0o755)
		if err := os.WriteFile(filepath.Join(dir, class, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestConvertCalibrate: --dtype int8 --calibrate DIR writes a version 3
// file with every int8 value's scale, which predict runs.
func TestConvertCalibrate(t *testing.T) {
	src := filepath.Join(tfjsFixtures, "layers_small", "model.json")
	out := filepath.Join(t.TempDir(), "q.glimpse")
	status, stdout, stderr := glimpse(t, "convert", src, "-o", out, "--dtype", "int8", "--calibrate", calibrationFolder(t))
	if status != 0 || !strings.Contains(stdout, "int8 compute (calibrated on 4 pictures, 1 unreadable files skipped)") {
		t.Fatalf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != 3 {
		t.Errorf("written as version %d, want 3", v)
	}
	g, err := format.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Meta.Quant) == 0 {
		t.Fatal("no quantization in the file")
	}
	status, stdout, stderr = glimpse(t, "predict", "-m", out, "--json", filepath.Join("../../core/imageprep/testdata", "exif_2.png"))
	if status != 0 || !strings.Contains(stdout, "probability") {
		t.Errorf("predict on the calibrated model: status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
}

// TestConvertCalibrateBadInput: a folder without a readable picture,
// a missing folder and --calibrate without --dtype int8 fail with one line
// naming the problem, and write nothing.
func TestConvertCalibrateBadInput(t *testing.T) {
	src := filepath.Join(tfjsFixtures, "layers_small", "model.json")
	junk := t.TempDir()
	os.WriteFile(filepath.Join(junk, "a.jpg"), []byte("not a jpeg"), 0o644)
	os.WriteFile(filepath.Join(junk, "b.txt"), []byte("text"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--dtype", "int8", "--calibrate", junk}, "calibration folder " + junk + ": no readable picture among 2 files"},
		{[]string{"--dtype", "int8", "--calibrate", t.TempDir()}, "no readable picture among 0 files"},
		{[]string{"--dtype", "int8", "--calibrate", filepath.Join(junk, "missing")}, "missing: no such file or directory"},
		{[]string{"--dtype", "f16", "--calibrate", junk}, "it needs --dtype int8 (got f16)"},
	} {
		out := filepath.Join(t.TempDir(), "q.glimpse")
		status, stdout, stderr := glimpse(t, append([]string{"convert", src, "-o", out}, c.args...)...)
		if status == 0 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: status %d, stdout %q, stderr %q; want one line with %q", c.args, status, stdout, stderr, c.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: %s was written", c.args, out)
		}
	}
}
