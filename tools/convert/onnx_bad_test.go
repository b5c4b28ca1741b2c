package convert

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/tools/convert/onnxpb"
	"google.golang.org/protobuf/proto"
)

// onnxNode builds a NodeProto; attrs alternate names and values (int64,
// float32, string, []int64).
func onnxNode(name, op string, inputs, outputs []string, attrs ...any) *onnxpb.NodeProto {
	n := &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(op), Input: inputs, Output: outputs}
	for i := 0; i+1 < len(attrs); i += 2 {
		a := &onnxpb.AttributeProto{Name: proto.String(attrs[i].(string))}
		switch v := attrs[i+1].(type) {
		case int64:
			a.Type, a.I = onnxpb.AttributeProto_INT.Enum(), proto.Int64(v)
		case float32:
			a.Type, a.F = onnxpb.AttributeProto_FLOAT.Enum(), proto.Float32(v)
		case string:
			a.Type, a.S = onnxpb.AttributeProto_STRING.Enum(), []byte(v)
		case []int64:
			a.Type, a.Ints = onnxpb.AttributeProto_INTS.Enum(), v
		}
		n.Attribute = append(n.Attribute, a)
	}
	return n
}

// onnxFloats builds a float initializer stored as raw little-endian bytes.
func onnxFloats(name string, dims []int64, v []float32) *onnxpb.TensorProto {
	raw := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), RawData: raw}
}

func onnxValueInfo(name string, elem onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}
		} else {
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: shape}}}}
}

// onnxTestModel is a small valid network, [batch, 2, 4, 4] in: a 3x3
// convolution with a bias, ReLU, global pool, flatten, Gemm to 3 classes.
func onnxTestModel() *onnxpb.ModelProto {
	w := make([]float32, 4*2*3*3)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	fc := make([]float32, 3*4)
	for i := range fc {
		fc[i] = float32(i%5) - 2
	}
	return &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("tiny"),
			Node: []*onnxpb.NodeProto{
				onnxNode("conv", "Conv", []string{"x", "w", "b"}, []string{"c"}, "pads", []int64{1, 1, 1, 1}),
				onnxNode("relu", "Relu", []string{"c"}, []string{"r"}),
				onnxNode("pool", "GlobalAveragePool", []string{"r"}, []string{"p"}),
				onnxNode("flat", "Flatten", []string{"p"}, []string{"f"}),
				onnxNode("fc", "Gemm", []string{"f", "fcw", "fcb"}, []string{"y"}, "transB", int64(1)),
			},
			Initializer: []*onnxpb.TensorProto{
				onnxFloats("w", []int64{4, 2, 3, 3}, w),
				onnxFloats("b", []int64{4}, []float32{0.1, -0.2, 0.3, 0}),
				onnxFloats("fcw", []int64{3, 4}, fc),
				onnxFloats("fcb", []int64{3}, []float32{1, 2, 3}),
			},
			Input:  []*onnxpb.ValueInfoProto{onnxValueInfo("x", onnxpb.TensorProto_FLOAT, -1, 2, 4, 4)},
			Output: []*onnxpb.ValueInfoProto{onnxValueInfo("y", onnxpb.TensorProto_FLOAT, -1, 3)},
		},
	}
}

func writeONNX(t *testing.T, name string, m *onnxpb.ModelProto) string {
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return writeBytes(t, name, data)
}

func writeBytes(t *testing.T, name string, data []byte) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestONNXSmallModel checks the hand-built model against values computed
// by hand-written loops over its NCHW weights, so the weight transposes
// are checked independently of the converter.
func TestONNXSmallModel(t *testing.T) {
	m := onnxTestModel()
	g, err := FromONNX(writeONNX(t, "tiny.onnx", m), Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := make([]float32, 2*4*4) // NCHW
	for i := range in {
		in[i] = float32((i*37)%11)/5 - 1
	}
	dec := func(name string) []float32 {
		for _, tp := range m.Graph.Initializer {
			if tp.GetName() == name {
				c, err := decodeTensor(tp)
				if err != nil {
					t.Fatal(err)
				}
				return c.f
			}
		}
		t.Fatalf("no initializer %s", name)
		return nil
	}
	w, b, fcw, fcb := dec("w"), dec("b"), dec("fcw"), dec("fcb")
	pooled := make([]float64, 4)
	for o := 0; o < 4; o++ {
		for y := 0; y < 4; y++ {
			for x := 0; x < 4; x++ {
				s := float64(b[o])
				for c := 0; c < 2; c++ {
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							iy, ix := y+ky-1, x+kx-1
							if iy >= 0 && iy < 4 && ix >= 0 && ix < 4 {
								s += float64(w[((o*2+c)*3+ky)*3+kx]) * float64(in[(c*4+iy)*4+ix])
							}
						}
					}
				}
				pooled[o] += math.Max(s, 0) / 16
			}
		}
	}
	want := make([]float64, 3)
	for k := range want {
		want[k] = float64(fcb[k])
		for i := 0; i < 4; i++ {
			want[k] += float64(fcw[k*4+i]) * pooled[i]
		}
	}
	e, err := engine.New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(nchwToNHWC(in, 2, 4, 4)); err != nil {
		t.Fatal(err)
	}
	if d := relL2(e.Output(g.Outputs[0]), want); d > 1e-6 {
		t.Errorf("got %v, want %v", e.Output(g.Outputs[0]), want)
	}
	if g.Meta.Architecture != "tiny" || g.Meta.Embedding != "p" || g.Meta.Preprocess.ResizeTo != 4 { // 4*256/224, rounded down
		t.Errorf("meta %+v", g.Meta)
	}
}

// TestONNXUnsupportedOps lists every unsupported node in one error.
func TestONNXUnsupportedOps(t *testing.T) {
	m := onnxTestModel()
	gr := m.Graph
	gr.Node = append(gr.Node[:2:2],
		onnxNode("lstm_1", "LSTM", []string{"r"}, []string{"l"}),
		onnxNode("", "Gather", []string{"l"}, []string{"gathered"}),
		&onnxpb.NodeProto{Name: proto.String("fused"), OpType: proto.String("FusedConv"), Domain: proto.String("com.microsoft"), Input: []string{"gathered"}, Output: []string{"r2"}},
		onnxNode("pool", "GlobalAveragePool", []string{"r2"}, []string{"p"}),
		onnxNode("flat", "Flatten", []string{"p"}, []string{"f"}),
		onnxNode("fc", "Gemm", []string{"f", "fcw", "fcb"}, []string{"y"}, "transB", int64(1)),
	)
	_, err := FromONNX(writeONNX(t, "unsupported.onnx", m), Options{})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, s := range []string{"unsupported.onnx:", "3 node(s)", `"lstm_1" (LSTM)`, `Gather making "gathered"`, `"fused" (FusedConv)`, "com.microsoft.FusedConv"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
}

// TestONNXTruncated cuts a real export at many points: each must fail
// with an error naming the file, never panic.
func TestONNXTruncated(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(onnxFixtures, "tiny_ops_opset13.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 2, 10, 50, 100, len(data) / 3, len(data) / 2, len(data) - 100, len(data) - 2, len(data) - 1} {
		path := writeBytes(t, "cut.onnx", data[:n])
		_, err := FromONNX(path, Options{})
		if err == nil || !strings.HasPrefix(err.Error(), "cut.onnx: ") {
			t.Errorf("cut at %d of %d bytes: %v", n, len(data), err)
		}
	}
	if _, err := FromONNX(filepath.Join(t.TempDir(), "missing.onnx"), Options{}); err == nil || !strings.Contains(err.Error(), "missing.onnx") {
		t.Errorf("missing file: %v", err)
	}
}

// TestONNXHugeTensor gives initializers dims claiming far more values than
// the file stores: the error must come before anything is allocated for
// the claim.
func TestONNXHugeTensor(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    *onnxpb.TensorProto
		want string
	}{
		{"2^40 elements", onnxFloats("w", []int64{1 << 20, 1 << 20}, []float32{1, 2}), "more than"},
		{"2^40 in one dim", onnxFloats("w", []int64{1 << 40}, []float32{1}), "dimension 0"},
		{"2^27 with 8 bytes", onnxFloats("w", []int64{1 << 27}, []float32{1, 2}), "need 536870912 bytes, the file stores 8"},
		{"negative dim", onnxFloats("w", []int64{-4, 2, 3, 3}, []float32{1}), "dimension 0 is -4"},
		{"float_data short", &onnxpb.TensorProto{Name: proto.String("w"), Dims: []int64{1 << 26}, DataType: proto.Int32(1), FloatData: []float32{1}}, "need 67108864 values"},
		{"external", &onnxpb.TensorProto{Name: proto.String("w"), Dims: []int64{4}, DataType: proto.Int32(1), DataLocation: onnxpb.TensorProto_EXTERNAL.Enum()}, "external"},
		{"string", &onnxpb.TensorProto{Name: proto.String("w"), Dims: []int64{1}, DataType: proto.Int32(int32(onnxpb.TensorProto_STRING))}, "STRING"},
	} {
		m := onnxTestModel()
		m.Graph.Initializer[0] = tc.t
		data, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _, err = lowerONNX("huge.onnx", data, Options{}, nil)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `initializer "w"`) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
			t.Errorf("%s: allocated %d bytes before refusing", tc.name, grew)
		}
	}
}

// TestONNXBadModels covers files that parse but cannot be converted.
func TestONNXBadModels(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(m *onnxpb.ModelProto)
		want string
	}{
		{"opset 18", func(m *onnxpb.ModelProto) { m.OpsetImport[0].Version = proto.Int64(18) }, "opset 18 is newer than the 17"},
		{"no opset", func(m *onnxpb.ModelProto) { m.OpsetImport = nil }, "imports no opset"},
		{"no graph", func(m *onnxpb.ModelProto) { m.Graph = nil }, "holds no graph"},
		{"int input", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0] = onnxValueInfo("x", onnxpb.TensorProto_INT32, 1, 2, 4, 4)
		}, "holds INT32"},
		{"rank 3 input", func(m *onnxpb.ModelProto) { m.Graph.Input[0] = onnxValueInfo("x", onnxpb.TensorProto_FLOAT, 1, 2, 4) }, "must be [1, C, H, W]"},
		{"batch 4", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0] = onnxValueInfo("x", onnxpb.TensorProto_FLOAT, 4, 2, 4, 4)
		}, "batch must be 1"},
		{"dynamic height", func(m *onnxpb.ModelProto) {
			m.Graph.Input[0] = onnxValueInfo("x", onnxpb.TensorProto_FLOAT, 1, 2, -1, 4)
		}, "must be fixed"},
		{"two inputs", func(m *onnxpb.ModelProto) {
			m.Graph.Input = append(m.Graph.Input, onnxValueInfo("x2", onnxpb.TensorProto_FLOAT, 1, 2, 4, 4))
		}, `2 run-time inputs ["x" "x2"]`},
		{"weight at run time", func(m *onnxpb.ModelProto) { m.Graph.Node[0].Input[1] = "x" }, "computed at run time"},
		{"undefined input", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Input[0] = "nowhere" }, `"nowhere") is made by no earlier node`},
		{"out of order", func(m *onnxpb.ModelProto) { m.Graph.Node[0], m.Graph.Node[1] = m.Graph.Node[1], m.Graph.Node[0] }, "made by no earlier node"},
		{"output twice", func(m *onnxpb.ModelProto) { m.Graph.Node[1].Output[0] = "c" }, `output "c" is already defined`},
		{"unknown attribute", func(m *onnxpb.ModelProto) {
			m.Graph.Node[0].Attribute = append(m.Graph.Node[0].Attribute, onnxNode("", "", nil, nil, "fancy", int64(1)).Attribute...)
		}, `attribute "fancy" is not supported`},
		{"attribute type", func(m *onnxpb.ModelProto) {
			m.Graph.Node[0].Attribute[0] = onnxNode("", "", nil, nil, "pads", int64(1)).Attribute[0]
		}, "is a INT, want INTS"},
		{"groups", func(m *onnxpb.ModelProto) {
			m.Graph.Node[0].Attribute = append(m.Graph.Node[0].Attribute, onnxNode("", "", nil, nil, "group", int64(3)).Attribute...)
		}, "with 3 groups does not fit 2 input channels"},
		{"gemm shape", func(m *onnxpb.ModelProto) { m.Graph.Node[4].Attribute = nil }, "does not fit input dims"},
		{"clip -1..1", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = onnxNode("clip", "Clip", []string{"c", "lo", "hi"}, []string{"r"})
			m.Graph.Initializer = append(m.Graph.Initializer, onnxFloats("lo", nil, []float32{-1}), onnxFloats("hi", nil, []float32{1}))
		}, "clip to [-1, 1] has no IR equivalent"},
		{"output declared wrong", func(m *onnxpb.ModelProto) { m.Graph.Output[0] = onnxValueInfo("y", onnxpb.TensorProto_FLOAT, 1, 5) }, "declares dimension 1 as 5"},
		{"huge pads", func(m *onnxpb.ModelProto) { m.Graph.Node[0].Attribute[0].Ints = []int64{1 << 30, 1, 1, 1} }, "out of range"},
		{"big pad op", func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = onnxNode("pad", "Pad", []string{"c", "pads"}, []string{"r"})
			m.Graph.Initializer = append(m.Graph.Initializer, &onnxpb.TensorProto{Name: proto.String("pads"), Dims: []int64{8},
				DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: []int64{0, 0, 1 << 25, 1 << 25, 0, 0, 1 << 25, 1 << 25}})
		}, "larger than"},
	} {
		m := onnxTestModel()
		tc.edit(m)
		_, err := FromONNX(writeONNX(t, "bad.onnx", m), Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "bad.onnx: ") {
			t.Errorf("%s: error %v, want one naming the file and saying %q", tc.name, err, tc.want)
		}
	}
}

// TestONNXSharedWeightBudget shares one initializer among many
// convolutions: the copies are bounded by the file's size.
func TestONNXSharedWeightBudget(t *testing.T) {
	m := onnxTestModel()
	w := make([]float32, 2*2*64*64)
	m.Graph.Initializer = append(m.Graph.Initializer, onnxFloats("big", []int64{2, 2, 64, 64}, w))
	m.Graph.Input[0] = onnxValueInfo("x", onnxpb.TensorProto_FLOAT, 1, 2, 64, 64)
	nodes := []*onnxpb.NodeProto{}
	prev := "x"
	for i := 0; i < 200; i++ {
		out := "v" + strings.Repeat("i", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		nodes = append(nodes, onnxNode("", "Conv", []string{prev, "big"}, []string{out}, "pads", []int64{31, 31, 32, 32}))
		prev = out
	}
	m.Graph.Node = append(nodes, onnxNode("relu", "Relu", []string{prev}, []string{"c"}))
	m.Graph.Node = append(m.Graph.Node, onnxTestModel().Graph.Node[1:]...)
	m.Graph.Node[len(nodes)+1].Input[0] = "c"
	_, err := FromONNX(writeONNX(t, "shared.onnx", m), Options{})
	if err == nil || !strings.Contains(err.Error(), "times the file's size") {
		t.Errorf("error %v", err)
	}
}

// FuzzONNX feeds arbitrary bytes to the ONNX front end; whatever converts
// must also run.
func FuzzONNX(f *testing.F) {
	for _, name := range []string{"tiny_ops_opset11.onnx", "tiny_ops_opset17.onnx"} {
		data, err := os.ReadFile(filepath.Join(onnxFixtures, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)/2])
	}
	small, err := proto.Marshal(onnxTestModel())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		g, _, err := lowerONNX("fuzz.onnx", data, Options{}, nil)
		if err != nil {
			return
		}
		shapes, err := g.Infer()
		if err != nil {
			t.Fatalf("converted, but the graph does not check: %v", err)
		}
		total := 0
		for _, s := range shapes {
			total += s.Size()
		}
		if total > 1<<20 {
			return // keep each run small
		}
		e, err := engine.New(g, kernels.Go{})
		if err != nil {
			t.Fatalf("converted, but the engine refuses it: %v", err)
		}
		if err := e.Run(make([]float32, g.InputShape.Size())); err != nil {
			t.Fatal(err)
		}
	})
}

// TestONNXOpset10Constants checks, against hand-written loops, the paths
// torch's fixtures do not take: Clip's bounds and Pad's pads as attributes
// (opset 10), constant operands of Mul and Add (per channel and scalar,
// lowered to depthwise convolutions), a reshape to [1, -1], and Softmax's
// pre-13 semantics on a [1, C] value.
func TestONNXOpset10Constants(t *testing.T) {
	m := onnxTestModel()
	m.OpsetImport[0].Version = proto.Int64(10)
	m.Graph.Input[0] = onnxValueInfo("x", onnxpb.TensorProto_FLOAT, 1, 2, 3, 3)
	m.Graph.Output[0] = onnxValueInfo("y", onnxpb.TensorProto_FLOAT, 1, 2)
	m.Graph.Initializer = []*onnxpb.TensorProto{
		onnxFloats("scale", []int64{1, 2, 1, 1}, []float32{2, -1}),
		onnxFloats("half", nil, []float32{0.5}),
		{Name: proto.String("shape"), Dims: []int64{2}, DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: []int64{1, -1}},
	}
	m.Graph.Node = []*onnxpb.NodeProto{
		onnxNode("mul", "Mul", []string{"x", "scale"}, []string{"a"}),
		onnxNode("add", "Add", []string{"half", "a"}, []string{"b"}),
		onnxNode("clip", "Clip", []string{"b"}, []string{"c"}, "min", float32(0), "max", float32(6)),
		onnxNode("pad", "Pad", []string{"c"}, []string{"d"}, "pads", []int64{0, 0, 1, 0, 0, 0, 0, 1}),
		onnxNode("pool", "GlobalAveragePool", []string{"d"}, []string{"e"}),
		onnxNode("reshape", "Reshape", []string{"e", "shape"}, []string{"f"}),
		onnxNode("softmax", "Softmax", []string{"f"}, []string{"y"}),
	}
	g, err := FromONNX(writeONNX(t, "opset10.onnx", m), Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := []float32{ // NCHW
		-1, 0, 1, 2, 3, 4, 5, 6, 7,
		-4, -3, -2, -1, 0, 1, 2, 3, 9,
	}
	scale := []float64{2, -1}
	var pooled [2]float64
	for c := 0; c < 2; c++ {
		for i := 0; i < 9; i++ {
			v := math.Min(math.Max(float64(in[c*9+i])*scale[c]+0.5, 0), 6)
			pooled[c] += v / 16 // padded to 4x4 with zeros
		}
	}
	z := math.Exp(pooled[0]) + math.Exp(pooled[1])
	want := []float64{math.Exp(pooled[0]) / z, math.Exp(pooled[1]) / z}
	e, err := engine.New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(nchwToNHWC(in, 2, 3, 3)); err != nil {
		t.Fatal(err)
	}
	if got := e.Output(g.Outputs[0]); relL2(got, want) > 1e-6 {
		t.Errorf("got %v, want %v", got, want)
	}
}
