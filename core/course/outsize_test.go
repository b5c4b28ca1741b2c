package course

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// The course's own examples.
func TestOutputSizeSeedExamples(t *testing.T) {
	for _, c := range []struct{ w, f, p, s, want int }{
		{7, 3, 0, 1, 5},     // 7x7 input volume, 3x3 kernel, stride 1: 5x5 output volume
		{227, 11, 0, 4, 55}, // (227 − 11 + 0)/4 + 1 = 55
	} {
		o, err := OutputSize(c.w, c.f, c.p, c.s)
		if err != nil {
			t.Fatal(err)
		}
		if o.Floor != c.want || !o.Whole || o.Span != c.w-c.f+2*c.p {
			t.Errorf("W=%d F=%d P=%d S=%d: %+v, want %d, whole", c.w, c.f, c.p, c.s, o, c.want)
		}
	}
}

// A division that is not whole: 224 with a 3x3 kernel and stride 2 and no
// padding travels 221 pixels, 110.5 strides.
func TestOutputSizeNotWhole(t *testing.T) {
	o, err := OutputSize(224, 3, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if o.Whole || o.Span != 221 || o.Floor != 111 || o.Ceil != 112 || o.Left != 1 || o.Same != 112 || o.Valid != 111 ||
		o.SamePad != [2]int{0, 1} {
		t.Errorf("%+v", o)
	}
}

// Floor and ceil mode against torch, for every case its reference holds.
func TestOutputSizeTorch(t *testing.T) {
	var ref struct {
		Cases []struct {
			W, F, P, S, Floor int
			Ceil              *int
		}
	}
	data, err := os.ReadFile("testdata/outsize_torch.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 500 {
		t.Fatalf("only %d cases", len(ref.Cases))
	}
	for _, c := range ref.Cases {
		o, err := OutputSize(c.W, c.F, c.P, c.S)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if o.Floor != c.Floor {
			t.Errorf("W=%d F=%d P=%d S=%d: floor %d, torch %d", c.W, c.F, c.P, c.S, o.Floor, c.Floor)
		}
		if c.Ceil != nil && o.Ceil != *c.Ceil {
			t.Errorf("W=%d F=%d P=%d S=%d: ceil %d, torch %d", c.W, c.F, c.P, c.S, o.Ceil, *c.Ceil)
		}
		w, err := o.Window(o.Floor - 1)
		if err != nil || w.Last > c.W+c.P-1 || w.Last+o.Left != c.W+c.P-1 {
			t.Errorf("W=%d F=%d P=%d S=%d: last window %+v, %d left (%v)", c.W, c.F, c.P, c.S, w, o.Left, err)
		}
	}
}

// Padding "same" and "valid" against TF.js.
func TestOutputSizeTFJS(t *testing.T) {
	var ref struct {
		Cases []struct {
			W, F, S, Same int
			SamePadBefore *int
			Valid         *int
		}
	}
	data, err := os.ReadFile("testdata/outsize_tfjs.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	for _, c := range ref.Cases {
		// P does not matter to "same" and "valid"; give the largest that fits none.
		o, err := OutputSize(c.W, c.F, c.F, c.S)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		if o.Same != c.Same {
			t.Errorf("W=%d F=%d S=%d: same %d, TF.js %d", c.W, c.F, c.S, o.Same, c.Same)
		}
		if c.SamePadBefore != nil && o.SamePad[0] != *c.SamePadBefore {
			t.Errorf("W=%d F=%d S=%d: same pads %v, TF.js pads %d before", c.W, c.F, c.S, o.SamePad, *c.SamePadBefore)
		}
		want := 0
		if c.Valid != nil {
			want = *c.Valid
		}
		if o.Valid != want {
			t.Errorf("W=%d F=%d S=%d: valid %d, TF.js %d", c.W, c.F, c.S, o.Valid, want)
		}
	}
}

func TestOutputSizeWindow(t *testing.T) {
	// 7x7, 3x3, stride 2, padding 1: cell 0 starts in the padding.
	o, err := OutputSize(7, 3, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if o.Floor != 4 {
		t.Fatalf("%+v", o)
	}
	w, err := o.Window(0)
	if err != nil || w != (Window{First: -1, Last: 1, InFirst: 0, InLast: 1}) {
		t.Errorf("cell 0: %+v %v", w, err)
	}
	w, err = o.Window(3)
	if err != nil || w != (Window{First: 5, Last: 7, InFirst: 5, InLast: 6}) {
		t.Errorf("cell 3: %+v %v", w, err)
	}
	for _, i := range []int{-1, 4} {
		if _, err := o.Window(i); err == nil {
			t.Errorf("cell %d: no error", i)
		}
	}
}

func TestOutputSizeBadInput(t *testing.T) {
	for _, c := range [][4]int{{0, 3, 0, 1}, {7, 0, 0, 1}, {7, 3, -1, 1}, {7, 3, 0, 0}, {MaxSide + 1, 3, 0, 1}} {
		if _, err := OutputSize(c[0], c[1], c[2], c[3]); err == nil {
			t.Errorf("%v: no error", c)
		}
	}
	_, err := OutputSize(3, 7, 1, 1)
	var big *TooBigError
	if !errors.As(err, &big) || big.F != 7 || big.W+big.Pad != 5 {
		t.Errorf("kernel larger than the padded input: %v", err)
	}
}
