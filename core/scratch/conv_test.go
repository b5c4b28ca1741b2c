package scratch

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/nn"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

func randomBlock(t *testing.T, rng *rand.Rand, h, w, c, e int) *InvertedResidual {
	t.Helper()
	blk, err := NewInvertedResidual(h, w, c, e,
		randSlice(rng, c*e, 0.6), randSlice(rng, e, 0.5), randSlice(rng, 9*e, 0.6),
		randSlice(rng, e, 0.5), randSlice(rng, e*c, 0.4), randSlice(rng, c, 0.3))
	if err != nil {
		t.Fatal(err)
	}
	return blk
}

// TestInvertedResidualMatchesEngine runs an inverted-residual block as a
// spago graph of our operators on a batch of three and compares each
// image's output with the engine running the same block as an IR graph.
func TestInvertedResidualMatchesEngine(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const h, w, c, e, n = 7, 6, 8, 24, 3
	blk := randomBlock(t, rng, h, w, c, e)
	x := randSlice(rng, n*h*w*c, 2)
	for _, kern := range []kernels.Kernels{kernels.Go{}, kernels.Best()} {
		out, _, err := blk.Forward(kern, newMatrix(x, n*h*w, c), n)
		if err != nil {
			t.Fatal(err)
		}
		got := mat.Data[float32](out.Value())
		eng, err := engine.New(blk.Graph(), kern)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := 0; i < n; i++ {
			img := x[i*h*w*c : (i+1)*h*w*c]
			if err := eng.Run(img); err != nil {
				t.Fatal(err)
			}
			want := eng.Output(eng.Outputs()[0])
			for j, v := range want {
				worst = max(worst, math.Abs(float64(got[i*h*w*c+j]-v)))
			}
		}
		t.Logf("%s kernels: worst difference from the engine %.2g", kern.Name(), worst)
		if worst > 1e-5 {
			t.Fatalf("%s kernels: spago graph differs from the engine by %v", kern.Name(), worst)
		}
	}
}

// naiveBlock is the block in float64 with plain loops (SAME 3x3 depthwise,
// ReLU6 after expansion and depthwise, linear projection, residual).
func naiveBlock(x []float64, n, h, w, c, e int, ew, eb, dw, db, pw, pb []float64) []float64 {
	relu6 := func(v float64) float64 { return math.Min(math.Max(v, 0), 6) }
	out := make([]float64, len(x))
	for i := 0; i < n; i++ {
		exp := make([]float64, h*w*e)
		for p := 0; p < h*w; p++ {
			for o := 0; o < e; o++ {
				s := eb[o]
				for q := 0; q < c; q++ {
					s += x[(i*h*w+p)*c+q] * ew[q*e+o]
				}
				exp[p*e+o] = relu6(s)
			}
		}
		dwo := make([]float64, h*w*e)
		for y := 0; y < h; y++ {
			for xx := 0; xx < w; xx++ {
				for o := 0; o < e; o++ {
					s := db[o]
					for ky := 0; ky < 3; ky++ {
						for kx := 0; kx < 3; kx++ {
							iy, ix := y+ky-1, xx+kx-1
							if iy >= 0 && iy < h && ix >= 0 && ix < w {
								s += exp[(iy*w+ix)*e+o] * dw[(ky*3+kx)*e+o]
							}
						}
					}
					dwo[(y*w+xx)*e+o] = relu6(s)
				}
			}
		}
		for p := 0; p < h*w; p++ {
			for o := 0; o < c; o++ {
				s := pb[o]
				for q := 0; q < e; q++ {
					s += dwo[p*e+q] * pw[q*c+o]
				}
				out[(i*h*w+p)*c+o] = s + x[(i*h*w+p)*c+o]
			}
		}
	}
	return out
}

// TestInvertedResidualGradients: the block's backward pass (through the
// residual, both ReLU6s, the depthwise and both pointwise convolutions)
// against central differences of the float64 loop, for the loss
// sum(out * r) with a random r.
func TestInvertedResidualGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const h, w, c, e, n = 5, 4, 3, 6, 2
	blk := randomBlock(t, rng, h, w, c, e)
	x := randSlice(rng, n*h*w*c, 1.5)
	r := randSlice(rng, n*h*w*c, 1)
	xp := nn.NewParam(newMatrix(append([]float32(nil), x...), n*h*w, c))
	out, errs, err := blk.Forward(kernels.Go{}, xp, n)
	if err != nil {
		t.Fatal(err)
	}
	naive := naiveBlock(to64(x), n, h, w, c, e, to64(paramData(blk.ExpandW)), to64(paramData(blk.ExpandB)),
		to64(paramData(blk.DWW)), to64(paramData(blk.DWB)), to64(paramData(blk.ProjectW)), to64(paramData(blk.ProjectB)))
	for i, v := range mat.Data[float32](out.Value()) {
		if math.Abs(float64(v)-naive[i]) > 1e-5 {
			t.Fatalf("output %d: %v, float64 loop %v", i, v, naive[i])
		}
	}
	out.AccGrad(newMatrix(append([]float32(nil), r...), n*h*w, c))
	if err := ag.Backward(out); err != nil {
		t.Fatal(err)
	}
	if err := errs.Err(); err != nil {
		t.Fatal(err)
	}

	params := []*nn.Param{xp, blk.ExpandW, blk.ExpandB, blk.DWW, blk.DWB, blk.ProjectW, blk.ProjectB}
	ref := make([][]float64, len(params))
	for i, p := range params {
		ref[i] = to64(paramData(p))
	}
	r64 := to64(r)
	loss := func() float64 {
		o := naiveBlock(ref[0], n, h, w, c, e, ref[1], ref[2], ref[3], ref[4], ref[5], ref[6])
		s := 0.0
		for i, v := range o {
			s += v * r64[i]
		}
		return s
	}
	checked := 0
	for pi, p := range params {
		grad := mat.Data[float32](p.Grad())
		for i := range ref[pi] {
			const eps = 1e-6
			keep := ref[pi][i]
			ref[pi][i] = keep + eps
			up := loss()
			ref[pi][i] = keep - eps
			down := loss()
			ref[pi][i] = keep
			fd := (up - down) / (2 * eps)
			if d := math.Abs(float64(grad[i]) - fd); d > 1e-4+1e-3*math.Abs(fd) {
				t.Errorf("parameter %d element %d: gradient %v, finite difference %v", pi, i, grad[i], fd)
			}
			checked++
		}
	}
	t.Logf("%d gradients checked", checked)
}

// TestInvertedResidualRejectsBadShapes before building any graph.
func TestInvertedResidualRejectsBadShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	if _, err := NewInvertedResidual(4, 4, 3, 6, make([]float32, 5), nil, nil, nil, nil, nil); err == nil {
		t.Error("short weights accepted")
	}
	blk := randomBlock(t, rng, 4, 4, 3, 6)
	if _, _, err := blk.Forward(kernels.Go{}, newMatrix(make([]float32, 15*3), 15, 3), 1); err == nil {
		t.Error("a 15-pixel input accepted for a 4x4 block")
	}
}
