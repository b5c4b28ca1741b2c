package format

import (
	"bytes"
	"math"
	"testing"
)

// TestGridWeightsStayExact: weights that TF.js quantized to uint8 (min +
// q*scale, q in 0..255, both ends used) must come back as they went in
// under f16 and int8, stored in one byte each; weights off such a grid
// must not be mistaken for it.
func TestGridWeightsStayExact(t *testing.T) {
	for _, dtype := range []string{"f16", "int8"} {
		g := smallGraph()
		w := g.Tensors["conv.weight"].Data
		const lo, scale = -0.731, 0.0057
		for i := range w {
			q := float64((i * 37) % 256)
			if i == 0 {
				q = 0
			} else if i == 1 {
				q = 255
			}
			w[i] = float32(lo + q*scale) // as TF.js dequantizes, in float64 then float32
		}
		var buf bytes.Buffer
		if err := Write(&buf, g, Options{DType: dtype}); err != nil {
			t.Fatal(err)
		}
		info, err := Inspect(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "grid.glimpse")
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range info.Tensors {
			switch ti.Name {
			case "conv.weight":
				if ti.DType != U8 || ti.Bytes != int64(len(w)) {
					t.Errorf("%s: grid weights stored as %s in %d bytes, want u8 in %d", dtype, ti.DType, ti.Bytes, len(w))
				}
			case "fc.weight":
				if ti.DType == U8 {
					t.Errorf("%s: random weights stored as u8", dtype)
				}
			}
		}
		got, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), "grid.glimpse")
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got.Tensors["conv.weight"].Data {
			if d := math.Abs(float64(v - w[i])); d > 1e-6 {
				t.Fatalf("%s: weight %d = %v, want %v", dtype, i, v, w[i])
			}
		}
	}
}

// TestGridOutlierIsNotAGrid: one outlier stretches (max-min)/255 so far
// that every other value rounds to q = 0 within a tiny fraction of the
// step; the check is on the reconstructed value, so that is refused.
func TestGridOutlierIsNotAGrid(t *testing.T) {
	w := []float32{0.5, -0.25, 0.125, 1e6, 0}
	if _, _, _, ok := onGrid(w); ok {
		t.Fatal("a tensor with an outlier was taken for a grid")
	}
	if _, _, _, ok := onGrid([]float32{1, 1, 1}); ok {
		t.Fatal("a constant tensor was taken for a grid")
	}
}
