package scratch

import (
	"fmt"
	"math"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"

	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/train"
)

// The layers of a whole network that learns from scratch (LeNet-5): each
// is a spago AutoGradFunction whose forward pass runs the engine's kernels
// and whose backward pass runs the gradient kernels (core/kernels
// grad.go). A batch of n samples of shape {H, W, C} is an (n*H*W) x C
// matrix, NHWC row-major as everywhere else; Flatten makes it n x H*W*C.
// Every operator recovers inside Forward and Backward and records what
// went wrong on the Chain (see failures), and keeps its buffers in its
// layer, reused from step to step.

// Layer is one link of a Chain.
type Layer interface {
	// Params lists the layer's trainable parameters.
	Params() []*Param
	// op returns the layer's operator on x, a batch of n samples.
	op(c *Chain, x mat.Tensor, n int) ag.AutoGradFunction
}

// Chain is a network of layers applied one after another, ending in
// logits, trained as one spago graph per step on Kern (which Go, AVX2,
// AVX-512 or wasm SIMD kernels it is: the sums are ordered alike, so the
// same seed and batches give the same weights within float32 rounding).
type Chain struct {
	Layers  []Layer
	Kern    kernels.Kernels
	In      int // values per input sample (H*W*C)
	Classes int
	fail    *failures
	loss    *softmaxCEOp
}

// Params lists every parameter, layer by layer.
func (c *Chain) Params() []*Param {
	var ps []*Param
	for _, l := range c.Layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// forward builds the graph of n samples x (n x In values) and returns the
// logits node, or the first error an operator recorded.
func (c *Chain) forward(x []float32, n int) (mat.Tensor, error) {
	if len(x) != n*c.In {
		return nil, fmt.Errorf("%d input values for %d samples of %d", len(x), n, c.In)
	}
	c.fail = &failures{}
	var h mat.Tensor = newMatrix(x, n, c.In)
	for _, l := range c.Layers {
		h = run(l.op(c, h, n))
		if err := c.fail.Err(); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Logits runs the network forward on n samples and returns n x Classes
// logits (a buffer of the last layer, valid until the next call).
func (c *Chain) Logits(x []float32, n int) ([]float32, error) {
	h, err := c.forward(x, n)
	if err != nil {
		return nil, err
	}
	z := mat.Data[float32](h.Value())
	if len(z) != n*c.Classes {
		return nil, fmt.Errorf("the network gives %d values for %d samples of %d classes", len(z), n, c.Classes)
	}
	return z, nil
}

// Step runs the forward and backward pass of one batch against its
// labels: every parameter's Grad then holds the gradient of the mean
// softmax cross-entropy (torch's CrossEntropyLoss). It returns that loss,
// and the probabilities of each sample (n x Classes, valid until the next
// Step). A NaN or infinite loss is returned without a backward pass.
func (c *Chain) Step(x []float32, labels []int, n int) (float64, []float64, error) {
	if len(labels) != n {
		return 0, nil, fmt.Errorf("%d labels for %d samples", len(labels), n)
	}
	h, err := c.forward(x, n)
	if err != nil {
		return 0, nil, err
	}
	target := make([]float32, n*c.Classes)
	for i, y := range labels {
		if y < 0 || y >= c.Classes {
			return 0, nil, fmt.Errorf("sample %d has class %d of %d", i, y, c.Classes)
		}
		target[i*c.Classes+y] = 1
	}
	c.loss = &softmaxCEOp{fail: c.fail, logits: h, target: target, rows: n, classes: c.Classes}
	loss := run(c.loss)
	if err := c.fail.Err(); err != nil {
		return 0, nil, err
	}
	lv := float64(mat.Data[float32](loss.Value())[0])
	if math.IsNaN(lv) || math.IsInf(lv, 0) {
		return lv, c.loss.prob, nil
	}
	if err := ag.Backward(loss); err != nil {
		return 0, nil, err
	}
	if err := c.fail.Err(); err != nil {
		return 0, nil, err
	}
	return lv, c.loss.prob, nil
}

// values returns the data of an operand holding want values.
func values(t mat.Tensor, want int, what string) ([]float32, error) {
	d, err := dense32(t)
	if err != nil {
		return nil, err
	}
	v := mat.Data[float32](d)
	if len(v) != want {
		return nil, fmt.Errorf("%s has %d values, want %d", what, len(v), want)
	}
	return v, nil
}

// accGrad hands the gradient g of operand t to spago, shaped as t is.
func accGrad(t mat.Tensor, g []float32) {
	s := t.Shape()
	t.AccGrad(newMatrix(g, s[0], s[1]))
}

// sumRows adds the rows x cols matrix g's rows into db (overwritten).
func sumRows(g []float32, rows, cols int, db []float32) {
	clear(db[:cols])
	for i := 0; i < rows; i++ {
		for j, v := range g[i*cols : (i+1)*cols] {
			db[j] += v
		}
	}
}

// Conv2DLayer is a convolution with groups, stride, padding and dilation,
// a bias and a fused activation (none or ReLU). Its forward pass is
// im2col and the GEMM; its backward pass GEMMAtB for the weights and a
// GEMM and Col2Im for the input (core/kernels grad.go). A 1x1 depthwise
// convolution without stride or padding, which is how the IR spells
// LeNet-5's trainable subsampling (a coefficient and a bias per channel),
// runs as that per-channel product instead.
type Conv2DLayer struct {
	Shape  kernels.ConvShape
	Groups int
	Act    kernels.Act
	W, B   *Param // W is HWIO; B may be nil

	cols, y, g, dx, scratch []float32
}

// Params implements Layer.
func (l *Conv2DLayer) Params() []*Param {
	if l.B == nil {
		return []*Param{l.W}
	}
	return []*Param{l.W, l.B}
}

// channelwise tells whether the convolution is a per-channel product.
func (l *Conv2DLayer) channelwise() bool {
	s := &l.Shape
	return l.Groups == s.InC && s.InC == s.OutC && s.KH == 1 && s.KW == 1 && s.SH == 1 && s.SW == 1 &&
		s.PadTop == 0 && s.PadLeft == 0 && s.OutH == s.InH && s.OutW == s.InW
}

func (l *Conv2DLayer) op(c *Chain, x mat.Tensor, n int) ag.AutoGradFunction {
	return &convOp{c: c, l: l, x: x, n: n}
}

type convOp struct {
	c *Chain
	l *Conv2DLayer
	x mat.Tensor
	n int
}

func (op *convOp) Operands() []mat.Tensor {
	if op.l.B == nil {
		return []mat.Tensor{op.x, op.l.W.p}
	}
	return []mat.Tensor{op.x, op.l.W.p, op.l.B.p}
}

func (op *convOp) Forward() (mat.Tensor, error) {
	var y *mat.Dense[float32]
	op.c.fail.guard("conv "+op.l.W.Name+" forward", func() error {
		l, s, n, k := op.l, &op.l.Shape, op.n, op.c.Kern
		x, err := values(op.x, n*s.InH*s.InW*s.InC, "input")
		if err != nil {
			return err
		}
		w := l.W.Data()
		var b []float32
		if l.B != nil {
			b = l.B.Data()
		}
		rows := n * s.OutH * s.OutW
		l.y = grow(l.y, rows*s.OutC)
		if l.channelwise() {
			for i := 0; i < rows; i++ {
				xr, yr := x[i*s.InC:(i+1)*s.InC], l.y[i*s.OutC:(i+1)*s.OutC]
				for j, v := range xr {
					yr[j] = v * w[j]
					if b != nil {
						yr[j] += b[j]
					}
				}
			}
			k.Activate(l.y, l.Act)
		} else {
			l.cols = grow(l.cols, kernels.ConvColsLen(s, l.Groups, n))
			kernels.ConvIm2Col(k, s, l.Groups, n, x, l.cols)
			kernels.ConvForward(k, s, l.Groups, n, l.cols, kernels.PackConvWeights(k, s, l.Groups, w), b, l.y, l.Act)
		}
		y = newMatrix(l.y, rows, s.OutC)
		return nil
	})
	if y == nil {
		return nil, nil // recorded; see failures
	}
	return y, nil
}

func (op *convOp) Backward(gy mat.Tensor) error {
	op.c.fail.guard("conv "+op.l.W.Name+" backward", func() error {
		l, s, n, k := op.l, &op.l.Shape, op.n, op.c.Kern
		rows := n * s.OutH * s.OutW
		g0, err := values(gy, rows*s.OutC, "output gradient")
		if err != nil {
			return err
		}
		l.g = grow(l.g, len(g0))
		copy(l.g, g0)
		if err := train.ActGrad(l.Act, l.y, l.g); err != nil {
			return err
		}
		x, err := values(op.x, n*s.InH*s.InW*s.InC, "input")
		if err != nil {
			return err
		}
		w := l.W.Data()
		if l.channelwise() {
			dw := l.W.Grad
			clear(dw)
			for i := 0; i < rows; i++ {
				for j, v := range l.g[i*s.OutC : (i+1)*s.OutC] {
					dw[j] += v * x[i*s.InC+j]
				}
			}
		} else {
			kernels.ConvBackwardFilter(k, s, l.Groups, n, l.cols, l.g, l.W.Grad)
		}
		l.W.HasGrad = true
		if l.B != nil {
			sumRows(l.g, rows, s.OutC, l.B.Grad)
			l.B.HasGrad = true
		}
		if needsGrad(op.x) {
			l.dx = grow(l.dx, len(x))
			if l.channelwise() {
				for i := 0; i < rows; i++ {
					for j, v := range l.g[i*s.OutC : (i+1)*s.OutC] {
						l.dx[i*s.InC+j] = v * w[j]
					}
				}
			} else {
				l.scratch = grow(l.scratch, kernels.ConvDataScratchLen(s, l.Groups, n))
				kernels.ConvBackwardData(k, s, l.Groups, n, l.g, kernels.PackConvDataWeights(k, s, l.Groups, w), l.dx, l.scratch)
			}
			accGrad(op.x, l.dx)
		}
		return nil
	})
	return nil
}

// PoolLayer is a max or average pool (see kernels.MaxPool, AvgPool).
type PoolLayer struct {
	Shape    kernels.ConvShape
	Max      bool
	CountPad bool // AvgPool: divide by the whole window

	y, dx []float32
}

// Params implements Layer: a pool has none.
func (l *PoolLayer) Params() []*Param { return nil }

func (l *PoolLayer) op(c *Chain, x mat.Tensor, n int) ag.AutoGradFunction {
	return &poolOp{c: c, l: l, x: x, n: n}
}

type poolOp struct {
	c *Chain
	l *PoolLayer
	x mat.Tensor
	n int
}

func (op *poolOp) Operands() []mat.Tensor { return []mat.Tensor{op.x} }

func (op *poolOp) Forward() (mat.Tensor, error) {
	var y *mat.Dense[float32]
	op.c.fail.guard("pool forward", func() error {
		l, s, k := op.l, &op.l.Shape, op.c.Kern
		in, out := s.InH*s.InW*s.InC, s.OutH*s.OutW*s.InC
		x, err := values(op.x, op.n*in, "input")
		if err != nil {
			return err
		}
		l.y = grow(l.y, op.n*out)
		for i := 0; i < op.n; i++ {
			if l.Max {
				k.MaxPool(s, x[i*in:(i+1)*in], l.y[i*out:(i+1)*out])
			} else {
				k.AvgPool(s, x[i*in:(i+1)*in], l.y[i*out:(i+1)*out], l.CountPad)
			}
		}
		y = newMatrix(l.y, op.n*s.OutH*s.OutW, s.InC)
		return nil
	})
	if y == nil {
		return nil, nil
	}
	return y, nil
}

func (op *poolOp) Backward(gy mat.Tensor) error {
	op.c.fail.guard("pool backward", func() error {
		if !needsGrad(op.x) {
			return nil
		}
		l, s, k := op.l, &op.l.Shape, op.c.Kern
		in, out := s.InH*s.InW*s.InC, s.OutH*s.OutW*s.InC
		g, err := values(gy, op.n*out, "output gradient")
		if err != nil {
			return err
		}
		x, err := values(op.x, op.n*in, "input")
		if err != nil {
			return err
		}
		l.dx = grow(l.dx, op.n*in)
		for i := 0; i < op.n; i++ {
			if l.Max {
				k.MaxPoolGrad(s, x[i*in:(i+1)*in], g[i*out:(i+1)*out], l.dx[i*in:(i+1)*in])
			} else {
				k.AvgPoolGrad(s, g[i*out:(i+1)*out], l.dx[i*in:(i+1)*in], l.CountPad)
			}
		}
		accGrad(op.x, l.dx)
		return nil
	})
	return nil
}

// DenseLayer is a fully connected layer, y = act(x W + b), with W [In,
// Out] as the IR stores it: the forward pass packs W for the GEMM, the
// weight gradient is GEMMAtB(x, g) with no transposition, and the input
// gradient a GEMM by the packed Wᵀ.
type DenseLayer struct {
	In, Out int
	Act     kernels.Act
	W, B    *Param // B may be nil

	y, g, wt, dx []float32
}

// Params implements Layer.
func (l *DenseLayer) Params() []*Param {
	if l.B == nil {
		return []*Param{l.W}
	}
	return []*Param{l.W, l.B}
}

func (l *DenseLayer) op(c *Chain, x mat.Tensor, n int) ag.AutoGradFunction {
	return &denseLayerOp{c: c, l: l, x: x, n: n}
}

type denseLayerOp struct {
	c *Chain
	l *DenseLayer
	x mat.Tensor
	n int
}

func (op *denseLayerOp) Operands() []mat.Tensor {
	if op.l.B == nil {
		return []mat.Tensor{op.x, op.l.W.p}
	}
	return []mat.Tensor{op.x, op.l.W.p, op.l.B.p}
}

func (op *denseLayerOp) Forward() (mat.Tensor, error) {
	var y *mat.Dense[float32]
	op.c.fail.guard("dense "+op.l.W.Name+" forward", func() error {
		l, n, k := op.l, op.n, op.c.Kern
		x, err := values(op.x, n*l.In, "input")
		if err != nil {
			return err
		}
		var b []float32
		if l.B != nil {
			b = l.B.Data()
		}
		l.y = grow(l.y, n*l.Out)
		k.GEMM(n, l.Out, l.In, x, l.In, k.PackGEMMWeights(l.W.Data(), l.In, l.Out), b, l.y, l.Out, l.Act)
		y = newMatrix(l.y, n, l.Out)
		return nil
	})
	if y == nil {
		return nil, nil
	}
	return y, nil
}

func (op *denseLayerOp) Backward(gy mat.Tensor) error {
	op.c.fail.guard("dense "+op.l.W.Name+" backward", func() error {
		l, n, k := op.l, op.n, op.c.Kern
		g0, err := values(gy, n*l.Out, "output gradient")
		if err != nil {
			return err
		}
		l.g = grow(l.g, len(g0))
		copy(l.g, g0)
		if err := train.ActGrad(l.Act, l.y, l.g); err != nil {
			return err
		}
		x, err := values(op.x, n*l.In, "input")
		if err != nil {
			return err
		}
		k.GEMMAtB(l.In, l.Out, n, x, l.In, l.g, l.Out, l.W.Grad, l.Out)
		l.W.HasGrad = true
		if l.B != nil {
			sumRows(l.g, n, l.Out, l.B.Grad)
			l.B.HasGrad = true
		}
		if needsGrad(op.x) {
			l.wt = grow(l.wt, l.In*l.Out)
			train.Transpose(l.W.Data(), l.In, l.Out, l.wt)
			l.dx = grow(l.dx, n*l.In)
			k.GEMM(n, l.In, l.Out, l.g, l.Out, k.PackGEMMWeights(l.wt, l.Out, l.In), nil, l.dx, l.In, kernels.ActNone)
			accGrad(op.x, l.dx)
		}
		return nil
	})
	return nil
}

// ActLayer is a stand-alone activation: ReLU, or Tanh's alpha·tanh(beta·x)
// (LeNet-5's scaled tanh: 1.7159, 2/3).
type ActLayer struct {
	Tanh        bool // false: ReLU
	Alpha, Beta float32

	y, dx []float32
}

// Params implements Layer: an activation has none.
func (l *ActLayer) Params() []*Param { return nil }

func (l *ActLayer) op(c *Chain, x mat.Tensor, n int) ag.AutoGradFunction {
	return &actOp{c: c, l: l, x: x}
}

type actOp struct {
	c *Chain
	l *ActLayer
	x mat.Tensor
}

func (op *actOp) Operands() []mat.Tensor { return []mat.Tensor{op.x} }

func (op *actOp) Forward() (mat.Tensor, error) {
	var y *mat.Dense[float32]
	op.c.fail.guard("activation forward", func() error {
		d, err := dense32(op.x)
		if err != nil {
			return err
		}
		x, s := mat.Data[float32](d), d.Shape()
		l := op.l
		l.y = grow(l.y, len(x))
		copy(l.y, x)
		if l.Tanh {
			op.c.Kern.Tanh(l.y, l.Alpha, l.Beta)
		} else {
			op.c.Kern.Activate(l.y, kernels.ActReLU)
		}
		y = newMatrix(l.y, s[0], s[1])
		return nil
	})
	if y == nil {
		return nil, nil
	}
	return y, nil
}

func (op *actOp) Backward(gy mat.Tensor) error {
	op.c.fail.guard("activation backward", func() error {
		if !needsGrad(op.x) {
			return nil
		}
		l := op.l
		g, err := values(gy, len(l.y), "output gradient")
		if err != nil {
			return err
		}
		l.dx = grow(l.dx, len(g))
		if l.Tanh {
			// d/dx alpha·tanh(beta·x) = alpha·beta·(1 - tanh²), with
			// tanh = y/alpha.
			ab := l.Alpha * l.Beta
			inv := 1 / l.Alpha
			for i, v := range g {
				t := l.y[i] * inv
				l.dx[i] = v * ab * (1 - t*t)
			}
		} else {
			copy(l.dx, g)
			if err := train.ActGrad(kernels.ActReLU, l.y, l.dx); err != nil {
				return err
			}
		}
		accGrad(op.x, l.dx)
		return nil
	})
	return nil
}

// FlattenLayer turns n samples of {H, W, C} ((n*H*W) x C) into n rows of
// H*W*C values, in HWC order: the same memory, reshaped.
type FlattenLayer struct{ Size int }

// Params implements Layer.
func (l *FlattenLayer) Params() []*Param { return nil }

func (l *FlattenLayer) op(c *Chain, x mat.Tensor, n int) ag.AutoGradFunction {
	return &flattenOp{c: c, x: x, n: n, size: l.Size}
}

type flattenOp struct {
	c       *Chain
	x       mat.Tensor
	n, size int
}

func (op *flattenOp) Operands() []mat.Tensor { return []mat.Tensor{op.x} }

func (op *flattenOp) Forward() (mat.Tensor, error) {
	var y *mat.Dense[float32]
	op.c.fail.guard("flatten forward", func() error {
		x, err := values(op.x, op.n*op.size, "input")
		if err != nil {
			return err
		}
		y = newMatrix(x, op.n, op.size)
		return nil
	})
	if y == nil {
		return nil, nil
	}
	return y, nil
}

func (op *flattenOp) Backward(gy mat.Tensor) error {
	op.c.fail.guard("flatten backward", func() error {
		if !needsGrad(op.x) {
			return nil
		}
		g, err := values(gy, op.n*op.size, "output gradient")
		if err != nil {
			return err
		}
		accGrad(op.x, g)
		return nil
	})
	return nil
}
