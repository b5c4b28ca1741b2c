package format

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// jsonGraph decodes as the reader did before it had its own codec:
// encoding/json, unknown fields refused, nothing but space after the array.
func jsonGraph(s string) ([]wireNode, error) {
	var nodes []wireNode
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&nodes); err != nil {
		return nil, err
	}
	if rest := strings.TrimSpace(s[dec.InputOffset():]); rest != "" {
		return nil, errTrailing
	}
	return nodes, nil
}

var errTrailing = bytes.ErrTooLarge // any error: what matters is that there is one

// ourGraph decodes with the codec, with the reader's trailing check.
func ourGraph(s string) ([]wireNode, error) {
	nodes, end, err := parseGraphJSON(s)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(s[end:]) != "" {
		return nil, errTrailing
	}
	return nodes, nil
}

// randomNodes draws nodes whose strings hold what JSON must escape (quotes,
// backslashes, control characters, HTML's <>&, U+2028, invalid UTF-8,
// astral characters) and whose attributes take zero and non-zero values,
// floats of every magnitude included (the exponent form starts below 1e-6
// and at 1e21).
func randomNodes(rng *rand.Rand) []wireNode {
	pieces := []string{"conv", "a/b_1", `"`, `\`, "\n", "\t", "\b", "\f", "\x00", "\x1f", "<", ">", "&", "\u2028", "\u2029",
		"é", "한글", "\U0001F600", "\xff", "\xe2\x82", "/", "\x7f", " "}
	str := func() string {
		var b strings.Builder
		for range rng.IntN(4) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	strs := func() []string {
		if rng.IntN(4) == 0 {
			return nil
		}
		s := []string{}
		for range rng.IntN(3) {
			s = append(s, str())
		}
		return s
	}
	num := func() int {
		if rng.IntN(2) == 0 {
			return 0
		}
		return rng.IntN(2001) - 1000
	}
	f32 := func() float32 {
		switch rng.IntN(5) {
		case 0:
			return 0
		case 1:
			return math.Float32frombits(rng.Uint32()&^(0xff<<23) | uint32(rng.IntN(254)+1)<<23) // any finite normal
		case 2:
			return math.Float32frombits(rng.Uint32() & 0x807fffff) // subnormal
		case 3:
			return []float32{1e-6, 9.99999e-7, 1e21, 9.99999e20, 1e-7, 1e-45, 0.001, 1.5}[rng.IntN(8)]
		}
		return float32(rng.NormFloat64())
	}
	n := rng.IntN(5)
	if n == 0 && rng.IntN(2) == 0 {
		return nil
	}
	nodes := make([]wireNode, n)
	for i := range nodes {
		a := wireAttrs{Groups: num(), Act: str(), Ceil: rng.IntN(2) == 0, CountPad: rng.IntN(3) == 0,
			Epsilon: f32(), Alpha: f32(), Beta: f32()}
		a.Kernel = [2]int{num(), num()}
		a.Stride = [2]int{num(), num()}
		a.Dilation = [2]int{num(), num()}
		a.Pads = [4]int{num(), num(), num(), num()}
		if rng.IntN(3) == 0 {
			a = wireAttrs{}
		}
		nodes[i] = wireNode{Name: str(), Op: str(), Inputs: strs(), Output: str(), Weights: strs(), Attrs: a}
		if nodes[i].Inputs == nil {
			nodes[i].Inputs = []string{} // as metadataOf writes them
		}
	}
	return nodes
}

// TestGraphJSONIsEncodingJSON: the codec writes json.Marshal's bytes, and
// reads them back to the nodes encoding/json reads.
func TestGraphJSONIsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 3000 {
		nodes := randomNodes(rng)
		want, err := json.Marshal(nodes)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendGraphJSON(nil, nodes)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
		ref, err := jsonGraph(string(want))
		if err != nil {
			t.Fatal(err)
		}
		back, err := ourGraph(string(want))
		if err != nil {
			t.Fatalf("case %d: %v reading %s", i, err, want)
		}
		if !reflect.DeepEqual(back, ref) {
			t.Fatalf("case %d: read\n %#v\nencoding/json reads\n %#v", i, back, ref)
		}
	}
	// JSON has no NaN or infinity: both refuse to write them.
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		nodes := []wireNode{{Name: "n", Attrs: wireAttrs{Alpha: v}}}
		if _, err := json.Marshal(nodes); err == nil {
			t.Fatal("encoding/json wrote", v)
		}
		if _, err := appendGraphJSON(nil, nodes); err == nil {
			t.Fatal("the codec wrote", v)
		}
	}
}

// graphJSONSeeds are texts on either side of the grammar's and the
// schema's edges.
var graphJSONSeeds = []string{
	`[]`, `null`, ` [ ] `, `[null]`, `[{}]`, `[{"name":null,"inputs":null,"attrs":null}]`,
	`[{"name":"a","op":"Conv2D","inputs":["x",null],"output":"y","weights":[],"attrs":{"kernel":[3],"pads":[1,2,3,4],"groups":-0,"act":"relu","ceil":false,"count_pad":true,"epsilon":1e-3,"alpha":-2.5E+2,"beta":0}}]`,
	`[{"name":"\u00e9\ud83d\ude00\ud800x\u002F\"\\\/\b\f\n\r\t"}]`,
	`[{"name":"a"}] `, `[{"name":"a"}] x`, `[{"name":"a"},]`, `[{"name":"a",}]`, `[{"name":"a"}`, `[{"name":"a" "op":"b"}]`,
	`[{"Name":"a"}]`, `[{"name":"a","name":"b"}]`, `[{"nope":1}]`, `[{"attrs":{"gelu":1}}]`,
	`[{"attrs":{"groups":1.5}}]`, `[{"attrs":{"groups":1e2}}]`, `[{"attrs":{"groups":"1"}}]`, `[{"attrs":{"groups":99999999999999999999}}]`,
	`[{"attrs":{"alpha":1e39}}]`, `[{"attrs":{"alpha":1e-50}}]`, `[{"attrs":{"alpha":01}}]`, `[{"attrs":{"alpha":-}}]`, `[{"attrs":{"alpha":1.}}]`,
	`[{"attrs":{"kernel":[1,2,3]}}]`, `[{"attrs":{"kernel":[1,"x"]}}]`, `[{"attrs":{"ceil":1}}]`, "[{\"name\":\"a\x01\"}]", `[{"name":"\x"}]`,
	`[{"name":"\u12"}]`, `[{"name":"` + "\xff\xfe" + `"}]`, `[1]`, `{}`, `"x"`, ``, `[{"inputs":"x"}]`, `[{"attrs":[]}]`, `[[]]`,
	`[{"name":"a"}]` + "\v", `nul`, `[{"attrs":{"kernel":null,"ceil":null,"alpha":null,"groups":null}}]`,
}

// FuzzGraphJSON: whatever the text, the codec never panics, and whenever
// it accepts a text, encoding/json accepts it too and reads the same
// nodes. (It may refuse what encoding/json accepts: see graphjson.go.)
//
//	go test -fuzz=FuzzGraphJSON ./core/format
func FuzzGraphJSON(f *testing.F) {
	for _, s := range graphJSONSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ourGraph(s)
		if err != nil {
			return
		}
		want, jerr := jsonGraph(s)
		if jerr != nil {
			t.Fatalf("the codec accepts %q, encoding/json refuses it: %v", s, jerr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: the codec reads\n %#v\nencoding/json\n %#v", s, got, want)
		}
	})
}

// TestGraphJSONRefusals: texts that are not JSON, or not this schema, are
// refused by both decoders.
func TestGraphJSONRefusals(t *testing.T) {
	for _, s := range graphJSONSeeds {
		_, jerr := jsonGraph(s)
		_, err := ourGraph(s)
		if jerr != nil && err == nil {
			t.Errorf("%q: encoding/json refuses it (%v), the codec accepts it", s, jerr)
		}
		if err != nil {
			t.Logf("%q: %v", s, err)
		}
	}
}
