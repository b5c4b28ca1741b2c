package format

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// quantGraph is smallGraph calibrated: every value but the softmax's has
// an int8 scale and zero point.
func quantGraph() *ir.Graph {
	g := smallGraph()
	g.Meta.Quant = map[string]ir.QParams{
		g.Input: {Scale: 1.0 / 255, Zero: -128},
		"conv":  {Scale: 0.05, Zero: 3}, "bn": {Scale: 0.04, Zero: -7}, "relu": {Scale: 0.02, Zero: -128},
		"gap": {Scale: 0.01, Zero: -128}, "fc": {Scale: 0.1, Zero: 127},
	}
	return g
}

// TestQuantRoundTrip: a calibrated model is written as version 3 and
// reads back with every value's scale and zero point.
func TestQuantRoundTrip(t *testing.T) {
	g := quantGraph()
	b := encodeBytes(t, g, "int8")
	if got := binary.LittleEndian.Uint32(b[4:]); got != 3 {
		t.Errorf("written as version %d, want 3", got)
	}
	back, err := readBytes(b, "q.glimpse")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Meta.Quant, g.Meta.Quant) {
		t.Errorf("quant read back as %v, want %v", back.Meta.Quant, g.Meta.Quant)
	}
	// Without calibration nothing changes: version 1, no quant keys.
	plain := encodeBytes(t, smallGraph(), "int8")
	if got := binary.LittleEndian.Uint32(plain[4:]); got != 1 {
		t.Errorf("an uncalibrated int8 file is version %d, want 1", got)
	}
	if bytes.Contains(plain, []byte("glimpse.quant")) {
		t.Error("an uncalibrated file holds glimpse.quant keys")
	}
}

// assembleVersion writes g's metadata and tensors under any version
// number and lets edit change the metadata first.
func assembleVersion(t *testing.T, g *ir.Graph, version uint32, edit func([]KV) []KV) []byte {
	t.Helper()
	kvs, err := metadataOf(g, Int8, DefaultAlignment)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		kvs = edit(kvs)
	}
	var tensors []encoded
	for _, name := range tensorOrder(g) {
		e, err := encodeTensorGrid(name, g.Tensors[name], Int8, false)
		if err != nil {
			t.Fatal(err)
		}
		tensors = append(tensors, e)
	}
	header, data := assemble(kvs, tensors, DefaultAlignment, version)
	return append(bytes.Clone(header), data...)
}

// TestQuantRefusedByOlderVersions: calibration in a file that claims
// version 2 is refused by name, and a version 2 reader (one whose newest
// version is below 3) refuses every calibrated file by its version.
func TestQuantRefusedByOlderVersions(t *testing.T) {
	_, err := readBytes(assembleVersion(t, quantGraph(), 2, nil), "q.glimpse")
	if err == nil || !strings.Contains(err.Error(), "calibrated int8 activations (glimpse.quant.*) of format version 3 in a version 2 file") {
		t.Fatalf("got %v, want a refusal naming the calibrated activations", err)
	}
	_, err = readBytes(assembleVersion(t, quantGraph(), Version+1, nil), "q.glimpse")
	if err == nil || !strings.Contains(err.Error(), "newer than this reader supports") {
		t.Fatalf("got %v, want a refusal of the newer version", err)
	}
}

func TestQuantBadMetadata(t *testing.T) {
	set := func(key string, v KV) func([]KV) []KV {
		return func(kvs []KV) []KV {
			for i := range kvs {
				if kvs[i].Key == key {
					kvs[i] = v
				}
			}
			return kvs
		}
	}
	drop := func(key string) func([]KV) []KV {
		return func(kvs []KV) []KV {
			var out []KV
			for _, kv := range kvs {
				if kv.Key != key {
					out = append(out, kv)
				}
			}
			return out
		}
	}
	names := []string{"bn", "conv", "fc", "gap", "input", "relu"}
	for _, c := range []struct {
		name string
		edit func([]KV) []KV
		want string
	}{
		{"scale zero", set(keyQuantScales, kvF32s(keyQuantScales, []float32{0.04, 0, 0.1, 0.01, 1.0 / 255, 0.02})), `value "conv" has scale 0`},
		{"scale negative", set(keyQuantScales, kvF32s(keyQuantScales, []float32{0.04, 0.05, -0.1, 0.01, 1.0 / 255, 0.02})), `value "fc" has scale -0.1`},
		{"zero point", set(keyQuantZeros, kvI32s(keyQuantZeros, []int32{-7, 3, 128, -128, -128, -128})), `zero point 128, outside -128..127`},
		{"unknown value", set(keyQuantValues, kvStrings(keyQuantValues, append(names[:5:5], "nope"))), `value "nope" is not in the graph`},
		{"lengths", set(keyQuantZeros, kvI32s(keyQuantZeros, []int32{1, 2})), "have 6, 6 and 2 values"},
		{"missing", drop(keyQuantScales), "come together"},
		{"type", set(keyQuantZeros, kvF32s(keyQuantZeros, []float32{1, 2, 3, 4, 5, 6})), "has type []f32, want []i32"},
	} {
		_, err := readBytes(assembleVersion(t, quantGraph(), 3, c.edit), "q.glimpse")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "q.glimpse: ") {
			t.Errorf("%s: got %v, want an error naming the file and %q", c.name, err, c.want)
		}
	}
}
