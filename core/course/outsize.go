package course

import (
	"fmt"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// MaxSide bounds every size the calculator accepts. It is far above any
// picture a student brings and keeps every product inside int64.
const MaxSide = 1 << 16

// OutSize is one axis of a convolution or pooling layer worked as the
// course writes it: (W − F + 2P)/S + 1. W is the input size, F the
// kernel's extent, S the stride; the padding is given per side (a
// calculator's P on both sides; TF pads unevenly). When S does not divide
// W − F + 2P the formula gives a fraction, and frameworks round it in
// different ways; OutSize says what each gives.
type OutSize struct {
	W, F, S             int
	PadBefore, PadAfter int
	// Span is W − F + 2P: how far the kernel travels from its first
	// position to the end of the padded input.
	Span int
	// Whole is true when S divides Span, so the formula gives a whole number.
	Whole bool
	// Floor is floor(Span/S) + 1, what a convolution gives in torch, Keras
	// and TF with explicit padding, and a pooling layer by default. Left
	// is Span mod S: with floor, that many rows (or columns) at the end of
	// the padded input are seen by no window.
	Floor, Left int
	// Ceil is what a pooling layer with torch's ceil_mode gives: one more
	// window when the last one would overhang the end, except a window
	// that would start inside the trailing padding.
	Ceil int
	// Same is TF and Keras's padding "same", which ignores P and pads so
	// that the output is ceil(W/S); SamePad is the padding that takes,
	// before and after (the extra one goes after).
	Same    int
	SamePad [2]int
	// Valid is padding "valid", no padding at all: floor((W−F)/S) + 1, or 0
	// when the kernel is larger than the input.
	Valid int
}

// OutputSize works out one axis with P on both sides.
func OutputSize(w, f, p, s int) (OutSize, error) { return OutputSizePads(w, f, p, p, s) }

// OutputSizePads works out one axis with padding given per side.
func OutputSizePads(w, f, padBefore, padAfter, s int) (OutSize, error) {
	switch {
	case w < 1 || w > MaxSide:
		return OutSize{}, fmt.Errorf("input size W=%d is outside [1, %d]", w, MaxSide)
	case f < 1 || f > MaxSide:
		return OutSize{}, fmt.Errorf("kernel size F=%d is outside [1, %d]", f, MaxSide)
	case s < 1 || s > MaxSide:
		return OutSize{}, fmt.Errorf("stride S=%d is outside [1, %d]", s, MaxSide)
	case padBefore < 0 || padAfter < 0 || padBefore > MaxSide || padAfter > MaxSide:
		return OutSize{}, fmt.Errorf("padding %d,%d is outside [0, %d]", padBefore, padAfter, MaxSide)
	case f > w+padBefore+padAfter:
		return OutSize{}, &TooBigError{W: w, F: f, Pad: padBefore + padAfter}
	}
	o := OutSize{W: w, F: f, S: s, PadBefore: padBefore, PadAfter: padAfter}
	o.Span = w - f + padBefore + padAfter
	o.Whole = o.Span%s == 0
	o.Floor = ir.ConvOutSize(w, f, s, 1, padBefore, padAfter, false)
	o.Left = o.Span % s
	o.Ceil = ir.ConvOutSize(w, f, s, 1, padBefore, padAfter, true)
	o.Same = (w + s - 1) / s
	total := max((o.Same-1)*s+f-w, 0)
	o.SamePad = [2]int{total / 2, total - total/2}
	if f <= w {
		o.Valid = (w-f)/s + 1
	}
	return o, nil
}

// TooBigError is a kernel that does not fit the padded input even once.
type TooBigError struct{ W, F, Pad int }

func (e *TooBigError) Error() string {
	return fmt.Sprintf("kernel size F=%d is larger than the padded input W+2P=%d", e.F, e.W+e.Pad)
}

// Window is the stretch of input one output cell sees along this axis,
// in input coordinates: First and Last may lie in the padding (negative,
// or W and beyond). In is the part inside the input, [InFirst, InLast].
type Window struct {
	First, Last     int
	InFirst, InLast int
}

// Window returns the input stretch under output cell i (0-based) with
// floor rounding. An index outside [0, Floor) is an error.
func (o OutSize) Window(i int) (Window, error) {
	if i < 0 || i >= o.Floor {
		return Window{}, fmt.Errorf("output cell %d is outside 0..%d", i, o.Floor-1)
	}
	first := i*o.S - o.PadBefore
	last := first + o.F - 1
	return Window{First: first, Last: last, InFirst: max(first, 0), InLast: min(last, o.W-1)}, nil
}
