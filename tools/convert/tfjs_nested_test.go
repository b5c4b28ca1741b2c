package convert

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNestedModelsMatchTFJS converts layers models that nest models as
// layers, as tools/js/make-convert-fixtures.js builds and TF.js runs them:
// a functional model calling a functional block and a Sequential head,
// and a Sequential of Sequentials around a functional backbone (the shape
// of a Teachable Machine export).
func TestNestedModelsMatchTFJS(t *testing.T) {
	for _, name := range []string{"nested_functional", "nested_sequential"} {
		g, e, want := runFixture(t, "testdata/"+name)
		if len(g.Outputs) != 1 {
			t.Fatalf("%s: outputs %v", name, g.Outputs)
		}
		assertClose(t, name, e.Output(g.Outputs[0]), want.Outputs["output"])
		for _, n := range g.Nodes {
			if strings.HasPrefix(n.Name, "model_") || strings.HasPrefix(n.Name, "sequential_") {
				t.Errorf("%s: the nested model %q became a node", name, n.Name)
			}
		}
	}
}

// editLayer rewrites the model.json in dir, applying edit to the config
// entry of every layer (nested ones included) named name, or of class
// name when no layer has that name.
func editLayer(t *testing.T, dir, name string, edit func(l map[string]any)) string {
	t.Helper()
	path := filepath.Join(dir, "model.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	found := 0
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			cfg, _ := x["config"].(map[string]any)
			if _, isLayer := x["class_name"]; isLayer && cfg != nil && (cfg["name"] == name || x["class_name"] == name) {
				edit(x)
				found++
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(m["modelTopology"])
	if found == 0 {
		t.Fatalf("no layer %q in %s", name, path)
	}
	if data, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestNestedModelErrors: what cannot be inlined is refused by name.
func TestNestedModelErrors(t *testing.T) {
	callTwice := func(l map[string]any) {
		calls := l["inbound_nodes"].([]any)
		l["inbound_nodes"] = append(calls, calls[0])
	}
	for _, tc := range []struct {
		name, fixture, layer string
		edit                 func(l map[string]any)
		want                 []string
	}{
		// The block applied twice: a shared layer.
		{"shared nested model", "nested_functional", "block", callTwice,
			[]string{`layer "block"`, "called 2 times", "shared layers are not supported"}},
		// A layer inside the block called twice.
		{"shared layer inside", "nested_functional", "block_relu", callTwice,
			[]string{`nested model "block"`, `layer "block_relu"`, "shared layers are not supported"}},
		// The head reading a second call of the block.
		{"second call", "nested_functional", "head", func(l map[string]any) {
			l["inbound_nodes"].([]any)[0].([]any)[0].([]any)[1] = 2
		}, []string{`layer "head" reads call 2 of layer "block"`, "shared layers are not supported"}},
		{"unknown layer inside", "nested_sequential", "GlobalAveragePooling2D", func(l map[string]any) {
			l["class_name"] = "GlobalMaxPooling2D"
		}, []string{"unsupported Keras layers", "(GlobalMaxPooling2D)"}},
		{"name clash", "nested_sequential", "dense_Dense2", func(l map[string]any) {
			l["config"].(map[string]any)["name"] = "Conv1"
		}, []string{`two layers are named "Conv1"`}},
	} {
		path := editLayer(t, copyFixture(t, tc.fixture), tc.layer, tc.edit)
		_, err := FromTFJS(path, Options{})
		if err == nil {
			t.Errorf("%s: converted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
}
