package train

import (
	"math"
	"math/rand/v2"
	"testing"

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
// label smoothing and sample weights forward and backward and compares
// every gradient, the input's too, with central differences of a float64
// loop.
func TestHeadGradientsMatchFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, in, hid, k = 5, 13, 11, 4
	x := randSlice(rng, n*in, 1)
	w1, b1 := randSlice(rng, in*hid, 0.5), randSlice(rng, hid, 0.2)
	w2, b2 := randSlice(rng, hid*k, 0.5), randSlice(rng, k, 0.2)
	s := &Samples{Labels: []string{"a", "b", "c", "d"}, Dim: in, X: x, Y: []int{0, 3, 1, 2, 3}}
	target := targets(s, 0.1)
	weight := []float32{1, 0.5, 2, 1.5, 0.25}

	kern := kernels.Go{}
	l1 := newLayer(in, hid, true, append([]float32(nil), w1...))
	copy(l1.b, b1)
	l2 := newLayer(hid, k, true, append([]float32(nil), w2...))
	copy(l2.b, b2)
	h := l1.forward(kern, x, n, kernels.ActReLU)
	z := l2.forward(kern, h, n, kernels.ActNone)
	prob, rowLoss, dz := make([]float64, n*k), make([]float64, n), make([]float32, n*k)
	loss := SoftmaxCrossEntropy(z, target, weight, n, k, prob, rowLoss)
	SoftmaxCrossEntropyGrad(1, prob, target, weight, n, k, dz)
	gh, err := l2.backward(kern, h, dz, n, kernels.ActNone, true)
	if err != nil {
		t.Fatal(err)
	}
	gx, err := l1.backward(kern, x, gh, n, kernels.ActReLU, true)
	if err != nil {
		t.Fatal(err)
	}

	ref := [][]float64{to64(x), to64(w1), to64(b1), to64(w2), to64(b2)}
	lossAt := func() float64 {
		return naiveHeadLoss(ref[0], n, in, hid, k, ref[1], ref[2], ref[3], ref[4], to64(target), to64(weight))
	}
	if got, want := float64(loss), lossAt(); math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
		t.Fatalf("loss %v, float64 reference %v", got, want)
	}
	// The layers hold Wᵀ and its gradient; the reference has W.
	gradW := func(l *layer) []float32 {
		g := make([]float32, l.in*l.out)
		Transpose(l.gw, l.out, l.in, g)
		return g
	}
	for pi, grad := range [][]float32{gx, gradW(l1), l1.gb, gradW(l2), l2.gb} {
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

// TestKernelPanicFailsTraining: a kernel that panics in the middle of
// training makes Train return an error, never end the program (in the
// browser, the page's one runtime).
func TestKernelPanicFailsTraining(t *testing.T) {
	s := uniformSamples(2, 10, 8)
	cfg, _ := Preset("tm")
	cfg.Epochs, cfg.Kernels = 2, panicky{}
	h, err := Train(s, cfg, nil)
	if err == nil || h != nil {
		t.Fatalf("Train gave %v, %v: want an error", h, err)
	}
	t.Log(err)
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
