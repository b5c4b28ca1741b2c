// Package kernels holds the numeric inner loops of the engine, behind one
// interface with several implementations:
//
//   - Go: the pure-Go implementation. It is the reference the others are
//     tested against, the fallback everywhere, and what the engine uses when
//     nothing faster is available.
//   - amd64 fast path (build tag goexperiment.simd, GOEXPERIMENT=simd):
//     AVX2/FMA microkernels written with simd/archsimd, for the native CLI.
//   - wasm SIMD (in the wasm/ packages): a separate WebAssembly module that
//     imports Go's linear memory, called with addresses into Go slices.
//
// Every implementation embeds Go and overrides only what it speeds up, so
// a kernel it lacks falls back to the reference automatically.
//
// # Naming
//
// Kernel functions follow XNNPACK's grammar:
//
//	<datatype>_<operation>_<tile or shape>__<implementation>
//
// for example f32_gemm_4x8__go (a 4-row by 8-column register tile of the
// GEMM in pure Go), f32_gemm_4x16__avx2fma, f32_dwconv_3x3s2__wasmsimd
// (depthwise 3x3, stride 2). The Go identifiers spell the same names in
// CamelCase: F32GEMM4x8Go, F32DWConv3x3s2AVX2FMA. Name reports which
// implementation an engine runs.
//
// # Conventions
//
// Activations are NHWC float32 for one sample. Output buffers are fully
// overwritten; kernels never read them. No kernel allocates.
package kernels

import "math"

// Act is an activation fused into a kernel's epilogue.
type Act uint8

// Fused activations. HardSigmoid is torch's relu6(x+3)/6.
const (
	ActNone Act = iota
	ActReLU
	ActReLU6
	ActHardSwish
	ActHardSigmoid
	ActSigmoid
)

// Apply computes the activation of one value. It is the reference that
// every vectorised epilogue must match.
func (a Act) Apply(x float32) float32 {
	switch a {
	case ActReLU:
		if x < 0 {
			return 0
		}
	case ActReLU6:
		return min(max(x, 0), 6)
	case ActHardSwish:
		return x * min(max(x+3, 0), 6) / 6
	case ActHardSigmoid:
		return min(max(x+3, 0), 6) / 6
	case ActSigmoid:
		return float32(1 / (1 + math.Exp(-float64(x))))
	}
	return x
}

// ConvShape describes a 2-D window operation (convolution or pooling) on an
// NHWC input. Padding is given per side; the windows themselves are placed
// by PadTop and PadLeft, and the bottom and right edges are implied by the
// output size.
type ConvShape struct {
	InH, InW, InC    int
	OutH, OutW, OutC int
	KH, KW           int
	SH, SW           int // stride
	DH, DW           int // dilation (1 for pools)
	PadTop, PadLeft  int
	// PadBottom and PadRight are the declared trailing padding. Only
	// AvgPool with countPad reads them: a ceil-mode window that overhangs
	// the padding counts only the cells inside the padded input, as torch
	// and ONNX Runtime count them.
	PadBottom, PadRight int
}

// Kernels is the set of inner loops the engine calls. Implementations must
// give the same results as Go within float32 rounding (tested against a
// naive loop with guard bands around every output).
type Kernels interface {
	// Name names the implementation, e.g. "go", "avx2fma", "wasmsimd".
	Name() string

	// PackGEMMWeights repacks a row-major B[K][N] (a dense kernel, a 1x1
	// convolution's weights, or an im2col'd convolution's) into the layout
	// GEMM reads; done once at load. The result is what GEMM takes as b.
	PackGEMMWeights(b []float32, k, n int) []float32

	// GEMM computes c[i*ldc+j] = act(sum_p a[i*lda+p]*B[p][j] + bias[j]) for
	// i < m, j < n, with B packed by PackGEMMWeights. bias may be nil.
	GEMM(m, n, k int, a []float32, lda int, b []float32, bias []float32, c []float32, ldc int, act Act)

	// Im2Col writes, for every output pixel (row-major), the KH*KW*cin input
	// values its window covers (zeros for padding) in (kh, kw, c) order,
	// reading channels [c0, c0+cin) of an NHWC input with s.InC channels.
	// cols has s.OutH*s.OutW rows of s.KH*s.KW*cin values.
	Im2Col(s *ConvShape, in []float32, c0, cin int, cols []float32)

	// PackDWConvWeights repacks depthwise weights given as HWIO
	// [KH][KW][1][C] into the layout DWConv reads; done once at load.
	PackDWConvWeights(w []float32, kh, kw, c int) []float32

	// DWConv is a depthwise convolution with channel multiplier 1
	// (s.InC == s.OutC), any window, stride, dilation and padding, with a
	// fused bias (may be nil) and activation. w comes from
	// PackDWConvWeights. 3x3 with stride 1 and 2 are the fast cases.
	DWConv(s *ConvShape, in, w, bias, out []float32, act Act)

	// MaxPool takes the maximum over each window; padded cells are ignored.
	MaxPool(s *ConvShape, in, out []float32)
	// AvgPool averages each window, dividing by the whole window when
	// countPad is set (torch's count_include_pad; clipped to the padded
	// input, see ConvShape.PadBottom) and otherwise by the number of cells
	// inside the input (TF, Keras). A window with no cell inside the input
	// gives 0, for MaxPool too.
	AvgPool(s *ConvShape, in, out []float32, countPad bool)
	// GlobalAvgPool averages each channel of an hw x c input into out[c].
	GlobalAvgPool(hw, c int, in, out []float32)

	// Add computes out = act(x + y) element-wise.
	Add(x, y, out []float32, act Act)
	// MulChannels computes out[i*c+j] = x[i*c+j] * scale[j] for a scale
	// broadcast over hw pixels (squeeze-excite); Mul of equal shapes is
	// MulChannels with hw = 1 and c = len(x).
	MulChannels(hw, c int, x, scale, out []float32)
	// Activate applies act in place.
	Activate(x []float32, act Act)
	// HardSigmoid computes clip(x*alpha+beta, 0, 1) in place (TF's 0.2,
	// 0.5 and torch's 1/6, 0.5 differ).
	HardSigmoid(x []float32, alpha, beta float32)
	// Softmax normalises each of the hw rows of c values in place.
	Softmax(hw, c int, x []float32)
}
