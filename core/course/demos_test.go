package course

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

func TestDiagonal(t *testing.T) {
	for _, class := range []string{`\`, `/`} {
		toy, err := Diagonal(ToyDrawing(class))
		if err != nil {
			t.Fatal(err)
		}
		if toy.Class != class || toy.Side != 5 || len(toy.Slides) != 25 {
			t.Errorf("%s: %+v", class, toy)
		}
	}
	// Every dot product, summed by hand, is the engine's output cell, and
	// the score is their mean.
	rng := rand.New(rand.NewPCG(1, 2))
	pic := make([]float32, ToySide*ToySide)
	for i := range pic {
		pic[i] = rng.Float32()
	}
	toy, err := Diagonal(pic)
	if err != nil {
		t.Fatal(err)
	}
	var mean float64
	for i, s := range toy.Slides {
		var sum float64
		k := DiagonalKernel()
		for a := range 3 {
			for b := range 3 {
				sum += float64(k[a*3+b]) * float64(pic[(s.Row+a)*ToySide+s.Col+b])
			}
		}
		if math.Abs(sum-float64(toy.Map[i])) > 1e-6 || math.Abs(sum-float64(s.Sum)) > 1e-6 {
			t.Errorf("cell %d: by hand %v, engine %v, products %v", i, sum, toy.Map[i], s.Sum)
		}
		mean += sum / 25
	}
	if math.Abs(mean-float64(toy.Score)) > 1e-6 {
		t.Errorf("score %v, mean %v", toy.Score, mean)
	}
	if _, err := Diagonal(pic[:48]); err == nil {
		t.Error("a 48-cell drawing: no error")
	}
}

// Pooling against float64 loops, on a map the window does not divide.
func TestPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	h, w := 9, 7
	fm := make([]float32, h*w)
	for i := range fm {
		fm[i] = rng.Float32()*4 - 2
	}
	coef, bias := float32(0.7), float32(-0.3)
	for _, c := range [][2]int{{2, 2}, {3, 2}, {3, 3}} {
		p, err := Pool(fm, h, w, c[0], c[1], coef, bias)
		if err != nil {
			t.Fatal(err)
		}
		oh, ow := (h-c[0])/c[1]+1, (w-c[0])/c[1]+1
		if p.Out != (ir.Shape{oh, ow, 1}) {
			t.Fatalf("%v: out %v", c, p.Out)
		}
		for i := range oh {
			for j := range ow {
				mx, sum := math.Inf(-1), 0.0
				for a := range c[0] {
					for b := range c[0] {
						v := float64(fm[(i*c[1]+a)*w+j*c[1]+b])
						mx = math.Max(mx, v)
						sum += v
					}
				}
				lenet := 1 / (1 + math.Exp(-(sum*float64(coef) + float64(bias))))
				k := i*ow + j
				if float64(p.Max[k]) != mx || math.Abs(float64(p.Avg[k])-sum/float64(c[0]*c[0])) > 1e-6 ||
					math.Abs(float64(p.LeNet[k])-lenet) > 1e-6 {
					t.Errorf("%v (%d,%d): max %v/%v avg %v/%v lenet %v/%v", c, i, j, p.Max[k], mx, p.Avg[k],
						sum/float64(c[0]*c[0]), p.LeNet[k], lenet)
				}
			}
		}
	}
	for _, bad := range []func() error{
		func() error { _, err := Pool(fm, h, w, 8, 2, 1, 0); return err },
		func() error { _, err := Pool(fm, h, w, 2, 3, 1, 0); return err },
		func() error { _, err := Pool(fm[:5], h, w, 2, 2, 1, 0); return err },
		func() error { _, err := Pool(fm, h, w, 2, 2, float32(math.NaN()), 0); return err },
	} {
		if bad() == nil {
			t.Error("bad pooling input: no error")
		}
	}
}

// Softmax's steps against the engine's own softmax.
func TestSoftmax(t *testing.T) {
	logits := []float32{2.5, -1, 0.3, 7, 7}
	s, err := Softmax(logits)
	if err != nil {
		t.Fatal(err)
	}
	g := ir.New(ir.Shape{1, 1, len(logits)})
	g.Outputs = []string{g.AddNode("softmax", ir.Softmax, []string{g.Input}, nil, ir.Attrs{})}
	e, err := engine.New(g, kernels.Go{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Run(logits); err != nil {
		t.Fatal(err)
	}
	var total float64
	for i, p := range s.Prob {
		if math.Abs(p-float64(e.Output("softmax")[i])) > 1e-6 || p <= 0 || p >= 1 {
			t.Errorf("class %d: %v, engine %v", i, p, e.Output("softmax")[i])
		}
		if s.Shifted[i] != s.Logits[i]-7 || math.Abs(s.Exp[i]-math.Exp(s.Logits[i]-7)) > 1e-15 {
			t.Errorf("class %d: steps %v %v", i, s.Shifted[i], s.Exp[i])
		}
		total += p
	}
	if math.Abs(total-1) > 1e-12 || s.Max != 7 {
		t.Errorf("sum %v, max %v", total, s.Max)
	}
	// Logits that would overflow exp without the shift.
	big, err := Softmax([]float32{1000, 999})
	if err != nil || math.Abs(big.Prob[0]-1/(1+math.Exp(-1))) > 1e-12 {
		t.Errorf("%+v %v", big, err)
	}
	for _, bad := range [][]float32{nil, {1, float32(math.NaN())}, {float32(math.Inf(1))}} {
		if _, err := Softmax(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

func TestPicture(t *testing.T) {
	p, err := PictureSize(1920, 1080, 3, 8)
	if err != nil || p.Bytes != 6220800 || p.Levels != 256 || p.Values != 6220800 {
		t.Errorf("%+v %v", p, err)
	}
	p, err = PictureSize(28, 28, 1, 1)
	if err != nil || p.Bytes != 98 || p.Levels != 2 {
		t.Errorf("%+v %v", p, err)
	}
	if _, err := PictureSize(0, 5, 3, 8); err == nil {
		t.Error("0 wide: no error")
	}
	rgba := []byte{1, 2, 3, 255, 4, 5, 6, 255}
	r, g, b, err := SplitRGBA(rgba, 2, 1)
	if err != nil || string(r) != "\x01\x04" || string(g) != "\x02\x05" || string(b) != "\x03\x06" {
		t.Errorf("%v %v %v %v", r, g, b, err)
	}
	if _, _, _, err := SplitRGBA(rgba, 3, 1); err == nil {
		t.Error("short RGBA: no error")
	}
	if Blank(rgba) || !Blank([]byte{9, 9, 9, 255, 9, 9, 9, 0}) {
		t.Error("Blank")
	}
}

// A picture dark on the left and bright on the right has one vertical
// edge. Along each row the map is 4·(I(x+2) − I(x)) for the grey profile I
// (the kernel's columns sum to −4, 0 and 4), which telescopes: a row sums
// to 4·(1 + 1 − 0 − 0) = 8 whatever the resizing did to the step, and is
// 0 away from the edge.
func TestEdgeMap(t *testing.T) {
	const w, h = 40, 40
	rgba := make([]byte, 4*w*h)
	for y := range h {
		for x := range w {
			v := byte(0)
			if x >= w/2 {
				v = 255
			}
			i := 4 * (y*w + x)
			rgba[i], rgba[i+1], rgba[i+2], rgba[i+3] = v, v, v, 255
		}
	}
	m, side, err := EdgeMap(rgba, w, h, 20)
	if err != nil || side != 18 {
		t.Fatal(side, err)
	}
	for y := range side {
		var sum float64
		for x := range side {
			v := m[y*side+x]
			sum += float64(v)
			if (x <= 4 || x >= 13) && v != 0 {
				t.Errorf("(%d,%d): %v away from the edge", y, x, v)
			}
			if v != m[x] {
				t.Errorf("row %d differs from row 0 at %d", y, x)
			}
		}
		if math.Abs(sum-8) > 1e-5 {
			t.Errorf("row %d sums to %v, want 8", y, sum)
		}
	}
	if _, _, err := EdgeMap(rgba[:10], w, h, 20); err == nil {
		t.Error("short pixels: no error")
	}
}

func TestBusiestChannel(t *testing.T) {
	// channel 0 constant, channel 1 varies a little, channel 2 a lot
	s := ir.Shape{2, 2, 3}
	v := []float32{5, 1, 0, 5, 2, 10, 5, 1, 0, 5, 2, 10}
	ch, plane, err := BusiestChannel(v, s)
	if err != nil || ch != 2 || plane[0] != 0 || plane[1] != 10 || plane[3] != 10 {
		t.Errorf("channel %d %v %v", ch, plane, err)
	}
	if _, _, err := BusiestChannel(v[:5], s); err == nil {
		t.Error("short map: no error")
	}
}
