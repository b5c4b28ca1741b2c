package course

import (
	"fmt"
	"math"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// Pooled is one feature map pooled three ways with the same window and
// stride: max pooling, average pooling, and LeNet-5's trainable
// subsampling (the window's sum times a learned coefficient plus a
// learned bias, through a sigmoid: LeCun et al. 1998, section II-B).
type Pooled struct {
	In, Out    ir.Shape // {H, W, 1}
	Window     int
	Stride     int
	Coef, Bias float32
	Max        []float32
	Avg        []float32
	LeNet      []float32
}

// MaxPoolSide bounds the map the pooling demo takes.
const MaxPoolSide = 1024

// Pool pools a single-channel map of h x w values (row-major) with a
// window x window window moved by stride, all three ways, on the engine.
// LeNet's pooling is built from IR ops: an average pool, then a 1x1
// convolution whose weight is coef·window² (turning the average back
// into the sum, times the coefficient) and whose bias is bias, then a
// sigmoid.
func Pool(fm []float32, h, w, window, stride int, coef, bias float32) (*Pooled, error) {
	switch {
	case h < 1 || w < 1 || h > MaxPoolSide || w > MaxPoolSide:
		return nil, fmt.Errorf("feature map %dx%d is outside 1..%d", h, w, MaxPoolSide)
	case len(fm) != h*w:
		return nil, fmt.Errorf("feature map has %d values, want %dx%d = %d", len(fm), h, w, h*w)
	case window < 1 || window > min(h, w):
		return nil, fmt.Errorf("pooling window %d does not fit a %dx%d map", window, h, w)
	case stride < 1 || stride > window:
		return nil, fmt.Errorf("stride %d is outside 1..%d (the window)", stride, window)
	case math.IsNaN(float64(coef)) || math.IsInf(float64(coef), 0) || math.IsNaN(float64(bias)) || math.IsInf(float64(bias), 0):
		return nil, fmt.Errorf("coefficient %v and bias %v must be finite", coef, bias)
	}
	for i, v := range fm {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("feature map value %d is %v", i, v)
		}
	}
	g := ir.New(ir.Shape{h, w, 1})
	win := ir.Attrs{Kernel: [2]int{window, window}, Stride: [2]int{stride, stride}}
	mx := g.AddNode("max", ir.MaxPool, []string{g.Input}, nil, win)
	av := g.AddNode("avg", ir.AvgPool, []string{g.Input}, nil, win)
	cw := g.AddTensor("coef", []int{1, 1, 1, 1}, []float32{coef * float32(window*window)})
	cb := g.AddTensor("bias", []int{1}, []float32{bias})
	sc := g.AddNode("subsample", ir.Conv2D, []string{av}, []string{cw, cb}, ir.Attrs{})
	ln := g.AddNode("lenet", ir.Sigmoid, []string{sc}, nil, ir.Attrs{})
	g.Outputs = []string{mx, av, ln}
	e, err := engine.New(g, kernels.Go{})
	if err != nil {
		return nil, err
	}
	if err := e.Run(fm); err != nil {
		return nil, err
	}
	return &Pooled{
		In: ir.Shape{h, w, 1}, Out: e.Shape(mx), Window: window, Stride: stride, Coef: coef, Bias: bias,
		Max:   append([]float32(nil), e.Output(mx)...),
		Avg:   append([]float32(nil), e.Output(av)...),
		LeNet: append([]float32(nil), e.Output(ln)...),
	}, nil
}

// BusiestChannel picks, from an H x W x C map (HWC order), the channel
// whose values vary the most, and returns it as an H x W plane: the one
// that shows a student the most when pooled.
func BusiestChannel(values []float32, s ir.Shape) (int, []float32, error) {
	if s.Size() <= 0 || len(values) != s.Size() {
		return 0, nil, fmt.Errorf("map has %d values for shape %v", len(values), s)
	}
	hw, c := s[0]*s[1], s[2]
	best, bestVar := 0, -1.0
	for ch := range c {
		var sum, sq float64
		for p := range hw {
			v := float64(values[p*c+ch])
			sum += v
			sq += v * v
		}
		mean := sum / float64(hw)
		if v := sq/float64(hw) - mean*mean; v > bestVar {
			best, bestVar = ch, v
		}
	}
	plane := make([]float32, hw)
	for p := range hw {
		plane[p] = values[p*c+best]
	}
	return best, plane, nil
}
