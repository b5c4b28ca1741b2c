package convert

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/tools/convert/onnxpb"
	"google.golang.org/protobuf/proto"
)

// onnxNodeTests is where Debian's libonnx-testdata installs ONNX's own
// operator tests: <test>/model.onnx and <test>/test_data_set_N/
// {input,output}_K.pb.
const onnxNodeTests = "/usr/share/libonnx-testdata/data/node"

// onnxSkipList names the node tests of claimed ops that cannot run, one
// per line with the reason.
const onnxSkipList = "testdata/onnx/skip.txt"

// onnxTestStem maps a claimed op to the stem of its tests' names, where
// it is not simply the op's name in lower case.
var onnxTestStem = map[string]string{"BatchNormalization": "batchnorm"}

// onnxTestOp says which claimed op a node test belongs to: its model is a
// single node of that op, or its name is test_<op> or test_<op>_...
// (which takes in the function-expanded variants); "" for other tests.
func onnxTestOp(name string, m *onnxpb.ModelProto) string {
	if nodes := m.GetGraph().GetNode(); len(nodes) == 1 {
		if _, ok := onnxOps[nodes[0].GetOpType()]; ok && nodes[0].GetDomain() == "" {
			return nodes[0].GetOpType()
		}
	}
	for op := range onnxOps {
		stem := onnxTestStem[op]
		if stem == "" {
			stem = strings.ToLower(op)
		}
		if name == "test_"+stem || strings.HasPrefix(name, "test_"+stem+"_") {
			return op
		}
	}
	return ""
}

func readSkipList(t *testing.T) map[string]string {
	f, err := os.Open(onnxSkipList)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	skips := map[string]string{}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		name, reason, ok := strings.Cut(text, " ")
		if !ok || strings.TrimSpace(reason) == "" {
			t.Fatalf("%s:%d: want a test name and a reason", onnxSkipList, line)
		}
		if _, dup := skips[name]; dup {
			t.Fatalf("%s:%d: %s is listed twice", onnxSkipList, line, name)
		}
		skips[name] = strings.TrimSpace(reason)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return skips
}

// TestONNXConformance runs ONNX's node tests for every op FromONNX claims:
// each must pass, or stand in the skip list with its reason (and a listed
// test that passes is an error too, so the list stays true).
func TestONNXConformance(t *testing.T) {
	dirs, err := os.ReadDir(onnxNodeTests)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("ONNX's node tests are not installed at %s (Debian package libonnx-testdata)", onnxNodeTests)
	}
	if err != nil {
		t.Fatal(err)
	}
	skips := readSkipList(t)
	type count struct{ passed, skipped int }
	counts := map[string]*count{}
	for _, d := range dirs {
		name := d.Name()
		data, err := os.ReadFile(filepath.Join(onnxNodeTests, name, "model.onnx"))
		if err != nil {
			continue
		}
		var m onnxpb.ModelProto
		if err := proto.Unmarshal(data, &m); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		op := onnxTestOp(name, &m)
		if op == "" {
			continue
		}
		if counts[op] == nil {
			counts[op] = &count{}
		}
		err = runONNXNodeTest(filepath.Join(onnxNodeTests, name), data, &m)
		reason, listed := skips[name]
		delete(skips, name)
		switch {
		case err == nil && listed:
			t.Errorf("%s passes but %s lists it (%s)", name, onnxSkipList, reason)
		case err == nil:
			counts[op].passed++
		case listed:
			counts[op].skipped++
		default:
			t.Errorf("%s: %v", name, err)
		}
	}
	for name := range skips {
		t.Errorf("%s lists %s, which is not a node test of a claimed op", onnxSkipList, name)
	}
	var ops []string
	for op := range counts {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	var total count
	for _, op := range ops {
		c := counts[op]
		t.Logf("%-18s passed %2d  skipped %2d", op, c.passed, c.skipped)
		total.passed += c.passed
		total.skipped += c.skipped
	}
	t.Logf("%-18s passed %2d  skipped %2d", "all", total.passed, total.skipped)
	for op := range onnxOps {
		if counts[op] == nil && op != "Constant" {
			t.Errorf("no node test found for %s", op)
		}
	}
}

func readTensorFile(path string) (*onnxpb.TensorProto, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(data, &tp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &tp, nil
}

// runONNXNodeTest lowers one node test with its weight inputs fed as
// constants, then runs every sample of every data set through the engine,
// moving tensors between ONNX's layout and the IR's.
func runONNXNodeTest(dir string, data []byte, m *onnxpb.ModelProto) error {
	inits := map[string]bool{}
	for _, t := range m.GetGraph().GetInitializer() {
		inits[t.GetName()] = true
	}
	var inputs []string
	for _, in := range m.GetGraph().GetInput() {
		if !inits[in.GetName()] {
			inputs = append(inputs, in.GetName())
		}
	}
	sets, _ := filepath.Glob(filepath.Join(dir, "test_data_set_*"))
	if len(sets) == 0 {
		return errors.New("no test data sets")
	}
	for _, set := range sets {
		conf := &onnxConformance{feeds: map[string]*onnxpb.TensorProto{}}
		var x *onnxConst
		for k, name := range inputs {
			tp, err := readTensorFile(filepath.Join(set, fmt.Sprintf("input_%d.pb", k)))
			if err != nil {
				return err
			}
			if k == 0 {
				if x, err = decodeTensor(tp); err != nil {
					return fmt.Errorf("input_0.pb: %w", err)
				}
				continue
			}
			conf.feeds[name] = tp
		}
		g, layout, err := lowerONNX(filepath.Base(dir), data, Options{}, conf)
		if err != nil {
			return err
		}
		e, err := engine.New(g, kernels.Go{})
		if err != nil {
			return err
		}
		if x == nil || x.isInt() || len(x.dims) != len(layout.input.dims) {
			return fmt.Errorf("input_0.pb does not fit the input dims %v", layout.input.dims)
		}
		batch := x.dims[0]
		per := len(x.f) / max(batch, 1)
		var wants [][]float32
		for j := range layout.outputs {
			tp, err := readTensorFile(filepath.Join(set, fmt.Sprintf("output_%d.pb", j)))
			if err != nil {
				return err
			}
			c, err := decodeTensor(tp)
			if err != nil {
				return fmt.Errorf("output_%d.pb: %w", j, err)
			}
			if c.isInt() || len(c.dims) == 0 || c.dims[0] != batch {
				return fmt.Errorf("output_%d.pb has dims %v for a batch of %d", j, c.dims, batch)
			}
			if fmt.Sprint(c.dims[1:]) != fmt.Sprint(layout.outputs[j].dims[1:]) {
				return fmt.Errorf("output %d: computed dims %v, the test expects %v", j, layout.outputs[j].dims, c.dims)
			}
			wants = append(wants, c.f)
		}
		for s := 0; s < batch; s++ {
			if err := e.Run(toIRLayout(layout.input, x.f[s*per:(s+1)*per])); err != nil {
				return err
			}
			for j, v := range layout.outputs {
				got := fromIRLayout(v, e.Output(g.Outputs[j]))
				n := len(got)
				want := wants[j][s*n : (s+1)*n]
				for i := range got {
					if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-4+1e-4*math.Abs(float64(want[i]))) {
						return fmt.Errorf("%s sample %d output %d element %d: got %g, want %g", filepath.Base(set), s, j, i, got[i], want[i])
					}
				}
			}
		}
	}
	return nil
}

// toIRLayout moves one sample from ONNX's layout to the IR's.
func toIRLayout(v *onnxValue, x []float32) []float32 {
	switch len(v.dims) {
	case 4:
		return nchwToNHWC(x, v.dims[1], v.dims[2], v.dims[3])
	case 3:
		return nchwToNHWC(x, v.dims[1], 1, v.dims[2])
	}
	return x
}

// fromIRLayout moves one sample from the IR's layout back to ONNX's,
// undoing the HWC order of a flattened map too.
func fromIRLayout(v *onnxValue, y []float32) []float32 {
	h, w, c := 1, 1, len(y)
	switch {
	case len(v.dims) == 4:
		h, w, c = v.dims[2], v.dims[3], v.dims[1]
	case len(v.dims) == 3:
		w, c = v.dims[2], v.dims[1]
	case v.hwc != nil:
		h, w, c = v.hwc[0], v.hwc[1], v.hwc[2]
	}
	out := make([]float32, len(y))
	for ch := 0; ch < c; ch++ {
		for yy := 0; yy < h; yy++ {
			for xx := 0; xx < w; xx++ {
				out[(ch*h+yy)*w+xx] = y[(yy*w+xx)*c+ch]
			}
		}
	}
	return out
}
