package project

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"strings"
	"testing"
)

// handMade writes a two-class project file field by field from the format
// description, independently of Encode.
func handMade(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("GLIMPSEP")
	hdr := `{"backbone":"m.glimpse","embeddingSize":2,"settings":{"epochs":5,"batchSize":4,"learningRate":0.01,"augment":true,"captureRate":10},"classes":[{"name":"cat","samples":1},{"name":"dog","samples":2}],"headLen":3}`
	binary.Write(&b, binary.LittleEndian, uint32(1))
	binary.Write(&b, binary.LittleEndian, uint32(len(hdr)))
	b.WriteString(hdr)
	for _, s := range []struct {
		emb   [2]float32
		thumb string
	}{{[2]float32{1, 2}, "abc"}, {[2]float32{-3, 0.5}, ""}, {[2]float32{4, 5}, "jpeg!"}} {
		binary.Write(&b, binary.LittleEndian, s.emb)
		binary.Write(&b, binary.LittleEndian, uint32(len(s.thumb)))
		b.WriteString(s.thumb)
		if s.thumb == "abc" { // the first sample has one augmented view
			binary.Write(&b, binary.LittleEndian, uint32(1))
			binary.Write(&b, binary.LittleEndian, [2]float32{7, 8})
		} else {
			binary.Write(&b, binary.LittleEndian, uint32(0))
		}
	}
	b.WriteString("HED")
	binary.Write(&b, binary.LittleEndian, crc32.ChecksumIEEE(b.Bytes()))
	return b.Bytes()
}

func TestDecodeHandMadeFile(t *testing.T) {
	p, err := Decode("p.glimpseproj", handMade(t))
	if err != nil {
		t.Fatal(err)
	}
	if p.Backbone != "m.glimpse" || p.EmbeddingSize != 2 || string(p.Head) != "HED" {
		t.Fatalf("header: %+v", p)
	}
	want := Settings{Epochs: 5, BatchSize: 4, LearningRate: 0.01, Augment: true, CaptureRate: 10}
	if p.Settings != want {
		t.Fatalf("settings %+v, want %+v", p.Settings, want)
	}
	if len(p.Classes) != 2 || p.Classes[0].Name != "cat" || p.Classes[1].Name != "dog" || len(p.Classes[0].Samples) != 1 || len(p.Classes[1].Samples) != 2 {
		t.Fatalf("classes: %+v", p.Classes)
	}
	s := p.Classes[1].Samples[0]
	if s.Embedding[0] != -3 || s.Embedding[1] != 0.5 || len(s.Thumb) != 0 {
		t.Fatalf("sample: %+v", s)
	}
	if v := p.Classes[0].Samples[0].Views; len(v) != 1 || v[0][0] != 7 || v[0][1] != 8 || p.Classes[1].Samples[0].Views != nil {
		t.Fatalf("views: %v", v)
	}
	if string(p.Classes[1].Samples[1].Thumb) != "jpeg!" {
		t.Fatalf("thumb: %q", p.Classes[1].Samples[1].Thumb)
	}
	if p.BackboneHash != "" || p.Preprocess != "" {
		t.Fatalf("a version 1 file names a backbone hash %q and rule %q", p.BackboneHash, p.Preprocess)
	}
	// Encoding what was read gives the hand-made bytes back, except for
	// the JSON header's spelling, which is Encode's own, and the version.
	p.BackboneHash, p.Preprocess = "crc32c:0badf00d:12345678", "resize=shorter:224,crop=center,scale=0.003921569,offset=0,channels=RGB"
	again, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode("again", again)
	if err != nil {
		t.Fatal(err)
	}
	if v := binary.LittleEndian.Uint32(again[8:]); v != 2 || q.BackboneHash != p.BackboneHash || q.Preprocess != p.Preprocess {
		t.Fatalf("version %d, hash %q, rule %q", v, q.BackboneHash, q.Preprocess)
	}
	if q.Classes[0].Samples[0].Embedding[1] != 2 || q.Classes[0].Samples[0].Views[0][1] != 8 || string(q.Classes[0].Samples[0].Thumb) != "abc" || string(q.Head) != "HED" {
		t.Fatalf("round trip: %+v", q)
	}
}

func TestDecodeBadFiles(t *testing.T) {
	good := handMade(t)
	withCRC := func(b []byte) []byte {
		b = append([]byte(nil), b[:len(b)-4]...)
		return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	}
	// patch edits the JSON header and fixes its length and the checksum.
	patch := func(old, new string) []byte {
		hl := binary.LittleEndian.Uint32(good[12:])
		hdr := strings.Replace(string(good[16:16+hl]), old, new, 1)
		b := binary.LittleEndian.AppendUint32(append([]byte(nil), good[:12]...), uint32(len(hdr)))
		b = append(append(b, hdr...), good[16+hl:]...)
		return withCRC(b)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-10] ^= 1
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":        {nil, "wrong magic"},
		"png":          {[]byte("\x89PNG\r\n\x1a\n...."), "wrong magic"},
		"magic only":   {[]byte("GLIMPSEP"), "truncated"},
		"flipped bit":  {flipped, "checksum"},
		"version":      {withCRC(append(append([]byte("GLIMPSEP"), 3, 0, 0, 0), good[12:]...)), "version 3"},
		"huge header":  {withCRC(append(append([]byte("GLIMPSEP"), 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f), good[16:]...)), "header of"},
		"bad json":     {patch(`{"backbone"`, `["backbone"`), "bad header"},
		"many samples": {patch(`"samples":2`, `"samples":9`), "more than the file holds"},
		"huge samples": {patch(`"samples":2`, `"samples":4000000000000`), "more than the file holds"},
		"neg samples":  {patch(`"samples":2`, `"samples":-1`), "samples"},
		"head length":  {patch(`"headLen":3`, `"headLen":2`), "head should take"},
		"no classes":   {patch(`"classes":[{"name":"cat","samples":1},{"name":"dog","samples":2}]`, `"classes":[]`), "0 classes"},
		"embedding 0":  {patch(`"embeddingSize":2`, `"embeddingSize":0`), "embedding size 0"},
		"embedding 3":  {patch(`"embeddingSize":2`, `"embeddingSize":3`), ""},
		"empty name":   {patch(`"name":"cat"`, `"name":""`), "needs a name"},
		"epochs":       {patch(`"epochs":5`, `"epochs":0`), "epochs 0"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := Decode("x.glimpseproj", c.data)
			if err == nil {
				t.Fatalf("read %+v from a bad file", p)
			}
			if !strings.HasPrefix(err.Error(), "x.glimpseproj: ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want the file's name and %q", err, c.want)
			}
		})
	}
	for n := range len(good) {
		if _, err := Decode("t", good[:n]); err == nil {
			t.Fatalf("a file truncated to %d bytes was read", n)
		}
	}
}

func TestNotFiniteEmbeddingRefused(t *testing.T) {
	p := &Project{EmbeddingSize: 1, Settings: DefaultSettings(), Classes: []Class{{Name: "a", Samples: []Sample{{Embedding: []float32{float32(math.NaN())}}}}}}
	if _, err := p.Encode(); err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Fatalf("got %v", err)
	}
}

func TestEmbeddingBytes(t *testing.T) {
	v := []float32{1, -2.5, float32(math.SmallestNonzeroFloat32)}
	b := EncodeEmbedding(v)
	// IEEE 754 single precision, little-endian: 1.0 is 0x3f800000.
	if !bytes.Equal(b[:4], []byte{0, 0, 0x80, 0x3f}) || !bytes.Equal(b[4:8], []byte{0, 0, 0x20, 0xc0}) {
		t.Fatalf("bytes % x", b)
	}
	w, err := DecodeEmbedding(b, 3)
	if err != nil || w[1] != -2.5 || w[2] != v[2] {
		t.Fatalf("%v %v", w, err)
	}
	if _, err := DecodeEmbedding(b, 4); err == nil {
		t.Fatal("a short embedding was read")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(handMade(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Decode("fuzz", data)
		if err != nil {
			return
		}
		if _, err := p.Encode(); err != nil {
			t.Fatalf("read a project that cannot be written: %v", err)
		}
	})
}
