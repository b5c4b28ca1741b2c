package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
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

// tmExport zips the Teachable-Machine-shaped fixture with the given
// metadata.json, leaving out the files named in skip.
func tmExport(t *testing.T, metadata string, skip ...string) string {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	files := map[string][]byte{"metadata.json": []byte(metadata)}
	for _, name := range []string{"model.json", "group1-shard1of2.bin", "group1-shard2of2.bin"} {
		data, err := os.ReadFile(filepath.Join(tfjsFixtures, "nested_sequential", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = data
	}
	for name, data := range files {
		if slices.Contains(skip, name) {
			continue
		}
		f, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "export.zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConvertTeachable: `glimpse convert export.zip` names the classes
// from metadata.json and says so; a bad export fails with one line naming
// the zip and the problem, and writes nothing.
func TestConvertTeachable(t *testing.T) {
	meta := `{"packageName":"@teachablemachine/image","packageVersion":"0.8.5","labels":["cat","dog","rocket"],"imageSize":8}`
	out := filepath.Join(t.TempDir(), "tm.glimpse")
	status, stdout, stderr := glimpse(t, "convert", tmExport(t, meta), "-o", out)
	if status != 0 || !strings.Contains(stdout, "from teachable-machine export, labels: metadata.json (3)") {
		t.Fatalf("status %d, stdout %q, stderr %q", status, stdout, stderr)
	}
	status, stdout, stderr = glimpse(t, "predict", "-m", out, "--json", "--top", "3", "../convert/testdata/photos/"+firstPhoto(t))
	if status != 0 {
		t.Fatal(stderr)
	}
	var pred predictOutput
	if err := json.Unmarshal([]byte(stdout), &pred); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pred.Results[0].Predictions {
		names = append(names, p.ClassName)
	}
	if slices.Sort(names); strings.Join(names, ",") != "cat,dog,rocket" {
		t.Errorf("predicted classes %v, want metadata.json's", names)
	}

	for _, tc := range []struct {
		name, zip, want string
	}{
		{"no model.json", tmExport(t, meta, "model.json"), "holds no model.json"},
		{"fewer labels", tmExport(t, strings.Replace(meta, `"cat",`, "", 1)), "metadata.json: 2 labels"},
		{"pose", tmExport(t, strings.Replace(meta, "image", "pose", 1)), "pose project"},
	} {
		out := filepath.Join(t.TempDir(), "bad.glimpse")
		status, stdout, stderr := glimpse(t, "convert", tc.zip, "-o", out)
		if status == 0 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.zip) || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: status %d, stdout %q, stderr %q", tc.name, status, stdout, stderr)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: %s was written", tc.name, out)
		}
	}
}
