package convert

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// tmMeta is metadata.json as @teachablemachine/image 0.8.5 writes it for
// the nested_sequential fixture's three classes.
const tmMeta = `{"tfjsVersion":"4.22.0","tmVersion":"2.4.10","packageVersion":"0.8.5","packageName":"@teachablemachine/image",` +
	`"timeStamp":"2026-01-01T00:00:00.000Z","userMetadata":{},"modelName":"tm-my-image-model","labels":["cat","dog","rocket"],"imageSize":8}`

// tmZip zips the nested_sequential fixture (shaped like a Teachable
// Machine export) with the given metadata.json ("" for none), each file
// under prefix.
func tmZip(t *testing.T, metadata, prefix string) []byte {
	t.Helper()
	z, err := tmZipBytes(metadata, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func tmZipBytes(metadata, prefix string) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	files := []string{"model.json", "group1-shard1of2.bin", "group1-shard2of2.bin"}
	if metadata != "" {
		files = append(files, "metadata.json")
	}
	for _, name := range files {
		data := []byte(metadata)
		if name != "metadata.json" {
			var err error
			if data, err = os.ReadFile(filepath.Join("testdata", "nested_sequential", name)); err != nil {
				return nil, err
			}
		}
		f, err := w.Create(prefix + name)
		if err != nil {
			return nil, err
		}
		if _, err := f.Write(data); err != nil {
			return nil, err
		}
	}
	err := w.Close()
	return buf.Bytes(), err
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTeachableExport converts a Teachable-Machine-shaped export from a
// zip (files at its root, or in a folder) and from its unpacked folder:
// the class names are metadata.json's, the preprocessing is the library's
// (the centred square, v/127 − 1), and the network computes what TF.js
// computed for the fixture.
func TestTeachableExport(t *testing.T) {
	unpacked := copyFixture(t, "nested_sequential")
	if err := os.WriteFile(filepath.Join(unpacked, "metadata.json"), []byte(tmMeta), 0o644); err != nil {
		t.Fatal(err)
	}
	want := readExpected(t, "testdata/nested_sequential")
	for _, src := range []string{
		writeFile(t, "export.zip", tmZip(t, tmMeta, "")),
		writeFile(t, "folder.zip", tmZip(t, tmMeta, "my-model/")),
		filepath.Join(unpacked, "model.json"),
	} {
		var r Report
		g, err := FromTFJS(src, Options{Report: &r})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if strings.Join(g.Meta.Labels, ",") != "cat,dog,rocket" || r.Labels != "metadata.json (3)" {
			t.Errorf("%s: labels %v (%s), want metadata.json's", src, g.Meta.Labels, r.Labels)
		}
		p := g.Meta.Preprocess
		if p.Resize != ir.ResizeShorter || p.ResizeTo != 8 || p.Crop != "center" || p.Scale != [3]float32{1.0 / 127, 1.0 / 127, 1.0 / 127} || p.Offset != [3]float32{-1, -1, -1} {
			t.Errorf("%s: preprocess %+v, want the centred 8x8 square and v/127 - 1", src, p)
		}
		if !strings.HasPrefix(g.Meta.Source, "teachable-machine ") {
			t.Errorf("%s: source %q", src, g.Meta.Source)
		}
		// The fixture's TF.js reference was fed v/255: feed the network
		// the same.
		e, err := engine.New(g, kernels.Go{})
		if err != nil {
			t.Fatal(err)
		}
		in := make([]float32, len(want.Input))
		for i, v := range want.Input {
			in[i] = float32(v / 255)
		}
		if err := e.Run(in); err != nil {
			t.Fatal(err)
		}
		assertClose(t, src, e.Output(g.Outputs[0]), want.Outputs["output"])
	}
}

// TestTeachableBadExports: what is not a convertible image export fails
// with the file and the problem named.
func TestTeachableBadExports(t *testing.T) {
	meta := func(from, to string) string { return strings.Replace(tmMeta, from, to, 1) }
	noModel := func() []byte {
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		for _, name := range []string{"weights.bin", "metadata.json"} {
			f, _ := w.Create(name)
			f.Write([]byte(tmMeta))
		}
		w.Close()
		return buf.Bytes()
	}
	// A zip whose one entry claims to hold a gigabyte.
	bomb := func() []byte {
		z := tmZip(t, tmMeta, "")
		i := bytes.Index(z, []byte("PK\x01\x02")) // the first central directory entry
		copy(z[i+24:], []byte{0, 0, 0, 0x40})     // its uncompressed size: 1 GiB
		return z
	}
	for _, tc := range []struct {
		name string
		zip  []byte
		want []string
	}{
		{"no model.json", noModel(), []string{"holds no model.json"}},
		{"fewer labels", tmZip(t, meta(`"labels":["cat","dog","rocket"]`, `"labels":["cat","dog"]`), ""), []string{"metadata.json: 2 labels", "3 classes"}},
		{"no labels", tmZip(t, meta(`"labels":["cat","dog","rocket"]`, `"labels":[]`), ""), []string{"metadata.json names no classes"}},
		{"pose", tmZip(t, meta(`@teachablemachine/image`, `@teachablemachine/pose`), ""), []string{"pose project", "only image projects"}},
		{"audio", tmZip(t, `{"tfjsSpeechCommandsVersion":"0.4.0","modelName":"TMv2","wordLabels":["_background_noise_","clap"]}`, ""), []string{"audio project", "only image projects"}},
		{"grayscale", tmZip(t, meta(`"imageSize":8`, `"imageSize":8,"grayscale":true`), ""), []string{"grayscale"}},
		{"wrong size", tmZip(t, meta(`"imageSize":8`, `"imageSize":224`), ""), []string{"224x224 pictures", "8x8x3"}},
		{"bad metadata", tmZip(t, `{"labels": [`, ""), []string{"metadata.json", "not Teachable Machine's metadata"}},
		{"not a zip", []byte("PK but not really"), []string{"not a readable zip"}},
		{"size lies", bomb(), []string{`"model.json" claims 1073741824 bytes`}},
	} {
		src := writeFile(t, "export.zip", tc.zip)
		_, err := FromTFJS(src, Options{})
		if err == nil {
			t.Errorf("%s: converted", tc.name)
			continue
		}
		for _, w := range append([]string{src}, tc.want...) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
}

// FuzzTeachableZip feeds the zip reader damaged Teachable Machine
// exports: any outcome but a panic, a hang or a huge allocation is fine.
func FuzzTeachableZip(f *testing.F) {
	for _, prefix := range []string{"", "m/"} {
		z, err := tmZipBytes(tmMeta, prefix)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(z)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := filepath.Join(t.TempDir(), "export.zip")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		g, err := FromTFJS(src, Options{})
		if err == nil {
			if _, err := g.Infer(); err != nil {
				t.Fatalf("converted a graph that does not check: %v", err)
			}
		}
	})
}
