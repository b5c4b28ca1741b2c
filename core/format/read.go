package format

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/x448/float16"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// TensorInfo is one row of the tensor table.
type TensorInfo struct {
	Name   string
	DType  DType
	Shape  []int
	Offset int64     // from the start of the data section
	Bytes  int64     // stored bytes in the data section
	Scales []float32 // Int8: one per index of the last axis; U8: {scale, min}
}

// Elements is the product of the shape.
func (t *TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= int64(d)
	}
	return n
}

// Info is everything a model file's header says: what `glimpse inspect`
// shows without decoding the weights.
type Info struct {
	Version    uint32
	Alignment  int
	Metadata   []KV // in file order
	Tensors    []TensorInfo
	DataOffset int64 // where the data section starts in the file
	DataSize   int64
	DataCRC    uint32 // CRC-32C of the data section, as stored (Read verifies it)
	HeaderCRC  uint32 // CRC-32C of the header, as stored and verified
}

// WeightDType is how most of the file's weight bytes are stored: the
// storage of the tensors of two or more dimensions (kernels; biases are
// always f32), weighed by their bytes. A file without such tensors says
// F32.
func (i *Info) WeightDType() DType {
	bytes := map[DType]int64{}
	for _, t := range i.Tensors {
		if len(t.Shape) > 1 {
			bytes[t.DType] += t.Bytes
		}
	}
	best, most := F32, int64(0)
	for _, d := range []DType{F32, F16, Int8, U8} {
		if bytes[d] > most {
			best, most = d, bytes[d]
		}
	}
	return best
}

// Hash names the file's exact contents: the CRC-32C checksums of its
// header and of its data section, which the header stores and Read
// verifies, so naming a file costs nothing. A project records the hash of
// the backbone its embeddings came from and can tell when the backbone
// changed.
func (i *Info) Hash() string { return fmt.Sprintf("crc32c:%08x:%08x", i.HeaderCRC, i.DataCRC) }

// Lookup returns the metadata entry with the given key.
func (i *Info) Lookup(key string) (KV, bool) {
	for _, kv := range i.Metadata {
		if kv.Key == key {
			return kv, true
		}
	}
	return KV{}, false
}

// cursor reads the header sequentially, checking every read against the
// file size before allocating and folding every byte into the header CRC.
type cursor struct {
	r     *bufio.Reader
	off   int64
	size  int64
	name  string
	crc   uint32
	table *crc32.Table
}

// truncated is the error for a read of n bytes at the cursor that the file
// cannot satisfy.
func (c *cursor) truncated(what string, n uint64) error {
	return errorf(c.name, "truncated: %s needs %d bytes at offset %d, file has %d", what, n, c.off, c.size)
}

func (c *cursor) fits(n uint64) bool { return n <= uint64(c.size-c.off) }

func (c *cursor) bytes(n uint64, what string) ([]byte, error) {
	if !c.fits(n) {
		return nil, c.truncated(what, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return nil, errorf(c.name, "reading %s at offset %d: %v", what, c.off, err)
	}
	c.crc = crc32.Update(c.crc, c.table, b)
	c.off += int64(n)
	return b, nil
}

func (c *cursor) u32(what string) (uint32, error) {
	b, err := c.bytes(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (c *cursor) u64(what string) (uint64, error) {
	b, err := c.bytes(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (c *cursor) str(what string) (string, error) {
	n, err := c.u64(what + " length")
	if err != nil {
		return "", err
	}
	b, err := c.bytes(n, what)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", errorf(c.name, "%s at offset %d is not valid UTF-8", what, c.off-int64(n))
	}
	return string(b), nil
}

// minSize is the fewest bytes one value of a scalar type takes, used to
// bound an array's count by the bytes left before allocating it.
func minSize(t ValueType) uint64 {
	switch t {
	case TypeBool:
		return 1
	case TypeU32, TypeI32, TypeF32:
		return 4
	case TypeU64, TypeString:
		return 8
	}
	return 0
}

func (c *cursor) scalar(t ValueType, what string) (any, error) {
	switch t {
	case TypeU32, TypeI32, TypeF32:
		v, err := c.u32(what)
		switch t {
		case TypeI32:
			return int32(v), err
		case TypeF32:
			return math.Float32frombits(v), err
		}
		return v, err
	case TypeU64:
		return c.u64(what)
	case TypeBool:
		b, err := c.bytes(1, what)
		if err != nil {
			return nil, err
		}
		if b[0] > 1 {
			return nil, errorf(c.name, "%s: bool byte %d at offset %d is neither 0 nor 1", what, b[0], c.off-1)
		}
		return b[0] == 1, nil
	case TypeString:
		return c.str(what)
	}
	return nil, errorf(c.name, "%s: unknown value type %d at offset %d", what, uint32(t), c.off-4)
}

func (c *cursor) value(key string) (KV, error) {
	what := fmt.Sprintf("value of metadata key %q", key)
	kv := KV{Key: key}
	t, err := c.u32(what + " type")
	if err != nil {
		return kv, err
	}
	kv.Type = ValueType(t)
	if kv.Type != TypeArray {
		kv.Value, err = c.scalar(kv.Type, what)
		return kv, err
	}
	e, err := c.u32(what + " element type")
	if err != nil {
		return kv, err
	}
	kv.Elem = ValueType(e)
	size := minSize(kv.Elem)
	if size == 0 {
		return kv, errorf(c.name, "%s: unknown array element type %d at offset %d", what, e, c.off-4)
	}
	n, err := c.u64(what + " count")
	if err != nil {
		return kv, err
	}
	if n > uint64(c.size-c.off)/size {
		return kv, errorf(c.name, "truncated: %s claims %d elements of type %s at offset %d, file has %d bytes", what, n, kv.Elem, c.off, c.size)
	}
	elem := func(i int) string { return fmt.Sprintf("element %d of metadata key %q", i, key) }
	switch kv.Elem {
	case TypeU32, TypeI32, TypeF32, TypeU64, TypeBool:
		raw, err := c.bytes(n*size, what)
		if err != nil {
			return kv, err
		}
		le := binary.LittleEndian
		switch kv.Elem {
		case TypeU32:
			a := make([]uint32, n)
			for i := range a {
				a[i] = le.Uint32(raw[4*i:])
			}
			kv.Value = a
		case TypeI32:
			a := make([]int32, n)
			for i := range a {
				a[i] = int32(le.Uint32(raw[4*i:]))
			}
			kv.Value = a
		case TypeF32:
			a := make([]float32, n)
			for i := range a {
				a[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
			}
			kv.Value = a
		case TypeU64:
			a := make([]uint64, n)
			for i := range a {
				a[i] = le.Uint64(raw[8*i:])
			}
			kv.Value = a
		case TypeBool:
			a := make([]bool, n)
			for i, b := range raw {
				if b > 1 {
					return kv, errorf(c.name, "%s: bool byte %d is neither 0 nor 1", elem(i), b)
				}
				a[i] = b == 1
			}
			kv.Value = a
		}
	case TypeString:
		a := make([]string, n)
		for i := range a {
			if a[i], err = c.str(elem(i)); err != nil {
				return kv, err
			}
		}
		kv.Value = a
	}
	return kv, nil
}

// validKey reports whether a metadata key has the form FORMAT.md requires:
// lower-case ASCII letters, digits and underscores in dot-separated parts.
func validKey(k string) bool {
	if k == "" || len(k) > maxKeyLen || k[0] == '.' || k[len(k)-1] == '.' {
		return false
	}
	for i := 0; i < len(k); i++ {
		switch ch := k[i]; {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '_':
		case ch == '.' && k[i-1] != '.':
		default:
			return false
		}
	}
	return true
}

// Inspect reads and checks a model file's header: magic, version, metadata,
// tensor table, header checksum, and every tensor's place against the file
// size. It reads none of the weights, so it neither dequantizes anything
// nor verifies the data checksum (Read does both).
func Inspect(r io.ReaderAt, size int64, name string) (*Info, error) {
	if size < 0 {
		return nil, errorf(name, "negative file size %d", size)
	}
	c := &cursor{r: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), int(min(size, 64<<10))), size: size, name: name, table: castagnoli()}
	magic, err := c.bytes(4, "magic number")
	if err != nil {
		return nil, err
	}
	if string(magic) != Magic {
		return nil, errorf(name, "not a Glimpse model file: magic %q, want %q", magic, Magic)
	}
	info := &Info{}
	if info.Version, err = c.u32("version"); err != nil {
		return nil, err
	}
	if info.Version == 0 {
		return nil, errorf(name, "version 0 is not a valid format version")
	}
	if info.Version > Version {
		return nil, errorf(name, "format version %d is newer than this reader supports (%d); a newer Glimpse can read it", info.Version, Version)
	}
	tensorCount, err := c.u64("tensor count")
	if err != nil {
		return nil, err
	}
	kvCount, err := c.u64("metadata count")
	if err != nil {
		return nil, err
	}
	// The smallest entry is a one-byte key and a bool (8+1+4+1 bytes); the
	// smallest tensor row a one-byte name and one dimension (8+1+4+4+8+8+8).
	const minKV, minTensor = 14, 41
	if kvCount > uint64(size)/minKV {
		return nil, errorf(name, "truncated: %d metadata entries cannot fit in a file of %d bytes", kvCount, size)
	}
	if tensorCount > uint64(size)/minTensor {
		return nil, errorf(name, "truncated: %d tensors cannot fit in a file of %d bytes", tensorCount, size)
	}

	seen := map[string]bool{}
	info.Metadata = make([]KV, 0, kvCount)
	for i := range kvCount {
		key, err := c.str(fmt.Sprintf("metadata key %d", i))
		if err != nil {
			return nil, err
		}
		if !validKey(key) {
			return nil, errorf(name, "metadata key %q is not lower-case dotted ASCII of at most %d bytes", key, maxKeyLen)
		}
		if seen[key] {
			return nil, errorf(name, "metadata key %q appears twice", key)
		}
		seen[key] = true
		kv, err := c.value(key)
		if err != nil {
			return nil, err
		}
		info.Metadata = append(info.Metadata, kv)
	}
	info.Alignment = DefaultAlignment
	if kv, ok := info.Lookup(keyAlignment); ok {
		a, isU32 := kv.Value.(uint32)
		if !isU32 || a < 8 || a > 1<<16 || a&(a-1) != 0 {
			return nil, errorf(name, "metadata key %q must be a u32 power of two in 8..65536, is %s %v", keyAlignment, kv.TypeName(), kv.Value)
		}
		info.Alignment = int(a)
	}

	seen = map[string]bool{}
	info.Tensors = make([]TensorInfo, 0, tensorCount)
	for i := range tensorCount {
		t, err := c.tensorInfo(i)
		if err != nil {
			return nil, err
		}
		if seen[t.Name] {
			return nil, errorf(name, "tensor %q appears twice in the tensor table", t.Name)
		}
		seen[t.Name] = true
		info.Tensors = append(info.Tensors, t)
	}
	dataSize, err := c.u64("data section size")
	if err != nil {
		return nil, err
	}
	dataCRC, err := c.u32("data checksum")
	if err != nil {
		return nil, err
	}
	computed := c.crc
	stored, err := c.u32("header checksum")
	if err != nil {
		return nil, err
	}
	if stored != computed {
		return nil, errorf(name, "header checksum mismatch: stored %#08x, computed %#08x (the file is corrupt)", stored, computed)
	}
	padding := (int64(info.Alignment) - c.off%int64(info.Alignment)) % int64(info.Alignment)
	zeros, err := c.bytes(uint64(padding), "padding before the data section")
	if err != nil {
		return nil, err
	}
	for _, b := range zeros {
		if b != 0 {
			return nil, errorf(name, "padding before the data section at offset %d is not zero", c.off-padding)
		}
	}
	info.DataOffset = c.off
	if err := info.checkData(name, dataSize, size); err != nil {
		return nil, err
	}
	info.DataSize = int64(dataSize)
	info.DataCRC, info.HeaderCRC = dataCRC, stored
	return info, nil
}

func (c *cursor) tensorInfo(i uint64) (TensorInfo, error) {
	var t TensorInfo
	var err error
	if t.Name, err = c.str(fmt.Sprintf("name of tensor %d", i)); err != nil {
		return t, err
	}
	if t.Name == "" {
		return t, errorf(c.name, "tensor %d has an empty name", i)
	}
	what := fmt.Sprintf("tensor %q", t.Name)
	dt, err := c.u32(what + " dtype")
	if err != nil {
		return t, err
	}
	t.DType = DType(dt)
	if t.DType.size() == 0 {
		return t, errorf(c.name, "%s has unknown dtype %d", what, dt)
	}
	ndims, err := c.u32(what + " dimension count")
	if err != nil {
		return t, err
	}
	if ndims < 1 || ndims > maxDims {
		return t, errorf(c.name, "%s has %d dimensions, want 1..%d", what, ndims, maxDims)
	}
	elements := uint64(1)
	t.Shape = make([]int, ndims)
	for d := range t.Shape {
		n, err := c.u64(what + " shape")
		if err != nil {
			return t, err
		}
		if n < 1 || n > math.MaxInt32 {
			return t, errorf(c.name, "%s dimension %d is %d, want 1..%d", what, d, n, math.MaxInt32)
		}
		if elements > math.MaxInt64/n {
			return t, errorf(c.name, "%s shape overflows: its element count does not fit in 63 bits", what)
		}
		elements *= n
		t.Shape[d] = int(n)
	}
	if elements > math.MaxInt64/uint64(t.DType.size()) || elements > uint64(math.MaxInt) {
		return t, errorf(c.name, "%s shape overflows: %d elements", what, elements)
	}
	off, err := c.u64(what + " offset")
	if err != nil {
		return t, err
	}
	length, err := c.u64(what + " byte length")
	if err != nil {
		return t, err
	}
	if want := elements * uint64(t.DType.size()); length != want {
		return t, errorf(c.name, "%s is %d bytes, but %d %s elements take %d", what, length, elements, t.DType, want)
	}
	if off > math.MaxInt64 || length > math.MaxInt64 {
		return t, errorf(c.name, "%s offset %d or length %d is out of range", what, off, length)
	}
	t.Offset, t.Bytes = int64(off), int64(length)
	if t.DType == Int8 {
		channels := uint64(t.Shape[len(t.Shape)-1])
		raw, err := c.bytes(4*channels, what+" scales")
		if err != nil {
			return t, err
		}
		t.Scales = make([]float32, channels)
		for j := range t.Scales {
			s := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			if !finite(s) || s < 0 {
				return t, errorf(c.name, "%s scale %d is %v, want a finite number ≥ 0", what, j, s)
			}
			t.Scales[j] = s
		}
	}
	if t.DType == U8 {
		raw, err := c.bytes(8, what+" grid")
		if err != nil {
			return t, err
		}
		scale := math.Float32frombits(binary.LittleEndian.Uint32(raw))
		lo := math.Float32frombits(binary.LittleEndian.Uint32(raw[4:]))
		if !finite(scale) || scale < 0 || !finite(lo) || !finite(lo+255*scale) {
			return t, errorf(c.name, "%s grid (scale %v, min %v) is not finite and ≥ 0", what, scale, lo)
		}
		t.Scales = []float32{scale, lo}
	}
	return t, nil
}

// checkData checks the tensor table against the data section and the data
// section against the file: alignment, bounds, overlaps, then truncation,
// naming the first tensor the file is too short for.
func (info *Info) checkData(name string, dataSize uint64, size int64) error {
	order := info.byOffset()
	var end int64
	for _, i := range order {
		t := &info.Tensors[i]
		if t.Offset%int64(info.Alignment) != 0 {
			return errorf(name, "tensor %q offset %d is not a multiple of the alignment %d", t.Name, t.Offset, info.Alignment)
		}
		if uint64(t.Bytes) > dataSize || uint64(t.Offset) > dataSize-uint64(t.Bytes) {
			return errorf(name, "tensor %q (%d bytes at offset %d) runs past the end of the %d-byte data section", t.Name, t.Bytes, t.Offset, dataSize)
		}
		if t.Offset < end {
			return errorf(name, "tensor %q at offset %d overlaps the tensor before it", t.Name, t.Offset)
		}
		end = t.Offset + t.Bytes
	}
	left := size - info.DataOffset
	for _, i := range order {
		t := &info.Tensors[i]
		if t.Offset+t.Bytes > left {
			return errorf(name, "truncated: tensor %q needs %d bytes at offset %d, file has %d", t.Name, t.Bytes, info.DataOffset+t.Offset, size)
		}
	}
	if dataSize > uint64(left) {
		return errorf(name, "truncated: the data section needs %d bytes at offset %d, file has %d", dataSize, info.DataOffset, size)
	}
	if dataSize < uint64(left) {
		return errorf(name, "%d bytes of unexpected data after the end of the data section at offset %d", uint64(left)-dataSize, info.DataOffset+int64(dataSize))
	}
	return nil
}

// byOffset lists tensor indices in the order their bytes appear.
func (info *Info) byOffset() []int {
	order := make([]int, len(info.Tensors))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return int(min(max(info.Tensors[a].Offset-info.Tensors[b].Offset, -1), 1))
	})
	return order
}

// InspectFile is Inspect on a file on disk.
func InspectFile(path string) (*Info, error) {
	f, size, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Inspect(f, size, path)
}

// ReadFile is Read on a file on disk.
func ReadFile(path string) (*ir.Graph, error) {
	g, _, err := ReadFileInfo(path)
	return g, err
}

// ReadFileInfo is ReadInfo on a file on disk.
func ReadFileInfo(path string) (*ir.Graph, *Info, error) {
	f, size, err := open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return ReadInfo(f, size, path)
}

func open(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, errorf(path, "not a regular file")
	}
	return f, st.Size(), nil
}

// Read decodes a whole model file of the given size: it checks the header
// (as Inspect does), decodes every tensor to float32, verifies the data
// checksum, and checks the graph (g.Infer, weights present, attributes and
// metadata in range). name is used in every error message. The browser
// passes a bytes.Reader over the fetched file.
func Read(r io.ReaderAt, size int64, name string) (*ir.Graph, error) {
	g, _, err := ReadInfo(r, size, name)
	return g, err
}

// ReadInfo is Read that also returns the header it read: a reader that
// keeps the graph can still tell how the weights were stored.
func ReadInfo(r io.ReaderAt, size int64, name string) (*ir.Graph, *Info, error) {
	info, err := Inspect(r, size, name)
	if err != nil {
		return nil, nil, err
	}
	g, err := graphOf(info.Metadata)
	if err != nil {
		return nil, nil, errorf(name, "%v", err)
	}
	table := castagnoli()
	crc := crc32.New(table)
	data := io.TeeReader(bufio.NewReaderSize(io.NewSectionReader(r, info.DataOffset, info.DataSize), int(min(info.DataSize, 1<<20))), crc)
	var at int64
	var scratch []byte
	for _, i := range info.byOffset() {
		t := &info.Tensors[i]
		if _, err := io.CopyN(io.Discard, data, t.Offset-at); err != nil {
			return nil, nil, errorf(name, "reading the data section at offset %d: %v", info.DataOffset+at, err)
		}
		scratch = slices.Grow(scratch[:0], int(t.Bytes))[:t.Bytes]
		if _, err := io.ReadFull(data, scratch); err != nil {
			return nil, nil, errorf(name, "reading tensor %q at offset %d: %v", t.Name, info.DataOffset+t.Offset, err)
		}
		at = t.Offset + t.Bytes
		g.Tensors[t.Name] = &ir.Tensor{Name: t.Name, Shape: t.Shape, Data: decode(t, scratch)}
	}
	if _, err := io.CopyN(io.Discard, data, info.DataSize-at); err != nil {
		return nil, nil, errorf(name, "reading the data section at offset %d: %v", info.DataOffset+at, err)
	}
	if got := crc.Sum32(); got != info.DataCRC {
		return nil, nil, errorf(name, "data checksum mismatch: stored %#08x, computed %#08x (the weights are corrupt)", info.DataCRC, got)
	}
	if err := validate(g); err != nil {
		return nil, nil, errorf(name, "%v", err)
	}
	if v := versionFor(g); v > info.Version {
		what := "an op"
		if v == quantVersion {
			what = "calibrated int8 activations (glimpse.quant.*)"
		}
		return nil, nil, errorf(name, "the graph uses %s of format version %d in a version %d file", what, v, info.Version)
	}
	return g, info, nil
}

// halfTable holds the float32 value of every half-precision bit pattern
// (256 KB, made on the first f16 tensor). Decoding a model's weights is a
// loop a page's first load waits on, run before the browser's optimizing
// compiler has seen it: a lookup a value is three times faster there than
// a conversion call (measured under GOOS=js).
var halfTable = sync.OnceValue(func() *[1 << 16]float32 {
	t := new([1 << 16]float32)
	for h := range t {
		t[h] = float16.Frombits(uint16(h)).Float32()
	}
	return t
})

// decode converts a tensor's stored bytes to float32.
func decode(t *TensorInfo, raw []byte) []float32 {
	le := binary.LittleEndian
	out := make([]float32, t.Elements())
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
	case F16:
		half := halfTable()
		raw = raw[:2*len(out)]
		for i := range out {
			out[i] = half[uint16(raw[2*i])|uint16(raw[2*i+1])<<8]
		}
	case Int8:
		c := len(t.Scales)
		for i := range out {
			out[i] = float32(int8(raw[i])) * t.Scales[i%c]
		}
	case U8:
		scale, lo := float64(t.Scales[0]), float64(t.Scales[1])
		for i := range out {
			out[i] = float32(lo + float64(raw[i])*scale)
		}
	}
	return out
}
