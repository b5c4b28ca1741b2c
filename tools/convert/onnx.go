package convert

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/tools/convert/onnxpb"
	"google.golang.org/protobuf/proto"
)

// maxONNXFile bounds the file read into memory: protobuf messages cannot
// exceed 2 GiB, and ONNX files larger than that keep their weights in
// external files, which this front end does not read.
const maxONNXFile = 2<<30 - 1

// The default-domain opsets this front end knows. Older files are read
// with each op's older semantics where it differs (Clip's bounds and Pad's
// pads as attributes, Softmax over the flattened trailing axes before 13);
// newer ones may have changed the ops in ways it cannot know.
const maxONNXOpset = 17

// maxONNXInput bounds the input's H*W*C: the engine plans an arena
// proportional to it.
const maxONNXInput = 1 << 26

// maxONNXActivations bounds the sum of all activation sizes (VGG16 at 224
// needs about 15 million values), so that a hostile graph cannot make the
// engine plan an arena without bound.
const maxONNXActivations = 1 << 28

// onnxOps are the ONNX operators the front end lowers, with the attributes
// each may carry and their types. An attribute outside this list is an
// error rather than silently ignored, since it may change what the op
// computes.
var onnxOps = map[string]map[string]onnxpb.AttributeProto_AttributeType{
	"Conv": {"auto_pad": onnxpb.AttributeProto_STRING, "dilations": onnxpb.AttributeProto_INTS, "group": onnxpb.AttributeProto_INT,
		"kernel_shape": onnxpb.AttributeProto_INTS, "pads": onnxpb.AttributeProto_INTS, "strides": onnxpb.AttributeProto_INTS},
	"BatchNormalization": {"epsilon": onnxpb.AttributeProto_FLOAT, "momentum": onnxpb.AttributeProto_FLOAT,
		"training_mode": onnxpb.AttributeProto_INT, "spatial": onnxpb.AttributeProto_INT, "is_test": onnxpb.AttributeProto_INT,
		"consumed_inputs": onnxpb.AttributeProto_INTS},
	"Relu":        {},
	"Clip":        {"min": onnxpb.AttributeProto_FLOAT, "max": onnxpb.AttributeProto_FLOAT},
	"HardSwish":   {},
	"HardSigmoid": {"alpha": onnxpb.AttributeProto_FLOAT, "beta": onnxpb.AttributeProto_FLOAT},
	"Sigmoid":     {},
	"Mul":         {},
	"Add":         {},
	"Concat":      {"axis": onnxpb.AttributeProto_INT},
	"MaxPool": {"auto_pad": onnxpb.AttributeProto_STRING, "ceil_mode": onnxpb.AttributeProto_INT, "dilations": onnxpb.AttributeProto_INTS,
		"kernel_shape": onnxpb.AttributeProto_INTS, "pads": onnxpb.AttributeProto_INTS, "storage_order": onnxpb.AttributeProto_INT,
		"strides": onnxpb.AttributeProto_INTS},
	"AveragePool": {"auto_pad": onnxpb.AttributeProto_STRING, "ceil_mode": onnxpb.AttributeProto_INT, "count_include_pad": onnxpb.AttributeProto_INT,
		"kernel_shape": onnxpb.AttributeProto_INTS, "pads": onnxpb.AttributeProto_INTS, "strides": onnxpb.AttributeProto_INTS},
	"GlobalAveragePool": {},
	"Flatten":           {"axis": onnxpb.AttributeProto_INT},
	"Reshape":           {"allowzero": onnxpb.AttributeProto_INT, "shape": onnxpb.AttributeProto_INTS},
	"Gemm": {"alpha": onnxpb.AttributeProto_FLOAT, "beta": onnxpb.AttributeProto_FLOAT, "transA": onnxpb.AttributeProto_INT,
		"transB": onnxpb.AttributeProto_INT},
	"MatMul":  {},
	"Softmax": {"axis": onnxpb.AttributeProto_INT},
	"Pad":     {"mode": onnxpb.AttributeProto_STRING, "pads": onnxpb.AttributeProto_INTS, "value": onnxpb.AttributeProto_FLOAT},
	"Constant": {"value": onnxpb.AttributeProto_TENSOR, "value_float": onnxpb.AttributeProto_FLOAT, "value_floats": onnxpb.AttributeProto_FLOATS,
		"value_int": onnxpb.AttributeProto_INT, "value_ints": onnxpb.AttributeProto_INTS},
	"Identity": {},
	"Dropout":  {"ratio": onnxpb.AttributeProto_FLOAT, "seed": onnxpb.AttributeProto_INT, "is_test": onnxpb.AttributeProto_INT},
}

// ONNXOps lists the ONNX operators FromONNX lowers, sorted.
func ONNXOps() []string {
	ops := make([]string, 0, len(onnxOps))
	for op := range onnxOps {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// FromONNX converts an ONNX model (opsets up to 17) of an image network
// taking one [1, C, H, W] float input (the batch may be dynamic) into an
// IR graph. ONNX is NCHW and the IR NHWC: weights are transposed on the
// way (convolutions OIHW to HWIO, dense [Out, In] to [In, Out], and the
// rows of a dense layer that reads a flattened map are reordered from CHW
// to HWC). The preprocessing defaults to torchvision's evaluation
// transform, the usual source of ONNX image models; the embedding is the
// output of the last global average pool, or of the pool before the
// flatten that feeds the first dense layer.
//
// A file using operators outside ONNXOps gets one error listing every such
// node. Errors name the file.
func FromONNX(path string, opt Options) (*ir.Graph, error) {
	name := filepath.Base(path)
	data, err := readONNXFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	g, _, err := lowerONNX(name, data, opt, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return g, nil
}

// readONNXFile reads the whole file, refusing sizes protobuf cannot hold.
func readONNXFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxONNXFile {
		return nil, fmt.Errorf("%d bytes is larger than an ONNX file can be (2 GiB) without external data, which is not supported", st.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxONNXFile+1))
	if err != nil {
		return nil, err
	}
	return data, nil
}

// onnxValue is a tensor computed at run time, as the lowering tracks it:
// its IR value and its ONNX dims, whose first is the batch (taken as 1
// when dynamic). The IR holds one sample: [N, C, H, W] is {H, W, C},
// [N, C, L] is {1, L, C} and [N, K] is {1, 1, K}.
type onnxValue struct {
	ir   string
	dims []int
	// hwc is set on a [N, K] value made by flattening a map with several
	// positions and channels: ONNX orders its K elements C, H, W while the
	// IR holds them H, W, C, as the flattened map of shape hwc. A dense
	// layer reading it reorders its rows to match.
	hwc *ir.Shape
}

// shape is the value's IR shape.
func (v *onnxValue) shape() ir.Shape {
	switch len(v.dims) {
	case 4:
		return ir.Shape{v.dims[2], v.dims[3], v.dims[1]}
	case 3:
		return ir.Shape{1, v.dims[2], v.dims[1]}
	case 2:
		return ir.Shape{1, 1, v.dims[1]}
	}
	return ir.Shape{}
}

// onnxConformance switches the lowering to the raw semantics ONNX's node
// tests need: graph inputs other than the first are given as constants
// (the tests feed weights as inputs), the input may be [N, C, H, W],
// [N, C, L] or [N, K] with any batch (the caller runs the samples one by
// one), and no image metadata is set. It exists for the conformance test.
type onnxConformance struct {
	feeds map[string]*onnxpb.TensorProto
}

// onnxIO describes how the graph's input and outputs lie in ONNX terms,
// so a caller can move tensors between ONNX's layout and the IR's.
type onnxIO struct {
	input   *onnxValue
	outputs []*onnxValue
}

// onnxLowering is the state of one conversion.
type onnxLowering struct {
	opset  int64
	g      *ir.Graph
	vals   map[string]*onnxValue
	consts map[string]*onnxConst
	// used counts the readers of every ONNX value (node inputs and graph
	// outputs), to refuse optional outputs (a Dropout's mask) that are read.
	used   map[string]int
	suffix map[string]int // the last suffix given to a tensor name
	// weights counts the IR weight values made so far, weightBudget
	// bounds them.
	weights, weightBudget int
	batch                 int
}

// onnxWeightRatio bounds the IR's weight values to this many per byte of
// the ONNX file (with a floor), so that a small hostile file whose many
// nodes share one large initializer cannot make the converter allocate
// without bound. Real models come nowhere near: every value is stored in
// the file in at least two bytes and is converted once or twice.
const onnxWeightRatio = 4

// lowerONNX parses and lowers a model; name is used in messages only by
// the caller, which prefixes every error with it.
func lowerONNX(name string, data []byte, opt Options, conf *onnxConformance) (*ir.Graph, *onnxIO, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		return nil, nil, fmt.Errorf("not a valid ONNX model (truncated or corrupt protobuf): %w", err)
	}
	gp := m.GetGraph()
	if gp == nil || (len(gp.GetNode()) == 0 && len(gp.GetOutput()) == 0) {
		return nil, nil, errors.New("not an ONNX model: it holds no graph")
	}
	opset := int64(-1)
	for _, o := range m.GetOpsetImport() {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			opset = o.GetVersion()
		}
	}
	if opset < 0 {
		if m.GetIrVersion() >= 3 || len(m.GetOpsetImport()) > 0 {
			return nil, nil, errors.New("the model imports no opset of the default ONNX domain")
		}
		opset = 1 // IR versions before 3 had no opset imports
	}
	if opset > maxONNXOpset {
		return nil, nil, fmt.Errorf("opset %d is newer than the %d this converter knows; export with opset_version=%d or lower", opset, maxONNXOpset, maxONNXOpset)
	}
	if err := checkONNXOps(gp); err != nil {
		return nil, nil, err
	}
	l := &onnxLowering{
		opset: opset, vals: map[string]*onnxValue{}, consts: map[string]*onnxConst{},
		used: map[string]int{}, suffix: map[string]int{},
		weightBudget: max(onnxWeightRatio*len(data), 1<<20),
	}
	for _, n := range gp.GetNode() {
		for _, in := range n.GetInput() {
			l.used[in]++
		}
	}
	for _, o := range gp.GetOutput() {
		l.used[o.GetName()]++
	}
	for _, t := range gp.GetInitializer() {
		c, err := decodeTensor(t)
		if err != nil {
			return nil, nil, fmt.Errorf("initializer %q: %w", t.GetName(), err)
		}
		l.consts[t.GetName()] = c
	}
	if len(gp.GetSparseInitializer()) > 0 {
		return nil, nil, errors.New("sparse initializers are not supported")
	}
	input, err := l.input(gp, conf)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range gp.GetNode() {
		if err := l.node(n); err != nil {
			return nil, nil, fmt.Errorf("node %s: %w", onnxNodeName(n), err)
		}
	}
	layout := &onnxIO{input: input}
	for _, o := range gp.GetOutput() {
		v, err := l.output(o)
		if err != nil {
			return nil, nil, err
		}
		l.g.Outputs = append(l.g.Outputs, v.ir)
		layout.outputs = append(layout.outputs, v)
	}
	if len(l.g.Outputs) == 0 {
		return nil, nil, errors.New("the graph has no outputs")
	}
	l.g.Prune()
	if err := l.checkShapes(); err != nil {
		return nil, nil, err
	}
	if conf != nil {
		if _, err := l.g.Infer(); err != nil {
			return nil, nil, err
		}
		return l.g, layout, nil
	}
	if err := l.finish(name, gp, opt); err != nil {
		return nil, nil, err
	}
	return l.g, layout, nil
}

// onnxNodeName names a node for messages: its name, or its op and first
// output when it has none.
func onnxNodeName(n *onnxpb.NodeProto) string {
	if n.GetName() != "" {
		return fmt.Sprintf("%q (%s)", n.GetName(), n.GetOpType())
	}
	if len(n.GetOutput()) > 0 {
		return fmt.Sprintf("%s making %q", n.GetOpType(), n.GetOutput()[0])
	}
	return n.GetOpType()
}

// checkONNXOps reports, in one error, every node whose operator the front
// end cannot lower, so a user sees the whole list at once.
func checkONNXOps(gp *onnxpb.GraphProto) error {
	var bad []string
	kinds := map[string]bool{}
	for _, n := range gp.GetNode() {
		op := n.GetOpType()
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			op = d + "." + op
		} else if _, ok := onnxOps[op]; ok {
			continue
		}
		bad = append(bad, onnxNodeName(n))
		kinds[op] = true
	}
	if len(bad) == 0 {
		return nil
	}
	var ops []string
	for op := range kinds {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return fmt.Errorf("%d node(s) use operators this converter does not support (%s): %s; supported: %s",
		len(bad), strings.Join(ops, ", "), strings.Join(bad, ", "), strings.Join(ONNXOps(), ", "))
}

// input finds the graph's one run-time input, checks it and starts the IR
// graph with it.
func (l *onnxLowering) input(gp *onnxpb.GraphProto, conf *onnxConformance) (*onnxValue, error) {
	var inputs []*onnxpb.ValueInfoProto
	for _, in := range gp.GetInput() {
		if _, ok := l.consts[in.GetName()]; ok {
			continue // IR versions before 4 list initializers as inputs too
		}
		if conf != nil && conf.feeds[in.GetName()] != nil {
			c, err := decodeTensor(conf.feeds[in.GetName()])
			if err != nil {
				return nil, fmt.Errorf("fed input %q: %w", in.GetName(), err)
			}
			l.consts[in.GetName()] = c
			continue
		}
		inputs = append(inputs, in)
	}
	if len(inputs) != 1 {
		var names []string
		for _, in := range inputs {
			names = append(names, fmt.Sprintf("%q", in.GetName()))
		}
		return nil, fmt.Errorf("the graph has %d run-time inputs [%s]; an image network has exactly one", len(inputs), strings.Join(names, " "))
	}
	in := inputs[0]
	tt := in.GetType().GetTensorType()
	if tt == nil {
		return nil, fmt.Errorf("input %q is not a tensor", in.GetName())
	}
	if tt.GetElemType() != int32(onnxpb.TensorProto_FLOAT) {
		return nil, fmt.Errorf("input %q holds %s; only float32 inputs are supported", in.GetName(), onnxTypeName(tt.GetElemType()))
	}
	if tt.GetShape() == nil {
		return nil, fmt.Errorf("input %q has no declared shape; it must be [1, C, H, W]", in.GetName())
	}
	dims := make([]int, len(tt.GetShape().GetDim()))
	var desc []string
	for k, d := range tt.GetShape().GetDim() {
		if d.GetDimParam() != "" || d.GetDimValue() <= 0 {
			desc = append(desc, "?")
			dims[k] = -1
			continue
		}
		if d.GetDimValue() > maxONNXInput {
			return nil, fmt.Errorf("input %q: dimension %d is %d", in.GetName(), k, d.GetDimValue())
		}
		dims[k] = int(d.GetDimValue())
		desc = append(desc, fmt.Sprint(dims[k]))
	}
	bad := func(why string) error {
		return fmt.Errorf("input %q has shape [%s]; %s", in.GetName(), strings.Join(desc, " "), why)
	}
	if conf == nil && len(dims) != 4 {
		return nil, bad("an image network's input must be [1, C, H, W]")
	}
	if len(dims) < 2 || len(dims) > 4 {
		return nil, bad("only [N, C, H, W], [N, C, L] and [N, K] inputs are supported")
	}
	if dims[0] < 0 {
		dims[0] = 1 // a dynamic batch: one image at a time
	}
	if conf == nil && dims[0] != 1 {
		return nil, bad("the batch must be 1 or dynamic (Glimpse runs one image at a time)")
	}
	size := 1
	for _, d := range dims[1:] {
		if d < 0 {
			return nil, bad("the channels, height and width must be fixed")
		}
		size *= d
		if size > maxONNXInput {
			return nil, bad("the input is too large")
		}
	}
	v := &onnxValue{ir: in.GetName(), dims: dims}
	l.batch = dims[0]
	l.g = ir.New(v.shape())
	l.g.Input = v.ir
	l.vals[v.ir] = v
	return v, nil
}

// output resolves a graph output to its value.
func (l *onnxLowering) output(o *onnxpb.ValueInfoProto) (*onnxValue, error) {
	name := o.GetName()
	v := l.vals[name]
	if v == nil {
		if l.consts[name] != nil {
			return nil, fmt.Errorf("output %q is a constant that does not depend on the input", name)
		}
		return nil, fmt.Errorf("output %q is made by no node", name)
	}
	if tt := o.GetType().GetTensorType(); tt != nil && tt.GetShape() != nil {
		decl := tt.GetShape().GetDim()
		if len(decl) != len(v.dims) {
			return nil, fmt.Errorf("output %q: the file declares rank %d, the converted graph computes %v", name, len(decl), v.dims)
		}
		for k := 1; k < len(decl); k++ {
			if d := decl[k]; d.GetDimParam() == "" && d.GetDimValue() > 0 && int(d.GetDimValue()) != v.dims[k] {
				return nil, fmt.Errorf("output %q: the file declares dimension %d as %d, the converted graph computes %v", name, k, d.GetDimValue(), v.dims)
			}
		}
	}
	return v, nil
}

// checkShapes cross-checks the dims tracked while lowering with the IR's
// own shape inference, so the two can never silently disagree.
func (l *onnxLowering) checkShapes() error {
	shapes, err := l.g.Infer()
	if err != nil {
		return err
	}
	total := 0
	for _, s := range shapes {
		total += s.Size() // each is at most maxONNXInput, checked per node
	}
	if total > maxONNXActivations {
		return fmt.Errorf("the activations add up to %d values, more than the %d an image network needs", total, maxONNXActivations)
	}
	for _, v := range l.vals {
		if s, ok := shapes[v.ir]; ok && s != v.shape() {
			return fmt.Errorf("value %q: ONNX dims %v but IR shape %v", v.ir, v.dims, s)
		}
	}
	return nil
}

// finish sets the metadata of an image model and applies the options.
func (l *onnxLowering) finish(name string, gp *onnxpb.GraphProto, opt Options) error {
	g := l.g
	g.Meta.Preprocess = ir.TorchvisionPreprocess(g.InputShape[0], g.InputShape[1])
	g.Meta.Architecture = "onnx"
	switch gn := gp.GetName(); gn {
	case "", "torch-jit-export", "torch_jit", "main_graph", "graph", "tf2onnx":
	default:
		g.Meta.Architecture = gn
	}
	if opt.Source == "" {
		opt.Source = "onnx:" + name
	}
	emb := onnxEmbedding(g)
	if opt.DropHead {
		if emb == "" {
			return errors.New("cannot drop the head: no pooling layer before the classifier marks the embedding")
		}
		if len(opt.Labels) > 0 {
			return errors.New("labels were given but the head is dropped: the embedding has no classes")
		}
		g.Outputs = []string{emb}
		g.Prune()
	}
	o := opt
	o.DropHead, o.headDropped = false, opt.DropHead
	if err := finish(g, o); err != nil {
		return err
	}
	g.Meta.Embedding = emb
	return nil
}

// onnxEmbedding names the features a classifier head reads: the output of
// the last global average pool, or else that of the pool (max or average)
// whose flattened output feeds the first dense layer (AlexNet and VGG
// pool to a fixed grid, then flatten); "" when there is neither.
func onnxEmbedding(g *ir.Graph) string {
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		if g.Nodes[i].Op == ir.GlobalAvgPool {
			return g.Nodes[i].Output
		}
	}
	for _, n := range g.Nodes {
		if n.Op != ir.Dense {
			continue
		}
		p := g.Producer(n.Inputs[0])
		if p != nil && p.Op == ir.Flatten {
			p = g.Producer(p.Inputs[0])
		}
		if p != nil && (p.Op == ir.MaxPool || p.Op == ir.AvgPool) {
			return p.Output
		}
		return ""
	}
	return ""
}
