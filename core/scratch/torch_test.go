package scratch

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/models"
)

// formulaWeights fills g's tensors as testdata/torch_step.py does: sorted
// names, one running index over all elements, a Weyl sequence scaled by
// 1/sqrt(fan in).
func formulaWeights(g *ir.Graph) {
	fan := map[string]int{}
	for _, nd := range g.Nodes {
		if len(nd.Weights) == 0 {
			continue
		}
		k := g.Tensors[nd.Weights[0]]
		f := k.Elements() / k.Shape[len(k.Shape)-1]
		for _, w := range nd.Weights {
			fan[w] = f
		}
	}
	names := make([]string, 0, len(g.Tensors))
	for n := range g.Tensors {
		names = append(names, n)
	}
	slices.Sort(names)
	i := uint64(0)
	for _, n := range names {
		t := g.Tensors[n]
		t.Data = make([]float32, t.Elements())
		for j := range t.Data {
			i++
			u := float64(uint32(i*2654435761)) / (1 << 32)
			t.Data[j] = float32((2*u - 1) / math.Sqrt(float64(fan[n])))
		}
	}
}

// formulaBatch is torch_step.py's batch: pixels from a hash, labels n mod 10.
func formulaBatch(n int) ([]float32, []int) {
	x := make([]float32, n*1024)
	for k := range x {
		x[k] = float32(uint32((uint64(k)+7)*2246822519)>>24) / 255
	}
	y := make([]int, n)
	for i := range y {
		y[i] = i % 10
	}
	return x, y
}

// epsRegime bounds the gradients whose Adam step is ill-conditioned: a
// float32 sum of a batch's products that cancels to within a hundred
// times Adam's ε (1e-8) carries mostly rounding, which differs with the
// order of summation (ours, torch's), and Adam turns it into a step of up
// to the learning rate, g/(|g|+ε)·lr, in either direction.
const epsRegime = 1e-6

// TestOneStepMatchesTorch takes one training step of LeNet-5, and of its
// 1998 form, from the weights and batch torch_step.py started torch from,
// on every kernel set, and compares the loss and every weight after the
// step with torch's: within 1e-5 of each tensor's largest weight, except
// where the gradient is in Adam's ε regime (see epsRegime), where the
// difference stays within the learning rate.
func TestOneStepMatchesTorch(t *testing.T) {
	for _, arch := range []string{"lenet5", "lenet5_1998"} {
		var ref struct {
			Batch   int
			Loss    float64
			Tensors []struct {
				Name  string
				Shape []int
			}
		}
		b, err := os.ReadFile(filepath.Join("testdata", arch+"_step.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &ref); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join("testdata", arch+"_step.f32"))
		if err != nil {
			t.Fatal(err)
		}
		for _, kern := range kernels.Available() {
			t.Run(arch+"/"+kern.Name(), func(t *testing.T) {
				g, err := models.Build(arch, models.Options{})
				if err != nil {
					t.Fatal(err)
				}
				formulaWeights(g)
				net, err := New(g, kern)
				if err != nil {
					t.Fatal(err)
				}
				x, y := formulaBatch(ref.Batch)
				params := net.Chain.Params()
				loss, _, err := net.Chain.Step(x, y, ref.Batch)
				if err != nil {
					t.Fatal(err)
				}
				NewAdam(1e-3).Step(params)
				if math.Abs(loss-ref.Loss) > 1e-5*ref.Loss {
					t.Errorf("loss %.7f, torch %.7f", loss, ref.Loss)
				}
				off := 0
				for _, rt := range ref.Tensors {
					tensor := g.Tensors[rt.Name]
					if tensor == nil || !slices.Equal(tensor.Shape, rt.Shape) {
						t.Fatalf("torch's %s %v has no match in the graph", rt.Name, rt.Shape)
					}
					var grad []float32
					for _, p := range params {
						if p.Name == rt.Name {
							grad = p.Grad
						}
					}
					want := make([]float64, len(tensor.Data))
					scale := 0.0
					for i := range want {
						want[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(off+i):])))
						scale = max(scale, math.Abs(want[i]))
					}
					off += len(tensor.Data)
					worst, illCond, worstIll := 0.0, 0, 0.0
					for i, v := range tensor.Data {
						d := math.Abs(float64(v) - want[i])
						if grad[i] != 0 && math.Abs(float64(grad[i])) < epsRegime {
							illCond++
							worstIll = max(worstIll, d)
							continue
						}
						worst = max(worst, d)
					}
					t.Logf("%s: largest difference %.2g of weights up to %.3g; %d weights with 0 < |gradient| < %g differ by up to %.2g",
						rt.Name, worst, scale, illCond, epsRegime, worstIll)
					if worst > 1e-5*scale {
						t.Errorf("%s differs from torch by %.3g (> 1e-5 x %.3g)", rt.Name, worst, scale)
					}
					if worstIll > 1e-3 {
						t.Errorf("%s: a weight of gradient below %g moved %.3g from torch's, more than the learning rate", rt.Name, epsRegime, worstIll)
					}
				}
				if off*4 != len(raw) {
					t.Errorf("the fixture holds %d values, the graph %d", len(raw)/4, off)
				}
			})
		}
	}
}
