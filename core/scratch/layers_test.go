package scratch

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/glimpse-ml/glimpse/core/kernels"
)

// testChain is a small network over every layer and every case of the
// convolution: a grouped, strided, padded, dilated convolution with a
// fused ReLU, a max pool, the per-channel product (LeNet-5's trainable
// subsampling), a scaled tanh, an average pool with padding, a plain
// convolution, a stand-alone ReLU, flatten and two dense layers.
func testChain(rng *rand.Rand, kern kernels.Kernels) *Chain {
	param := func(name string, scale float64, shape ...int) *Param {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return NewParam(name, shape, randSlice(rng, n, scale))
	}
	c1 := kernels.ConvShape{InH: 9, InW: 8, InC: 4, OutH: 4, OutW: 4, OutC: 6, KH: 3, KW: 3, SH: 2, SW: 2, DH: 2, DW: 1,
		PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	p1 := kernels.ConvShape{InH: 4, InW: 4, InC: 6, OutH: 3, OutW: 3, OutC: 6, KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1}
	s1 := kernels.ConvShape{InH: 3, InW: 3, InC: 6, OutH: 3, OutW: 3, OutC: 6, KH: 1, KW: 1, SH: 1, SW: 1, DH: 1, DW: 1}
	p2 := kernels.ConvShape{InH: 3, InW: 3, InC: 6, OutH: 3, OutW: 3, OutC: 6, KH: 3, KW: 3, SH: 1, SW: 1, DH: 1, DW: 1,
		PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	c2 := kernels.ConvShape{InH: 3, InW: 3, InC: 6, OutH: 2, OutW: 2, OutC: 5, KH: 2, KW: 2, SH: 1, SW: 1, DH: 1, DW: 1}
	return &Chain{Kern: kern, In: 9 * 8 * 4, Classes: 3, Layers: []Layer{
		&Conv2DLayer{Shape: c1, Groups: 2, Act: kernels.ActReLU, W: param("c1.w", 0.5, 3, 3, 2, 6), B: param("c1.b", 0.2, 6)},
		&PoolLayer{Shape: p1, Max: true},
		&Conv2DLayer{Shape: s1, Groups: 6, W: param("s1.w", 1, 1, 1, 1, 6), B: param("s1.b", 0.2, 6)},
		&ActLayer{Tanh: true, Alpha: 1.7159, Beta: 2.0 / 3},
		&PoolLayer{Shape: p2},
		&Conv2DLayer{Shape: c2, Groups: 1, W: param("c2.w", 0.5, 2, 2, 6, 5)},
		&ActLayer{},
		&FlattenLayer{Size: 20},
		&DenseLayer{In: 20, Out: 7, Act: kernels.ActReLU, W: param("d1.w", 0.5, 20, 7), B: param("d1.b", 0.2, 7)},
		&DenseLayer{In: 7, Out: 3, W: param("d2.w", 0.5, 7, 3), B: param("d2.b", 0.2, 3)},
	}}
}

// TestLayerGradientsMatchFiniteDifferences compares every parameter's
// gradient from one backward pass with central differences of the loss,
// on every kernel implementation.
func TestLayerGradientsMatchFiniteDifferences(t *testing.T) {
	for _, kern := range kernels.Available() {
		t.Run(kern.Name(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			c := testChain(rng, kern)
			const n = 3
			x := randSlice(rng, n*c.In, 1)
			labels := []int{2, 0, 1}
			if _, _, err := c.Step(x, labels, n); err != nil {
				t.Fatal(err)
			}
			loss := func() float64 {
				l, _, err := c.Step(x, labels, n)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			grads := map[*Param][]float32{}
			for _, p := range c.Params() {
				if !p.HasGrad {
					t.Fatalf("%s has no gradient", p.Name)
				}
				grads[p] = append([]float32(nil), p.Grad...)
			}
			const h = 1e-3
			for _, p := range c.Params() {
				w := p.Data()
				bad := 0
				for i := range w {
					old := w[i]
					w[i] = old + h
					up := loss()
					w[i] = old - h
					down := loss()
					w[i] = old
					fd := (up - down) / (2 * h)
					if g := float64(grads[p][i]); math.Abs(g-fd) > 2e-3+2e-2*math.Abs(fd) {
						if bad++; bad <= 3 {
							t.Errorf("%s[%d]: gradient %v, finite difference %v", p.Name, i, g, fd)
						}
					}
				}
			}
		})
	}
}

// TestChainRefusesBadInput: wrong sizes and labels are errors, not panics.
func TestChainRefusesBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	c := testChain(rng, kernels.Go{})
	for _, tc := range []struct {
		x      []float32
		labels []int
		n      int
	}{
		{make([]float32, 10), []int{0}, 1},
		{make([]float32, c.In), []int{3}, 1},
		{make([]float32, c.In), []int{0, 1}, 1},
	} {
		if _, _, err := c.Step(tc.x, tc.labels, tc.n); err == nil {
			t.Errorf("%d values, labels %v: no error", len(tc.x), tc.labels)
		} else {
			t.Log(err)
		}
	}
}
