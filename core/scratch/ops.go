package scratch

import (
	"errors"
	"fmt"
	"sync"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/nn"

	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/train"
)

// failures collects the first error that any operator of one training run
// hit. spago calls log.Fatalf when an operator returns an error, which
// would end the process (the CLI) or kill the Go runtime for good (the
// browser), and it runs backward passes in goroutines of its own, where no
// recover of the caller reaches. So every operator here recovers inside
// Forward and Backward, records what went wrong here and returns nil; the
// trainer checks Err after each forward and each backward pass.
type failures struct {
	mu  sync.Mutex
	err error
}

func (f *failures) set(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
}

// Err returns the first recorded error, or nil.
func (f *failures) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// guard runs fn, recording its error or its panic under the operator's
// name. It reports whether fn succeeded.
func (f *failures) guard(op string, fn func() error) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			f.set(fmt.Errorf("%s: %v", op, r))
			ok = false
		}
	}()
	if err := fn(); err != nil {
		f.set(fmt.Errorf("%s: %w", op, err))
		return false
	}
	return true
}

// errUpstream is what an operator reports when an operand has no value
// because an earlier operator failed (and recorded the real cause first).
var errUpstream = errors.New("an operand has no value")

// dense32 returns the float32 matrix behind a tensor: a parameter, a
// constant or an operator's computed value.
func dense32(t mat.Tensor) (*mat.Dense[float32], error) {
	if t == nil {
		return nil, errUpstream
	}
	v := t.Value()
	if v == nil {
		return nil, errUpstream
	}
	d, ok := v.(*mat.Dense[float32])
	if !ok {
		return nil, fmt.Errorf("operand is %T, want a float32 matrix", v)
	}
	return d, nil
}

// data32 returns the values of t, checking it holds rows x cols of them.
func data32(t mat.Tensor, rows, cols int, what string) ([]float32, error) {
	d, err := dense32(t)
	if err != nil {
		return nil, err
	}
	if s := d.Shape(); s[0] != rows || s[1] != cols {
		return nil, fmt.Errorf("%s is %dx%d, want %dx%d", what, s[0], s[1], rows, cols)
	}
	return mat.Data[float32](d), nil
}

// newMatrix wraps data (not copied) as a rows x cols spago matrix.
func newMatrix(data []float32, rows, cols int) *mat.Dense[float32] {
	return mat.NewDense[float32](mat.WithBacking(data), mat.WithShape(rows, cols))
}

// needsGrad tells whether gradients must flow into t.
func needsGrad(t mat.Tensor) bool { return t != nil && t.RequiresGrad() }

func paramData(p *nn.Param) []float32 {
	if p == nil {
		return nil
	}
	return mat.Data[float32](p.Value())
}

// grow returns buf resliced to n values, reallocated only when too short.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// denseOp is a fully connected layer over a batch, y = act(x*W + b), as a
// spago AutoGradFunction whose forward and backward passes run on the
// engine's GEMM (spago's own mat.Mul is several times slower under wasm).
// x is rows x in, W is in x out (the IR's Dense layout), b is 1 x out or
// nil; act is ActNone, ActReLU or ActReLU6. The gradients of W and b go
// through spago's AccGrad, for whatever optimizer trains them.
type denseOp struct {
	fail          *failures
	kern          kernels.Kernels
	x, w, b       mat.Tensor
	rows, in, out int
	act           kernels.Act
	y             []float32 // the output, the activation's backward input
}

// newDenseOp makes the operator of W (in x out) and b (nil: no bias) on x
// (rows x in).
func newDenseOp(fail *failures, kern kernels.Kernels, x mat.Tensor, w, b *nn.Param, rows, in, out int, act kernels.Act) *denseOp {
	op := &denseOp{fail: fail, kern: kern, x: x, w: w, rows: rows, in: in, out: out, act: act}
	if b != nil { // a nil *nn.Param would be a non-nil mat.Tensor
		op.b = b
	}
	return op
}

func (op *denseOp) Operands() []mat.Tensor {
	if op.b == nil {
		return []mat.Tensor{op.x, op.w}
	}
	return []mat.Tensor{op.x, op.w, op.b}
}

func (op *denseOp) Forward() (mat.Tensor, error) {
	var y *mat.Dense[float32]
	op.fail.guard("dense forward", func() error {
		x, err := data32(op.x, op.rows, op.in, "input")
		if err != nil {
			return err
		}
		w, err := data32(op.w, op.in, op.out, "kernel")
		if err != nil {
			return err
		}
		var b []float32
		if op.b != nil {
			if b, err = data32(op.b, 1, op.out, "bias"); err != nil {
				return err
			}
		}
		op.y = make([]float32, op.rows*op.out)
		op.kern.GEMM(op.rows, op.out, op.in, x, op.in, op.kern.PackGEMMWeights(w, op.in, op.out), b, op.y, op.out, op.act)
		y = newMatrix(op.y, op.rows, op.out)
		return nil
	})
	if y == nil {
		return nil, nil // the failure is recorded; see failures
	}
	return y, nil
}

func (op *denseOp) Backward(gy mat.Tensor) error {
	op.fail.guard("dense backward", func() error {
		g0, err := data32(gy, op.rows, op.out, "output gradient")
		if err != nil {
			return err
		}
		g := append([]float32(nil), g0...)
		if err := train.ActGrad(op.act, op.y, g); err != nil {
			return err
		}
		x, err := data32(op.x, op.rows, op.in, "input")
		if err != nil {
			return err
		}
		w, err := data32(op.w, op.in, op.out, "kernel")
		if err != nil {
			return err
		}
		if needsGrad(op.w) {
			// dW = xᵀ g: (in x rows) * (rows x out).
			xt := make([]float32, op.in*op.rows)
			train.Transpose(x, op.rows, op.in, xt)
			dw := make([]float32, op.in*op.out)
			train.MatMul(op.kern, op.in, op.out, op.rows, xt, g, dw)
			op.w.AccGrad(newMatrix(dw, op.in, op.out))
		}
		if needsGrad(op.b) {
			db := make([]float32, op.out)
			for i := 0; i < op.rows; i++ {
				for j, v := range g[i*op.out : (i+1)*op.out] {
					db[j] += v
				}
			}
			op.b.AccGrad(newMatrix(db, 1, op.out))
		}
		if needsGrad(op.x) {
			// dx = g Wᵀ: (rows x out) * (out x in).
			wt := make([]float32, op.out*op.in)
			train.Transpose(w, op.in, op.out, wt)
			dx := make([]float32, op.rows*op.in)
			train.MatMul(op.kern, op.rows, op.in, op.out, g, wt, dx)
			op.x.AccGrad(newMatrix(dx, op.rows, op.in))
		}
		return nil
	})
	return nil
}

// softmaxCEOp is train.SoftmaxCrossEntropy of a batch of logits (rows x
// classes) against target distributions, rows weighted by weight (nil:
// 1), as a spago operator. The forward pass keeps the probabilities.
type softmaxCEOp struct {
	fail          *failures
	logits        mat.Tensor
	target        []float32 // rows x classes
	weight        []float32 // rows, or nil
	rows, classes int
	prob          []float64 // rows x classes, from the forward pass
	rowLoss       []float64 // unweighted loss of each row
}

func (op *softmaxCEOp) Operands() []mat.Tensor { return []mat.Tensor{op.logits} }

func (op *softmaxCEOp) Forward() (mat.Tensor, error) {
	var loss *mat.Dense[float32]
	op.fail.guard("softmax cross-entropy forward", func() error {
		z, err := data32(op.logits, op.rows, op.classes, "logits")
		if err != nil {
			return err
		}
		if len(op.target) != op.rows*op.classes || (op.weight != nil && len(op.weight) != op.rows) {
			return fmt.Errorf("targets for %d rows of %d classes have %d values", op.rows, op.classes, len(op.target))
		}
		op.prob = make([]float64, op.rows*op.classes)
		op.rowLoss = make([]float64, op.rows)
		loss = mat.Scalar(train.SoftmaxCrossEntropy(z, op.target, op.weight, op.rows, op.classes, op.prob, op.rowLoss))
		return nil
	})
	if loss == nil {
		return nil, nil
	}
	return loss, nil
}

func (op *softmaxCEOp) Backward(gy mat.Tensor) error {
	op.fail.guard("softmax cross-entropy backward", func() error {
		g, err := data32(gy, 1, 1, "loss gradient")
		if err != nil {
			return err
		}
		if !needsGrad(op.logits) {
			return nil
		}
		dz := make([]float32, op.rows*op.classes)
		train.SoftmaxCrossEntropyGrad(g[0], op.prob, op.target, op.weight, op.rows, op.classes, dz)
		op.logits.AccGrad(newMatrix(dz, op.rows, op.classes))
		return nil
	})
	return nil
}

// run makes an operator of f and runs its forward pass synchronously:
// training graphs here are chains, and synchronous forwards keep the
// order of every floating-point operation fixed.
func run(f ag.AutoGradFunction) *ag.Operator { return ag.NewOperator(f).Run() }
