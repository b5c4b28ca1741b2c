package convert

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/glimpse-ml/glimpse/tools/convert/onnxpb"
	"github.com/x448/float16"
)

// maxONNXTensor bounds the elements of one ONNX tensor. It is checked on
// the dims before anything is allocated, and the stored data must then
// match the dims exactly, so a tensor claiming more values than its file
// holds is refused without allocating for the claim.
const maxONNXTensor = 1 << 28

// onnxConst is a tensor known when converting: an initializer, the value
// of a Constant node, or (in the conformance tests) a fed graph input.
// Floating-point tensors fill f, integer and boolean ones fill i.
type onnxConst struct {
	dims []int
	f    []float32
	i    []int64
}

// isInt says whether the tensor holds integers (or booleans).
func (c *onnxConst) isInt() bool { return c.f == nil && c.i != nil }

// size is the number of elements.
func (c *onnxConst) size() int {
	if c.isInt() {
		return len(c.i)
	}
	return len(c.f)
}

// floats returns the values as float32, whatever the stored type.
func (c *onnxConst) floats() []float32 {
	if !c.isInt() {
		return c.f
	}
	f := make([]float32, len(c.i))
	for k, v := range c.i {
		f[k] = float32(v)
	}
	return f
}

// ints returns the values as int64, refusing non-integral floats.
func (c *onnxConst) ints() ([]int64, error) {
	if c.isInt() {
		return c.i, nil
	}
	out := make([]int64, len(c.f))
	for k, v := range c.f {
		if v != float32(math.Trunc(float64(v))) || math.Abs(float64(v)) > 1<<53 {
			return nil, fmt.Errorf("holds %v, not an integer", v)
		}
		out[k] = int64(v)
	}
	return out, nil
}

// checkDims validates ONNX dims and returns them as ints with their
// product, refusing negative dims and products beyond maxONNXTensor
// (checked at every step, so the product cannot overflow).
func checkDims(dims []int64) ([]int, int, error) {
	out := make([]int, len(dims))
	n := 1
	for k, d := range dims {
		if d < 0 || d > maxONNXTensor {
			return nil, 0, fmt.Errorf("dimension %d is %d", k, d)
		}
		out[k] = int(d)
		if d != 0 && n > maxONNXTensor/int(d) {
			return nil, 0, fmt.Errorf("dims %v hold more than %d elements", dims, maxONNXTensor)
		}
		n *= int(d)
	}
	if n > maxONNXTensor {
		return nil, 0, fmt.Errorf("dims %v hold more than %d elements", dims, maxONNXTensor)
	}
	return out, n, nil
}

// onnxTypeName names an ONNX element type for error messages.
func onnxTypeName(t int32) string {
	if s, ok := onnxpb.TensorProto_DataType_name[t]; ok {
		return s
	}
	return fmt.Sprintf("type %d", t)
}

// decodeTensor turns a TensorProto into an onnxConst. The element count
// comes from the dims and is checked against the bytes or values the file
// stores before the result is allocated.
func decodeTensor(t *onnxpb.TensorProto) (*onnxConst, error) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, fmt.Errorf("its data lies in an external file, which is not supported")
	}
	if t.GetSegment() != nil {
		return nil, fmt.Errorf("it is stored in segments, which is not supported")
	}
	dims, n, err := checkDims(t.GetDims())
	if err != nil {
		return nil, err
	}
	c := &onnxConst{dims: dims}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	raw := t.GetRawData()
	var width int
	switch dt {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32:
		width = 4
	case onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64:
		width = 8
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16, onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16:
		width = 2
	case onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
		width = 1
	default:
		return nil, fmt.Errorf("element type %s is not supported", onnxTypeName(t.GetDataType()))
	}
	isFloat := dt == onnxpb.TensorProto_FLOAT || dt == onnxpb.TensorProto_DOUBLE ||
		dt == onnxpb.TensorProto_FLOAT16 || dt == onnxpb.TensorProto_BFLOAT16
	if raw != nil {
		if len(raw) != n*width {
			return nil, fmt.Errorf("dims %v of %s need %d bytes, the file stores %d", dims, onnxTypeName(t.GetDataType()), n*width, len(raw))
		}
		if isFloat {
			c.f = make([]float32, n)
		} else {
			c.i = make([]int64, n)
		}
		le := binary.LittleEndian
		for k := 0; k < n; k++ {
			b := raw[k*width:]
			switch dt {
			case onnxpb.TensorProto_FLOAT:
				c.f[k] = math.Float32frombits(le.Uint32(b))
			case onnxpb.TensorProto_DOUBLE:
				c.f[k] = float32(math.Float64frombits(le.Uint64(b)))
			case onnxpb.TensorProto_FLOAT16:
				c.f[k] = float16.Frombits(le.Uint16(b)).Float32()
			case onnxpb.TensorProto_BFLOAT16:
				c.f[k] = math.Float32frombits(uint32(le.Uint16(b)) << 16)
			case onnxpb.TensorProto_INT32:
				c.i[k] = int64(int32(le.Uint32(b)))
			case onnxpb.TensorProto_UINT32:
				c.i[k] = int64(le.Uint32(b))
			case onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64:
				c.i[k] = int64(le.Uint64(b))
			case onnxpb.TensorProto_INT16:
				c.i[k] = int64(int16(le.Uint16(b)))
			case onnxpb.TensorProto_UINT16:
				c.i[k] = int64(le.Uint16(b))
			case onnxpb.TensorProto_INT8:
				c.i[k] = int64(int8(b[0]))
			case onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
				c.i[k] = int64(b[0])
			}
		}
		return c, nil
	}
	count := func(have int) error {
		if have != n {
			return fmt.Errorf("dims %v of %s need %d values, the file stores %d", dims, onnxTypeName(t.GetDataType()), n, have)
		}
		return nil
	}
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		if err := count(len(t.GetFloatData())); err != nil {
			return nil, err
		}
		c.f = append(make([]float32, 0, n), t.GetFloatData()...)
	case onnxpb.TensorProto_DOUBLE:
		if err := count(len(t.GetDoubleData())); err != nil {
			return nil, err
		}
		c.f = make([]float32, n)
		for k, v := range t.GetDoubleData() {
			c.f[k] = float32(v)
		}
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		if err := count(len(t.GetInt32Data())); err != nil {
			return nil, err
		}
		c.f = make([]float32, n)
		for k, v := range t.GetInt32Data() {
			if dt == onnxpb.TensorProto_FLOAT16 {
				c.f[k] = float16.Frombits(uint16(v)).Float32()
			} else {
				c.f[k] = math.Float32frombits(uint32(uint16(v)) << 16)
			}
		}
	case onnxpb.TensorProto_INT64:
		if err := count(len(t.GetInt64Data())); err != nil {
			return nil, err
		}
		c.i = append(make([]int64, 0, n), t.GetInt64Data()...)
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		if err := count(len(t.GetUint64Data())); err != nil {
			return nil, err
		}
		c.i = make([]int64, n)
		for k, v := range t.GetUint64Data() {
			c.i[k] = int64(v)
		}
	default: // the small integer types and bool live in int32_data
		if err := count(len(t.GetInt32Data())); err != nil {
			return nil, err
		}
		c.i = make([]int64, n)
		for k, v := range t.GetInt32Data() {
			c.i[k] = int64(v)
		}
	}
	if c.f == nil && c.i == nil { // an empty tensor still says which kind it is
		if isFloat {
			c.f = []float32{}
		} else {
			c.i = []int64{}
		}
	}
	return c, nil
}

// onnxAttrs are a node's attributes by name.
type onnxAttrs map[string]*onnxpb.AttributeProto

func (a onnxAttrs) has(name string) bool { return a[name] != nil }

func (a onnxAttrs) int(name string, def int64) int64 {
	if at := a[name]; at != nil {
		return at.GetI()
	}
	return def
}

func (a onnxAttrs) float(name string, def float32) float32 {
	if at := a[name]; at != nil {
		return at.GetF()
	}
	return def
}

func (a onnxAttrs) str(name, def string) string {
	if at := a[name]; at != nil {
		return string(at.GetS())
	}
	return def
}

func (a onnxAttrs) ints(name string) []int64 {
	if at := a[name]; at != nil {
		return at.GetInts()
	}
	return nil
}
