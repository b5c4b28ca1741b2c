package scratch

import (
	"fmt"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
	"github.com/nlpodyssey/spago/nn"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/train"
)

// The convolution operators the engine runs, as spago AutoGradFunctions:
// what lets a network learn as a spago graph (LeNet from scratch, an
// unfrozen MobileNet block) over the same kernels it infers with. An
// activation tensor of a batch of n images of shape {H, W, C} is an
// (n*H*W) x C matrix, NHWC row-major as everywhere else, so a pointwise
// (1x1, stride 1) convolution is exactly a denseOp over its pixels.

// dwConvOp is a depthwise convolution (channel multiplier 1) of a batch,
// with a fused bias and activation. Its forward pass is the engine's
// DWConv kernel; its backward pass accumulates, for every output pixel and
// tap, the gradient into the input, the weights and the bias. w is
// KH*KW x C (the HWIO kernel [KH, KW, 1, C] flattened), b is 1 x C or nil.
type dwConvOp struct {
	fail  *failures
	kern  kernels.Kernels
	x, w  mat.Tensor
	b     mat.Tensor
	batch int
	shape kernels.ConvShape
	act   kernels.Act
	y     []float32
}

func (op *dwConvOp) Operands() []mat.Tensor {
	if op.b == nil {
		return []mat.Tensor{op.x, op.w}
	}
	return []mat.Tensor{op.x, op.w, op.b}
}

func (op *dwConvOp) sizes() (inPix, outPix, taps int) {
	s := &op.shape
	return s.InH * s.InW, s.OutH * s.OutW, s.KH * s.KW
}

func (op *dwConvOp) Forward() (mat.Tensor, error) {
	var y *mat.Dense[float32]
	op.fail.guard("depthwise conv forward", func() error {
		s := &op.shape
		inPix, outPix, taps := op.sizes()
		c := s.InC
		x, err := data32(op.x, op.batch*inPix, c, "input")
		if err != nil {
			return err
		}
		w, err := data32(op.w, taps, c, "kernel")
		if err != nil {
			return err
		}
		var b []float32
		if op.b != nil {
			if b, err = data32(op.b, 1, c, "bias"); err != nil {
				return err
			}
		}
		packed := op.kern.PackDWConvWeights(w, s.KH, s.KW, c)
		op.y = make([]float32, op.batch*outPix*c)
		for i := 0; i < op.batch; i++ {
			op.kern.DWConv(s, x[i*inPix*c:(i+1)*inPix*c], packed, b, op.y[i*outPix*c:(i+1)*outPix*c], op.act)
		}
		y = newMatrix(op.y, op.batch*outPix, c)
		return nil
	})
	if y == nil {
		return nil, nil
	}
	return y, nil
}

func (op *dwConvOp) Backward(gy mat.Tensor) error {
	op.fail.guard("depthwise conv backward", func() error {
		s := &op.shape
		inPix, outPix, taps := op.sizes()
		c := s.InC
		g0, err := data32(gy, op.batch*outPix, c, "output gradient")
		if err != nil {
			return err
		}
		g := append([]float32(nil), g0...)
		if err := train.ActGrad(op.act, op.y, g); err != nil {
			return err
		}
		x, err := data32(op.x, op.batch*inPix, c, "input")
		if err != nil {
			return err
		}
		w, err := data32(op.w, taps, c, "kernel")
		if err != nil {
			return err
		}
		wantX, wantW, wantB := needsGrad(op.x), needsGrad(op.w), needsGrad(op.b)
		var dx, dw, db []float32
		if wantX {
			dx = make([]float32, len(x))
		}
		if wantW {
			dw = make([]float32, len(w))
		}
		if wantB {
			db = make([]float32, c)
		}
		for n := 0; n < op.batch; n++ {
			for oy := 0; oy < s.OutH; oy++ {
				for ox := 0; ox < s.OutW; ox++ {
					go1 := g[((n*s.OutH+oy)*s.OutW+ox)*c:][:c]
					if wantB {
						for j, v := range go1 {
							db[j] += v
						}
					}
					for ky := 0; ky < s.KH; ky++ {
						iy := oy*s.SH - s.PadTop + ky*s.DH
						if iy < 0 || iy >= s.InH {
							continue
						}
						for kx := 0; kx < s.KW; kx++ {
							ix := ox*s.SW - s.PadLeft + kx*s.DW
							if ix < 0 || ix >= s.InW {
								continue
							}
							at := ((n*s.InH+iy)*s.InW + ix) * c
							tap := (ky*s.KW + kx) * c
							if wantW {
								xi, dwt := x[at:at+c], dw[tap:tap+c]
								for j, v := range go1 {
									dwt[j] += v * xi[j]
								}
							}
							if wantX {
								dxi, wt := dx[at:at+c], w[tap:tap+c]
								for j, v := range go1 {
									dxi[j] += v * wt[j]
								}
							}
						}
					}
				}
			}
		}
		if wantW {
			op.w.AccGrad(newMatrix(dw, taps, c))
		}
		if wantB {
			op.b.AccGrad(newMatrix(db, 1, c))
		}
		if wantX {
			op.x.AccGrad(newMatrix(dx, op.batch*inPix, c))
		}
		return nil
	})
	return nil
}

// addOp is the element-wise sum of two equal activations with a fused
// activation: the residual connection of an inverted-residual block.
type addOp struct {
	fail       *failures
	kern       kernels.Kernels
	a, b       mat.Tensor
	rows, cols int
	act        kernels.Act
	y          []float32
}

func (op *addOp) Operands() []mat.Tensor { return []mat.Tensor{op.a, op.b} }

func (op *addOp) Forward() (mat.Tensor, error) {
	var y *mat.Dense[float32]
	op.fail.guard("add forward", func() error {
		a, err := data32(op.a, op.rows, op.cols, "first operand")
		if err != nil {
			return err
		}
		b, err := data32(op.b, op.rows, op.cols, "second operand")
		if err != nil {
			return err
		}
		op.y = make([]float32, len(a))
		op.kern.Add(a, b, op.y, op.act)
		y = newMatrix(op.y, op.rows, op.cols)
		return nil
	})
	if y == nil {
		return nil, nil
	}
	return y, nil
}

func (op *addOp) Backward(gy mat.Tensor) error {
	op.fail.guard("add backward", func() error {
		g0, err := data32(gy, op.rows, op.cols, "output gradient")
		if err != nil {
			return err
		}
		g := append([]float32(nil), g0...)
		if err := train.ActGrad(op.act, op.y, g); err != nil {
			return err
		}
		for _, t := range []mat.Tensor{op.a, op.b} {
			if needsGrad(t) {
				t.AccGrad(newMatrix(append([]float32(nil), g...), op.rows, op.cols))
			}
		}
		return nil
	})
	return nil
}

// InvertedResidual is MobileNetV2's block with stride 1 and as many output
// channels as input channels: expand (1x1 conv, ReLU6), depthwise 3x3 (SAME
// padding, ReLU6), project (1x1 conv, linear), plus the input. Its weights
// are spago parameters, so the block trains as a spago graph of the
// engine's kernels.
type InvertedResidual struct {
	H, W, C, Expand    int       // input {H, W, C}, expanded channels
	ExpandW, ExpandB   *nn.Param // C x Expand, 1 x Expand
	DWW, DWB           *nn.Param // 9 x Expand (HWIO [3,3,1,Expand]), 1 x Expand
	ProjectW, ProjectB *nn.Param // Expand x C, 1 x C
}

// NewInvertedResidual makes a block from weights in the IR's layouts
// (dense/1x1 kernels [In, Out], depthwise HWIO [3, 3, 1, Expand]). The
// slices are copied.
func NewInvertedResidual(h, w, c, expand int, expandW, expandB, dwW, dwB, projW, projB []float32) (*InvertedResidual, error) {
	if h < 1 || w < 1 || c < 1 || expand < 1 {
		return nil, fmt.Errorf("inverted residual %dx%dx%d expanded to %d: every size must be positive", h, w, c, expand)
	}
	for _, t := range []struct {
		name string
		v    []float32
		n    int
	}{{"expand kernel", expandW, c * expand}, {"expand bias", expandB, expand}, {"depthwise kernel", dwW, 9 * expand},
		{"depthwise bias", dwB, expand}, {"project kernel", projW, expand * c}, {"project bias", projB, c}} {
		if len(t.v) != t.n {
			return nil, fmt.Errorf("inverted residual: %s has %d values, want %d", t.name, len(t.v), t.n)
		}
	}
	p := func(v []float32, rows, cols int) *nn.Param {
		return nn.NewParam(newMatrix(append([]float32(nil), v...), rows, cols))
	}
	return &InvertedResidual{H: h, W: w, C: c, Expand: expand,
		ExpandW: p(expandW, c, expand), ExpandB: p(expandB, 1, expand),
		DWW: p(dwW, 9, expand), DWB: p(dwB, 1, expand),
		ProjectW: p(projW, expand, c), ProjectB: p(projB, 1, c)}, nil
}

// Graph returns the block as an IR graph with a batch of one: what the
// engine runs, to compare with the spago graph.
func (blk *InvertedResidual) Graph() *ir.Graph {
	g := ir.New(ir.Shape{blk.H, blk.W, blk.C})
	d := func(p *nn.Param) []float32 { return append([]float32(nil), paramData(p)...) }
	e, c := blk.Expand, blk.C
	x := g.AddNode("expand", ir.Conv2D, []string{g.Input},
		[]string{g.AddTensor("expand/kernel", []int{1, 1, c, e}, d(blk.ExpandW)), g.AddTensor("expand/bias", []int{e}, d(blk.ExpandB))},
		ir.Attrs{Kernel: [2]int{1, 1}, Act: ir.ActReLU6})
	x = g.AddNode("depthwise", ir.Conv2D, []string{x},
		[]string{g.AddTensor("depthwise/kernel", []int{3, 3, 1, e}, d(blk.DWW)), g.AddTensor("depthwise/bias", []int{e}, d(blk.DWB))},
		ir.Attrs{Kernel: [2]int{3, 3}, Pads: ir.Pads{1, 1, 1, 1}, Groups: e, Act: ir.ActReLU6})
	x = g.AddNode("project", ir.Conv2D, []string{x},
		[]string{g.AddTensor("project/kernel", []int{1, 1, e, c}, d(blk.ProjectW)), g.AddTensor("project/bias", []int{c}, d(blk.ProjectB))},
		ir.Attrs{Kernel: [2]int{1, 1}})
	x = g.AddNode("add", ir.Add, []string{x, g.Input}, nil, ir.Attrs{})
	g.Outputs = []string{x}
	return g
}

// Forward builds the block's spago graph on a batch x of n images ((n*H*W)
// x C) and returns its output node. Shapes are checked here, before any
// operator runs; an operator that fails later records its error on the
// returned Errors, and the output is then nil.
func (blk *InvertedResidual) Forward(kern kernels.Kernels, x mat.Tensor, n int) (mat.Tensor, *Errors, error) {
	pix := blk.H * blk.W
	if s := x.Shape(); len(s) != 2 || s[0] != n*pix || s[1] != blk.C {
		return nil, nil, fmt.Errorf("inverted residual: input is %v, want %d x %d", s, n*pix, blk.C)
	}
	fail := &Errors{}
	rows := n * pix
	// Layers without gradient buffers: the gradients go to the spago
	// parameters, for whatever optimizer trains the block.
	h := ag.NewOperator(newDenseOp(&fail.f, kern, x, blk.ExpandW, blk.ExpandB, rows, blk.C, blk.Expand, kernels.ActReLU6)).Run()
	shape := kernels.ConvShape{InH: blk.H, InW: blk.W, InC: blk.Expand, OutH: blk.H, OutW: blk.W, OutC: blk.Expand,
		KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	h = ag.NewOperator(&dwConvOp{fail: &fail.f, kern: kern, x: h, w: blk.DWW, b: blk.DWB, batch: n, shape: shape,
		act: kernels.ActReLU6}).Run()
	h = ag.NewOperator(newDenseOp(&fail.f, kern, h, blk.ProjectW, blk.ProjectB, rows, blk.Expand, blk.C, kernels.ActNone)).Run()
	out := ag.NewOperator(&addOp{fail: &fail.f, kern: kern, a: h, b: x, rows: rows, cols: blk.C}).Run()
	if err := fail.Err(); err != nil {
		return nil, fail, err
	}
	return out, fail, nil
}

// Errors collects what the operators of one graph recorded; check Err
// after the forward and after the backward pass.
type Errors struct{ f failures }

// Err returns the first error an operator recorded, or nil.
func (e *Errors) Err() error { return e.f.Err() }
