package format

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/x448/float16"
)

// A half-precision tensor holding every bit pattern, stored little-endian
// as the writer stores it, decodes to the float32 values the float16
// package gives (which the writer uses to narrow), NaN payloads included.
func TestDecodeHalfEveryValue(t *testing.T) {
	raw := make([]byte, 2<<16)
	for h := 0; h < 1<<16; h++ {
		binary.LittleEndian.PutUint16(raw[2*h:], uint16(h))
	}
	got := decode(&TensorInfo{Name: "every_half", DType: F16, Shape: []int{256, 256}}, raw)
	for h := 0; h < 1<<16; h++ {
		want := math.Float32bits(float16.Frombits(uint16(h)).Float32())
		if g := math.Float32bits(got[h]); g != want {
			t.Fatalf("pattern %#04x decoded to %#08x, want %#08x", h, g, want)
		}
	}
}
