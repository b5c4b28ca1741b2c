package project

import (
	"math"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/train"
)

func TestHeadRoundTripPredictsTheSame(t *testing.T) {
	// A hand-set head: hidden ReLU layer of 2, three classes, no output bias.
	h := &train.Head{Labels: []string{"a", "b", "c"}, In: 2, Hidden: 2,
		W1: []float32{1, 0, 0, 1}, B1: []float32{0, -1},
		W2: []float32{1, 0, 0, 0, 1, 0}, Config: train.Config{Head: "tm", Hidden: 2}}
	b, err := EncodeHead(h)
	if err != nil {
		t.Fatal(err)
	}
	g, err := DecodeHead("h", b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.Probabilities([]float32{2, 3})
	if err != nil {
		t.Fatal(err)
	}
	// hidden = relu([2, 3-1]) = [2, 2]; logits = [2, 2, 0].
	e2 := math.Exp(2)
	want := []float64{e2 / (2*e2 + 1), e2 / (2*e2 + 1), 1 / (2*e2 + 1)}
	for i := range want {
		if math.Abs(p[i]-want[i]) > 1e-6 {
			t.Fatalf("probabilities %v, want %v", p, want)
		}
	}
	if g.Config.Head != "tm" || g.B2 != nil {
		t.Fatalf("decoded %+v", g)
	}
	for n := range len(b) {
		if _, err := DecodeHead("h", b[:n]); err == nil || !strings.HasPrefix(err.Error(), "h: trained head: ") {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
}
