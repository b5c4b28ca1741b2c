package format

import (
	"bytes"
	"math"
	"testing"

	"github.com/x448/float16"
)

// TestNoGrid: with NoGrid, weights that lie on an 8-bit grid are quantized
// like any others. int8 gives one symmetric scale per output channel,
// max|w|/127 as worked out here by a plain loop, and every weight within
// half a step; f16 rounds each weight to the nearest binary16.
func TestNoGrid(t *testing.T) {
	g := smallGraph()
	w := g.Tensors["conv.weight"].Data
	const lo, step = -0.731, 0.0057
	for i := range w {
		q := float64((i * 37) % 256)
		w[i] = float32(lo + q*step)
	}
	w[0], w[1] = float32(lo), float32(lo+255*step) // both ends of the grid
	cout := g.Tensors["conv.weight"].Shape[3]
	for _, dtype := range []string{"int8", "f16"} {
		var buf bytes.Buffer
		if err := Write(&buf, g, Options{DType: dtype, NoGrid: true}); err != nil {
			t.Fatal(err)
		}
		info, err := Inspect(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "nogrid.glimpse")
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range info.Tensors {
			if ti.Name == "conv.weight" && ti.DType.String() != dtype {
				t.Errorf("%s with NoGrid: grid weights stored as %s", dtype, ti.DType)
			}
		}
		got, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "nogrid.glimpse")
		if err != nil {
			t.Fatal(err)
		}
		gw := got.Tensors["conv.weight"].Data
		switch dtype {
		case "int8":
			maxAbs := make([]float64, cout)
			for i, v := range w {
				maxAbs[i%cout] = math.Max(maxAbs[i%cout], math.Abs(float64(v)))
			}
			exact := 0
			for i, v := range w {
				half := maxAbs[i%cout] / 127 / 2
				if d := math.Abs(float64(gw[i] - v)); d > half*1.0001 {
					t.Fatalf("int8: weight %d = %v, want %v within %v", i, gw[i], v, half)
				}
				if gw[i] == v {
					exact++
				}
			}
			if exact == len(w) {
				t.Error("int8 with NoGrid reproduced every grid weight exactly: the grid was kept")
			}
		case "f16":
			for i, v := range w {
				if want := float16.Fromfloat32(v).Float32(); gw[i] != want {
					t.Fatalf("f16: weight %d = %v, want %v", i, gw[i], want)
				}
			}
		}
	}
	// Without NoGrid the same weights stay on their grid.
	var buf bytes.Buffer
	if err := Write(&buf, g, Options{DType: "int8"}); err != nil {
		t.Fatal(err)
	}
	info, err := Inspect(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "grid.glimpse")
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range info.Tensors {
		if ti.Name == "conv.weight" && ti.DType != U8 {
			t.Errorf("without NoGrid: stored as %s, want u8", ti.DType)
		}
	}
}
