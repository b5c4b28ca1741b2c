package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/nn"

	"github.com/glimpse-ml/glimpse/core/kernels"
)

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(scale * (2*rng.Float64() - 1))
	}
	return v
}

// naiveHeadLoss is the head's loss in float64 with plain loops: the
// reference the finite differences are taken on.
func naiveHeadLoss(x []float64, n, in, hid, k int, w1, b1, w2, b2, target, weight []float64) float64 {
	total := 0.0
	for i := 0; i < n; i++ {
		h := make([]float64, hid)
		for j := 0; j < hid; j++ {
			s := b1[j]
			for p := 0; p < in; p++ {
				s += x[i*in+p] * w1[p*hid+j]
			}
			h[j] = math.Max(s, 0)
		}
		z := make([]float64, k)
		mx := math.Inf(-1)
		for c := 0; c < k; c++ {
			s := b2[c]
			for j := 0; j < hid; j++ {
				s += h[j] * w2[j*k+c]
			}
			z[c] = s
			mx = math.Max(mx, s)
		}
		sum := 0.0
		for _, v := range z {
			sum += math.Exp(v - mx)
		}
		l := 0.0
		for c, v := range z {
			l -= target[i*k+c] * (v - mx - math.Log(sum))
		}
		total += weight[i] * l
	}
	return total / float64(n)
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestHeadGradientsMatchFiniteDifferences runs a two-layer head with
// label smoothing and sample weights as a spago graph of our operators and
// compares every gradient with central differences of a float64 loop.
func TestHeadGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, in, hid, k = 5, 13, 11, 4
	x := randSlice(rng, n*in, 1)
	w1, b1 := randSlice(rng, in*hid, 0.5), randSlice(rng, hid, 0.2)
	w2, b2 := randSlice(rng, hid*k, 0.5), randSlice(rng, k, 0.2)
	s := &Samples{Labels: []string{"a", "b", "c", "d"}, Dim: in, X: x, Y: []int{0, 3, 1, 2, 3}}
	target := targets(s, 0.1)
	weight := []float32{1, 0.5, 2, 1.5, 0.25}

	fail := &failures{}
	kern := kernels.Go{}
	xp := nn.NewParam(newMatrix(append([]float32(nil), x...), n, in))
	l1 := newLayer(in, hid, true, append([]float32(nil), w1...))
	copy(paramData(l1.b), b1)
	l2 := newLayer(hid, k, true, append([]float32(nil), w2...))
	copy(paramData(l2.b), b2)
	h := run(newDenseOp(fail, kern, xp, l1, n, kernels.ActReLU))
	z := run(newDenseOp(fail, kern, h, l2, n, kernels.ActNone))
	loss := run(&softmaxCEOp{fail: fail, logits: z, target: target, weight: weight, rows: n, classes: k})
	if err := ag.Backward(loss); err != nil {
		t.Fatal(err)
	}
	if err := fail.Err(); err != nil {
		t.Fatal(err)
	}

	ref := [][]float64{to64(x), to64(w1), to64(b1), to64(w2), to64(b2)}
	lossAt := func() float64 {
		return naiveHeadLoss(ref[0], n, in, hid, k, ref[1], ref[2], ref[3], ref[4], to64(target), to64(weight))
	}
	if got, want := float64(loss.Value().Item().F64()), lossAt(); math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
		t.Fatalf("loss %v, float64 reference %v", got, want)
	}
	// The layers hold Wᵀ and its gradient; the reference has W.
	gradW := func(l *layer) []float32 {
		g := make([]float32, l.in*l.out)
		for j := 0; j < l.out; j++ {
			for i := 0; i < l.in; i++ {
				g[i*l.out+j] = l.gw[j*l.in+i]
			}
		}
		return g
	}
	for pi, grad := range [][]float32{mat.Data[float32](xp.Grad()), gradW(l1), l1.gb, gradW(l2), l2.gb} {
		for i := range ref[pi] {
			const eps = 1e-6
			keep := ref[pi][i]
			ref[pi][i] = keep + eps
			up := lossAt()
			ref[pi][i] = keep - eps
			down := lossAt()
			ref[pi][i] = keep
			fd := (up - down) / (2 * eps)
			if d := math.Abs(float64(grad[i]) - fd); d > 1e-5+1e-3*math.Abs(fd) {
				t.Errorf("parameter %d element %d: gradient %v, finite difference %v", pi, i, grad[i], fd)
			}
		}
	}
}

// TestOperatorErrorsAreRecorded feeds a dense operator a kernel of the
// wrong shape: the error must be recorded on the trainer, not end the
// process through spago's log.Fatalf, and the operators after it must
// report that they had no input rather than panic.
func TestOperatorErrorsAreRecorded(t *testing.T) {
	fail := &failures{}
	kern := kernels.Go{}
	x := newMatrix(make([]float32, 6), 2, 3)
	bad := newLayer(3, 2, false, make([]float32, 6))
	bad.w = nn.NewParam(newMatrix(make([]float32, 8), 4, 2)) // wants 3 x 2
	z := run(newDenseOp(fail, kern, x, bad, 2, kernels.ActNone))
	loss := run(&softmaxCEOp{fail: fail, logits: z, target: make([]float32, 4), rows: 2, classes: 2})
	err := fail.Err()
	if err == nil || loss.Value() != nil {
		t.Fatalf("error %v, loss value %v: want a recorded error and no value", err, loss.Value())
	}
	t.Log(err)

	// A panic inside a kernel is recorded too, in the forward pass and in
	// the backward pass, which spago runs on goroutines of its own.
	fail = &failures{}
	l := newLayer(3, 2, false, make([]float32, 6))
	op := newDenseOp(fail, panicky{}, x, l, 2, kernels.ActNone)
	if v, err := op.Forward(); v != nil || err != nil || fail.Err() == nil {
		t.Fatalf("Forward gave %v, %v and recorded %v: want nil, nil and the panic", v, err, fail.Err())
	}
	fail = &failures{}
	op = newDenseOp(fail, kern, x, l, 2, kernels.ActNone)
	z = run(op)
	op.kern = panicky{}
	sum := run(&softmaxCEOp{fail: fail, logits: z, target: []float32{1, 0, 0, 1}, rows: 2, classes: 2})
	if err := ag.Backward(sum); err != nil {
		t.Fatal(err)
	}
	if err := fail.Err(); err == nil {
		t.Fatal("a panic in Backward was not recorded")
	} else {
		t.Log(err)
	}
}

// panicky is a kernel set whose GEMM panics.
type panicky struct{ kernels.Go }

func (panicky) GEMM(m, n, k int, a []float32, lda int, b []float32, bias []float32, c []float32, ldc int, act kernels.Act) {
	panic("kernel failure")
}

// TestDeterministicMath checks expDet and logDet against the standard
// library over a sweep: they must be as accurate as math.Exp and math.Log
// (within two units in the last place).
func TestDeterministicMath(t *testing.T) {
	ulps := func(a, b float64) float64 {
		if a == b {
			return 0
		}
		return math.Abs(a-b) / math.Abs(math.Nextafter(b, math.Inf(1))-b)
	}
	for x := -700.0; x < 700; x += 0.37 {
		if u := ulps(expDet(x), math.Exp(x)); u > 2 {
			t.Fatalf("expDet(%v) = %v, math.Exp %v (%v ulp)", x, expDet(x), math.Exp(x), u)
		}
	}
	for x := 1e-300; x < 1e300; x *= 1.7 {
		if u := ulps(logDet(x), math.Log(x)); u > 2 {
			t.Fatalf("logDet(%v) = %v, math.Log %v (%v ulp)", x, logDet(x), math.Log(x), u)
		}
	}
	if !math.IsInf(expDet(1000), 1) || expDet(-1000) != 0 || !math.IsNaN(expDet(math.NaN())) {
		t.Error("expDet special cases")
	}
	if !math.IsInf(logDet(0), -1) || !math.IsNaN(logDet(-1)) {
		t.Error("logDet special cases")
	}
}
