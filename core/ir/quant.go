package ir

// QParams quantize one activation value to int8: real = Scale·(q − Zero),
// q in −128…127. A calibrated model (Meta.Quant) has them per value, as
// measured on pictures, and the engine runs it in integer arithmetic.
type QParams struct {
	Scale float32 // > 0
	Zero  int32   // −128…127
}

// Dequantize is the real value of q.
func (p QParams) Dequantize(q int8) float32 { return p.Scale * float32(int32(q)-p.Zero) }
