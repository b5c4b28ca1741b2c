package scratch

import (
	"math"

	"github.com/nlpodyssey/spago/nn"
)

// Param is one trainable tensor of a network that learns as a whole (see
// layers.go): its values as a spago parameter, the gradient the backward
// pass writes (not accumulates: each parameter feeds one operator once per
// step), and Adam's moments.
type Param struct {
	Name  string
	Shape []int // the IR's shape, e.g. HWIO for a convolution kernel
	p     *nn.Param
	Grad  []float32
	m, v  []float32
	// HasGrad says the current step's backward pass wrote Grad.
	HasGrad bool
}

// NewParam makes a parameter holding a copy of data, with the IR shape
// shape.
func NewParam(name string, shape []int, data []float32) *Param {
	n := len(data)
	return &Param{Name: name, Shape: append([]int(nil), shape...), p: nn.NewParam(newMatrix(data, 1, n)),
		Grad: make([]float32, n), m: make([]float32, n), v: make([]float32, n)}
}

// Data returns the values, which an optimizer updates in place.
func (p *Param) Data() []float32 { return paramData(p.p) }

// Adam is torch.optim.Adam with its defaults' arithmetic (no weight decay,
// no AMSGrad), so a network trained here follows torch step for step from
// the same weights and batches:
//
//	m = β1·m + (1-β1)·g
//	v = β2·v + (1-β2)·g²
//	w = w - lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + ε)
//
// The heads' optimizer (adam) keeps spago's arithmetic, where ε is added
// before the bias correction, for bit-for-bit compatibility with the heads
// trained before.
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	t                     int
}

// NewAdam returns torch's Adam at learning rate lr (β 0.9, 0.999, ε 1e-8).
func NewAdam(lr float64) *Adam { return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// Steps is how many steps have been taken.
func (a *Adam) Steps() int { return a.t }

// Step updates every parameter whose gradient this step's backward pass
// wrote, and clears HasGrad.
func (a *Adam) Step(params []*Param) {
	a.t++
	t := float64(a.t)
	stepSize := float32(a.LR / (1 - math.Pow(a.Beta1, t)))
	bc2 := float32(math.Sqrt(1 - math.Pow(a.Beta2, t)))
	b1, c1 := float32(a.Beta1), float32(1-a.Beta1)
	b2, c2 := float32(a.Beta2), float32(1-a.Beta2)
	eps := float32(a.Eps)
	for _, p := range params {
		if !p.HasGrad {
			continue
		}
		w := p.Data()
		g, m, v := p.Grad[:len(w)], p.m[:len(w)], p.v[:len(w)]
		for i, gi := range g {
			mi := float32(m[i]*b1) + float32(gi*c1)
			vi := float32(v[i]*b2) + float32(float32(gi*gi)*c2)
			m[i], v[i] = mi, vi
			denom := float32(math.Sqrt(float64(vi)))/bc2 + eps
			w[i] -= float32(stepSize * (mi / denom))
		}
		p.HasGrad = false
	}
}
