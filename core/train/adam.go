package train

import "math"

// adam is Adam (Kingma and Ba), or AdamW (Loshchilov and Hutter) when
// decay is set, updating float32 parameters in place. spago's optimizer
// allocates several temporary matrices per parameter per step, which
// dominated the allocations of a training run; this one allocates nothing.
//
// The arithmetic is spago's, operation for operation, so heads trained
// before and after agree to the bit: every constant rounded to float32
// once, then per value
//
//	m = m*β1 + g*(1-β1)
//	v = v*β2 + (g*g)*(1-β2)
//	w = w - α*(m/(sqrt(v)+ε) + λ*w)  (λ*w only for AdamW)
//
// with α = lr*sqrt(1-β2^t)/(1-β1^t) computed in float64. Every product is
// rounded by an explicit float32() conversion, which forbids the compiler
// to fuse it with the addition that follows (Go may fuse x*y+z into one
// FMA on some platforms, which would change the bits from one platform to
// the next).
type adam struct {
	lr, beta1, beta2, eps, decay float64
	t                            int // steps taken
}

// step advances the step count: call once per batch, before update.
func (a *adam) step() { a.t++ }

// update applies one step to the parameters w with gradients g and moments
// m and v (all of one length).
func (a *adam) update(w, g, m, v []float32) {
	ts := float64(a.t)
	alpha := float32(a.lr * math.Sqrt(1-math.Pow(a.beta2, ts)) / (1 - math.Pow(a.beta1, ts)))
	b1, c1 := float32(a.beta1), float32(1-a.beta1)
	b2, c2 := float32(a.beta2), float32(1-a.beta2)
	eps, decay := float32(a.eps), float32(a.decay)
	g, m, v = g[:len(w)], m[:len(w)], v[:len(w)]
	for i, wi := range w {
		gi := g[i]
		mi := float32(m[i]*b1) + float32(gi*c1)
		vi := float32(v[i]*b2) + float32(float32(gi*gi)*c2)
		m[i], v[i] = mi, vi
		q := mi / (float32(math.Sqrt(float64(vi))) + eps)
		if a.decay != 0 {
			q += float32(wi * decay)
		}
		w[i] = wi - float32(q*alpha)
	}
}
