package train

import (
	"fmt"

	"github.com/glimpse-ml/glimpse/core/kernels"
)

// The head's arithmetic, as plain functions over float32 slices: dense
// layers forward and backward on the engine's kernels, and the softmax
// cross-entropy. A head is a chain of at most two dense layers and a loss,
// so its backward pass needs no autograd graph: each layer hands the next
// one down the gradient of its input. The operations and their order are
// those of the spago graph that trained heads before (testdata/
// spago-heads.json holds its heads, and the tests hold this trainer to
// them bit for bit), and leaving spago out keeps it, its encoders and its
// logger out of glimpse.wasm, which every user of the library downloads.

// layer is one dense layer's parameters, their gradients and Adam
// moments, and the buffers its passes reuse from step to step: a run of a
// few hundred steps would otherwise allocate every one of them anew each
// step, and under wasm the garbage collector's time rivals the
// arithmetic's.
type layer struct {
	in, out int
	// w holds Wᵀ (out x in), so that the forward pass need not repack the
	// weights every step (see forward); b is nil for a layer without bias.
	w, b []float32

	// The gradients of w (as dWᵀ) and b, written (not accumulated) by the
	// backward pass; hasGrad says the current step's backward pass wrote
	// them.
	gw, gb  []float32
	hasGrad bool
	// Adam's first and second moments of w and b.
	mw, vw, mb, vb []float32

	// Scratch: the output y (rows x out) and its transpose yt, the output
	// gradient through the activation g (rows x out) and its transpose
	// gt, the transposed input xt (in x rows) and the input gradient dx
	// (rows x in).
	y, yt, g, gt, xt, dx []float32
}

// newLayer makes a layer with weights w (in x out), which it stores
// transposed.
func newLayer(in, out int, bias bool, w []float32) *layer {
	l := &layer{in: in, out: out, w: make([]float32, in*out),
		gw: make([]float32, in*out), mw: make([]float32, in*out), vw: make([]float32, in*out)}
	Transpose(w, in, out, l.w)
	if bias {
		l.b, l.gb, l.mb, l.vb = make([]float32, out), make([]float32, out), make([]float32, out), make([]float32, out)
	}
	return l
}

// grow returns buf resliced to n values, reallocated only when too short.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// weights returns a copy of the weights in the IR's layout, in x out.
func (l *layer) weights() []float32 {
	w := make([]float32, l.in*l.out)
	Transpose(l.w, l.out, l.in, w)
	return w
}

// forward computes y = act(x W + b) for x (rows x in) into l.y and returns
// it (valid until the next forward). yᵀ = Wᵀ xᵀ: Wᵀ is the GEMM's left
// operand as it is, and only the batch's xᵀ (in x rows) is packed. Each
// sum runs over the same products in the same order as in x W, so the
// bits are those of the GEMM of x by packed W; the bias and the activation
// follow, as in the GEMM's own epilogue.
func (l *layer) forward(kern kernels.Kernels, x []float32, rows int, act kernels.Act) []float32 {
	l.y = grow(l.y, rows*l.out)
	if l.narrow() {
		dotRows(x, l.w, rows, l.in, l.out, l.y)
	} else {
		l.xt = grow(l.xt, l.in*rows)
		Transpose(x, rows, l.in, l.xt)
		l.yt = grow(l.yt, l.out*rows)
		MatMul(kern, l.out, rows, l.in, l.w, l.xt, l.yt)
		Transpose(l.yt, l.out, rows, l.y)
	}
	if l.b != nil {
		for i := 0; i < rows; i++ {
			row := l.y[i*l.out : (i+1)*l.out]
			for j, v := range l.b {
				row[j] += v
			}
		}
	}
	kern.Activate(l.y, act)
	return l.y
}

// backward takes the gradient gy of the loss by the layer's output (rows
// x out) after forward on x, writes the gradients of w and b, and returns
// the gradient by x (a buffer of l's) when input asks for it, else nil.
func (l *layer) backward(kern kernels.Kernels, x, gy []float32, rows int, act kernels.Act, input bool) ([]float32, error) {
	l.g = grow(l.g, len(gy))
	g := l.g
	copy(g, gy)
	if err := ActGrad(act, l.y, g); err != nil {
		return nil, err
	}
	// dWᵀ = gᵀ x: (out x rows) * (rows x in), in the stored layout; the
	// same products summed in the same order as xᵀ g.
	if l.narrow() {
		outerSum(g, x, rows, l.out, l.in, l.gw)
	} else {
		l.gt = grow(l.gt, l.out*rows)
		Transpose(g, rows, l.out, l.gt)
		MatMul(kern, l.out, l.in, rows, l.gt, x, l.gw)
	}
	if l.b != nil {
		clear(l.gb)
		for i := 0; i < rows; i++ {
			for j, v := range g[i*l.out : (i+1)*l.out] {
				l.gb[j] += v
			}
		}
	}
	l.hasGrad = true
	if !input {
		return nil, nil
	}
	// dx = g Wᵀ: (rows x out) * (out x in).
	l.dx = grow(l.dx, rows*l.in)
	if l.narrow() {
		weightedRows(g, l.w, rows, l.out, l.in, l.dx)
	} else {
		MatMul(kern, rows, l.in, l.out, g, l.w, l.dx)
	}
	return l.dx, nil
}

// narrowOut is the widest layer whose products run as the plain loops
// below rather than on the GEMM. A GEMM packs its right operand into
// panels of eight columns and computes tiles of four rows: for a layer of
// a few outputs (a head's logits: two classes, or ten), packing a batch of
// 1,856 features was most of a training step (natively 0.54 s of a 2 x 100
// run, the loops 0.29 s; under wasm the loops also skip a call into the
// SIMD module per product), and the tile's rows were mostly empty.
const narrowOut = 16

// narrow tells whether the layer's products run as plain loops.
func (l *layer) narrow() bool { return l.out <= narrowOut }

// The three plain loops compute exactly what MatMul computes on
// kernels.Exact() for the same operands: every output a float32 sum that
// starts from zero and adds its products one by one, in order of the
// summed index, each product rounded before it is added. That is the
// sum f32GEMM4x8Go and the SIMD module's exact GEMM form, so a head
// trains to the same bits either way (the golden tests hold both).

// dotRows writes y (rows x out) = x (rows x in) times wt (out x in)
// transposed: each output the dot product of a row of x with a row of wt,
// summed over the in index in order. Four rows and two outputs go at
// once: eight independent sums hide the latency of the adds without
// reordering any of them, and each value loaded serves two or four.
func dotRows(x, wt []float32, rows, in, out int, y []float32) {
	r := 0
	for ; r+4 <= rows; r += 4 {
		x0 := x[r*in : (r+1)*in : (r+1)*in]
		x1 := x[(r+1)*in : (r+2)*in : (r+2)*in]
		x2 := x[(r+2)*in : (r+3)*in : (r+3)*in]
		x3 := x[(r+3)*in : (r+4)*in : (r+4)*in]
		j := 0
		for ; j+2 <= out; j += 2 {
			w := wt[j*in : (j+1)*in : (j+1)*in]
			u := wt[(j+1)*in : (j+2)*in : (j+2)*in]
			var c0, c1, c2, c3, d0, d1, d2, d3 float32
			for p, v := range w {
				a0, a1, a2, a3, b := x0[p], x1[p], x2[p], x3[p], u[p]
				c0 += a0 * v
				c1 += a1 * v
				c2 += a2 * v
				c3 += a3 * v
				d0 += a0 * b
				d1 += a1 * b
				d2 += a2 * b
				d3 += a3 * b
			}
			y[r*out+j], y[(r+1)*out+j], y[(r+2)*out+j], y[(r+3)*out+j] = c0, c1, c2, c3
			y[r*out+j+1], y[(r+1)*out+j+1], y[(r+2)*out+j+1], y[(r+3)*out+j+1] = d0, d1, d2, d3
		}
		for ; j < out; j++ {
			w := wt[j*in : (j+1)*in : (j+1)*in]
			var c0, c1, c2, c3 float32
			for p, v := range w {
				c0 += x0[p] * v
				c1 += x1[p] * v
				c2 += x2[p] * v
				c3 += x3[p] * v
			}
			y[r*out+j], y[(r+1)*out+j], y[(r+2)*out+j], y[(r+3)*out+j] = c0, c1, c2, c3
		}
	}
	for ; r < rows; r++ {
		xr := x[r*in : (r+1)*in : (r+1)*in]
		for j := 0; j < out; j++ {
			w := wt[j*in : (j+1)*in : (j+1)*in]
			var c float32
			for p, v := range w {
				c += xr[p] * v
			}
			y[r*out+j] = c
		}
	}
}

// outerSum writes dst (out x in) = g (rows x out) transposed times x
// (rows x in): for each output j, the rows' x weighted by their g[.][j],
// summed over the rows in order. Four rows go at once, each value of dst
// read and written once for them (under wasm the loads and stores were
// most of the time).
func outerSum(g, x []float32, rows, out, in int, dst []float32) {
	dst = dst[:out*in]
	clear(dst)
	r := 0
	for ; r+4 <= rows; r += 4 {
		x0 := x[r*in : (r+1)*in : (r+1)*in]
		x1 := x[(r+1)*in : (r+2)*in : (r+2)*in]
		x2 := x[(r+2)*in : (r+3)*in : (r+3)*in]
		x3 := x[(r+3)*in : (r+4)*in : (r+4)*in]
		for j := 0; j < out; j++ {
			axpy4(g[r*out+j], g[(r+1)*out+j], g[(r+2)*out+j], g[(r+3)*out+j], x0, x1, x2, x3, dst[j*in:(j+1)*in:(j+1)*in])
		}
	}
	for ; r < rows; r++ {
		xr := x[r*in : (r+1)*in : (r+1)*in]
		for j := 0; j < out; j++ {
			axpy(g[r*out+j], xr, dst[j*in:(j+1)*in:(j+1)*in])
		}
	}
}

// weightedRows writes dst (rows x in) = g (rows x out) times wt (out x
// in): each row of dst the rows of wt weighted by that row of g, summed
// over the outputs in order.
func weightedRows(g, wt []float32, rows, out, in int, dst []float32) {
	dst = dst[:rows*in]
	clear(dst)
	for r := 0; r < rows; r++ {
		d := dst[r*in : (r+1)*in : (r+1)*in]
		for j := 0; j < out; j++ {
			axpy(g[r*out+j], wt[j*in:(j+1)*in:(j+1)*in], d)
		}
	}
}

// axpy adds a*x to y, value by value.
func axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	for p, v := range x {
		y[p] += v * a
	}
}

// axpy4 adds a0*x0, a1*x1, a2*x2 and a3*x3 to y, in that order, value by
// value: four axpy calls' arithmetic, with y loaded and stored once.
func axpy4(a0, a1, a2, a3 float32, x0, x1, x2, x3, y []float32) {
	y = y[:len(x0)]
	x1, x2, x3 = x1[:len(x0)], x2[:len(x0)], x3[:len(x0)]
	for p, v := range x0 {
		s := y[p] + v*a0
		s += x1[p] * a1
		s += x2[p] * a2
		s += x3[p] * a3
		y[p] = s
	}
}

// Transpose writes the cols x rows transpose of the row-major a into dst.
func Transpose(a []float32, rows, cols int, dst []float32) {
	for i := 0; i < rows; i++ {
		row := a[i*cols : (i+1)*cols]
		for j, v := range row {
			dst[j*rows+i] = v
		}
	}
}

// MatMul computes c = a*b for row-major a (m x k) and b (k x n) on the
// engine's kernels: packing b is O(k*n), small next to the O(m*k*n)
// product for every shape training meets.
func MatMul(kern kernels.Kernels, m, n, k int, a, b, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		clear(c[:m*n])
		return
	}
	kern.GEMM(m, n, k, a, k, kern.PackGEMMWeights(b, k, n), nil, c, n, kernels.ActNone)
}

// ActGrad multiplies g in place by the derivative of act at the output y:
// ReLU passes where y > 0, ReLU6 where 0 < y < 6.
func ActGrad(act kernels.Act, y, g []float32) error {
	switch act {
	case kernels.ActNone:
	case kernels.ActReLU:
		for i, v := range y {
			if v <= 0 {
				g[i] = 0
			}
		}
	case kernels.ActReLU6:
		for i, v := range y {
			if v <= 0 || v >= 6 {
				g[i] = 0
			}
		}
	default:
		return fmt.Errorf("activation %d has no gradient here", act)
	}
	return nil
}

// SoftmaxCrossEntropy is the softmax cross-entropy of a batch of logits z
// (rows x classes) against target distributions (one-hot, or smoothed),
// each row weighted (class weighting; nil weighs every row 1), averaged
// over the rows as Keras and TF.js average it, and rounded to float32. It
// fills prob (rows x classes) with the probabilities, which give the
// accuracy and the gradient, and rowLoss (rows) with each row's
// unweighted loss. Softmax and cross-entropy are one step so that the
// gradient is the stable p - t, and it is computed in float64 with expDet
// and logDet so that every platform gets the same bits.
func SoftmaxCrossEntropy(z, target, weight []float32, rows, classes int, prob, rowLoss []float64) float32 {
	total := 0.0
	for i := 0; i < rows; i++ {
		zi := z[i*classes : (i+1)*classes]
		p := prob[i*classes : (i+1)*classes]
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
			if t := float64(target[i*classes+k]); t != 0 {
				l -= t * (float64(v) - mx - logSum)
			}
		}
		rowLoss[i] = l
		if weight != nil {
			l *= float64(weight[i])
		}
		total += l
	}
	return float32(total / float64(rows))
}

// SoftmaxCrossEntropyGrad writes into dz (rows x classes) the gradient of
// gy times SoftmaxCrossEntropy's loss by the logits, from the
// probabilities it computed.
func SoftmaxCrossEntropyGrad(gy float32, prob []float64, target, weight []float32, rows, classes int, dz []float32) {
	scale := float64(gy) / float64(rows)
	for i := 0; i < rows; i++ {
		s := scale
		if weight != nil {
			s *= float64(weight[i])
		}
		for k := 0; k < classes; k++ {
			j := i*classes + k
			dz[j] = float32(s * (prob[j] - float64(target[j])))
		}
	}
}
