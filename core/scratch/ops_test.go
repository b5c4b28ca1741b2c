package scratch

import (
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/ag"
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

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// TestOperatorErrorsAreRecorded feeds a dense operator a kernel of the
// wrong shape: the error must be recorded on the trainer, not end the
// process through spago's log.Fatalf, and the operators after it must
// report that they had no input rather than panic.
func TestOperatorErrorsAreRecorded(t *testing.T) {
	fail := &failures{}
	kern := kernels.Go{}
	x := newMatrix(make([]float32, 6), 2, 3)
	bad := nn.NewParam(newMatrix(make([]float32, 8), 4, 2)) // wants 3 x 2
	z := run(newDenseOp(fail, kern, x, bad, nil, 2, 3, 2, kernels.ActNone))
	loss := run(&softmaxCEOp{fail: fail, logits: z, target: make([]float32, 4), rows: 2, classes: 2})
	err := fail.Err()
	if err == nil || loss.Value() != nil {
		t.Fatalf("error %v, loss value %v: want a recorded error and no value", err, loss.Value())
	}
	t.Log(err)

	// A panic inside a kernel is recorded too, in the forward pass and in
	// the backward pass, which spago runs on goroutines of its own.
	fail = &failures{}
	w := nn.NewParam(newMatrix(make([]float32, 6), 3, 2))
	op := newDenseOp(fail, panicky{}, x, w, nil, 2, 3, 2, kernels.ActNone)
	if v, err := op.Forward(); v != nil || err != nil || fail.Err() == nil {
		t.Fatalf("Forward gave %v, %v and recorded %v: want nil, nil and the panic", v, err, fail.Err())
	}
	fail = &failures{}
	op = newDenseOp(fail, kern, x, w, nil, 2, 3, 2, kernels.ActNone)
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
