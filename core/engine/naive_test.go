package engine

import (
	"math"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// naiveRun evaluates a graph straight from the IR's definitions, one op at
// a time, in float64, with no folding, fusion, packing or planning: the
// reference the engine is tested against.
func naiveRun(g *ir.Graph, input []float32) map[string][]float64 {
	shapes, err := g.Infer()
	if err != nil {
		panic(err)
	}
	vals := map[string][]float64{}
	x := make([]float64, len(input))
	for i, v := range input {
		x[i] = float64(v)
	}
	vals[g.Input] = x
	w := func(n *ir.Node, i int) []float32 {
		if i >= len(n.Weights) || n.Weights[i] == "" {
			return nil
		}
		return g.Tensors[n.Weights[i]].Data
	}
	for _, n := range g.Nodes {
		in := shapes[n.Inputs[0]]
		out := shapes[n.Output]
		src := vals[n.Inputs[0]]
		res := make([]float64, out.Size())
		a := n.Attrs
		sh, sw := a.Strides()
		dh, dw := a.Dilations()
		switch n.Op {
		case ir.Conv2D:
			t := g.Tensors[n.Weights[0]]
			kh, kw, cinG, cout := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
			groups := a.GroupCount()
			coutG := cout / groups
			bias := w(n, 1)
			for oy := 0; oy < out[0]; oy++ {
				for ox := 0; ox < out[1]; ox++ {
					for o := 0; o < cout; o++ {
						g0 := o / coutG
						s := 0.0
						if bias != nil {
							s = float64(bias[o])
						}
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								iy := oy*sh - a.Pads[0] + ky*dh
								ix := ox*sw - a.Pads[1] + kx*dw
								if iy < 0 || iy >= in[0] || ix < 0 || ix >= in[1] {
									continue
								}
								for ci := 0; ci < cinG; ci++ {
									s += src[(iy*in[1]+ix)*in[2]+g0*cinG+ci] * float64(t.Data[((ky*kw+kx)*cinG+ci)*cout+o])
								}
							}
						}
						res[(oy*out[1]+ox)*cout+o] = act(a.Act, s)
					}
				}
			}
		case ir.BatchNorm:
			gm, bt, mn, vr := w(n, 0), w(n, 1), w(n, 2), w(n, 3)
			for i := range res {
				c := i % in[2]
				res[i] = (src[i]-float64(mn[c]))/math.Sqrt(float64(vr[c])+float64(a.Epsilon))*float64(gm[c]) + float64(bt[c])
			}
		case ir.Dense:
			t := g.Tensors[n.Weights[0]]
			bias := w(n, 1)
			for o := 0; o < t.Shape[1]; o++ {
				s := 0.0
				if bias != nil {
					s = float64(bias[o])
				}
				for i := 0; i < t.Shape[0]; i++ {
					s += src[i] * float64(t.Data[i*t.Shape[1]+o])
				}
				res[o] = act(a.Act, s)
			}
		case ir.MaxPool, ir.AvgPool:
			for oy := 0; oy < out[0]; oy++ {
				for ox := 0; ox < out[1]; ox++ {
					for c := 0; c < in[2]; c++ {
						best, sum, count := math.Inf(-1), 0.0, 0
						for ky := 0; ky < a.Kernel[0]; ky++ {
							for kx := 0; kx < a.Kernel[1]; kx++ {
								iy, ix := oy*sh-a.Pads[0]+ky, ox*sw-a.Pads[1]+kx
								if iy < 0 || iy >= in[0] || ix < 0 || ix >= in[1] {
									continue
								}
								v := src[(iy*in[1]+ix)*in[2]+c]
								best = math.Max(best, v)
								sum += v
								count++
							}
						}
						r := best
						if n.Op == ir.AvgPool {
							if a.CountPad {
								// torch counts the window clipped to the padded input.
								y0, x0 := oy*sh-a.Pads[0], ox*sw-a.Pads[1]
								y1 := min(y0+a.Kernel[0], in[0]+a.Pads[2])
								x1 := min(x0+a.Kernel[1], in[1]+a.Pads[3])
								count = (y1 - y0) * (x1 - x0)
							}
							r = sum / float64(count)
						}
						res[(oy*out[1]+ox)*in[2]+c] = r
					}
				}
			}
		case ir.GlobalAvgPool:
			for i, v := range src {
				res[i%in[2]] += v / float64(in[0]*in[1])
			}
		case ir.Add:
			y := vals[n.Inputs[1]]
			for i := range res {
				res[i] = act(a.Act, src[i]+y[i])
			}
		case ir.Mul:
			y := vals[n.Inputs[1]]
			for i := range res {
				res[i] = src[i%len(src)] * y[i%len(y)]
			}
		case ir.Concat:
			off := 0
			for _, v := range n.Inputs {
				s := shapes[v]
				for p := 0; p < s[0]*s[1]; p++ {
					for c := 0; c < s[2]; c++ {
						res[p*out[2]+off+c] = vals[v][p*s[2]+c]
					}
				}
				off += s[2]
			}
		case ir.ReLU, ir.ReLU6, ir.HardSwish, ir.Sigmoid:
			f, _ := ir.ActivationOf(n.Op)
			for i, v := range src {
				res[i] = act(f, v)
			}
		case ir.HardSigmoid:
			for i, v := range src {
				res[i] = math.Min(math.Max(v*float64(a.Alpha)+float64(a.Beta), 0), 1)
			}
		case ir.Tanh:
			alpha, beta := a.TanhScales()
			for i, v := range src {
				res[i] = float64(alpha) * math.Tanh(float64(beta)*v)
			}
		case ir.Softmax:
			for p := 0; p < in[0]*in[1]; p++ {
				row := src[p*in[2] : (p+1)*in[2]]
				m := math.Inf(-1)
				for _, v := range row {
					m = math.Max(m, v)
				}
				s := 0.0
				for _, v := range row {
					s += math.Exp(v - m)
				}
				for c, v := range row {
					res[p*in[2]+c] = math.Exp(v-m) / s
				}
			}
		case ir.Flatten:
			copy(res, src)
		case ir.Pad:
			for y := 0; y < in[0]; y++ {
				for x := 0; x < in[1]; x++ {
					for c := 0; c < in[2]; c++ {
						res[((y+a.Pads[0])*out[1]+x+a.Pads[1])*in[2]+c] = src[(y*in[1]+x)*in[2]+c]
					}
				}
			}
		default:
			panic("naive: unknown op " + string(n.Op))
		}
		vals[n.Output] = res
	}
	return vals
}

func act(a ir.Activation, x float64) float64 {
	switch a {
	case ir.ActReLU:
		return math.Max(x, 0)
	case ir.ActReLU6:
		return math.Min(math.Max(x, 0), 6)
	case ir.ActHardSwish:
		return x * math.Min(math.Max(x+3, 0), 6) / 6
	case ir.ActHardSigmoid:
		return math.Min(math.Max(x+3, 0), 6) / 6
	case ir.ActSigmoid:
		return 1 / (1 + math.Exp(-x))
	}
	return x
}
