package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// spec assembles a file byte by byte as FORMAT.md describes it, apart
// from the writer, so that the reader is tested against the document.
type spec struct{ b []byte }

func (s *spec) u32(v uint32) *spec { s.b = binary.LittleEndian.AppendUint32(s.b, v); return s }
func (s *spec) u64(v uint64) *spec { s.b = binary.LittleEndian.AppendUint64(s.b, v); return s }
func (s *spec) str(v string) *spec { s.u64(uint64(len(v))); s.b = append(s.b, v...); return s }
func (s *spec) f32(v float32) *spec {
	return s.u32(math.Float32bits(v))
}

// kvStr, kvU32s... append one metadata entry.
func (s *spec) kvStr(k, v string) *spec { return s.str(k).u32(5).str(v) }
func (s *spec) kvStrs(k string, v ...string) *spec {
	s.str(k).u32(6).u32(5).u64(uint64(len(v)))
	for _, x := range v {
		s.str(x)
	}
	return s
}
func (s *spec) kvU32s(k string, v ...uint32) *spec {
	s.str(k).u32(6).u32(0).u64(uint64(len(v)))
	for _, x := range v {
		s.u32(x)
	}
	return s
}

// file finishes a file: header is everything after the counts; data is the
// data section; dataSize is what the header claims for it.
func specFile(nTensors, nKV uint64, header []byte, dataSize uint64, data []byte) []byte {
	table := crc32.MakeTable(crc32.Castagnoli)
	s := &spec{b: []byte("GLMP")}
	s.u32(1).u64(nTensors).u64(nKV)
	s.b = append(s.b, header...)
	s.u64(dataSize).u32(crc32.Checksum(data, table))
	s.u32(crc32.Checksum(s.b, table))
	for len(s.b)%32 != 0 {
		s.b = append(s.b, 0)
	}
	return append(s.b, data...)
}

const tinyGraphJSON = `[{"name":"fc","op":"Dense","inputs":["x"],"output":"fc","weights":["w","b"]},` +
	`{"name":"p","op":"Softmax","inputs":["fc"],"output":"p"}]`

// tinyMeta is the metadata of a one-Dense network over a 1x1x2 input, with
// unknown keys of every type that a reader must skip.
func tinyMeta(s *spec, graph string) uint64 {
	s.kvU32s("glimpse.input.shape", 1, 1, 2)
	s.kvStr("glimpse.input.name", "x")
	s.kvStrs("glimpse.outputs", "p")
	s.kvStrs("general.labels", "yes", "no")
	s.kvStr("glimpse.graph", graph)
	s.str("vendor.i32").u32(1).u32(uint32(0xfffffffe))
	s.str("vendor.u64").u32(2).u64(1 << 40)
	s.str("vendor.f32").u32(3).f32(2.5)
	s.str("vendor.bool").u32(4).b = append(s.b, 1)
	s.str("vendor.bools").u32(6).u32(4).u64(2).b = append(s.b, 0, 1)
	s.str("vendor.i32s").u32(6).u32(1).u64(1).u32(7)
	s.str("vendor.u64s").u32(6).u32(2).u64(1).u64(9)
	s.str("vendor.f32s").u32(6).u32(3).u64(0)
	return 13
}

// tinyFile is a hand-assembled valid file: an int8 [2,2] kernel with
// scales {0.5, 0.25} and an f16 bias.
func tinyFile() []byte {
	var h spec
	nkv := tinyMeta(&h, tinyGraphJSON)
	h.str("w").u32(2).u32(2).u64(2).u64(2).u64(0).u64(4).f32(0.5).f32(0.25)
	h.str("b").u32(1).u32(1).u64(2).u64(32).u64(4)
	data := make([]byte, 36)
	copy(data, []byte{1, 0xfe, 127, 0})       // int8 1, -2, 127, 0
	copy(data[32:], []byte{0, 0x3c, 0, 0xc0}) // f16 1.0, -2.0
	return specFile(2, nkv, h.b, 36, data)
}

func TestReadHandAssembledFile(t *testing.T) {
	b := tinyFile()
	g, err := readBytes(b, "tiny.glimpse")
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Tensors["w"].Data; !reflect.DeepEqual(got, []float32{0.5, -0.5, 63.5, 0}) {
		t.Errorf("int8 kernel decoded as %v", got)
	}
	if got := g.Tensors["b"].Data; !reflect.DeepEqual(got, []float32{1, -2}) {
		t.Errorf("f16 bias decoded as %v", got)
	}
	if g.Input != "x" || g.InputShape != (ir.Shape{1, 1, 2}) || !reflect.DeepEqual(g.Outputs, []string{"p"}) ||
		len(g.Nodes) != 2 || g.Nodes[0].Op != ir.Dense || !reflect.DeepEqual(g.Meta.Labels, []string{"yes", "no"}) {
		t.Errorf("graph read as %+v", g)
	}
	info, err := Inspect(bytes.NewReader(b), int64(len(b)), "tiny.glimpse")
	if err != nil {
		t.Fatal(err)
	}
	if kv, ok := info.Lookup("vendor.i32"); !ok || kv.Value != int32(-2) {
		t.Errorf("vendor.i32 = %+v", kv)
	}
	if kv, ok := info.Lookup("vendor.bools"); !ok || !reflect.DeepEqual(kv.Value, []bool{false, true}) || kv.TypeName() != "[]bool" {
		t.Errorf("vendor.bools = %+v", kv)
	}
	if info.Alignment != 32 || len(info.Tensors) != 2 || info.Tensors[0].Bytes != 4 {
		t.Errorf("info = %+v", info)
	}
}

// allocated reports the bytes allocated while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileHeaders feeds files whose checksums are right but whose
// claims are absurd: each must fail with a message about the claim, and
// without allocating anything near what it claims.
func TestHostileHeaders(t *testing.T) {
	tensor := func(name string, dtype uint32, dims []uint64, off, length uint64) []byte {
		var h spec
		tinyMeta(&h, tinyGraphJSON)
		h.str(name).u32(dtype).u32(uint32(len(dims)))
		for _, d := range dims {
			h.u64(d)
		}
		h.u64(off).u64(length)
		return h.b
	}
	var hugeString spec
	hugeString.str("general.source").u32(5).u64(1 << 62)
	var hugeArray spec
	hugeArray.str("glimpse.outputs").u32(6).u32(5).u64(1e9)
	var badKey spec
	badKey.kvStr("General.Source", "x")
	var dupKey spec
	dupKey.kvStr("general.source", "x").kvStr("general.source", "y")
	var badAlign spec
	badAlign.str("general.alignment").u32(0).u32(24)
	var badUTF8 spec
	badUTF8.kvStr("general.source", "\xff\xfe")
	var badBool spec
	badBool.str("vendor.flag").u32(4).b = append(badBool.b, 2)

	for _, c := range []struct {
		name string
		file []byte
		want string
	}{
		{"2^40 elements", specFile(1, 13, tensor("w", 0, []uint64{1 << 20, 1 << 20}, 0, 1<<42), 64, make([]byte, 64)),
			`tensor "w" (4398046511104 bytes at offset 0) runs past the end of the 64-byte data section`},
		{"2^40 elements, data size agreeing", specFile(1, 13, tensor("w", 0, []uint64{1 << 20, 1 << 20}, 0, 1<<42), 1<<42, make([]byte, 64)),
			`truncated: tensor "w" needs 4398046511104 bytes at offset`},
		{"length disagreeing with shape", specFile(1, 13, tensor("w", 0, []uint64{4}, 0, 8), 8, make([]byte, 8)),
			`tensor "w" is 8 bytes, but 4 f32 elements take 16`},
		{"shape overflow", specFile(1, 13, tensor("w", 0, []uint64{1<<31 - 1, 1<<31 - 1, 1<<31 - 1}, 0, 0), 0, nil),
			`tensor "w" shape overflows`},
		{"negative dimension", specFile(1, 13, tensor("w", 0, []uint64{math.MaxUint64}, 0, 0), 0, nil),
			`tensor "w" dimension 0 is 18446744073709551615`},
		{"zero dimension", specFile(1, 13, tensor("w", 0, []uint64{3, 0}, 0, 0), 0, nil),
			`tensor "w" dimension 1 is 0`},
		{"too many dimensions", specFile(1, 13, tensor("w", 0, make([]uint64, 9), 0, 0), 0, nil),
			`tensor "w" has 9 dimensions`},
		{"unknown dtype", specFile(1, 13, tensor("w", 7, []uint64{4}, 0, 16), 16, make([]byte, 16)),
			`tensor "w" has unknown dtype 7`},
		{"misaligned", specFile(1, 13, tensor("w", 0, []uint64{1}, 4, 4), 8, make([]byte, 8)),
			`tensor "w" offset 4 is not a multiple of the alignment 32`},
		{"huge string", specFile(0, 1, hugeString.b, 0, nil),
			`truncated: value of metadata key "general.source" needs 4611686018427387904 bytes at offset`},
		{"billion-entry array", specFile(0, 1, hugeArray.b, 0, nil),
			`value of metadata key "glimpse.outputs" claims 1000000000 elements of type string`},
		{"huge tensor count", specFile(1<<40, 0, nil, 0, nil), "truncated: 1099511627776 tensors cannot fit"},
		{"huge metadata count", specFile(0, 1<<60, nil, 0, nil), "truncated: 1152921504606846976 metadata entries cannot fit"},
		{"bad key", specFile(0, 1, badKey.b, 0, nil), `metadata key "General.Source" is not lower-case dotted ASCII`},
		{"duplicate key", specFile(0, 2, dupKey.b, 0, nil), `metadata key "general.source" appears twice`},
		{"bad alignment", specFile(0, 1, badAlign.b, 0, nil), `"general.alignment" must be a u32 power of two`},
		{"bad utf-8", specFile(0, 1, badUTF8.b, 0, nil), "is not valid UTF-8"},
		{"bad bool", specFile(0, 1, badBool.b, 0, nil), "bool byte 2"},
		{"no metadata", specFile(0, 0, nil, 0, nil), `required metadata key "glimpse.input.name" is missing`},
	} {
		var err error
		n := allocated(func() { _, err = readBytes(c.file, "evil.glimpse") })
		if err == nil || !strings.HasPrefix(err.Error(), "evil.glimpse: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
		if n > 1<<20 {
			t.Errorf("%s: reading a %d-byte file allocated %d bytes", c.name, len(c.file), n)
		}
	}
}

// TestHostileGraphs feeds well-formed files (valid checksums) whose graph
// is wrong: the reader must refuse them with a message naming the problem.
func TestHostileGraphs(t *testing.T) {
	graph := func(nodes string) []byte {
		var h spec
		nkv := tinyMeta(&h, nodes)
		h.str("w").u32(0).u32(2).u64(2).u64(2).u64(0).u64(16)
		h.str("b").u32(0).u32(1).u64(2).u64(32).u64(8)
		return specFile(2, nkv, h.b, 40, make([]byte, 40))
	}
	softmax := `{"name":"p","op":"Softmax","inputs":["fc"],"output":"p"}]`
	for _, c := range []struct{ nodes, want string }{
		{`[{"name":"fc","op":"Dense","inputs":["x"],"output":"fc","weights":["w","nope"]},` + softmax, `layer "fc": weight tensor "nope" is missing`},
		{`[{"name":"fc","op":"Dense","inputs":["x"],"output":"fc","weights":["w","b"],"attrs":{"gelu_approx":1}},` + softmax, `unknown field "gelu_approx" in attrs`},
		{`[{"name":"fc","op":"Attention","inputs":["x"],"output":"fc"},` + softmax, `layer "fc": unknown op "Attention"`},
		{`[{"name":"fc","op":"Dense","inputs":["y"],"output":"fc","weights":["w","b"]},` + softmax, `input "y" is not defined`},
		{`[{"name":"fc","op":"Dense","inputs":["x"],"output":"fc","weights":["w","b"],"attrs":{"stride":[-1,1]}},` + softmax, "attribute value -1 is outside"},
		{`[{"name":"fc","op":"Dense","inputs":["x"],"output":"fc","weights":["w","b"],"attrs":{"act":"swish"}},` + softmax, `unknown activation "swish"`},
		{`[{"name":"fc","op":"Pad","inputs":["x"],"output":"fc","attrs":{"pads":[1048576,1048576,0,0]}},` + softmax, "beyond the limit"},
		{`{"nodes":[]}`, `metadata key "glimpse.graph"`},
		{`[` + softmax[:len(softmax)-1] + `] []`, "trailing data"},
		{`[` + softmax[:len(softmax)-1] + `]}`, "trailing data"},
	} {
		_, err := readBytes(graph(c.nodes), "evil.glimpse")
		if err == nil || !strings.HasPrefix(err.Error(), "evil.glimpse: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("graph %s:\n got %v, want an error containing %q", c.nodes, err, c.want)
		}
	}
}

func TestTruncationAtEveryByte(t *testing.T) {
	for _, dtype := range []string{"f32", "f16", "int8"} {
		b := encodeBytes(t, smallGraph(), dtype)
		if _, err := readBytes(b, "whole.glimpse"); err != nil {
			t.Fatal(err)
		}
		sawTensor := false
		for n := range len(b) {
			_, err := readBytes(b[:n], "cut.glimpse")
			if err == nil {
				t.Fatalf("%s: %d of %d bytes read without error", dtype, n, len(b))
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "cut.glimpse: ") {
				t.Fatalf("%s: %d bytes: error %q does not name the file", dtype, n, msg)
			}
			if !strings.Contains(msg, "truncated") {
				t.Fatalf("%s: %d bytes: error %q does not say the file is truncated", dtype, n, msg)
			}
			sawTensor = sawTensor || strings.Contains(msg, `truncated: tensor "`)
		}
		if !sawTensor {
			t.Errorf("%s: no truncation named the tensor it cut", dtype)
		}
	}
}

func TestRandomBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	valid := encodeBytes(t, smallGraph(), "int8")
	for i := range 3000 {
		var b []byte
		switch i % 3 {
		case 0: // pure noise
			b = make([]byte, rng.IntN(600))
		case 1: // a valid magic and version, then noise
			b = append([]byte("GLMP\x01\x00\x00\x00"), make([]byte, rng.IntN(600))...)
		case 2: // a valid file with a few bytes changed
			b = bytes.Clone(valid)
		}
		start := map[int]int{0: 0, 1: 8}[i%3]
		if i%3 == 2 {
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
			}
		} else {
			for j := start; j < len(b); j++ {
				b[j] = byte(rng.Uint32())
			}
		}
		if _, err := readBytes(b, "noise.glimpse"); err == nil {
			t.Fatalf("random input %d (% x...) read without error", i, b[:min(len(b), 16)])
		} else if !strings.HasPrefix(err.Error(), "noise.glimpse: ") {
			t.Fatalf("error %q does not name the file", err)
		}
	}
}

func TestBadMagicAndVersions(t *testing.T) {
	b := encodeBytes(t, smallGraph(), "f32")
	for _, c := range []struct {
		edit func([]byte)
		want string
	}{
		{func(b []byte) { copy(b, "GGUF") }, `not a Glimpse model file: magic "GGUF", want "GLMP"`},
		{func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 4) }, "format version 4 is newer than this reader supports (3)"},
		{func(b []byte) { binary.LittleEndian.PutUint32(b[4:], 0) }, "version 0 is not a valid format version"},
	} {
		m := bytes.Clone(b)
		c.edit(m)
		_, err := readBytes(m, "m.glimpse")
		if err == nil || !strings.HasPrefix(err.Error(), "m.glimpse: "+c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

func TestChecksums(t *testing.T) {
	b := encodeBytes(t, smallGraph(), "f32")
	info, err := Inspect(bytes.NewReader(b), int64(len(b)), "m.glimpse")
	if err != nil {
		t.Fatal(err)
	}
	// A label changed in the header: still well-formed, only the CRC knows.
	h := bytes.Clone(b)
	i := bytes.Index(h, []byte("dog"))
	h[i] = 'h'
	if _, err := readBytes(h, "m.glimpse"); err == nil || !strings.Contains(err.Error(), "header checksum mismatch") {
		t.Errorf("header corruption: got %v", err)
	}
	// One weight bit flipped: Inspect does not read the data, Read must notice.
	d := bytes.Clone(b)
	d[info.DataOffset+info.Tensors[0].Offset+2] ^= 0x10
	if _, err := Inspect(bytes.NewReader(d), int64(len(d)), "m.glimpse"); err != nil {
		t.Errorf("Inspect should not read the data: %v", err)
	}
	if _, err := readBytes(d, "m.glimpse"); err == nil || !strings.Contains(err.Error(), "data checksum mismatch") {
		t.Errorf("data corruption: got %v", err)
	}
	// Extra bytes at the end.
	if _, err := readBytes(append(bytes.Clone(b), 0), "m.glimpse"); err == nil || !strings.Contains(err.Error(), "1 bytes of unexpected data after") {
		t.Errorf("trailing byte: got %v", err)
	}
}

// leftovers lists the entries of dir other than keep.
func leftovers(t *testing.T, dir string, keep ...string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.Contains(strings.Join(keep, "\x00"), e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.glimpse")
	g := smallGraph()
	if err := WriteFile(path, g, Options{DType: "int8"}); err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); runtime.GOOS != "js" && st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkStructure(t, g, back)

	// A write that fails half-way: the old file stays, no temporary file.
	boom := errors.New("disk full")
	err = writeAtomic(path, func(w io.Writer) error {
		w.Write(make([]byte, 3<<20)) // past the buffer, so bytes reach the temporary file
		return boom
	})
	if err == nil || !strings.Contains(err.Error(), path+": disk full") {
		t.Fatalf("got %v", err)
	}
	// A graph Write refuses: nothing is touched.
	bad := smallGraph()
	bad.Tensors["fc.bias"].Data = nil
	if err := WriteFile(path, bad, Options{}); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
		t.Fatalf("got %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, old) {
		t.Fatal("a failed write changed the existing file")
	}
	if extra := leftovers(t, dir, "model.glimpse"); len(extra) > 0 {
		t.Fatalf("failed writes left %v behind", extra)
	}

	// The rename itself fails (the target is a non-empty directory).
	target := filepath.Join(dir, "occupied")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, g, Options{}); err == nil || !strings.HasPrefix(err.Error(), target+": ") {
		t.Fatalf("rename over a directory: got %v", err)
	}
	if extra := leftovers(t, dir, "model.glimpse", "occupied"); len(extra) > 0 {
		t.Fatalf("a failed rename left %v behind", extra)
	}
	if _, err := ReadFile(target); err == nil || !strings.Contains(err.Error(), target) {
		t.Fatalf("reading a directory: got %v", err)
	}
}
