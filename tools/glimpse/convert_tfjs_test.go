package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tfjsFixtures = "../convert/testdata"

// copyTFJS copies a TF.js fixture folder, replacing from with to in its
// model.json.
func copyTFJS(t *testing.T, name, from, to string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := os.ReadDir(filepath.Join(tfjsFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(tfjsFixtures, name, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if f.Name() == "model.json" {
			if !strings.Contains(string(data), from) {
				t.Fatalf("%s has no %s", name, from)
			}
			data = []byte(strings.Replace(string(data), from, to, 1))
		}
		if err := os.WriteFile(filepath.Join(dir, f.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "model.json")
}

// TestConvertRefusesActivation: an activation the IR cannot compute fails
// `glimpse convert` with a non-zero status, one line on stderr naming the
// activation as the file spells it and the layer or node, and no file.
func TestConvertRefusesActivation(t *testing.T) {
	b64 := func(s string) string { return `"` + base64.StdEncoding.EncodeToString([]byte(s)) + `"` }
	for _, tc := range []struct{ fixture, from, to, layer, act string }{
		{"layers_small", `"activation": "sigmoid"`, `"activation": "tanh"`, `layer "side"`, `"tanh"`},
		{"graph_small", b64("Relu6"), b64("Elu"), `node "conv1"`, `"Elu"`},
	} {
		src := copyTFJS(t, tc.fixture, tc.from, tc.to)
		out := filepath.Join(t.TempDir(), "m.glimpse")
		status, stdout, stderr := glimpse(t, "convert", src, "-o", out)
		if status == 0 || stdout != "" {
			t.Errorf("%s: status %d, stdout %q", tc.act, status, stdout)
		}
		if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, src) || !strings.Contains(stderr, tc.layer) || !strings.Contains(stderr, "activation "+tc.act) {
			t.Errorf("stderr %q: want one line naming %s, %s and activation %s", stderr, src, tc.layer, tc.act)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: %s was written", tc.act, out)
		}
	}
}
