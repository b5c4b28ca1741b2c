package convert

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
	"github.com/x448/float16"
)

// This file reads the tensors of a torch.save file without trusting it.
//
// gopickle's own PyTorch loader allocates every storage at the size the
// pickle claims before reading it, and its unpickler allocates whatever
// length an opcode announces, so a few hostile bytes could ask for
// terabytes. Here gopickle only unpickles, from bytes whose every
// length-prefixed opcode has been checked against the bytes present (see
// scanPickle); storages are recorded, not read; and a tensor's data is
// read only after the caller has checked its shape against the
// architecture, so what is allocated is bounded by the architecture, never
// by the file.

// maxPickle bounds the pickled object graph. A state_dict's pickle holds
// only names, shapes and storage keys (about 36 KB for MobileNetV3-small,
// 10 KB for VGG16); tensor data lies outside it.
const maxPickle = 64 << 20

// maxTensorDims bounds a tensor's rank; image networks use at most 4.
const maxTensorDims = 8

// ptDType is a torch storage's element type.
type ptDType int

const (
	ptFloat32 ptDType = iota + 1
	ptFloat64
	ptFloat16
	ptBFloat16
	ptInt64
	ptInt32
	ptInt16
	ptInt8
	ptUint8
	ptBool
)

// ptStorageNames are torch's legacy typed-storage classes, which both file
// formats name, indexed by element type.
func ptStorageNames() map[ptDType]string {
	return map[ptDType]string{
		ptFloat32: "FloatStorage", ptFloat64: "DoubleStorage", ptFloat16: "HalfStorage", ptBFloat16: "BFloat16Storage",
		ptInt64: "LongStorage", ptInt32: "IntStorage", ptInt16: "ShortStorage", ptInt8: "CharStorage",
		ptUint8: "ByteStorage", ptBool: "BoolStorage",
	}
}

func (d ptDType) size() int64 {
	switch d {
	case ptFloat64, ptInt64:
		return 8
	case ptFloat32, ptInt32:
		return 4
	case ptFloat16, ptBFloat16, ptInt16:
		return 2
	}
	return 1
}

func (d ptDType) String() string {
	if name, ok := ptStorageNames()[d]; ok {
		return strings.TrimSuffix(name, "Storage")
	}
	return "unknown"
}

// floating reports whether weights of this type can be loaded.
func (d ptDType) floating() bool {
	return d == ptFloat32 || d == ptFloat64 || d == ptFloat16 || d == ptBFloat16
}

// ptStorage is one storage of the file: its type and claimed length, and
// where its bytes lie (a zip entry, or a span of a legacy file). Nothing is
// read until a tensor needs it.
type ptStorage struct {
	dtype ptDType
	numel int64
	key   string
	entry *zip.File // zip format
	// Legacy format: data starts at byte pos of the file once the storage
	// table has been read (-1 before); a view shares its root's bytes from
	// element viewOffset on.
	pos        int64
	root       *ptStorage
	viewOffset int64
}

// ptTensor is a tensor as torch pickles it: a strided view of a storage.
type ptTensor struct {
	storage *ptStorage
	offset  int64
	size    []int64
	stride  []int64
}

// numel is the product of the sizes (the sizes are checked to be small
// enough that it does not overflow).
func (t *ptTensor) numel() int64 {
	n := int64(1)
	for _, d := range t.size {
		n *= d
	}
	return n
}

func (t *ptTensor) shape() []int {
	s := make([]int, len(t.size))
	for i, d := range t.size {
		s[i] = int(d)
	}
	return s
}

// stateDict is what a .pth file holds, as far as loading weights goes: the
// tensors by key in file order, the keys whose values are not tensors, and
// the open file their data is read from.
type stateDict struct {
	name    string // the file's base name, for messages
	keys    []string
	tensors map[string]*ptTensor
	others  map[string]string // key: a description of its non-tensor value
	file    *os.File
	zip     *zip.Reader
}

func (sd *stateDict) Close() error { return sd.file.Close() }

// errTruncated explains an unexpected end of file, the usual way a .pth
// is damaged (an interrupted download or copy).
var errTruncated = errors.New("the file ends too early (truncated?)")

// openStateDict reads the structure of a torch.save file: the zip format
// of torch >= 1.6 or the legacy format before it. The state_dict may be
// the saved object itself or sit in a checkpoint dict under "state_dict"
// or "model"; DataParallel's "module." prefix is removed. Tensor data is
// not read yet. gopickle panics on some malformed input: the panic is
// recovered and reported as a damaged file.
func openStateDict(filename string) (sd *stateDict, err error) {
	f, err := os.Open(filename)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("damaged pickle data (%v)", r)
		}
		if err != nil {
			f.Close()
			sd = nil
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var head [4]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%d bytes is too short for a PyTorch file", st.Size())
		}
		return nil, err
	}
	sd = &stateDict{name: path.Base(filename), file: f}
	var obj any
	switch {
	case string(head[:]) == "PK\x03\x04":
		obj, err = sd.loadZip(st.Size())
	case head[0] == 0x80 && head[1] == 2 && head[2] == 0x8a:
		// The legacy format opens with the pickled magic number: PROTO 2,
		// LONG1.
		obj, err = sd.loadLegacy(st.Size())
	case head[0] == 0x80 && head[1] <= 5:
		return nil, errors.New("not a torch.save file: a pickle without torch's header (the zip archive or the legacy magic number)")
	default:
		return nil, errors.New("not a PyTorch file: neither torch's zip format (torch >= 1.6) nor its legacy format")
	}
	if err != nil {
		return nil, err
	}
	if err := sd.collect(obj); err != nil {
		return nil, err
	}
	return sd, nil
}

// loadZip reads the zip format: <dir>/data.pkl is the pickle, and each
// storage is the entry <dir>/data/<key>.
func (sd *stateDict) loadZip(size int64) (any, error) {
	zr, err := zip.NewReader(sd.file, size)
	if err != nil {
		// The central directory is at the end: a truncated archive has none.
		return nil, fmt.Errorf("a zip archive (torch >= 1.6 format) that cannot be opened: %v; the file is probably truncated", err)
	}
	sd.zip = zr
	var pkl *zip.File
	entries := map[string]*zip.File{}
	for _, e := range zr.File {
		entries[e.Name] = e
		if dir, base := path.Split(e.Name); base == "data.pkl" && strings.Count(dir, "/") == 1 {
			pkl = e
		}
	}
	if pkl == nil {
		if _, ok := entries["constants.pkl"]; ok {
			return nil, errors.New("a TorchScript archive, not a state_dict; save model.state_dict() with torch.save instead")
		}
		return nil, errors.New("a zip archive without data.pkl: not a torch.save file")
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	if e := entries[prefix+"constants.pkl"]; e != nil {
		return nil, errors.New("a TorchScript archive, not a state_dict; save model.state_dict() with torch.save instead")
	}
	if e := entries[prefix+"byteorder"]; e != nil {
		b, err := readEntry(e, 16)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", e.Name, err)
		}
		if string(b) != "little" {
			return nil, fmt.Errorf("tensors stored with byte order %q; only little-endian files are supported", b)
		}
	}
	if pkl.UncompressedSize64 > maxPickle {
		return nil, fmt.Errorf("%s: %d bytes of pickle, more than the %d a state_dict needs", pkl.Name, pkl.UncompressedSize64, maxPickle)
	}
	data, err := readEntry(pkl, maxPickle)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", pkl.Name, err)
	}
	p, err := scanPickle(bufio.NewReader(bytes.NewReader(data)), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	storages := map[string]*ptStorage{}
	load := func(pid any) (any, error) {
		t, ok := pid.(*types.Tuple)
		if !ok || t.Len() != 5 || t.Get(0) != "storage" {
			return nil, errors.New("a persistent id that is not ('storage', type, key, location, size)")
		}
		typ, okT := t.Get(1).(ptStorageType)
		key, okK := t.Get(2).(string)
		numel, okN := pickleInt(t.Get(4))
		if !okT || !okK || !okN {
			return nil, errors.New("a storage reference with unexpected fields")
		}
		if s := storages[key]; s != nil {
			if s.dtype != typ.dtype || s.numel != numel {
				return nil, fmt.Errorf("storage %q is referenced with two types or sizes", key)
			}
			return s, nil
		}
		e := entries[prefix+"data/"+key]
		if e == nil {
			return nil, fmt.Errorf("storage %q has no entry %sdata/%s in the archive", key, prefix, key)
		}
		if numel < 0 || uint64(numel) > e.UncompressedSize64/uint64(typ.dtype.size()) {
			return nil, fmt.Errorf("storage %q claims %d elements of %s but its entry holds %d bytes", key, numel, typ.dtype, e.UncompressedSize64)
		}
		s := &ptStorage{dtype: typ.dtype, numel: numel, key: key, entry: e}
		storages[key] = s
		return s, nil
	}
	obj, err := unpickle(p, load)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkl.Name, err)
	}
	return obj, nil
}

// readEntry reads a whole zip entry of at most limit bytes.
func readEntry(e *zip.File, limit int64) ([]byte, error) {
	r, err := e.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("more than %d bytes", limit)
	}
	return b, nil
}

// ptLegacyMagic is the legacy format's magic number, pickled first.
const ptLegacyMagic = "1950a86a20f9469cfc6c"

// loadLegacy reads the legacy format: five pickles in a row (the magic
// number, the protocol version 1001, system information, the object, and
// the list of storage keys), then each storage in that order as a
// little-endian int64 element count followed by its elements.
func (sd *stateDict) loadLegacy(size int64) (any, error) {
	if _, err := sd.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	br := bufio.NewReader(sd.file)
	var pos int64
	next := func(what string) ([]byte, error) {
		p, err := scanPickle(br, size-pos)
		if err != nil {
			return nil, fmt.Errorf("%s at byte %d: %w", what, pos, err)
		}
		pos += int64(len(p))
		return p, nil
	}
	p, err := next("magic number")
	if err != nil {
		return nil, err
	}
	if v, err := unpickle(p, nil); err != nil || fmt.Sprint(bigText(v)) != ptLegacyMagic {
		return nil, errors.New("not a PyTorch file: the legacy format's magic number is missing")
	}
	if p, err = next("protocol version"); err != nil {
		return nil, err
	}
	if v, err := unpickle(p, nil); err != nil || v != 1001 {
		return nil, fmt.Errorf("legacy format protocol %v, want 1001", v)
	}
	if p, err = next("system information"); err != nil {
		return nil, err
	}
	if v, err := unpickle(p, nil); err != nil {
		return nil, fmt.Errorf("system information: %w", err)
	} else if d, ok := v.(*types.Dict); ok {
		if le, ok := d.Get("little_endian"); ok && le != true {
			return nil, errors.New("tensors stored big-endian; only little-endian files are supported")
		}
	}
	if p, err = next("object"); err != nil {
		return nil, err
	}
	storages := map[string]*ptStorage{}
	load := func(pid any) (any, error) {
		t, ok := pid.(*types.Tuple)
		if !ok || t.Len() != 6 || t.Get(0) != "storage" {
			return nil, errors.New("a persistent id that is not ('storage', type, key, location, size, view)")
		}
		typ, okT := t.Get(1).(ptStorageType)
		key, okK := t.Get(2).(string)
		numel, okN := pickleInt(t.Get(4))
		if !okT || !okK || !okN || numel < 0 {
			return nil, errors.New("a storage reference with unexpected fields")
		}
		if numel > size/typ.dtype.size() {
			return nil, fmt.Errorf("storage %q claims %d elements of %s, more than the whole file holds (truncated or damaged)", key, numel, typ.dtype)
		}
		root := storages[key]
		if root == nil {
			root = &ptStorage{dtype: typ.dtype, numel: numel, key: key, pos: -1}
			storages[key] = root
		} else if root.dtype != typ.dtype {
			return nil, fmt.Errorf("storage %q is referenced with two types", key)
		}
		view := t.Get(5)
		if view == nil {
			return root, nil
		}
		// Files of torch < 1.0 pickle views of storages as (key, offset, size).
		v, ok := view.(*types.Tuple)
		if !ok || v.Len() != 3 {
			return nil, errors.New("a storage view that is not (key, offset, size)")
		}
		off, okO := pickleInt(v.Get(1))
		n, okN := pickleInt(v.Get(2))
		if !okO || !okN || off < 0 || n < 0 || off > root.numel-n {
			return nil, fmt.Errorf("a view of storage %q outside its %d elements", key, root.numel)
		}
		return &ptStorage{dtype: root.dtype, numel: n, key: key, root: root, viewOffset: off}, nil
	}
	obj, err := unpickle(p, load)
	if err != nil {
		return nil, fmt.Errorf("object: %w", err)
	}
	if p, err = next("storage keys"); err != nil {
		return nil, err
	}
	v, err := unpickle(p, nil)
	if err != nil {
		return nil, fmt.Errorf("storage keys: %w", err)
	}
	list, ok := v.(*types.List)
	if !ok {
		return nil, errors.New("storage keys: not a list")
	}
	for _, k := range *list {
		key, ok := k.(string)
		if !ok {
			return nil, errors.New("storage keys: not all strings")
		}
		var hdr [8]byte
		if _, err := sd.file.ReadAt(hdr[:], pos); err != nil {
			return nil, fmt.Errorf("storage %q at byte %d: %w", key, pos, errTruncated)
		}
		n := int64(binary.LittleEndian.Uint64(hdr[:]))
		s := storages[key]
		if s == nil {
			return nil, fmt.Errorf("storage %q is listed but no tensor uses it", key)
		}
		if n != s.numel {
			return nil, fmt.Errorf("storage %q holds %d elements, the pickle says %d", key, n, s.numel)
		}
		pos += 8
		if n > (size-pos)/s.dtype.size() {
			return nil, fmt.Errorf("storage %q: %d elements of %s at byte %d: %w", key, n, s.dtype, pos, errTruncated)
		}
		s.pos = pos
		pos += n * s.dtype.size()
	}
	for key, s := range storages {
		if s.pos < 0 {
			return nil, fmt.Errorf("storage %q is used but not stored", key)
		}
	}
	return obj, nil
}

// bigText gives a big integer's hexadecimal digits, to compare the legacy
// magic number.
func bigText(v any) string {
	if b, ok := v.(*big.Int); ok {
		return b.Text(16)
	}
	return ""
}

// pickleInt accepts the integer forms gopickle produces.
func pickleInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case *big.Int:
		if n.IsInt64() {
			return n.Int64(), true
		}
	}
	return 0, false
}

// unpickle runs gopickle over checked bytes, with torch's classes
// recognised and every other class recorded without being interpreted.
// Nothing in a pickle can run code here: classes are only ever names.
func unpickle(p []byte, persistent func(any) (any, error)) (any, error) {
	u := pickle.NewUnpickler(bytes.NewReader(p))
	u.FindClass = findTorchClass
	if persistent != nil {
		u.PersistentLoad = persistent
	}
	v, err := u.Load()
	if err != nil {
		return nil, shortError(err)
	}
	return v, nil
}

// shortError bounds gopickle's messages, some of which print whole
// objects.
func shortError(err error) error {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return errors.New(s)
}

// ptStorageType is a torch.*Storage class named in a pickle.
type ptStorageType struct{ dtype ptDType }

// ptRebuild is one of torch's tensor-rebuilding functions:
// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
// backward_hooks[, metadata]), the older _rebuild_tensor(storage, offset,
// size, stride), or _rebuild_parameter(data, requires_grad,
// backward_hooks), which wraps a tensor.
type ptRebuild struct{ fn string }

func (r ptRebuild) Call(args ...any) (any, error) {
	if r.fn == "_rebuild_parameter" {
		if len(args) < 1 {
			return nil, errors.New("_rebuild_parameter without a tensor")
		}
		if t, ok := args[0].(*ptTensor); ok {
			return t, nil
		}
		return nil, errors.New("_rebuild_parameter of something other than a tensor")
	}
	if len(args) < 4 {
		return nil, fmt.Errorf("%s with %d arguments, want at least 4", r.fn, len(args))
	}
	s, ok := args[0].(*ptStorage)
	if !ok {
		return nil, fmt.Errorf("%s of something other than a storage", r.fn)
	}
	off, ok := pickleInt(args[1])
	size, okS := args[2].(*types.Tuple)
	stride, okT := args[3].(*types.Tuple)
	if !ok || !okS || !okT || size.Len() != stride.Len() || size.Len() > maxTensorDims {
		return nil, fmt.Errorf("%s with an unexpected offset, size or stride", r.fn)
	}
	t := &ptTensor{storage: s, offset: off}
	for i := range size.Len() {
		n, okN := pickleInt(size.Get(i))
		st, okT := pickleInt(stride.Get(i))
		if !okN || !okT {
			return nil, fmt.Errorf("%s with a size or stride that is not an integer", r.fn)
		}
		t.size, t.stride = append(t.size, n), append(t.stride, st)
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

// check verifies that the view lies inside its storage, without
// overflowing: every size and stride non-negative, the element count and
// the farthest element within the storage's claimed length (itself
// checked against the bytes present).
func (t *ptTensor) check() error {
	if t.offset < 0 {
		return fmt.Errorf("tensor at negative offset %d", t.offset)
	}
	n, last := int64(1), t.offset
	for i, d := range t.size {
		st := t.stride[i]
		if d < 0 || st < 0 {
			return fmt.Errorf("tensor of size %v and stride %v", t.size, t.stride)
		}
		if d == 0 {
			return nil // empty: nothing to read
		}
		if n > math.MaxInt64/d || (st > 0 && d-1 > (math.MaxInt64-last)/st) {
			return fmt.Errorf("tensor of size %v and stride %v overflows", t.size, t.stride)
		}
		n *= d
		last += (d - 1) * st
	}
	if last >= t.storage.numel {
		return fmt.Errorf("tensor of size %v, stride %v at offset %d reaches past its storage of %d elements", t.size, t.stride, t.offset, t.storage.numel)
	}
	return nil
}

// ptOpaque is any other class: a pickle may name numpy scalars, devices or
// whole modules in a checkpoint, and none of them matter for the weights.
type ptOpaque struct{ module, name string }

type ptOpaqueObject struct{ class *ptOpaque }

func (c *ptOpaque) Call(...any) (any, error)     { return &ptOpaqueObject{c}, nil }
func (c *ptOpaque) PyNew(...any) (any, error)    { return &ptOpaqueObject{c}, nil }
func (*ptOpaqueObject) PySetState(any) error     { return nil }
func (*ptOpaqueObject) PyDictSet(_, _ any) error { return nil }
func (*ptOpaqueObject) PySetAttr(string, any) error {
	return nil
}

func findTorchClass(module, name string) (any, error) {
	switch {
	case module == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_tensor" || name == "_rebuild_parameter"):
		return ptRebuild{name}, nil
	case module == "torch":
		for d, n := range ptStorageNames() {
			if n == name {
				return ptStorageType{d}, nil
			}
		}
	}
	return &ptOpaque{module, name}, nil
}

// collect finds the state_dict in the unpickled object and records its
// entries.
func (sd *stateDict) collect(obj any) error {
	entries, ok := dictEntries(obj)
	if !ok {
		return fmt.Errorf("the file holds %s, not a state_dict (a dict of tensors)", describe(obj))
	}
	entries, err := checkpointStateDict(entries)
	if err != nil {
		return err
	}
	sd.tensors = map[string]*ptTensor{}
	sd.others = map[string]string{}
	prefixed := len(entries) > 0
	for _, e := range entries {
		if k, ok := e.Key.(string); !ok || !strings.HasPrefix(k, "module.") {
			prefixed = false
		}
	}
	for _, e := range entries {
		k, ok := e.Key.(string)
		if !ok {
			return fmt.Errorf("the state_dict has a key that is not a string (%s)", describe(e.Key))
		}
		if prefixed {
			k = strings.TrimPrefix(k, "module.") // saved from nn.DataParallel
		}
		if _, dup := sd.tensors[k]; dup {
			return fmt.Errorf("key %q appears twice", k)
		}
		sd.keys = append(sd.keys, k)
		if t, ok := e.Value.(*ptTensor); ok {
			sd.tensors[k] = t
		} else {
			sd.others[k] = describe(e.Value)
		}
	}
	return nil
}

// checkpointStateDict returns the state_dict a training checkpoint holds
// under "state_dict" or "model", or entries themselves when they are not a
// checkpoint.
func checkpointStateDict(entries []dictEntry) ([]dictEntry, error) {
	for _, k := range []string{"state_dict", "model"} {
		for _, e := range entries {
			if e.Key != k {
				continue
			}
			inner, ok := dictEntries(e.Value)
			if !ok {
				return nil, fmt.Errorf("the checkpoint's %q holds %s, not a state_dict; save model.state_dict() instead", k, describe(e.Value))
			}
			return inner, nil
		}
	}
	return entries, nil
}

type dictEntry struct{ Key, Value any }

// dictEntries lists a pickled dict's or OrderedDict's entries in order.
func dictEntries(v any) ([]dictEntry, bool) {
	var out []dictEntry
	switch d := v.(type) {
	case *types.Dict:
		for _, e := range *d {
			out = append(out, dictEntry{e.Key, e.Value})
		}
	case *types.OrderedDict:
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			out = append(out, dictEntry{e.Key, e.Value})
		}
	default:
		return nil, false
	}
	return out, true
}

// describe names a pickled value's kind for messages, without printing it.
func describe(v any) string {
	switch x := v.(type) {
	case *ptTensor:
		return fmt.Sprintf("a tensor %v", x.size)
	case *ptOpaqueObject:
		return fmt.Sprintf("a pickled %s.%s object", x.class.module, x.class.name)
	case *types.Dict, *types.OrderedDict:
		return "a dict"
	case *types.List:
		return "a list"
	case *types.Tuple:
		return "a tuple"
	case string:
		return "a string"
	case int, *big.Int:
		return "an integer"
	case float64:
		return "a number"
	case nil:
		return "None"
	}
	return fmt.Sprintf("a %T", v)
}

// read returns a tensor's elements in row-major order as float32, reading
// only the span of its storage the view covers. The caller has checked the
// tensor's shape against the architecture first, which bounds what is
// allocated here; the span is also bounded (a view with gaps wider than
// its own size is refused), so a hostile stride cannot ask for more.
func (sd *stateDict) read(key string, t *ptTensor) ([]float32, error) {
	s := t.storage
	if !s.dtype.floating() {
		return nil, fmt.Errorf("%s: tensor of %s, want floating point weights", key, s.dtype)
	}
	n := t.numel()
	if n == 0 {
		return []float32{}, nil
	}
	span := int64(1)
	for i, d := range t.size {
		span += (d - 1) * t.stride[i]
	}
	if span > 4*n+64 {
		return nil, fmt.Errorf("%s: a strided view covering %d elements for %d values is not supported", key, span, n)
	}
	es := s.dtype.size()
	raw := make([]byte, span*es)
	if err := sd.readSpan(s, t.offset, raw); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	at := func(i int64) float32 {
		b := raw[i*es:]
		switch s.dtype {
		case ptFloat64:
			return float32(math.Float64frombits(binary.LittleEndian.Uint64(b)))
		case ptFloat16:
			return float16.Frombits(binary.LittleEndian.Uint16(b)).Float32()
		case ptBFloat16:
			return math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16)
		}
		return math.Float32frombits(binary.LittleEndian.Uint32(b))
	}
	out := make([]float32, n)
	idx := make([]int64, len(t.size))
	for i := range out {
		var off int64
		for d, k := range idx {
			off += k * t.stride[d]
		}
		out[i] = at(off)
		for d := len(idx) - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < t.size[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out, nil
}

// readSpan fills buf from storage s starting at element off.
func (sd *stateDict) readSpan(s *ptStorage, off int64, buf []byte) error {
	es := s.dtype.size()
	if s.root != nil {
		off += s.viewOffset
		s = s.root
	}
	if s.entry == nil {
		if _, err := sd.file.ReadAt(buf, s.pos+off*es); err != nil {
			return errTruncated
		}
		return nil
	}
	r, err := s.entry.Open()
	if err != nil {
		return fmt.Errorf("storage %q: %v", s.key, err)
	}
	defer r.Close()
	if _, err := io.CopyN(io.Discard, r, off*es); err != nil {
		return fmt.Errorf("storage %q: %w", s.key, errTruncated)
	}
	if _, err := io.ReadFull(r, buf); err != nil {
		return fmt.Errorf("storage %q: %w", s.key, errTruncated)
	}
	return nil
}
