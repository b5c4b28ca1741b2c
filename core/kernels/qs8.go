package kernels

import "math"

// Int8 compute. A calibrated model (glimpse convert --calibrate) runs in
// integer arithmetic with XNNPACK's QS8 scheme:
//
//   - an activation is int8 with one scale s and zero point z per tensor,
//     real = s·(q − z);
//   - a convolution or dense kernel is int8, symmetric, with one scale per
//     output channel (−127…127);
//   - a bias is int32 on the scale s_in·s_w[c];
//   - products are summed exactly in int32 and requantized in the kernel's
//     epilogue: q = clamp(roundEven(float32(acc)·m[c]) + z_out), with
//     m[c] = s_in·s_w[c]/s_out in float32 (XNNPACK's "fp32" requantization,
//     which every SIMD instruction set computes bit for bit the same way:
//     an int32-to-float32 conversion, one float32 multiply, a round to
//     nearest even). A fused activation (ReLU, ReLU6) is only the clamp's
//     bounds.
//
// Every implementation of Int8 gives results identical, bit for bit, to
// Int8Go's (tested against a naive integer reference).

// QS8Out is the output side of a requantizing epilogue: the output's zero
// point and the clamp bounds (a fused ReLU6 in the quantized domain).
type QS8Out struct {
	Zero     int32
	Min, Max int8
}

// Requantize is the epilogue of every int8 kernel: the int32 accumulator
// times the float32 multiplier, rounded to nearest even, offset by the
// output's zero point and clamped. The clamp happens before the round, in
// float32 (the bounds are integers, so the result is the same), so no
// intermediate can overflow.
func Requantize(acc int32, mult float32, o QS8Out) int8 {
	f := float32(acc) * mult
	lo, hi := float32(int32(o.Min)-o.Zero), float32(int32(o.Max)-o.Zero)
	f = min(max(f, lo), hi)
	return int8(int32(math.RoundToEven(float64(f))) + o.Zero)
}

// QS8GEMMWeights are a GEMM's int8 weights packed by PackQS8GEMM, with
// everything the epilogue needs. Each implementation lays W out its own
// way.
type QS8GEMMWeights struct {
	K, N int
	W    []int8
	// W16 holds the weights widened to int16 pairs, for implementations
	// whose multiply-add takes int16 (AVX2's vpmaddwd).
	W16 []int16
	// Bias16 and Mult16 are Bias and Mult padded with zeros to whole
	// panels, for implementations that load them a vector at a time.
	Bias16 []int32
	Mult16 []float32
	// Bias is per output column: the layer's bias on the scale s_in·s_w
	// minus the input's zero point times the column's weight sum, so the
	// kernel sums plain products.
	Bias []int32
	Mult []float32 // per column: s_in·s_w[c]/s_out
}

// QS8DWWeights are a depthwise convolution's int8 taps packed by
// PackQS8DWConv ([KH*KW][C]), its int32 bias and multipliers.
type QS8DWWeights struct {
	KH, KW, C int
	W         []int8
	W16       []int16 // the taps widened, for implementations that multiply int16 lanes
	W32       []int32 // the taps widened, for implementations that multiply int32 lanes
	// TapSum is Σ over the taps of each channel's weights, for
	// implementations that fold the input's zero point into the bias where
	// every tap is inside the input.
	TapSum []int32
	Bias   []int32
	Mult   []float32
}

// QS8AddParams describe out = x + y: each input's zero point and its
// scale relative to the output's (s_x/s_out, s_y/s_out).
type QS8AddParams struct {
	XZero, YZero int32
	XMult, YMult float32
	Out          QS8Out
}

// Int8 is the set of integer kernels a calibrated model runs on.
type Int8 interface {
	// Name names the implementation ("go", "avx2", "wasmsimd"...).
	Name() string

	// PackQS8GEMM packs B[K][N] (row-major int8, symmetric per column)
	// for QS8GEMM, folding −aZero·Σ_p B[p][j] into the bias. bias is on
	// the scale s_in·s_w[j] and may be nil; mult is s_in·s_w[j]/s_out.
	PackQS8GEMM(b []int8, k, n int, bias []int32, mult []float32, aZero int32) *QS8GEMMWeights
	// QS8GEMM computes c[i*ldc+j] = requant(Σ_p (a[i*lda+p] − aZero)·B[p][j]
	// + bias[j]) for i < m, j < N.
	QS8GEMM(m int, a []int8, lda int, w *QS8GEMMWeights, c []int8, ldc int, o QS8Out)

	// QS8Im2Col is Im2Col for int8 input: padded cells hold zero, the
	// input's zero point (a real 0).
	QS8Im2Col(s *ConvShape, in []int8, zero int8, c0, cin int, cols []int8)

	// PackQS8DWConv packs depthwise taps given as HWIO [KH][KW][1][C].
	PackQS8DWConv(w []int8, kh, kw, c int, bias []int32, mult []float32) *QS8DWWeights
	// QS8DWConv is a depthwise convolution (s.InC == s.OutC) of an int8
	// input with zero point inZero: out = requant(Σ_taps (x − inZero)·w +
	// bias); taps in the padding add nothing (they are real zeros).
	QS8DWConv(s *ConvShape, in []int8, inZero int32, w *QS8DWWeights, out []int8, o QS8Out)

	// QS8Add computes out = clamp(roundEven(float32(x−xz)·xm +
	// float32(y−yz)·ym) + z_out) element-wise, each product rounded to
	// float32 before the sum.
	QS8Add(x, y, out []int8, p *QS8AddParams)

	// QS8GlobalAvgPool averages each channel of an hw x c input:
	// out[c] = requant(Σ_i (in[i*c+ch] − inZero), mult) with mult =
	// s_in/(hw·s_out).
	QS8GlobalAvgPool(hw, c int, in []int8, inZero int32, mult float32, out []int8, o QS8Out)

	// QuantizeF32 computes out = clamp(roundEven(x·inv) + zero) with inv
	// = 1/s, saturating to −128…127.
	QuantizeF32(x []float32, inv float32, zero int32, out []int8)
	// DequantizeF32 computes out = float32(q − zero)·scale.
	DequantizeF32(q []int8, scale float32, zero int32, out []float32)
}
