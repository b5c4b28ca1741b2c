package kernels

// A convolution of a batch as training runs it, forward and backward, on
// any Kernels: im2col of every sample and group, then one GEMM per group
// over the whole batch's rows. The backward passes are the same products
// turned around, on the gradient kernels:
//
//	forward        y_g  = cols_g · W_g            (GEMM)
//	weights        dW_g = cols_gᵀ · dy_g          (GEMMAtB, no transpose)
//	data           dcols = dy_g · W_gᵀ, then dx = Col2Im(dcols)
//
// so each implementation's fast GEMMs carry the arithmetic, and the window
// bookkeeping (stride, padding, dilation) stays in Im2Col and Col2Im.
//
// Layouts: a batch is n NHWC samples back to back; weights are HWIO,
// [KH][KW][InC/groups][OutC], group g owning output channels [g*OutC/groups,
// (g+1)*OutC/groups) and reading input channels [g*InC/groups, ...). The
// im2col buffer holds the groups one after another, each n*OutH*OutW rows of
// KH*KW*InC/groups values.

// ConvColsLen is the length of the im2col buffer of n samples.
func ConvColsLen(s *ConvShape, groups, n int) int {
	return n * s.OutH * s.OutW * s.KH * s.KW * s.InC
}

// ConvIm2Col writes the im2col rows of n samples x into cols, group after
// group.
func ConvIm2Col(k Kernels, s *ConvShape, groups, n int, x, cols []float32) {
	cinG := s.InC / groups
	inLen, rows, kg := s.InH*s.InW*s.InC, s.OutH*s.OutW, s.KH*s.KW*cinG
	for g := 0; g < groups; g++ {
		block := cols[g*n*rows*kg : (g+1)*n*rows*kg]
		for i := 0; i < n; i++ {
			k.Im2Col(s, x[i*inLen:(i+1)*inLen], g*cinG, cinG, block[i*rows*kg:(i+1)*rows*kg])
		}
	}
}

// groupWeights copies group g's KG x CoutG block out of HWIO weights,
// transposed (CoutG x KG) when t is set.
func groupWeights(s *ConvShape, groups, g int, w []float32, t bool) []float32 {
	coutG, kg := s.OutC/groups, s.KH*s.KW*(s.InC/groups)
	out := make([]float32, kg*coutG)
	for p := 0; p < kg; p++ {
		row := w[p*s.OutC+g*coutG : p*s.OutC+(g+1)*coutG]
		for j, v := range row {
			if t {
				out[j*kg+p] = v
			} else {
				out[p*coutG+j] = v
			}
		}
	}
	return out
}

// PackConvWeights packs each group's weights for ConvForward.
func PackConvWeights(k Kernels, s *ConvShape, groups int, w []float32) [][]float32 {
	coutG, kg := s.OutC/groups, s.KH*s.KW*(s.InC/groups)
	packed := make([][]float32, groups)
	for g := range packed {
		packed[g] = k.PackGEMMWeights(groupWeights(s, groups, g, w, false), kg, coutG)
	}
	return packed
}

// PackConvDataWeights packs each group's transposed weights for
// ConvBackwardData.
func PackConvDataWeights(k Kernels, s *ConvShape, groups int, w []float32) [][]float32 {
	coutG, kg := s.OutC/groups, s.KH*s.KW*(s.InC/groups)
	packed := make([][]float32, groups)
	for g := range packed {
		packed[g] = k.PackGEMMWeights(groupWeights(s, groups, g, w, true), coutG, kg)
	}
	return packed
}

// ConvForward computes y = act(conv(x) + bias) for the n samples whose
// im2col rows are cols (ConvIm2Col), with weights from PackConvWeights;
// bias may be nil. y is n samples of OutH x OutW x OutC.
func ConvForward(k Kernels, s *ConvShape, groups, n int, cols []float32, packed [][]float32, bias, y []float32, act Act) {
	coutG, kg, rows := s.OutC/groups, s.KH*s.KW*(s.InC/groups), n*s.OutH*s.OutW
	for g := 0; g < groups; g++ {
		var b []float32
		if bias != nil {
			b = bias[g*coutG : (g+1)*coutG]
		}
		k.GEMM(rows, coutG, kg, cols[g*rows*kg:(g+1)*rows*kg], kg, packed[g], b, y[g*coutG:], s.OutC, act)
	}
}

// ConvBackwardFilter overwrites dw (HWIO) with the weight gradient summed
// over the n samples whose im2col rows are cols, given the output
// gradient dy (n samples of OutH x OutW x OutC). Each group's product is
// taken as dWᵀ = dyᵀ·cols, KG columns wide rather than CoutG (a handful
// of channels against KH*KW*Cin taps): the wider shape fills the GEMMs'
// vectors, and only the small result is transposed into place.
func ConvBackwardFilter(k Kernels, s *ConvShape, groups, n int, cols, dy, dw []float32) {
	coutG, kg, rows := s.OutC/groups, s.KH*s.KW*(s.InC/groups), n*s.OutH*s.OutW
	dwt := make([]float32, coutG*kg)
	for g := 0; g < groups; g++ {
		k.GEMMAtB(coutG, kg, rows, dy[g*coutG:], s.OutC, cols[g*rows*kg:(g+1)*rows*kg], kg, dwt, kg)
		for j := 0; j < coutG; j++ {
			for p, v := range dwt[j*kg : (j+1)*kg] {
				dw[p*s.OutC+g*coutG+j] = v
			}
		}
	}
}

// ConvDataScratchLen is the length of ConvBackwardData's scratch buffer.
func ConvDataScratchLen(s *ConvShape, groups, n int) int {
	return n * s.OutH * s.OutW * s.KH * s.KW * (s.InC / groups)
}

// ConvBackwardData overwrites dx (n samples of the input's shape) with the
// input gradient, given dy and the weights from PackConvDataWeights.
// scratch holds ConvDataScratchLen values.
func ConvBackwardData(k Kernels, s *ConvShape, groups, n int, dy []float32, packedT [][]float32, dx, scratch []float32) {
	cinG, coutG := s.InC/groups, s.OutC/groups
	kg, pix, inLen := s.KH*s.KW*cinG, s.OutH*s.OutW, s.InH*s.InW*s.InC
	dcols := scratch[:n*pix*kg]
	for g := 0; g < groups; g++ {
		k.GEMM(n*pix, kg, coutG, dy[g*coutG:], s.OutC, packedT[g], nil, dcols, kg, ActNone)
		for i := 0; i < n; i++ {
			k.Col2Im(s, dcols[i*pix*kg:(i+1)*pix*kg], g*cinG, cinG, dx[i*inLen:(i+1)*inLen])
		}
	}
}
