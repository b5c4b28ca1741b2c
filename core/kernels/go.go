package kernels

import (
	"math"
	"runtime"
)

// Go is the pure-Go implementation of Kernels: the reference every other
// implementation is tested against and the fallback on every platform,
// GOOS=js GOARCH=wasm included. It uses no unsafe code, no assembly and no
// build tags. Its speed comes from register tiling and from re-slicing to
// known lengths before hot loops, so that the compiler drops bounds checks
// (which matters as much under wasm as natively).
type Go struct{}

// Name implements Kernels.
func (Go) Name() string { return "go" }

// PackGEMMWeights implements Kernels; see f32GEMMGo for the layout.
func (Go) PackGEMMWeights(b []float32, k, n int) []float32 {
	return packGEMMPanels(b, k, n, goGEMMNR)
}

// GEMM implements Kernels with the f32_gemm_4x8__go microkernel.
func (Go) GEMM(m, n, k int, a []float32, lda int, b []float32, bias []float32, c []float32, ldc int, act Act) {
	f32GEMMGo(m, n, k, a, lda, b, bias, c, ldc, act)
}

// Im2Col implements Kernels.
func (Go) Im2Col(s *ConvShape, in []float32, c0, cin int, cols []float32) {
	f32Im2ColGo(s, in, c0, cin, cols)
}

// PackDWConvWeights implements Kernels. The layout is the HWIO one given,
// [KH*KW][C]: every tap's weights are contiguous over channels, which is
// the order the channel-innermost loops of DWConv read. It is shared by
// the other implementations, which vectorise over channels too.
func (Go) PackDWConvWeights(w []float32, kh, kw, c int) []float32 {
	return append([]float32(nil), w[:kh*kw*c]...)
}

// DWConv implements Kernels: f32_dwconv_3x3s1__go and f32_dwconv_3x3s2__go
// for the common cases, f32_dwconv__go for any other window.
func (Go) DWConv(s *ConvShape, in, w, bias, out []float32, act Act) {
	if s.KH == 3 && s.KW == 3 && s.DH == 1 && s.DW == 1 {
		switch {
		case s.SH == 1 && s.SW == 1:
			f32DWConv3x3s1Go(s, in, w, bias, out, act)
			return
		case s.SH == 2 && s.SW == 2:
			f32DWConv3x3s2Go(s, in, w, bias, out, act)
			return
		}
	}
	f32DWConvGo(s, in, w, bias, out, act)
}

// MaxPool implements Kernels.
func (Go) MaxPool(s *ConvShape, in, out []float32) { f32MaxPoolGo(s, in, out) }

// AvgPool implements Kernels.
func (Go) AvgPool(s *ConvShape, in, out []float32, countPad bool) {
	f32AvgPoolGo(s, in, out, countPad)
}

// GlobalAvgPool implements Kernels.
func (Go) GlobalAvgPool(hw, c int, in, out []float32) { f32GlobalAvgPoolGo(hw, c, in, out) }

// Add implements Kernels.
func (Go) Add(x, y, out []float32, act Act) { f32AddGo(x, y, out, act) }

// MulChannels implements Kernels.
func (Go) MulChannels(hw, c int, x, scale, out []float32) { f32MulChannelsGo(hw, c, x, scale, out) }

// Activate implements Kernels.
func (Go) Activate(x []float32, act Act) { f32ActivateGo(x, act) }

// HardSigmoid implements Kernels.
func (Go) HardSigmoid(x []float32, alpha, beta float32) {
	for i, v := range x {
		x[i] = clamp(v*alpha+beta, 0, 1)
	}
}

// Softmax implements Kernels. Each row subtracts its maximum before
// exponentiating so that large logits cannot overflow, and sums in float64
// so that a thousand classes lose no precision.
func (Go) Softmax(hw, c int, x []float32) {
	for i := 0; i < hw; i++ {
		row := x[i*c : i*c+c]
		if len(row) == 0 {
			continue
		}
		mx := row[0]
		for _, v := range row {
			if v > mx {
				mx = v
			}
		}
		var sum float64
		for j, v := range row {
			e := math.Exp(float64(v - mx))
			row[j] = float32(e)
			sum += e
		}
		inv := 1 / sum
		for j, v := range row {
			row[j] = float32(float64(v) * inv)
		}
	}
}

// f32ActivateGo applies act to x in place. The switch sits outside the
// loops so that each loop is a tight pass; the clamps go through clamp.
func f32ActivateGo(x []float32, act Act) {
	switch act {
	case ActReLU:
		for i, v := range x {
			x[i] = clamp(v, 0, float32(math.Inf(1)))
		}
	case ActReLU6:
		for i, v := range x {
			x[i] = clamp(v, 0, 6)
		}
	case ActHardSwish:
		for i, v := range x {
			x[i] = v * clamp(v+3, 0, 6) / 6
		}
	case ActHardSigmoid:
		for i, v := range x {
			x[i] = clamp(v+3, 0, 6) / 6
		}
	case ActSigmoid:
		for i, v := range x {
			x[i] = ActSigmoid.Apply(v)
		}
	}
}

// clamp limits v to [lo, hi]. Under wasm the min and max builtins, which
// must order NaNs and signed zeros, cost a runtime call per value (measured
// 20 times slower than comparisons), so there it compares and branches;
// natively the builtins compile to branch-free instructions, which beat
// mispredicted branches on activations of either sign. The GOARCH test is
// a constant, so each build keeps one path and pays no test.
func clamp(v, lo, hi float32) float32 {
	if runtime.GOARCH == "wasm" {
		if v < lo {
			return lo
		}
		if v > hi {
			return hi
		}
		return v
	}
	return min(max(v, lo), hi)
}

// f32AddGo computes out = act(x + y).
func f32AddGo(x, y, out []float32, act Act) {
	y = y[:len(x)]
	out = out[:len(x)]
	for i, v := range x {
		out[i] = v + y[i]
	}
	f32ActivateGo(out, act)
}

// f32MulChannelsGo scales each pixel's c channels by scale.
func f32MulChannelsGo(hw, c int, x, scale, out []float32) {
	scale = scale[:c]
	for i := 0; i < hw; i++ {
		xr := x[i*c : i*c+c]
		or := out[i*c : i*c+c]
		for j, s := range scale {
			or[j] = xr[j] * s
		}
	}
}

// f32GlobalAvgPoolGo sums pixel rows into out channel-wise, then scales by
// 1/hw: one pass over the input in memory order.
func f32GlobalAvgPoolGo(hw, c int, in, out []float32) {
	out = out[:c]
	clear(out)
	for i := 0; i < hw; i++ {
		row := in[i*c : i*c+c]
		for j, v := range row {
			out[j] += v
		}
	}
	if hw > 0 {
		inv := 1 / float32(hw)
		for j := range out {
			out[j] *= inv
		}
	}
}
