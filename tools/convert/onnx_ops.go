package convert

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/tools/convert/onnxpb"
)

// node lowers one ONNX node: it checks the attributes against the op's
// schema, then hands the node to its op's lowering.
func (l *onnxLowering) node(n *onnxpb.NodeProto) error {
	op := n.GetOpType()
	schema := onnxOps[op]
	a := onnxAttrs{}
	for _, at := range n.GetAttribute() {
		want, ok := schema[at.GetName()]
		if !ok {
			return fmt.Errorf("attribute %q is not supported", at.GetName())
		}
		if at.GetRefAttrName() != "" {
			return fmt.Errorf("attribute %q refers to a function's attribute, which is not supported", at.GetName())
		}
		if t := at.GetType(); t != want && t != onnxpb.AttributeProto_UNDEFINED {
			return fmt.Errorf("attribute %q is a %s, want %s", at.GetName(), t, want)
		}
		a[at.GetName()] = at
	}
	outs := n.GetOutput()
	if len(outs) == 0 || outs[0] == "" {
		return errors.New("it has no output")
	}
	for k, o := range outs {
		if o == "" {
			continue
		}
		if l.vals[o] != nil || l.consts[o] != nil {
			return fmt.Errorf("its output %q is already defined", o)
		}
		if k > 0 && l.used[o] > 0 {
			return fmt.Errorf("its output %d (%q) is read, but only the first output of %s is supported", k, o, op)
		}
	}
	if err := l.lowerNode(n, op, a); err != nil {
		return err
	}
	// Bound what the converted graph may make anyone allocate: weights
	// relative to the file (an initializer shared by many nodes is copied
	// for each), and every activation absolutely.
	if l.weights > l.weightBudget {
		return fmt.Errorf("the converted weights would exceed %d values, %d times the file's size", l.weightBudget, onnxWeightRatio)
	}
	if v := l.vals[outs[0]]; v != nil {
		size := 1
		for _, d := range v.dims[1:] {
			if d <= 0 || size > maxONNXInput/d {
				return fmt.Errorf("output dims %v are empty or larger than %d values", v.dims, maxONNXInput)
			}
			size *= d
		}
	}
	return nil
}

// lowerNode dispatches a node to its op's lowering.
func (l *onnxLowering) lowerNode(n *onnxpb.NodeProto, op string, a onnxAttrs) error {
	switch op {
	case "Conv":
		return l.conv(n, a)
	case "BatchNormalization":
		return l.batchNorm(n, a)
	case "Relu":
		return l.unary(n, ir.ReLU, ir.Attrs{})
	case "Sigmoid":
		return l.unary(n, ir.Sigmoid, ir.Attrs{})
	case "HardSwish":
		return l.unary(n, ir.HardSwish, ir.Attrs{})
	case "HardSigmoid":
		return l.unary(n, ir.HardSigmoid, ir.Attrs{Alpha: a.float("alpha", 0.2), Beta: a.float("beta", 0.5)})
	case "Clip":
		return l.clip(n, a)
	case "Add", "Mul":
		return l.binary(n)
	case "Concat":
		return l.concat(n, a)
	case "MaxPool", "AveragePool":
		return l.pool(n, a)
	case "GlobalAveragePool":
		x, err := l.value(n, 0, 3, 4)
		if err != nil {
			return err
		}
		dims := slices.Clone(x.dims)
		for k := 2; k < len(dims); k++ {
			dims[k] = 1
		}
		l.emit(n, ir.GlobalAvgPool, []*onnxValue{x}, nil, ir.Attrs{}, dims, nil)
		return nil
	case "Flatten":
		return l.flattenOp(n, a)
	case "Reshape":
		return l.reshape(n, a)
	case "Gemm", "MatMul":
		return l.gemm(n, a)
	case "Softmax":
		return l.softmax(n, a)
	case "Pad":
		return l.pad(n, a)
	case "Constant":
		return l.constant(n, a)
	case "Identity", "Dropout":
		return l.identity(n)
	}
	return fmt.Errorf("operator %s is not supported", op) // checkONNXOps lets none through
}

// input returns the name of input k, "" when absent (optional inputs are
// omitted or given as "").
func input(n *onnxpb.NodeProto, k int) string {
	if k < len(n.GetInput()) {
		return n.GetInput()[k]
	}
	return ""
}

// value returns input k as a run-time value of one of the given ranks.
func (l *onnxLowering) value(n *onnxpb.NodeProto, k int, ranks ...int) (*onnxValue, error) {
	name := input(n, k)
	if name == "" {
		return nil, fmt.Errorf("input %d is missing", k)
	}
	v := l.vals[name]
	if v == nil {
		if l.consts[name] != nil {
			return nil, fmt.Errorf("input %d (%q) is a constant; the op is supported on run-time tensors only", k, name)
		}
		return nil, fmt.Errorf("input %d (%q) is made by no earlier node", k, name)
	}
	if !slices.Contains(ranks, len(v.dims)) {
		return nil, fmt.Errorf("input %d (%q) has dims %v; supported ranks are %v", k, name, v.dims, ranks)
	}
	return v, nil
}

// constIn returns input k as a constant, or nil when the input is
// optional and absent.
func (l *onnxLowering) constIn(n *onnxpb.NodeProto, k int, what string, optional bool) (*onnxConst, error) {
	name := input(n, k)
	if name == "" {
		if optional {
			return nil, nil
		}
		return nil, fmt.Errorf("the %s (input %d) is missing", what, k)
	}
	c := l.consts[name]
	if c == nil {
		if l.vals[name] != nil {
			return nil, fmt.Errorf("the %s (%q) is computed at run time; it must be an initializer or a Constant", what, name)
		}
		return nil, fmt.Errorf("the %s (%q) is made by no earlier node", what, name)
	}
	return c, nil
}

// floatConst checks that c holds floats of size n and returns them.
func floatConst(c *onnxConst, what string, n int) ([]float32, error) {
	if c.isInt() {
		return nil, fmt.Errorf("the %s holds integers, want floats", what)
	}
	if c.size() != n {
		return nil, fmt.Errorf("the %s has dims %v, want %d values", what, c.dims, n)
	}
	return c.f, nil
}

// tensor stores a weight tensor under base, or base#2, base#3... when a
// tensor of that name exists (an initializer two nodes read in different
// layouts), and returns its name.
func (l *onnxLowering) tensor(base string, shape []int, data []float32) string {
	name := base
	for l.g.Tensors[name] != nil {
		l.suffix[base]++
		name = fmt.Sprintf("%s#%d", base, l.suffix[base]+1)
	}
	l.weights += len(data)
	return l.g.AddTensor(name, shape, data)
}

// emit appends an IR node making the node's first output, with dims as
// its ONNX dims.
func (l *onnxLowering) emit(n *onnxpb.NodeProto, op ir.Op, in []*onnxValue, weights []string, a ir.Attrs, dims []int, hwc *ir.Shape) *onnxValue {
	out := n.GetOutput()[0]
	names := make([]string, len(in))
	for k, v := range in {
		names[k] = v.ir
	}
	l.g.AddNode(out, op, names, weights, a)
	v := &onnxValue{ir: out, dims: dims, hwc: hwc}
	l.vals[out] = v
	return v
}

// alias makes the node's first output stand for v (Identity, Dropout,
// reshapes that change nothing the IR sees).
func (l *onnxLowering) alias(n *onnxpb.NodeProto, v *onnxValue, dims []int) {
	l.vals[n.GetOutput()[0]] = &onnxValue{ir: v.ir, dims: dims, hwc: v.hwc}
}

// permuteHWC reorders vec, whose K elements follow a value's ONNX order,
// into the IR's order: for a value flattened from a map, CHW to HWC. Other
// values need no reordering.
func permuteHWC(v *onnxValue, vec []float32) []float32 {
	if v.hwc == nil {
		return vec
	}
	h, w, c := v.hwc[0], v.hwc[1], v.hwc[2]
	out := make([]float32, len(vec))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for ch := 0; ch < c; ch++ {
				out[(y*w+x)*c+ch] = vec[(ch*h+y)*w+x]
			}
		}
	}
	return out
}

func (l *onnxLowering) unary(n *onnxpb.NodeProto, op ir.Op, a ir.Attrs) error {
	x, err := l.value(n, 0, 2, 3, 4)
	if err != nil {
		return err
	}
	l.emit(n, op, []*onnxValue{x}, nil, a, x.dims, x.hwc)
	return nil
}

// clip lowers Clip to ReLU6 (bounds [0, 6]) or ReLU ([0, +inf)): the IR
// has no general clamp. The bounds are attributes before opset 11 and
// optional constant inputs since.
func (l *onnxLowering) clip(n *onnxpb.NodeProto, a onnxAttrs) error {
	x, err := l.value(n, 0, 2, 3, 4)
	if err != nil {
		return err
	}
	lo, hi := float32(math.Inf(-1)), float32(math.Inf(1))
	if l.opset < 11 {
		lo, hi = a.float("min", lo), a.float("max", hi)
	} else {
		for k, bound := range []*float32{&lo, &hi} {
			c, err := l.constIn(n, k+1, [...]string{"minimum", "maximum"}[k], true)
			if err != nil {
				return err
			}
			if c != nil {
				f := c.floats()
				if len(f) != 1 {
					return fmt.Errorf("the clip bound has dims %v, want a scalar", c.dims)
				}
				*bound = f[0]
			}
		}
	}
	const huge = 3.4e38 // exporters write FLT_MAX for "no bound"
	switch {
	case lo <= -huge && hi >= huge:
		l.alias(n, x, x.dims)
	case lo == 0 && hi == 6:
		l.emit(n, ir.ReLU6, []*onnxValue{x}, nil, ir.Attrs{}, x.dims, x.hwc)
	case lo == 0 && hi >= huge:
		l.emit(n, ir.ReLU, []*onnxValue{x}, nil, ir.Attrs{}, x.dims, x.hwc)
	default:
		return fmt.Errorf("clip to [%g, %g] has no IR equivalent; only [0, 6] (ReLU6) and [0, inf) (ReLU) are supported", lo, hi)
	}
	return nil
}

// window reads the spatial attributes of a convolution or pool over x
// (rank 3 or 4) with the window k (ONNX's spatial order) into the IR's
// 2-D attributes, a 1-D window becoming 1 x k, and returns the output's
// spatial dims.
func window(a onnxAttrs, x *onnxValue, k []int, ceil bool) (ir.Attrs, []int, error) {
	s := len(x.dims) - 2
	in := x.dims[2:]
	if len(k) != s {
		return ir.Attrs{}, nil, fmt.Errorf("the window %v does not fit input dims %v", k, x.dims)
	}
	list := func(name string, n int, def, lo int64) ([]int, error) {
		v := a.ints(name)
		if v == nil {
			v = make([]int64, n)
			for i := range v {
				v[i] = def
			}
		}
		if len(v) != n {
			return nil, fmt.Errorf("%s %v has %d values, want %d", name, v, len(v), n)
		}
		out := make([]int, n)
		for i, e := range v {
			if e < lo || e > maxONNXInput {
				return nil, fmt.Errorf("%s %v is out of range", name, v)
			}
			out[i] = int(e)
		}
		return out, nil
	}
	strides, err := list("strides", s, 1, 1)
	if err != nil {
		return ir.Attrs{}, nil, err
	}
	dil, err := list("dilations", s, 1, 1)
	if err != nil {
		return ir.Attrs{}, nil, err
	}
	pads, err := list("pads", 2*s, 0, 0)
	if err != nil {
		return ir.Attrs{}, nil, err
	}
	switch mode := a.str("auto_pad", "NOTSET"); mode {
	case "NOTSET", "":
	case "VALID":
		clear(pads)
	case "SAME_UPPER", "SAME_LOWER":
		for i := range s {
			out := (in[i] + strides[i] - 1) / strides[i]
			total := max((out-1)*strides[i]+(k[i]-1)*dil[i]+1-in[i], 0)
			small, big := total/2, total-total/2
			if mode == "SAME_UPPER" {
				pads[i], pads[s+i] = small, big
			} else {
				pads[i], pads[s+i] = big, small
			}
		}
	default:
		return ir.Attrs{}, nil, fmt.Errorf("auto_pad %q is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", mode)
	}
	out := make([]int, s)
	for i := range s {
		out[i] = ir.ConvOutSize(in[i], k[i], strides[i], dil[i], pads[i], pads[s+i], ceil)
		if out[i] <= 0 {
			return ir.Attrs{}, nil, fmt.Errorf("window %v with pads %v leaves no output on input dims %v", k, pads, x.dims)
		}
	}
	var at ir.Attrs
	if s == 1 {
		at = ir.Attrs{Kernel: [2]int{1, k[0]}, Stride: [2]int{1, strides[0]}, Dilation: [2]int{1, dil[0]}, Pads: ir.Pads{0, pads[0], 0, pads[1]}}
	} else {
		at = ir.Attrs{Kernel: [2]int{k[0], k[1]}, Stride: [2]int{strides[0], strides[1]}, Dilation: [2]int{dil[0], dil[1]},
			Pads: ir.Pads{pads[0], pads[1], pads[2], pads[3]}}
	}
	return at, out, nil
}

// conv lowers Conv, transposing the weights from OIHW to HWIO.
func (l *onnxLowering) conv(n *onnxpb.NodeProto, a onnxAttrs) error {
	x, err := l.value(n, 0, 3, 4)
	if err != nil {
		return err
	}
	w, err := l.constIn(n, 1, "weight", false)
	if err != nil {
		return err
	}
	if w.isInt() || len(w.dims) != len(x.dims) {
		return fmt.Errorf("the weight has dims %v; want a float [O, I/groups, kernel...] of rank %d", w.dims, len(x.dims))
	}
	o, ig := w.dims[0], w.dims[1]
	k := w.dims[2:]
	groups := a.int("group", 1)
	if groups < 1 || groups > int64(x.dims[1]) || int64(ig)*groups != int64(x.dims[1]) || int64(o)%groups != 0 || o == 0 {
		return fmt.Errorf("weight %v with %d groups does not fit %d input channels", w.dims, groups, x.dims[1])
	}
	if ks := a.ints("kernel_shape"); ks != nil {
		for i, v := range ks {
			if len(ks) != len(k) || int64(k[i]) != v {
				return fmt.Errorf("kernel_shape %v disagrees with the weight's dims %v", ks, w.dims)
			}
		}
	}
	at, spatial, err := window(a, x, k, false)
	if err != nil {
		return err
	}
	at.Groups = int(groups)
	kh, kw := at.Kernel[0], at.Kernel[1]
	hwio := make([]float32, len(w.f))
	for oc := 0; oc < o; oc++ {
		for ic := 0; ic < ig; ic++ {
			for y := 0; y < kh; y++ {
				for xx := 0; xx < kw; xx++ {
					hwio[((y*kw+xx)*ig+ic)*o+oc] = w.f[((oc*ig+ic)*kh+y)*kw+xx]
				}
			}
		}
	}
	weights := []string{l.tensor(input(n, 1), []int{kh, kw, ig, o}, hwio)}
	b, err := l.constIn(n, 2, "bias", true)
	if err != nil {
		return err
	}
	if b != nil {
		bias, err := floatConst(b, "bias", o)
		if err != nil {
			return err
		}
		weights = append(weights, l.tensor(input(n, 2), []int{o}, bias))
	}
	l.emit(n, ir.Conv2D, []*onnxValue{x}, weights, at, append([]int{x.dims[0], o}, spatial...), nil)
	return nil
}

func (l *onnxLowering) batchNorm(n *onnxpb.NodeProto, a onnxAttrs) error {
	x, err := l.value(n, 0, 2, 3, 4)
	if err != nil {
		return err
	}
	if a.int("training_mode", 0) != 0 {
		return errors.New("training_mode=1 computes batch statistics; export the model in evaluation mode")
	}
	if a.int("spatial", 1) != 1 {
		return errors.New("spatial=0 (statistics per position) is not supported")
	}
	c := x.dims[1]
	var weights []string
	for k, what := range []string{"scale", "bias", "mean", "variance"} {
		t, err := l.constIn(n, k+1, what, false)
		if err != nil {
			return err
		}
		v, err := floatConst(t, what, c)
		if err != nil {
			return err
		}
		weights = append(weights, l.tensor(input(n, k+1), []int{c}, permuteHWC(x, v)))
	}
	l.emit(n, ir.BatchNorm, []*onnxValue{x}, weights, ir.Attrs{Epsilon: a.float("epsilon", 1e-5)}, x.dims, x.hwc)
	return nil
}

// binary lowers Add and Mul. Two run-time operands map to the IR's Add
// (equal shapes) and Mul (equal shapes, or one a per-channel 1x1 map, as
// in squeeze-excite); a constant operand that varies at most along the
// channels becomes a 1x1 depthwise convolution (a per-channel scale, or a
// per-channel bias on unit weights).
func (l *onnxLowering) binary(n *onnxpb.NodeProto) error {
	op := n.GetOpType()
	if len(n.GetInput()) != 2 {
		return fmt.Errorf("%s has %d inputs, want 2", op, len(n.GetInput()))
	}
	ca, cb := l.consts[input(n, 0)], l.consts[input(n, 1)]
	switch {
	case ca != nil && cb != nil:
		return fmt.Errorf("both inputs are constants; constant folding is not supported")
	case ca != nil || cb != nil:
		xi, c := 0, cb
		if ca != nil {
			xi, c = 1, ca
		}
		x, err := l.value(n, xi, 2, 3, 4)
		if err != nil {
			return err
		}
		vec, err := perChannel(c, x)
		if err != nil {
			return err
		}
		ch := x.dims[1]
		kernel, bias := vec, []float32(nil)
		if op == "Add" {
			kernel = make([]float32, ch)
			for k := range kernel {
				kernel[k] = 1
			}
			bias = vec
		}
		base := n.GetOutput()[0]
		weights := []string{l.tensor(base+"/scale", []int{1, 1, 1, ch}, kernel)}
		if bias != nil {
			weights = append(weights, l.tensor(base+"/bias", []int{ch}, bias))
		}
		l.emit(n, ir.Conv2D, []*onnxValue{x}, weights, ir.Attrs{Groups: ch}, x.dims, x.hwc)
		return nil
	}
	x, err := l.value(n, 0, 2, 3, 4)
	if err != nil {
		return err
	}
	y, err := l.value(n, 1, 2, 3, 4)
	if err != nil {
		return err
	}
	sameOrder := (x.hwc == nil) == (y.hwc == nil) && (x.hwc == nil || *x.hwc == *y.hwc)
	if len(x.dims) == len(y.dims) && slices.Equal(x.dims[1:], y.dims[1:]) && sameOrder {
		irOp := ir.Add
		if op == "Mul" {
			irOp = ir.Mul
		}
		l.emit(n, irOp, []*onnxValue{x, y}, nil, ir.Attrs{}, x.dims, x.hwc)
		return nil
	}
	if op == "Mul" && len(x.dims) == len(y.dims) && len(x.dims) > 2 && x.dims[1] == y.dims[1] {
		unit := func(v *onnxValue) bool { return v.shape()[0] == 1 && v.shape()[1] == 1 }
		switch {
		case unit(y):
			l.emit(n, ir.Mul, []*onnxValue{x, y}, nil, ir.Attrs{}, x.dims, nil)
			return nil
		case unit(x):
			l.emit(n, ir.Mul, []*onnxValue{x, y}, nil, ir.Attrs{}, y.dims, nil)
			return nil
		}
	}
	return fmt.Errorf("%s of dims %v and %v: only equal dims (and, for Mul, a per-channel [N, C, 1, 1] operand) are supported", op, x.dims, y.dims)
}

// perChannel reads a constant operand that broadcasts against x and varies
// at most along the channel axis (axis 1), as one value per channel in the
// IR's order.
func perChannel(c *onnxConst, x *onnxValue) ([]float32, error) {
	if c.isInt() {
		return nil, errors.New("the constant operand holds integers")
	}
	if len(c.dims) > len(x.dims) {
		return nil, fmt.Errorf("the constant operand's dims %v have a higher rank than the input's %v", c.dims, x.dims)
	}
	ch := x.dims[1]
	perCh := false
	off := len(x.dims) - len(c.dims)
	for j, d := range c.dims {
		switch {
		case d == 1:
		case off+j == 1 && d == ch:
			perCh = true
		default:
			return nil, fmt.Errorf("the constant operand's dims %v vary along axis %d of input dims %v; only per-channel constants are supported", c.dims, off+j, x.dims)
		}
	}
	if c.size() == 0 {
		return nil, fmt.Errorf("the constant operand is empty")
	}
	vec := make([]float32, ch)
	for k := range vec {
		if perCh {
			vec[k] = c.f[k]
		} else {
			vec[k] = c.f[0]
		}
	}
	return permuteHWC(x, vec), nil
}

func normAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d is out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// concat lowers Concat along the channels (axis 1), the only axis the IR
// concatenates.
func (l *onnxLowering) concat(n *onnxpb.NodeProto, a onnxAttrs) error {
	var in []*onnxValue
	for k := range n.GetInput() {
		v, err := l.value(n, k, 2, 3, 4)
		if err != nil {
			return err
		}
		in = append(in, v)
	}
	if len(in) == 0 {
		return errors.New("it has no inputs")
	}
	axis, err := normAxis(a.int("axis", 1), len(in[0].dims))
	if err != nil {
		return err
	}
	if axis != 1 {
		return fmt.Errorf("concatenation along axis %d of dims %v: only the channel axis (1) is supported", axis, in[0].dims)
	}
	dims := slices.Clone(in[0].dims)
	dims[1] = 0
	for _, v := range in {
		if len(v.dims) != len(dims) || !slices.Equal(v.dims[2:], dims[2:]) || v.hwc != nil {
			return fmt.Errorf("concatenates dims %v and %v (or a flattened map, whose order differs in the IR)", in[0].dims, v.dims)
		}
		dims[1] += v.dims[1]
	}
	l.emit(n, ir.Concat, in, nil, ir.Attrs{}, dims, nil)
	return nil
}

func (l *onnxLowering) pool(n *onnxpb.NodeProto, a onnxAttrs) error {
	x, err := l.value(n, 0, 3, 4)
	if err != nil {
		return err
	}
	ks := a.ints("kernel_shape")
	if ks == nil {
		return errors.New("kernel_shape is missing")
	}
	k := make([]int, len(ks))
	for i, v := range ks {
		if v < 1 || v > maxONNXInput {
			return fmt.Errorf("kernel_shape %v is out of range", ks)
		}
		k[i] = int(v)
	}
	for _, d := range a.ints("dilations") {
		if d != 1 {
			return fmt.Errorf("dilations %v: dilated pooling is not supported", a.ints("dilations"))
		}
	}
	ceil := a.int("ceil_mode", 0) != 0
	at, spatial, err := window(a, x, k, ceil)
	if err != nil {
		return err
	}
	at.Dilation = [2]int{}
	at.Ceil = ceil
	op := ir.MaxPool
	if n.GetOpType() == "AveragePool" {
		op = ir.AvgPool
		at.CountPad = a.int("count_include_pad", 0) != 0
	}
	l.emit(n, op, []*onnxValue{x}, nil, at, append([]int{x.dims[0], x.dims[1]}, spatial...), nil)
	return nil
}

// flatten emits an IR Flatten of x into [N, K]; when the map has several
// positions and channels the IR's HWC order differs from ONNX's CHW, which
// the result records.
func (l *onnxLowering) flatten(n *onnxpb.NodeProto, x *onnxValue) {
	s := x.shape()
	var hwc *ir.Shape
	if s[0]*s[1] > 1 && s[2] > 1 {
		hwc = &s
	}
	l.emit(n, ir.Flatten, []*onnxValue{x}, nil, ir.Attrs{}, []int{x.dims[0], s.Size()}, hwc)
}

func (l *onnxLowering) flattenOp(n *onnxpb.NodeProto, a onnxAttrs) error {
	x, err := l.value(n, 0, 2, 3, 4)
	if err != nil {
		return err
	}
	// Flatten's axis lies in [-r, r]: r itself (all axes in the outer
	// dimension) is valid, and a negative axis counts from r.
	axis := a.int("axis", 1)
	if axis < -int64(len(x.dims)) || axis > int64(len(x.dims)) {
		return fmt.Errorf("axis %d is out of range for dims %v", axis, x.dims)
	}
	if axis < 0 {
		axis += int64(len(x.dims))
	}
	if axis != 1 {
		return fmt.Errorf("flatten at axis %d of dims %v: only axis 1 (keeping the batch) is supported", axis, x.dims)
	}
	if len(x.dims) == 2 {
		l.alias(n, x, x.dims)
		return nil
	}
	l.flatten(n, x)
	return nil
}

// reshape lowers the reshapes that flatten a map to [N, K] (torch's
// x.reshape(1, -1) or view(N, -1)), those that change nothing, and
// [N, K] to [N, K, 1, 1]; others would reorder data in ways the IR cannot.
func (l *onnxLowering) reshape(n *onnxpb.NodeProto, a onnxAttrs) error {
	x, err := l.value(n, 0, 2, 3, 4)
	if err != nil {
		return err
	}
	target := a.ints("shape")
	if l.opset >= 5 {
		c, err := l.constIn(n, 1, "shape", false)
		if err != nil {
			return err
		}
		if !c.isInt() {
			return fmt.Errorf("the shape holds floats, want int64")
		}
		target = c.i
	}
	if len(target) == 0 || len(target) > 8 {
		return fmt.Errorf("target shape %v is not supported", target)
	}
	total := 1
	for _, d := range x.dims {
		total *= d
	}
	dims := make([]int, len(target))
	infer, known := -1, 1
	for k, d := range target {
		switch {
		case d == 0 && a.int("allowzero", 0) == 0 && k < len(x.dims):
			dims[k] = x.dims[k]
		case d == -1 && infer < 0:
			infer = k
			continue
		case d < 1 || d > maxONNXTensor:
			return fmt.Errorf("target shape %v is not supported", target)
		default:
			dims[k] = int(d)
		}
		known *= dims[k]
		if known > maxONNXTensor {
			return fmt.Errorf("target shape %v is too large", target)
		}
	}
	if infer >= 0 {
		if total%known != 0 {
			return fmt.Errorf("cannot reshape dims %v to %v", x.dims, target)
		}
		dims[infer] = total / known
	} else if known != total {
		return fmt.Errorf("cannot reshape dims %v (%d elements) to %v", x.dims, total, target)
	}
	switch {
	case slices.Equal(dims, x.dims):
		l.alias(n, x, dims)
	case len(dims) == 2 && dims[0] == x.dims[0] && len(x.dims) > 2:
		l.flatten(n, x)
	case len(x.dims) == 2 && x.hwc == nil && len(dims) == 4 && dims[0] == x.dims[0] && dims[2] == 1 && dims[3] == 1:
		l.alias(n, x, dims)
	default:
		return fmt.Errorf("reshape of dims %v to %v: only flattening to [N, -1] is supported", x.dims, dims)
	}
	return nil
}

// gemm lowers Gemm and MatMul with a constant right operand to a dense
// layer: the weight becomes [In, Out] (transposed when transB), alpha and
// beta are folded into the weight and bias, and the rows are reordered to
// HWC when the input is a flattened map.
func (l *onnxLowering) gemm(n *onnxpb.NodeProto, a onnxAttrs) error {
	x, err := l.value(n, 0, 2)
	if err != nil {
		return err
	}
	if a.int("transA", 0) != 0 {
		return errors.New("transA=1 transposes the batch into the features; not supported")
	}
	b, err := l.constIn(n, 1, "weight", false)
	if err != nil {
		return err
	}
	if b.isInt() || len(b.dims) != 2 {
		return fmt.Errorf("the weight has dims %v, want a float matrix", b.dims)
	}
	trans := a.int("transB", 0) != 0
	in, out := b.dims[0], b.dims[1]
	if trans {
		in, out = out, in
	}
	if in != x.dims[1] {
		return fmt.Errorf("weight %v (transB=%v) does not fit input dims %v", b.dims, trans, x.dims)
	}
	alpha, beta := a.float("alpha", 1), a.float("beta", 1)
	w := make([]float32, in*out)
	col := make([]float32, in)
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			if trans {
				col[i] = b.f[o*in+i]
			} else {
				col[i] = b.f[i*out+o]
			}
		}
		for i, v := range permuteHWC(x, col) {
			w[i*out+o] = v * alpha
		}
	}
	weights := []string{l.tensor(input(n, 1), []int{in, out}, w)}
	c, err := l.constIn(n, 2, "bias", true)
	if err != nil {
		return err
	}
	if c != nil && n.GetOpType() == "Gemm" {
		if c.isInt() {
			return errors.New("the bias holds integers")
		}
		bias := make([]float32, out)
		switch {
		case c.size() == 1:
			for k := range bias {
				bias[k] = c.f[0] * beta
			}
		case c.size() == out && c.dims[len(c.dims)-1] == out:
			for k := range bias {
				bias[k] = c.f[k] * beta
			}
		default:
			return fmt.Errorf("bias dims %v: only a scalar or one value per output (%d) is supported", c.dims, out)
		}
		weights = append(weights, l.tensor(input(n, 2), []int{out}, bias))
	}
	l.emit(n, ir.Dense, []*onnxValue{x}, weights, ir.Attrs{}, []int{x.dims[0], out}, nil)
	return nil
}

// softmax lowers Softmax over the channels, the IR's only softmax axis.
// Before opset 13 ONNX's softmax covers all the axes from axis on, which
// is the channels only for [N, C] and [N, C, 1, 1].
func (l *onnxLowering) softmax(n *onnxpb.NodeProto, a onnxAttrs) error {
	x, err := l.value(n, 0, 2, 3, 4)
	if err != nil {
		return err
	}
	def := int64(-1)
	if l.opset < 13 {
		def = 1
	}
	axis, err := normAxis(a.int("axis", def), len(x.dims))
	if err != nil {
		return err
	}
	s := x.shape()
	if axis != 1 || (l.opset < 13 && s[0]*s[1] != 1) {
		return fmt.Errorf("softmax along axis %d of dims %v (opset %d): only the channel axis is supported", axis, x.dims, l.opset)
	}
	l.emit(n, ir.Softmax, []*onnxValue{x}, nil, ir.Attrs{}, x.dims, x.hwc)
	return nil
}

// pad lowers constant zero padding of the spatial axes.
func (l *onnxLowering) pad(n *onnxpb.NodeProto, a onnxAttrs) error {
	x, err := l.value(n, 0, 3, 4)
	if err != nil {
		return err
	}
	if mode := a.str("mode", "constant"); mode != "constant" {
		return fmt.Errorf("mode %q: only constant padding is supported", mode)
	}
	pads, value := a.ints("pads"), a.float("value", 0)
	if l.opset >= 11 {
		c, err := l.constIn(n, 1, "pads", false)
		if err != nil {
			return err
		}
		if !c.isInt() {
			return errors.New("the pads hold floats, want int64")
		}
		pads = c.i
		v, err := l.constIn(n, 2, "constant value", true)
		if err != nil {
			return err
		}
		if v != nil {
			f := v.floats()
			if len(f) != 1 {
				return fmt.Errorf("the constant value has dims %v, want a scalar", v.dims)
			}
			value = f[0]
		}
	}
	if value != 0 {
		return fmt.Errorf("padding with %g: only zero padding is supported", value)
	}
	r := len(x.dims)
	if len(pads) != 2*r {
		return fmt.Errorf("pads %v has %d values for rank %d", pads, len(pads), r)
	}
	for k, p := range pads {
		if p < 0 || p > maxONNXInput {
			return fmt.Errorf("pads %v: negative padding (cropping) is not supported", pads)
		}
		if p != 0 && (k%r == 0 || k%r == 1) {
			return fmt.Errorf("pads %v pad the batch or the channels; only the spatial axes are supported", pads)
		}
	}
	var p ir.Pads
	if r == 4 {
		p = ir.Pads{int(pads[2]), int(pads[3]), int(pads[6]), int(pads[7])}
	} else {
		p = ir.Pads{0, int(pads[2]), 0, int(pads[5])}
	}
	dims := slices.Clone(x.dims)
	for k := 2; k < r; k++ {
		dims[k] += int(pads[k] + pads[r+k])
	}
	if p == (ir.Pads{}) {
		l.alias(n, x, dims)
		return nil
	}
	l.emit(n, ir.Pad, []*onnxValue{x}, nil, ir.Attrs{Pads: p}, dims, nil)
	return nil
}

func (l *onnxLowering) constant(n *onnxpb.NodeProto, a onnxAttrs) error {
	if len(a) != 1 {
		return fmt.Errorf("a Constant needs exactly one value attribute, it has %d", len(a))
	}
	var c *onnxConst
	switch {
	case a.has("value"):
		t := a["value"].GetT()
		if t == nil {
			return errors.New("the value attribute holds no tensor")
		}
		var err error
		if c, err = decodeTensor(t); err != nil {
			return fmt.Errorf("value: %w", err)
		}
	case a.has("value_float"):
		c = &onnxConst{dims: []int{}, f: []float32{a.float("value_float", 0)}}
	case a.has("value_floats"):
		f := a["value_floats"].GetFloats()
		c = &onnxConst{dims: []int{len(f)}, f: append([]float32{}, f...)}
	case a.has("value_int"):
		c = &onnxConst{dims: []int{}, i: []int64{a.int("value_int", 0)}}
	case a.has("value_ints"):
		v := a.ints("value_ints")
		c = &onnxConst{dims: []int{len(v)}, i: append([]int64{}, v...)}
	}
	l.consts[n.GetOutput()[0]] = c
	return nil
}

// identity lowers Identity and Dropout (an identity at inference; its
// mask output may not be read, and training_mode must be false).
func (l *onnxLowering) identity(n *onnxpb.NodeProto) error {
	if n.GetOpType() == "Dropout" && l.opset >= 12 {
		t, err := l.constIn(n, 2, "training_mode", true)
		if err != nil {
			return err
		}
		if t != nil {
			for _, v := range t.floats() {
				if v != 0 {
					return errors.New("training_mode is true; export the model in evaluation mode")
				}
			}
		}
	}
	name := input(n, 0)
	if c := l.consts[name]; c != nil {
		l.consts[n.GetOutput()[0]] = c
		return nil
	}
	x, err := l.value(n, 0, 2, 3, 4)
	if err != nil {
		return err
	}
	l.alias(n, x, x.dims)
	return nil
}
