package format

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// ValueType is the type of a metadata value. Its numbers are part of the
// format.
type ValueType uint32

// The metadata value types. An array holds elements of one scalar type;
// arrays of arrays do not exist.
const (
	TypeU32    ValueType = 0
	TypeI32    ValueType = 1
	TypeU64    ValueType = 2
	TypeF32    ValueType = 3
	TypeBool   ValueType = 4
	TypeString ValueType = 5
	TypeArray  ValueType = 6
)

func (t ValueType) String() string {
	switch t {
	case TypeU32:
		return "u32"
	case TypeI32:
		return "i32"
	case TypeU64:
		return "u64"
	case TypeF32:
		return "f32"
	case TypeBool:
		return "bool"
	case TypeString:
		return "string"
	case TypeArray:
		return "array"
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// MarshalText makes a ValueType read as its name in JSON (inspect --json).
func (t ValueType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// KV is one metadata entry. Value holds the Go value matching Type (and
// Elem for arrays): uint32, int32, uint64, float32, bool or string, or a
// slice of one of those for TypeArray.
type KV struct {
	Key   string
	Type  ValueType
	Elem  ValueType // element type when Type is TypeArray
	Value any
}

// TypeName is the value's type as FORMAT.md writes it: "u32", "[]string"...
func (kv KV) TypeName() string {
	if kv.Type == TypeArray {
		return "[]" + kv.Elem.String()
	}
	return kv.Type.String()
}

func kvString(key, v string) KV      { return KV{Key: key, Type: TypeString, Value: v} }
func kvU32(key string, v uint32) KV  { return KV{Key: key, Type: TypeU32, Value: v} }
func kvF32(key string, v float32) KV { return KV{Key: key, Type: TypeF32, Value: v} }
func kvStrings(key string, v []string) KV {
	return KV{Key: key, Type: TypeArray, Elem: TypeString, Value: v}
}
func kvF32s(key string, v []float32) KV {
	return KV{Key: key, Type: TypeArray, Elem: TypeF32, Value: v}
}
func kvU32s(key string, v []uint32) KV {
	return KV{Key: key, Type: TypeArray, Elem: TypeU32, Value: v}
}

// The metadata keys this version defines. FORMAT.md documents each.
const (
	keyArchitecture = "general.architecture"
	keyAlignment    = "general.alignment"
	keyFileType     = "general.file_type"
	keyWidth        = "general.width"
	keyLabels       = "general.labels"
	keySource       = "general.source"
	keyLicense      = "general.license"
	keyInputName    = "glimpse.input.name"
	keyInputShape   = "glimpse.input.shape"
	keyOutputs      = "glimpse.outputs"
	keyEmbedding    = "glimpse.embedding"
	keyGraph        = "glimpse.graph"
	keyResize       = "glimpse.preprocess.resize"
	keyResizeTo     = "glimpse.preprocess.resize_to"
	keyCrop         = "glimpse.preprocess.crop"
	keyScale        = "glimpse.preprocess.scale"
	keyOffset       = "glimpse.preprocess.offset"
	keyChannels     = "glimpse.preprocess.channels"
)

// Reader limits. They keep a hostile file from making a reader (or the
// engine after it) allocate without bound; real networks sit far below.
const (
	maxKeyLen     = 255     // bytes in a metadata key
	maxDims       = 8       // dimensions of a tensor
	maxInputDim   = 1 << 16 // input height, width or channels
	maxAttr       = 1 << 20 // any integer attribute of a node
	maxValueElems = 1 << 28 // elements of any activation value (1 GiB of f32)
)

// wireAttrs is a node's attributes as glimpse.graph stores them. It mirrors
// ir.Attrs field by field but carries its own JSON names, so the file
// format does not change when the IR's Go types do.
type wireAttrs struct {
	Kernel   [2]int  `json:"kernel,omitzero"`
	Stride   [2]int  `json:"stride,omitzero"`
	Dilation [2]int  `json:"dilation,omitzero"`
	Pads     [4]int  `json:"pads,omitzero"`
	Groups   int     `json:"groups,omitzero"`
	Act      string  `json:"act,omitzero"`
	Ceil     bool    `json:"ceil,omitzero"`
	CountPad bool    `json:"count_pad,omitzero"`
	Epsilon  float32 `json:"epsilon,omitzero"`
	Alpha    float32 `json:"alpha,omitzero"`
	Beta     float32 `json:"beta,omitzero"`
}

// wireNode is one element of the glimpse.graph JSON array.
type wireNode struct {
	Name    string    `json:"name"`
	Op      string    `json:"op"`
	Inputs  []string  `json:"inputs"`
	Output  string    `json:"output"`
	Weights []string  `json:"weights,omitempty"`
	Attrs   wireAttrs `json:"attrs,omitzero"`
}

// metadataOf lays out a graph's metadata in the order Write stores it.
func metadataOf(g *ir.Graph, d DType, alignment uint32) ([]KV, error) {
	nodes := make([]wireNode, len(g.Nodes))
	for i, n := range g.Nodes {
		a := n.Attrs
		nodes[i] = wireNode{
			Name: n.Name, Op: string(n.Op), Inputs: n.Inputs, Output: n.Output, Weights: n.Weights,
			Attrs: wireAttrs{
				Kernel: a.Kernel, Stride: a.Stride, Dilation: a.Dilation, Pads: a.Pads,
				Groups: a.Groups, Act: string(a.Act), Ceil: a.Ceil, CountPad: a.CountPad,
				Epsilon: a.Epsilon, Alpha: a.Alpha, Beta: a.Beta,
			},
		}
		if nodes[i].Inputs == nil {
			nodes[i].Inputs = []string{}
		}
	}
	graph, err := appendGraphJSON(nil, nodes)
	if err != nil {
		return nil, fmt.Errorf("encoding the graph: %v", err)
	}
	m := g.Meta
	kvs := []KV{
		kvString(keyArchitecture, m.Architecture),
		kvString(keyFileType, d.String()),
		kvU32(keyAlignment, alignment),
	}
	if m.Width != 0 {
		kvs = append(kvs, kvF32(keyWidth, m.Width))
	}
	if m.Source != "" {
		kvs = append(kvs, kvString(keySource, m.Source))
	}
	if m.License != "" {
		kvs = append(kvs, kvString(keyLicense, m.License))
	}
	if len(m.Labels) > 0 {
		kvs = append(kvs, kvStrings(keyLabels, m.Labels))
	}
	s := g.InputShape
	kvs = append(kvs,
		kvString(keyInputName, g.Input),
		kvU32s(keyInputShape, []uint32{uint32(s[0]), uint32(s[1]), uint32(s[2])}),
		kvStrings(keyOutputs, g.Outputs),
	)
	if m.Embedding != "" {
		kvs = append(kvs, kvString(keyEmbedding, m.Embedding))
	}
	if p := m.Preprocess; p != (ir.Preprocess{}) {
		kvs = append(kvs,
			kvString(keyResize, p.Resize),
			kvU32(keyResizeTo, uint32(p.ResizeTo)),
			kvString(keyCrop, p.Crop),
			kvF32s(keyScale, p.Scale[:]),
			kvF32s(keyOffset, p.Offset[:]),
			kvString(keyChannels, p.Channels),
		)
	}
	kvs = append(kvs, quantKVs(m.Quant)...)
	kvs = append(kvs, kvString(keyGraph, string(graph)))
	return kvs, nil
}

// metaReader looks metadata up by key and checks each known key's type.
type metaReader struct {
	kvs map[string]KV
}

func (m metaReader) get(key string, t, elem ValueType, required bool) (any, error) {
	kv, ok := m.kvs[key]
	if !ok {
		if required {
			return nil, fmt.Errorf("required metadata key %q is missing", key)
		}
		return nil, nil
	}
	if kv.Type != t || (t == TypeArray && kv.Elem != elem) {
		want := KV{Type: t, Elem: elem}
		return nil, fmt.Errorf("metadata key %q has type %s, want %s", key, kv.TypeName(), want.TypeName())
	}
	return kv.Value, nil
}

func (m metaReader) str(key string, required bool, dst *string) error {
	v, err := m.get(key, TypeString, 0, required)
	if v != nil {
		*dst = v.(string)
	}
	return err
}

func (m metaReader) f32s(key string, n int, dst []float32) error {
	v, err := m.get(key, TypeArray, TypeF32, false)
	if err != nil || v == nil {
		return err
	}
	a := v.([]float32)
	if len(a) != n {
		return fmt.Errorf("metadata key %q has %d values, want %d", key, len(a), n)
	}
	copy(dst, a)
	return nil
}

// graphOf rebuilds a graph's structure and Meta from its metadata. It does
// not check the graph; validate does.
func graphOf(kvs []KV) (*ir.Graph, error) {
	m := metaReader{kvs: map[string]KV{}}
	for _, kv := range kvs {
		m.kvs[kv.Key] = kv
	}
	g := &ir.Graph{Tensors: map[string]*ir.Tensor{}}
	if err := m.str(keyInputName, true, &g.Input); err != nil {
		return nil, err
	}
	v, err := m.get(keyInputShape, TypeArray, TypeU32, true)
	if err != nil {
		return nil, err
	}
	shape := v.([]uint32)
	if len(shape) != 3 {
		return nil, fmt.Errorf("metadata key %q has %d values, want 3 (height, width, channels)", keyInputShape, len(shape))
	}
	for i, d := range shape {
		if d < 1 || d > maxInputDim {
			return nil, fmt.Errorf("input shape %v: each dimension must be in 1..%d", shape, maxInputDim)
		}
		g.InputShape[i] = int(d)
	}
	if v, err = m.get(keyOutputs, TypeArray, TypeString, true); err != nil {
		return nil, err
	}
	g.Outputs = v.([]string)

	var graph string
	if err := m.str(keyGraph, true, &graph); err != nil {
		return nil, err
	}
	// An attribute this reader does not know would change what a node
	// computes; ignoring it would give wrong outputs, so it is an error.
	nodes, end, err := parseGraphJSON(graph)
	if err != nil {
		return nil, fmt.Errorf("metadata key %q: %v", keyGraph, err)
	}
	if rest := strings.TrimSpace(graph[end:]); rest != "" {
		return nil, fmt.Errorf("metadata key %q: trailing data after the node array", keyGraph)
	}
	g.Nodes = make([]*ir.Node, len(nodes))
	for i, w := range nodes {
		a := w.Attrs
		g.Nodes[i] = &ir.Node{
			Name: w.Name, Op: ir.Op(w.Op), Inputs: w.Inputs, Output: w.Output, Weights: w.Weights,
			Attrs: ir.Attrs{
				Kernel: a.Kernel, Stride: a.Stride, Dilation: a.Dilation, Pads: a.Pads,
				Groups: a.Groups, Act: ir.Activation(a.Act), Ceil: a.Ceil, CountPad: a.CountPad,
				Epsilon: a.Epsilon, Alpha: a.Alpha, Beta: a.Beta,
			},
		}
	}

	meta := &g.Meta
	if err := m.str(keyArchitecture, false, &meta.Architecture); err != nil {
		return nil, err
	}
	if v, err = m.get(keyWidth, TypeF32, 0, false); err != nil {
		return nil, err
	} else if v != nil {
		meta.Width = v.(float32)
	}
	if v, err = m.get(keyLabels, TypeArray, TypeString, false); err != nil {
		return nil, err
	} else if v != nil {
		meta.Labels = v.([]string)
	}
	for _, s := range []struct {
		key string
		dst *string
	}{
		{keySource, &meta.Source}, {keyLicense, &meta.License}, {keyEmbedding, &meta.Embedding},
		{keyResize, &meta.Preprocess.Resize}, {keyCrop, &meta.Preprocess.Crop},
		{keyChannels, &meta.Preprocess.Channels},
	} {
		if err := m.str(s.key, false, s.dst); err != nil {
			return nil, err
		}
	}
	if v, err = m.get(keyResizeTo, TypeU32, 0, false); err != nil {
		return nil, err
	} else if v != nil {
		if v.(uint32) > maxInputDim {
			return nil, fmt.Errorf("metadata key %q is %d, more than %d", keyResizeTo, v, maxInputDim)
		}
		meta.Preprocess.ResizeTo = int(v.(uint32))
	}
	if err := m.f32s(keyScale, 3, meta.Preprocess.Scale[:]); err != nil {
		return nil, err
	}
	if err := m.f32s(keyOffset, 3, meta.Preprocess.Offset[:]); err != nil {
		return nil, err
	}
	if _, err = m.get(keyFileType, TypeString, 0, false); err != nil {
		return nil, err
	}
	if err := readQuant(m, g); err != nil {
		return nil, err
	}
	return g, nil
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// validate checks a graph the way both Write and Read need it: the IR's
// own checks (Infer), then what the IR leaves to its users and a file
// reader cannot trust: attribute ranges, activation names, weights present
// and of the right count, value sizes, and Meta. Write runs it so that it
// never writes a file that Read would refuse.
func validate(g *ir.Graph) error {
	if err := validStrings(g); err != nil {
		return err
	}
	for _, d := range g.InputShape {
		if d < 1 || d > maxInputDim {
			return fmt.Errorf("input shape %v: each dimension must be in 1..%d", g.InputShape, maxInputDim)
		}
	}
	for _, n := range g.Nodes {
		if err := validateNode(g, n); err != nil {
			return err
		}
	}
	shapes, err := g.Infer()
	if err != nil {
		return err
	}
	for v, s := range shapes {
		if s[0] < 1 || s[1] < 1 || s[2] < 1 || s[0] > maxValueElems || s[1] > maxValueElems ||
			s[2] > maxValueElems || s[0]*s[1] > maxValueElems || s[0]*s[1] > maxValueElems/s[2] {
			return fmt.Errorf("value %q has shape %v, beyond the limit of %d elements", v, s, maxValueElems)
		}
	}
	if err := validateQuant(g, shapes); err != nil {
		return err
	}
	return validateMeta(g, shapes)
}

// validStrings checks that every name and text the file stores is UTF-8,
// as FORMAT.md requires of strings; JSON would otherwise replace bad bytes
// and silently rename a value or a weight.
func validStrings(g *ir.Graph) error {
	check := func(what string, ss ...string) error {
		for _, s := range ss {
			if !utf8.ValidString(s) {
				return fmt.Errorf("%s %q is not valid UTF-8", what, s)
			}
		}
		return nil
	}
	m := g.Meta
	p := m.Preprocess
	if err := errors.Join(
		check("input name", g.Input), check("output name", g.Outputs...), check("label", m.Labels...),
		check("metadata text", m.Architecture, m.Embedding, m.Source, m.License, p.Resize, p.Crop, p.Channels),
	); err != nil {
		return err
	}
	for name := range g.Tensors {
		if err := check("tensor name", name); err != nil {
			return err
		}
	}
	for _, n := range g.Nodes {
		if err := errors.Join(check("layer name", n.Name, n.Output, string(n.Op)),
			check("value name", n.Inputs...), check("weight name", n.Weights...)); err != nil {
			return err
		}
	}
	return nil
}

func validateNode(g *ir.Graph, n *ir.Node) error {
	a := &n.Attrs
	ints := []int{a.Kernel[0], a.Kernel[1], a.Stride[0], a.Stride[1], a.Dilation[0], a.Dilation[1],
		a.Pads[0], a.Pads[1], a.Pads[2], a.Pads[3], a.Groups}
	for _, v := range ints {
		if v < 0 || v > maxAttr {
			return &ir.Error{Node: n.Name, Msg: fmt.Sprintf("attribute value %d is outside 0..%d", v, maxAttr)}
		}
	}
	for _, f := range []float32{a.Epsilon, a.Alpha, a.Beta} {
		if !finite(f) {
			return &ir.Error{Node: n.Name, Msg: fmt.Sprintf("attribute value %v is not finite", f)}
		}
	}
	switch a.Act {
	case ir.ActNone, ir.ActReLU, ir.ActReLU6, ir.ActHardSwish, ir.ActHardSigmoid, ir.ActSigmoid:
	default:
		return &ir.Error{Node: n.Name, Msg: fmt.Sprintf("unknown activation %q", a.Act)}
	}
	maxWeights := 0
	switch n.Op {
	case ir.Conv2D, ir.Dense:
		maxWeights = 2
	case ir.BatchNorm:
		maxWeights = 4
	}
	if len(n.Weights) > maxWeights {
		return &ir.Error{Node: n.Name, Msg: fmt.Sprintf("%s takes at most %d weight tensors, has %d", n.Op, maxWeights, len(n.Weights))}
	}
	for i, w := range n.Weights {
		if w == "" && !(i == 1 && (n.Op == ir.Conv2D || n.Op == ir.Dense)) {
			return &ir.Error{Node: n.Name, Msg: fmt.Sprintf("weight %d has no name", i)}
		}
		if w != "" && g.Tensors[w] == nil {
			return &ir.Error{Node: n.Name, Msg: fmt.Sprintf("weight tensor %q is missing", w)}
		}
	}
	return nil
}

func validateMeta(g *ir.Graph, shapes map[string]ir.Shape) error {
	m := g.Meta
	if !finite(m.Width) || m.Width < 0 {
		return fmt.Errorf("width %v must be a finite number ≥ 0", m.Width)
	}
	if len(m.Labels) > 0 {
		if c := shapes[g.Outputs[0]][2]; len(m.Labels) != c {
			return fmt.Errorf("%d labels for output %q of %d classes", len(m.Labels), g.Outputs[0], c)
		}
	}
	if m.Embedding != "" {
		if _, ok := shapes[m.Embedding]; !ok {
			return fmt.Errorf("embedding value %q is not defined by any layer", m.Embedding)
		}
	}
	p := m.Preprocess
	switch p.Resize {
	case "", ir.ResizeStretch:
	case ir.ResizeShorter:
		if p.ResizeTo < g.InputShape[0] || p.ResizeTo < g.InputShape[1] {
			return fmt.Errorf("preprocess: resize_to %d is smaller than the input %dx%d it is cropped to", p.ResizeTo, g.InputShape[0], g.InputShape[1])
		}
	default:
		return fmt.Errorf("preprocess: unknown resize policy %q (want %q or %q)", p.Resize, ir.ResizeStretch, ir.ResizeShorter)
	}
	if p.ResizeTo < 0 || p.ResizeTo > maxInputDim {
		return fmt.Errorf("preprocess: resize_to %d is outside 0..%d", p.ResizeTo, maxInputDim)
	}
	if p.Crop != "" && p.Crop != "center" {
		return fmt.Errorf("preprocess: unknown crop %q (want \"center\")", p.Crop)
	}
	if !slices.Contains([]string{"", "RGB", "BGR", "L"}, p.Channels) {
		return fmt.Errorf("preprocess: unknown channel order %q (want RGB, BGR or L)", p.Channels)
	}
	for c := range 3 {
		if !finite(p.Scale[c]) || !finite(p.Offset[c]) {
			return fmt.Errorf("preprocess: scale %v and offset %v must be finite", p.Scale, p.Offset)
		}
	}
	return nil
}
