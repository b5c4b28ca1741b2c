package train

import (
	"errors"
	"fmt"
	"sync"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"

	"github.com/glimpse-ml/glimpse/core/kernels"
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

// transpose writes the cols x rows transpose of the row-major a into dst.
func transpose(a []float32, rows, cols int, dst []float32) {
	for i := 0; i < rows; i++ {
		row := a[i*cols : (i+1)*cols]
		for j, v := range row {
			dst[j*rows+i] = v
		}
	}
}

// gemm computes c = a*b for row-major a (m x k) and b (k x n) on the
// engine's kernels: packing b is O(k*n), small next to the O(m*k*n)
// product for every shape training meets.
func gemm(kern kernels.Kernels, m, n, k int, a, b, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		clear(c[:m*n])
		return
	}
	kern.GEMM(m, n, k, a, k, kern.PackGEMMWeights(b, k, n), nil, c, n, kernels.ActNone)
}

// denseOp is a fully connected layer over a batch, y = act(x*W + b), as a
// spago AutoGradFunction whose forward and backward passes run on the
// engine's GEMM (spago's own mat.Mul is several times slower under wasm).
// x is rows x in, W is in x out (the IR's Dense layout), b is 1 x out or
// nil; act is ActNone, ActReLU or ActReLU6. W and b are l's parameters.
// Their gradients go to l's buffers gw and gb when it has them (the
// trainer's layers, whose Adam reads them there) and through spago's
// AccGrad otherwise (graphs that spago's optimizers train); every scratch
// buffer is l's, reused from step to step.
type denseOp struct {
	fail          *failures
	kern          kernels.Kernels
	x, w, b       mat.Tensor
	rows, in, out int
	act           kernels.Act
	l             *layer
}

// newDenseOp makes the operator of layer l on x (rows x l.in).
func newDenseOp(fail *failures, kern kernels.Kernels, x mat.Tensor, l *layer, rows int, act kernels.Act) *denseOp {
	op := &denseOp{fail: fail, kern: kern, x: x, w: l.w, rows: rows, in: l.in, out: l.out, act: act, l: l}
	if l.b != nil { // a nil *nn.Param would be a non-nil mat.Tensor
		op.b = l.b
	}
	return op
}

func (op *denseOp) Operands() []mat.Tensor {
	if op.b == nil {
		return []mat.Tensor{op.x, op.w}
	}
	return []mat.Tensor{op.x, op.w, op.b}
}

// wShape is the shape of the weight matrix as l stores it.
func (op *denseOp) wShape() (int, int) {
	if op.l.transposed {
		return op.out, op.in
	}
	return op.in, op.out
}

func (op *denseOp) Forward() (mat.Tensor, error) {
	var y *mat.Dense[float32]
	op.fail.guard("dense forward", func() error {
		x, err := data32(op.x, op.rows, op.in, "input")
		if err != nil {
			return err
		}
		wr, wc := op.wShape()
		w, err := data32(op.w, wr, wc, "kernel")
		if err != nil {
			return err
		}
		var b []float32
		if op.b != nil {
			if b, err = data32(op.b, 1, op.out, "bias"); err != nil {
				return err
			}
		}
		// y is the next operator's input and, kept in l, the
		// activation's backward input.
		l := op.l
		l.y = grow(l.y, op.rows*op.out)
		if !l.transposed {
			op.kern.GEMM(op.rows, op.out, op.in, x, op.in, op.kern.PackGEMMWeights(w, op.in, op.out), b, l.y, op.out, op.act)
			y = newMatrix(l.y, op.rows, op.out)
			return nil
		}
		// yᵀ = Wᵀ xᵀ: Wᵀ is GEMM's left operand as it is, and only the
		// batch's xᵀ (in x rows) is packed. Each sum runs over the same
		// products in the same order as in x W, so the bits are those of
		// the GEMM of x by packed W; the bias and the activation follow,
		// as in the GEMM's own epilogue. xᵀ is kept for the backward pass.
		l.xt = grow(l.xt, op.in*op.rows)
		transpose(x, op.rows, op.in, l.xt)
		l.yt = grow(l.yt, op.out*op.rows)
		gemm(op.kern, op.out, op.rows, op.in, w, l.xt, l.yt)
		transpose(l.yt, op.out, op.rows, l.y)
		if b != nil {
			for i := 0; i < op.rows; i++ {
				row := l.y[i*op.out : (i+1)*op.out]
				for j, v := range b {
					row[j] += v
				}
			}
		}
		op.kern.Activate(l.y, op.act)
		y = newMatrix(l.y, op.rows, op.out)
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
		l := op.l
		l.g = grow(l.g, len(g0))
		g := l.g
		copy(g, g0)
		if err := actGrad(op.act, l.y, g); err != nil {
			return err
		}
		x, err := data32(op.x, op.rows, op.in, "input")
		if err != nil {
			return err
		}
		wr, wc := op.wShape()
		w, err := data32(op.w, wr, wc, "kernel")
		if err != nil {
			return err
		}
		switch {
		case !needsGrad(op.w):
		case l.transposed:
			// dWᵀ = gᵀ x: (out x rows) * (rows x in), in the stored
			// layout; the same products summed in the same order as xᵀ g.
			l.gt = grow(l.gt, op.out*op.rows)
			transpose(g, op.rows, op.out, l.gt)
			gemm(op.kern, op.out, op.in, op.rows, l.gt, x, l.gw)
		default:
			// dW = xᵀ g: (in x rows) * (rows x out).
			l.xt = grow(l.xt, op.in*op.rows)
			transpose(x, op.rows, op.in, l.xt)
			dw := l.gw
			if l.gw == nil {
				dw = make([]float32, op.in*op.out)
			}
			gemm(op.kern, op.in, op.out, op.rows, l.xt, g, dw)
			if l.gw == nil {
				op.w.AccGrad(newMatrix(dw, op.in, op.out))
			}
		}
		if needsGrad(op.b) {
			db := l.gb
			if l.gb == nil {
				db = make([]float32, op.out)
			}
			clear(db)
			for i := 0; i < op.rows; i++ {
				for j, v := range g[i*op.out : (i+1)*op.out] {
					db[j] += v
				}
			}
			if l.gb == nil {
				op.b.AccGrad(newMatrix(db, 1, op.out))
			}
		}
		l.hasGrad = true
		if needsGrad(op.x) {
			// dx = g Wᵀ: (rows x out) * (out x in). spago copies the
			// gradient it is handed, so dx can be reused.
			wt := w
			if !l.transposed {
				l.wt = grow(l.wt, op.out*op.in)
				transpose(w, op.in, op.out, l.wt)
				wt = l.wt
			}
			l.dx = grow(l.dx, op.rows*op.in)
			gemm(op.kern, op.rows, op.in, op.out, g, wt, l.dx)
			op.x.AccGrad(newMatrix(l.dx, op.rows, op.in))
		}
		return nil
	})
	return nil
}

// softmaxCEOp is the softmax cross-entropy of a batch of logits (rows x
// classes) against target distributions (one-hot, or smoothed), each row
// weighted (class weighting; nil weighs every row 1), averaged over the
// rows as Keras and TF.js average it. Softmax and cross-entropy are one
// operator so the gradient is the stable p - t, and it is computed in
// float64 with expDet and logDet so that every platform gets the same
// bits. The forward pass also keeps the probabilities for accuracy.
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
		total := 0.0
		for i := 0; i < op.rows; i++ {
			zi := z[i*op.classes : (i+1)*op.classes]
			p := op.prob[i*op.classes : (i+1)*op.classes]
			mx := float64(zi[0])
			for _, v := range zi {
				mx = max(mx, float64(v))
			}
			sum := 0.0
			for k, v := range zi {
				p[k] = expDet(float64(v) - mx)
				sum += p[k]
			}
			logSum := logDet(sum)
			l := 0.0
			for k, v := range zi {
				p[k] /= sum
				if t := float64(op.target[i*op.classes+k]); t != 0 {
					l -= t * (float64(v) - mx - logSum)
				}
			}
			op.rowLoss[i] = l
			if op.weight != nil {
				l *= float64(op.weight[i])
			}
			total += l
		}
		loss = mat.Scalar(float32(total / float64(op.rows)))
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
		scale := float64(g[0]) / float64(op.rows)
		dz := make([]float32, op.rows*op.classes)
		for i := 0; i < op.rows; i++ {
			s := scale
			if op.weight != nil {
				s *= float64(op.weight[i])
			}
			for k := 0; k < op.classes; k++ {
				j := i*op.classes + k
				dz[j] = float32(s * (op.prob[j] - float64(op.target[j])))
			}
		}
		op.logits.AccGrad(newMatrix(dz, op.rows, op.classes))
		return nil
	})
	return nil
}

// run makes an operator of f and runs its forward pass synchronously:
// training graphs here are chains, and synchronous forwards keep the
// order of every floating-point operation fixed.
func run(f ag.AutoGradFunction) *ag.Operator { return ag.NewOperator(f).Run() }
