package format

import (
	"math"
	"testing"

	"github.com/x448/float16"
)

// Every half-precision bit pattern widens to the float32 the float16
// package gives (which the writer uses to narrow), NaN payloads included,
// and the decoder's table holds the same values.
func TestHalfToFloatEveryValue(t *testing.T) {
	table := halfTable()
	for h := 0; h < 1<<16; h++ {
		want := math.Float32bits(float16.Frombits(uint16(h)).Float32())
		if got := math.Float32bits(halfToFloat(uint16(h))); got != want {
			t.Fatalf("%#04x: got %#08x, want %#08x", h, got, want)
		}
		if got := math.Float32bits(table[h]); got != want {
			t.Fatalf("table[%#04x] = %#08x, want %#08x", h, got, want)
		}
	}
}
