package convert

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/tools/convert/onnxpb"
)

// TestImageNetLabelsAreTorchvisions compares the embedded list with
// torchvision's own, read by Python from the installed package (Debian
// python3-torchvision), so the file cannot drift from its source.
func TestImageNetLabelsAreTorchvisions(t *testing.T) {
	got := ImageNetLabels()
	if len(got) != 1000 || got[0] != "tench" || got[1] != "goldfish" || got[2] != "great white shark" || got[999] != "toilet tissue" {
		t.Fatalf("%d names, starting %q, ending %q", len(got), got[:3], got[len(got)-1])
	}
	python, err := exec.LookPath("/usr/bin/python3")
	if err != nil {
		t.Skip("no /usr/bin/python3 to read torchvision's list from")
	}
	out, err := exec.Command(python, "-c", `from torchvision.models._meta import _IMAGENET_CATEGORIES as c; print("\n".join(c))`).Output()
	if err != nil {
		t.Skipf("torchvision is not importable (%v): install python3-torchvision to compare", err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(want) != len(got) {
		t.Fatalf("torchvision has %d names, the file %d: run make imagenet-labels", len(want), len(got))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("class %d is %q, torchvision's %q: run make imagenet-labels", i, got[i], want[i])
		}
	}
}

// onnxClassifier is onnxTestModel with n classes.
func onnxClassifier(n int) *onnxpb.ModelProto {
	m := onnxTestModel()
	fc := make([]float32, n*4)
	for i := range fc {
		fc[i] = float32(i%5) - 2
	}
	m.Graph.Initializer[2] = onnxFloats("fcw", []int64{int64(n), 4}, fc)
	m.Graph.Initializer[3] = onnxFloats("fcb", []int64{int64(n)}, make([]float32, n))
	m.Graph.Output = []*onnxpb.ValueInfoProto{onnxValueInfo("y", onnxpb.TensorProto_FLOAT, -1, int64(n))}
	return m
}

// TestImageNetLabelsAttached: a classifier with 1000 outputs gets
// ImageNet's names unless labels are given or refused, one with 1001 gets
// "background" first, any other count and a dropped head none; labels of
// the wrong count are an error naming their file.
func TestImageNetLabelsAttached(t *testing.T) {
	custom := make([]string, 1000)
	for i := range custom {
		custom[i] = "part " + string(rune('A'+i%26))
	}
	for _, tc := range []struct {
		name    string
		classes int
		opt     Options
		first   string // "" for no labels
		report  string
	}{
		{"imagenet", 1000, Options{}, "tench", "ImageNet's 1000 class names (1000)"},
		{"background", 1001, Options{}, "background", `"background" and ImageNet's 1000 class names (1001)`},
		{"other count", 3, Options{}, "", "none"},
		{"refused", 1000, Options{NoLabels: true}, "", "none"},
		{"given", 1000, Options{Labels: custom, LabelsFrom: "parts.txt"}, "part A", "parts.txt (1000)"},
		{"dropped head", 1000, Options{DropHead: true}, "", "none"},
	} {
		var r Report
		tc.opt.Report = &r
		g, err := FromONNX(writeONNX(t, tc.name+".onnx", onnxClassifier(tc.classes)), tc.opt)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Labels != tc.report {
			t.Errorf("%s: report %q, want %q", tc.name, r.Labels, tc.report)
		}
		if tc.first == "" {
			if len(g.Meta.Labels) != 0 {
				t.Errorf("%s: labels %v, want none", tc.name, g.Meta.Labels[:3])
			}
			continue
		}
		if len(g.Meta.Labels) != tc.classes || g.Meta.Labels[0] != tc.first {
			t.Errorf("%s: %d labels starting %q, want %d starting %q", tc.name, len(g.Meta.Labels), g.Meta.Labels[0], tc.classes, tc.first)
		}
		if tc.classes == 1001 && (g.Meta.Labels[1] != "tench" || g.Meta.Labels[1000] != "toilet tissue") {
			t.Errorf("1001 classes: labels 1 and 1000 are %q and %q", g.Meta.Labels[1], g.Meta.Labels[1000])
		}
	}
	_, err := FromONNX(writeONNX(t, "short.onnx", onnxClassifier(1000)), Options{Labels: custom[:999], LabelsFrom: "parts.txt"})
	if err == nil || !strings.Contains(err.Error(), "parts.txt: 999 labels") || !strings.Contains(err.Error(), "1000 classes") {
		t.Errorf("999 labels for 1000 classes: %v", err)
	}
}
