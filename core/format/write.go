package format

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/x448/float16"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Write stores g, its weights and its Meta as one model file. It checks the
// graph first (the same checks Read makes), so it never writes a file that
// Read would refuse. Kernels of two or more dimensions are stored as
// opt.DType; one-dimensional tensors stay f32.
func Write(w io.Writer, g *ir.Graph, opt Options) error {
	header, data, err := encode(g, opt)
	if err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// WriteFile writes g to path atomically: into a temporary file in the same
// directory, synced to disk, then renamed over path. A failure at any step
// leaves whatever was at path untouched and removes the temporary file, so
// a crash or a full disk never leaves a half-written model behind.
func WriteFile(path string, g *ir.Graph, opt Options) error {
	header, data, err := encode(g, opt)
	if err != nil {
		return &Error{File: path, Msg: err.Error()}
	}
	return writeAtomic(path, func(w io.Writer) error {
		if _, err := w.Write(header); err != nil {
			return err
		}
		_, err := w.Write(data)
		return err
	})
}

// writeAtomic runs fill on a temporary file beside path and renames it
// into place only if fill, the flush, the sync and the close all succeed.
func writeAtomic(path string, fill func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return &Error{File: path, Msg: err.Error()}
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = &Error{File: path, Msg: err.Error()}
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err = fill(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	// CreateTemp makes the file private (0600); a model is meant to be
	// served and shared like any other output file.
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// tensorOrder lists the tensors to store: those the nodes name, in the
// order the nodes first name them (so a reader streaming the data section
// meets the weights in execution order), then any others by name. The
// order is deterministic: the same graph always gives the same bytes.
func tensorOrder(g *ir.Graph) []string {
	seen := map[string]bool{}
	var names []string
	for _, n := range g.Nodes {
		for _, w := range n.Weights {
			if w != "" && !seen[w] {
				seen[w] = true
				names = append(names, w)
			}
		}
	}
	var rest []string
	for name := range g.Tensors {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// encoded is one tensor ready to be written.
type encoded struct {
	name   string
	dtype  DType
	shape  []int
	scales []float32
	raw    []byte
}

// encode produces the header (everything before the data section,
// alignment padding included) and the data section.
func encode(g *ir.Graph, opt Options) (header, data []byte, err error) {
	if g == nil {
		return nil, nil, fmt.Errorf("no graph to write")
	}
	kernelType, err := ParseDType(opt.DType)
	if err != nil {
		return nil, nil, err
	}
	for name, t := range g.Tensors {
		if name == "" {
			return nil, nil, fmt.Errorf("a tensor has an empty name")
		}
		if t == nil {
			return nil, nil, fmt.Errorf("tensor %q is nil", name)
		}
		if t.Name != "" && t.Name != name {
			return nil, nil, fmt.Errorf("tensor stored as %q calls itself %q", name, t.Name)
		}
	}
	if err := validate(g); err != nil {
		return nil, nil, err
	}
	grid := !opt.NoGrid
	if len(g.Meta.Quant) > 0 {
		// A calibrated model computes with the int8 numbers stored
		// (FORMAT.md 4.1): its kernels are int8 proper, never u8.
		if kernelType != Int8 {
			return nil, nil, fmt.Errorf("a calibrated model (int8 activations) stores its kernels as int8, not %s", kernelType)
		}
		grid = false
	}
	const align = DefaultAlignment
	var tensors []encoded
	for _, name := range tensorOrder(g) {
		t := g.Tensors[name]
		e, err := encodeTensorGrid(name, t, kernelType, grid)
		if err != nil {
			return nil, nil, err
		}
		tensors = append(tensors, e)
	}
	kvs, err := metadataOf(g, kernelType, align)
	if err != nil {
		return nil, nil, err
	}

	header, data = assemble(kvs, tensors, align, versionFor(g))
	return header, data, nil
}

// assemble lays out a file from its metadata and encoded tensors, without
// checking them: header (alignment padding included) and data section.
func assemble(kvs []KV, tensors []encoded, align int, version uint32) (header, data []byte) {
	// The data section: each tensor at the next multiple of the alignment.
	offsets := make([]int64, len(tensors))
	for i, e := range tensors {
		data = pad(data, align)
		offsets[i] = int64(len(data))
		data = append(data, e.raw...)
	}

	le := binary.LittleEndian
	h := []byte(Magic)
	h = le.AppendUint32(h, version)
	h = le.AppendUint64(h, uint64(len(tensors)))
	h = le.AppendUint64(h, uint64(len(kvs)))
	for _, kv := range kvs {
		h = appendString(h, kv.Key)
		h = appendValue(h, kv)
	}
	for i, e := range tensors {
		h = appendString(h, e.name)
		h = le.AppendUint32(h, uint32(e.dtype))
		h = le.AppendUint32(h, uint32(len(e.shape)))
		for _, d := range e.shape {
			h = le.AppendUint64(h, uint64(d))
		}
		h = le.AppendUint64(h, uint64(offsets[i]))
		h = le.AppendUint64(h, uint64(len(e.raw)))
		if e.dtype == Int8 || e.dtype == U8 {
			for _, s := range e.scales {
				h = le.AppendUint32(h, math.Float32bits(s))
			}
		}
	}
	table := castagnoli()
	h = le.AppendUint64(h, uint64(len(data)))
	h = le.AppendUint32(h, crc32.Checksum(data, table))
	h = le.AppendUint32(h, crc32.Checksum(h, table))
	return pad(h, align), data
}

// pad appends zero bytes up to the next multiple of align.
func pad(b []byte, align int) []byte {
	for len(b)%align != 0 {
		b = append(b, 0)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

func appendScalar(b []byte, t ValueType, v any) []byte {
	le := binary.LittleEndian
	switch t {
	case TypeU32:
		return le.AppendUint32(b, v.(uint32))
	case TypeI32:
		return le.AppendUint32(b, uint32(v.(int32)))
	case TypeU64:
		return le.AppendUint64(b, v.(uint64))
	case TypeF32:
		return le.AppendUint32(b, math.Float32bits(v.(float32)))
	case TypeBool:
		if v.(bool) {
			return append(b, 1)
		}
		return append(b, 0)
	case TypeString:
		return appendString(b, v.(string))
	}
	panic(fmt.Sprintf("format: no encoding for metadata type %v", t))
}

func appendValue(b []byte, kv KV) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(kv.Type))
	if kv.Type != TypeArray {
		return appendScalar(b, kv.Type, kv.Value)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(kv.Elem))
	appendAll := func(n int, at func(int) any) []byte {
		b = binary.LittleEndian.AppendUint64(b, uint64(n))
		for i := range n {
			b = appendScalar(b, kv.Elem, at(i))
		}
		return b
	}
	switch a := kv.Value.(type) {
	case []uint32:
		return appendAll(len(a), func(i int) any { return a[i] })
	case []int32:
		return appendAll(len(a), func(i int) any { return a[i] })
	case []float32:
		return appendAll(len(a), func(i int) any { return a[i] })
	case []string:
		return appendAll(len(a), func(i int) any { return a[i] })
	}
	panic(fmt.Sprintf("format: no encoding for metadata array %T", kv.Value))
}

// encodeTensor converts one tensor to its stored bytes, keeping weights
// already on an 8-bit grid on it.
func encodeTensor(name string, t *ir.Tensor, kernelType DType) (encoded, error) {
	return encodeTensorGrid(name, t, kernelType, true)
}

// encodeTensorGrid is encodeTensor with the u8 grid path optional.
func encodeTensorGrid(name string, t *ir.Tensor, kernelType DType, grid bool) (encoded, error) {
	e := encoded{name: name, dtype: kernelType, shape: slices.Clone(t.Shape)}
	if len(t.Shape) < 1 || len(t.Shape) > maxDims {
		return e, fmt.Errorf("tensor %q has %d dimensions, want 1..%d", name, len(t.Shape), maxDims)
	}
	for _, d := range t.Shape {
		if d < 1 {
			return e, fmt.Errorf("tensor %q has shape %v: every dimension must be at least 1", name, t.Shape)
		}
	}
	if t.Data == nil {
		return e, fmt.Errorf("tensor %q has no data (a shape-only graph cannot be written)", name)
	}
	if len(t.Data) != t.Elements() {
		return e, fmt.Errorf("tensor %q has %d values for shape %v", name, len(t.Data), t.Shape)
	}
	for i, v := range t.Data {
		if !finite(v) {
			return e, fmt.Errorf("tensor %q holds %v at index %d", name, v, i)
		}
	}
	if len(t.Shape) == 1 {
		e.dtype = F32
	}
	if grid && (e.dtype == F16 || e.dtype == Int8) {
		// Weights already on an 8-bit grid are stored on it: exact, and no
		// bigger than either requested type.
		if scale, lo, q, ok := onGrid(t.Data); ok {
			e.dtype, e.scales, e.raw = U8, []float32{scale, lo}, q
			return e, nil
		}
	}
	le := binary.LittleEndian
	switch e.dtype {
	case F32:
		e.raw = make([]byte, 0, 4*len(t.Data))
		for _, v := range t.Data {
			e.raw = le.AppendUint32(e.raw, math.Float32bits(v))
		}
	case F16:
		e.raw = make([]byte, 0, 2*len(t.Data))
		for i, v := range t.Data {
			h := float16.Fromfloat32(v)
			if h.IsInf(0) {
				return e, fmt.Errorf("tensor %q: value %v at index %d is beyond f16's range (±65504)", name, v, i)
			}
			e.raw = le.AppendUint16(e.raw, h.Bits())
		}
	case Int8:
		e.scales, e.raw = quantize(t.Data, t.Shape[len(t.Shape)-1])
	}
	return e, nil
}

// quantize maps w to symmetric int8 with one scale per output channel,
// the last axis (HWIO conv kernels and [In, Out] dense kernels both keep
// their output channel last). A channel's scale is max|w|/127, so its
// largest weight maps to ±127 and every weight is recovered within half a
// scale step; an all-zero channel gets scale 0 and zeros.
func quantize(w []float32, channels int) ([]float32, []byte) {
	scales := make([]float32, channels)
	for i, v := range w {
		c := i % channels
		scales[c] = max(scales[c], float32(math.Abs(float64(v))))
	}
	for c, m := range scales {
		scales[c] = m / 127
		if scales[c] == 0 && m > 0 {
			// max|w| so small that max|w|/127 underflows float32: the
			// smallest step still recovers the channel within half a step.
			scales[c] = math.SmallestNonzeroFloat32
		}
	}
	q := make([]byte, len(w))
	for i, v := range w {
		s := scales[i%channels]
		if s == 0 {
			continue
		}
		r := math.Round(float64(v) / float64(s))
		q[i] = byte(int8(max(-127, min(127, r))))
	}
	return scales, q
}

// onGrid reports whether every value of w is min + q*scale for an integer
// q in 0..255, with scale = (max-min)/255, and returns the q. That is how
// TF.js quantizes weights to uint8 (per tensor, from the tensor's own min
// and max, so both ends of the grid occur); such weights are stored as
// they are instead of being rounded to another grid.
func onGrid(w []float32) (scale, lo float32, q []byte, ok bool) {
	if len(w) < 2 {
		return 0, 0, nil, false
	}
	mn, mx := float64(w[0]), float64(w[0])
	for _, v := range w {
		mn, mx = math.Min(mn, float64(v)), math.Max(mx, float64(v))
	}
	step := (mx - mn) / 255
	if !(step > 0) || float32(step) == 0 {
		return 0, 0, nil, false
	}
	// A value counts as on the grid when the grid point is the same float32
	// up to a few units in the last place of the tensor's largest value.
	tol := 8 * math.Max(math.Abs(mn), math.Abs(mx)) * 0x1p-24
	q = make([]byte, len(w))
	for i, v := range w {
		r := math.Round((float64(v) - mn) / step)
		if r < 0 || r > 255 || math.Abs(mn+r*step-float64(v)) > tol {
			return 0, 0, nil, false
		}
		q[i] = byte(r)
	}
	return float32(step), float32(mn), q, true
}
