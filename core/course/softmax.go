package course

import (
	"fmt"
	"math"
)

// SoftmaxSteps is softmax worked the way the course writes it,
// σ(j) = exp(z_j) / Σ_k exp(z_k), one step at a time. Max is subtracted
// from every logit first: the probabilities do not change (the factor
// exp(−Max) cancels) but no exponential overflows.
type SoftmaxSteps struct {
	Logits  []float64
	Max     float64
	Shifted []float64 // z_j − Max
	Exp     []float64 // exp(z_j − Max)
	Sum     float64
	Prob    []float64 // Exp / Sum: each in (0, 1], summing to 1
}

// MaxClasses bounds how many logits Softmax takes.
const MaxClasses = 1 << 20

// Softmax computes the steps for the given logits, in float64.
func Softmax(logits []float32) (*SoftmaxSteps, error) {
	if len(logits) == 0 || len(logits) > MaxClasses {
		return nil, fmt.Errorf("softmax takes 1..%d logits, got %d", MaxClasses, len(logits))
	}
	s := &SoftmaxSteps{Max: math.Inf(-1)}
	for i, z := range logits {
		v := float64(z)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("logit %d is %v", i, z)
		}
		s.Logits = append(s.Logits, v)
		s.Max = max(s.Max, v)
	}
	for _, v := range s.Logits {
		d := v - s.Max
		e := math.Exp(d)
		s.Shifted = append(s.Shifted, d)
		s.Exp = append(s.Exp, e)
		s.Sum += e
	}
	for _, e := range s.Exp {
		s.Prob = append(s.Prob, e/s.Sum)
	}
	return s, nil
}
