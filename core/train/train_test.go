package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/glimpse-ml/glimpse/core/kernels"
)

// blobs makes n samples per class of k Gaussian clusters in dim
// dimensions: centres spread by spread, unit noise.
func blobs(seed uint64, k, n, dim int, spread float64) *Samples {
	rng := rand.New(rand.NewPCG(seed, 99))
	s := &Samples{Dim: dim}
	centres := make([][]float64, k)
	for c := range centres {
		s.Labels = append(s.Labels, fmt.Sprintf("class%d", c))
		centres[c] = make([]float64, dim)
		for j := range centres[c] {
			centres[c][j] = spread * rng.NormFloat64()
		}
	}
	for i := 0; i < n; i++ {
		for c := 0; c < k; c++ {
			for j := 0; j < dim; j++ {
				s.X = append(s.X, float32(centres[c][j]+rng.NormFloat64()))
			}
			s.Y = append(s.Y, c)
		}
	}
	return s
}

// TestLinearHeadMatchesFloat64Reference trains softmax regression with
// Adam and compares the weights with a naive float64 loop over the same
// batches in the same order from the same (zero) start.
func TestLinearHeadMatchesFloat64Reference(t *testing.T) {
	s := blobs(3, 3, 20, 16, 0.7)
	cfg, _ := Preset("linear")
	cfg.Epochs, cfg.BatchSize, cfg.Validation, cfg.LearningRate, cfg.Seed = 15, 8, 0, 0.01, 5
	h, err := Train(s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The reference draws its batch order from the same sampler; the order
	// is not what this test checks, the arithmetic is.
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x676c696d707365))
	order, _ := split(s, 0, rng)
	k, d := len(s.Labels), s.Dim
	w := make([]float64, d*k)
	b := make([]float64, k)
	mw, vw := make([]float64, d*k), make([]float64, d*k)
	mb, vb := make([]float64, k), make([]float64, k)
	step := 0
	adam := func(p, g, m, v []float64) {
		const b1, b2, eps = 0.9, 0.999, 1e-7
		alpha := cfg.LearningRate * math.Sqrt(1-math.Pow(b2, float64(step))) / (1 - math.Pow(b1, float64(step)))
		for i := range p {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			p[i] -= alpha * m[i] / (math.Sqrt(v[i]) + eps)
		}
	}
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		if epoch > 0 {
			shuffle(order, rng)
		}
		for b0 := 0; b0 < len(order); b0 += cfg.BatchSize {
			batch := order[b0:min(b0+cfg.BatchSize, len(order))]
			gw, gb := make([]float64, d*k), make([]float64, k)
			for _, r := range batch {
				x := s.Row(r)
				z := make([]float64, k)
				mx := math.Inf(-1)
				for c := 0; c < k; c++ {
					z[c] = b[c]
					for j := 0; j < d; j++ {
						z[c] += float64(x[j]) * w[j*k+c]
					}
					mx = math.Max(mx, z[c])
				}
				sum := 0.0
				for c := range z {
					z[c] = math.Exp(z[c] - mx)
					sum += z[c]
				}
				for c := range z {
					g := z[c] / sum
					if c == s.Y[r] {
						g--
					}
					g /= float64(len(batch))
					gb[c] += g
					for j := 0; j < d; j++ {
						gw[j*k+c] += g * float64(x[j])
					}
				}
			}
			step++
			adam(w, gw, mw, vw)
			adam(b, gb, mb, vb)
		}
	}
	worst := 0.0
	for i := range w {
		worst = max(worst, math.Abs(float64(h.W2[i])-w[i]))
	}
	for i := range b {
		worst = max(worst, math.Abs(float64(h.B2[i])-b[i]))
	}
	t.Logf("after %d Adam steps the weights differ from float64 by at most %.2g", step, worst)
	if worst > 1e-4 {
		t.Fatalf("weights differ from the float64 reference by %v", worst)
	}
}

// TestTrainIsDeterministic: the same seed gives the same head bit for
// bit; another seed gives another.
func TestTrainIsDeterministic(t *testing.T) {
	s := blobs(4, 4, 15, 24, 0.5)
	cfg, _ := Preset("tm")
	cfg.Epochs, cfg.Hidden, cfg.Seed = 5, 16, 9
	a, err := Train(s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Train(s, cfg, nil)
	cfg.Seed = 10
	c, _ := Train(s, cfg, nil)
	same := func(x, y *Head) bool {
		for i := range x.W1 {
			if x.W1[i] != y.W1[i] {
				return false
			}
		}
		for i := range x.W2 {
			if x.W2[i] != y.W2[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("the same seed gave two heads")
	}
	if same(a, c) {
		t.Error("two seeds gave the same head")
	}
}

// TestHeadsLearn: both presets and the strong one separate clusters they
// have not seen, and the progress callback hears every epoch.
func TestHeadsLearn(t *testing.T) {
	trainSet := blobs(5, 5, 30, 32, 0.8)
	for _, name := range Presets {
		cfg, _ := Preset(name)
		cfg.Seed = 1
		var epochs []Epoch
		h, err := Train(trainSet, cfg, func(e Epoch) bool { epochs = append(epochs, e); return true })
		if err != nil {
			t.Fatal(name, err)
		}
		if len(epochs) != len(h.Report.History) || len(epochs) == 0 || epochs[0].Epoch != 1 || epochs[0].HasValidation != (cfg.Validation > 0) {
			t.Errorf("%s: callback heard %d epochs, history has %d", name, len(epochs), len(h.Report.History))
		}
		acc := accuracyOn(t, h, blobsHeldOut(5, 5, 40, 32, 0.8))
		t.Logf("%s: %d epochs, held-out accuracy %.3f (%s)", name, len(epochs), acc, h.Report.Stopped)
		if acc < 0.9 {
			t.Errorf("%s: held-out accuracy %.3f", name, acc)
		}
	}
}

// blobsHeldOut draws fresh samples around the same centres as blobs(seed).
func blobsHeldOut(seed uint64, k, n, dim int, spread float64) *Samples {
	s := blobs(seed, k, n+200, dim, spread)
	// blobs draws centres first, then samples in order: skip the first
	// 200 rounds, which overlap the training draws of any n <= 200.
	off := 200 * k
	return &Samples{Labels: s.Labels, Dim: dim, X: s.X[off*dim:], Y: s.Y[off:]}
}

func accuracyOn(t *testing.T, h *Head, s *Samples) float64 {
	t.Helper()
	correct := 0
	for i := 0; i < s.Len(); i++ {
		p, err := h.Probabilities(s.Row(i))
		if err != nil {
			t.Fatal(err)
		}
		if argmax64(p) == s.Y[i] {
			correct++
		}
	}
	return float64(correct) / float64(s.Len())
}

// TestEarlyStoppingKeepsTheBestEpoch: with patience, the head kept is the
// one of the lowest validation loss, and recomputing that loss on the
// validation split gives the same number.
func TestEarlyStoppingKeepsTheBestEpoch(t *testing.T) {
	s := blobs(6, 3, 12, 20, 0.35)
	cfg, _ := Preset("tm")
	cfg.Epochs, cfg.Patience, cfg.LearningRate, cfg.Seed, cfg.Validation = 200, 3, 0.01, 2, 0.3
	h, err := Train(s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := h.Report
	if r.Stopped == "" || len(r.History) == cfg.Epochs {
		t.Fatalf("no early stop in %d epochs", len(r.History))
	}
	best := 0
	for i, e := range r.History {
		if e.ValLoss < r.History[best].ValLoss {
			best = i
		}
	}
	if r.Kept != best+1 || len(r.History) != best+1+cfg.Patience {
		t.Fatalf("kept epoch %d of %d, best is %d (patience %d)", r.Kept, len(r.History), best+1, cfg.Patience)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x676c696d707365))
	_, val := split(s, cfg.Validation, rng)
	loss := 0.0
	for _, i := range val {
		p, _ := h.Probabilities(s.Row(i))
		loss -= math.Log(p[s.Y[i]])
	}
	loss /= float64(len(val))
	if d := math.Abs(loss - r.History[best].ValLoss); d > 1e-6 {
		t.Fatalf("kept head's validation loss %v, history says %v", loss, r.History[best].ValLoss)
	}
	t.Log(r.Stopped)
}

// TestDivergenceKeepsTheLastGoodHead: a learning rate so large that the
// logits overflow in the second epoch stops training there and keeps the
// head of the first, which a one-epoch run of the same seed reproduces.
func TestDivergenceKeepsTheLastGoodHead(t *testing.T) {
	s := blobs(7, 2, 4, 8, 1)
	for i := range s.X {
		s.X[i] *= 10
	}
	cfg, _ := Preset("linear")
	cfg.Epochs, cfg.BatchSize, cfg.Validation, cfg.LearningRate, cfg.Seed = 10, 64, 0, 1e37, 3
	h, err := Train(s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Report.Diverged || h.Report.Kept != 1 || len(h.Report.History) != 1 {
		t.Fatalf("report %+v: want divergence in epoch 2, keeping epoch 1", h.Report)
	}
	t.Log(h.Report.Stopped)
	cfg.Epochs = 1
	one, err := Train(s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range one.W2 {
		if one.W2[i] != h.W2[i] {
			t.Fatalf("kept head differs from the one-epoch head at %d: %v vs %v", i, h.W2[i], one.W2[i])
		}
	}

	// Diverging in the very first epoch leaves no head: an error.
	cfg.Epochs, cfg.BatchSize = 10, 1
	if _, err := Train(s, cfg, nil); err == nil {
		t.Fatal("divergence in the first epoch gave no error")
	} else {
		t.Log(err)
	}
}

// TestClassWeights: a class with a fifth of the samples gets five times
// the weight, and the weights average to one over the training rows.
func TestClassWeights(t *testing.T) {
	s := &Samples{Labels: []string{"a", "b"}, Dim: 1, X: make([]float32, 12), Y: []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}}
	rows := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	w := classWeights(s, rows)
	if w[0] != 0.6 || w[11] != 3 {
		t.Fatalf("weights %v", w)
	}
}

// TestSplit: ceil(15%) of each class is held out, at least one sample
// stays for training, views follow their original and are never
// validated on.
func TestSplit(t *testing.T) {
	s := &Samples{Labels: []string{"a", "b", "c"}, Dim: 1}
	add := func(y, origin int) {
		s.X = append(s.X, 0)
		s.Y = append(s.Y, y)
		s.Origin = append(s.Origin, origin)
	}
	for i := 0; i < 20; i++ { // class a: 20 originals, each with a view
		add(0, len(s.Y))
		add(0, len(s.Y)-1)
	}
	add(1, len(s.Y)) // class b: one original
	for i := 0; i < 7; i++ {
		add(2, len(s.Y))
	}
	train, val := split(s, 0.15, rand.New(rand.NewPCG(1, 1)))
	count := map[int]int{}
	for _, r := range val {
		if s.Origin[r] != r {
			t.Fatalf("view %d in validation", r)
		}
		count[s.Y[r]]++
	}
	if count[0] != 3 || count[1] != 0 || count[2] != 2 {
		t.Fatalf("validation per class %v: want ceil(0.15 n) with one left to train", count)
	}
	inVal := map[int]bool{}
	for _, r := range val {
		inVal[r] = true
	}
	for _, r := range train {
		if inVal[s.Origin[r]] {
			t.Fatalf("row %d trains, its original %d validates", r, s.Origin[r])
		}
	}
	if len(train)+len(val)+3 != s.Len() { // the three validation views are dropped
		t.Fatalf("%d train + %d val of %d rows", len(train), len(val), s.Len())
	}
}

// TestBadSamplesAndConfigs: clear errors before any training.
func TestBadSamplesAndConfigs(t *testing.T) {
	good := blobs(1, 2, 3, 4, 1)
	cfg, _ := Preset("tm")
	cases := []struct {
		name string
		s    *Samples
		mod  func(*Config)
	}{
		{"one class", &Samples{Labels: []string{"a"}, Dim: 1, X: []float32{1}, Y: []int{0}}, nil},
		{"empty class", &Samples{Labels: []string{"a", "b"}, Dim: 1, X: []float32{1}, Y: []int{0}}, nil},
		{"NaN embedding", &Samples{Labels: []string{"a", "b"}, Dim: 1, X: []float32{1, float32(math.NaN())}, Y: []int{0, 1}}, nil},
		{"bad label", &Samples{Labels: []string{"a", "b"}, Dim: 1, X: []float32{1, 2}, Y: []int{0, 2}}, nil},
		{"zero epochs", good, func(c *Config) { c.Epochs = 0 }},
		{"negative lr", good, func(c *Config) { c.LearningRate = -1 }},
		{"validation 1", good, func(c *Config) { c.Validation = 1 }},
		{"patience without validation", good, func(c *Config) { c.Patience = 2; c.Validation = 0 }},
	}
	for _, c := range cases {
		cc := cfg
		if c.mod != nil {
			c.mod(&cc)
		}
		if _, err := Train(c.s, cc, nil); err == nil {
			t.Errorf("%s: no error", c.name)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
	}
	if _, err := Preset("nope"); err == nil {
		t.Error("unknown preset accepted")
	}
}

// TestOnBatch: the batch callback is heard once per batch, and stopping
// in the middle of epoch 3 gives, to the bit, the head that two epochs
// give; stopping in the first epoch leaves no head.
func TestOnBatch(t *testing.T) {
	s := blobs(6, 3, 20, 12, 0.6)
	cfg, _ := Preset("tm")
	cfg.Epochs, cfg.Hidden, cfg.BatchSize, cfg.Seed = 4, 8, 8, 3
	calls := 0
	cfg.OnBatch = func() bool { calls++; return true }
	full, err := Train(s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	perEpoch := (full.Report.Train + cfg.BatchSize - 1) / cfg.BatchSize
	if calls != perEpoch*cfg.Epochs {
		t.Fatalf("OnBatch heard %d times, want %d batches x %d epochs", calls, perEpoch, cfg.Epochs)
	}

	calls = 0
	cfg.OnBatch = func() bool { calls++; return calls <= 2*perEpoch }
	stopped, err := Train(s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	two := cfg
	two.Epochs, two.OnBatch = 2, nil
	want, err := Train(s, two, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := stopped.Report; r.Kept != 2 || len(r.History) != 2 || r.Stopped == "" {
		t.Fatalf("stopped in epoch 3: kept epoch %d, %d epochs of history, reason %q", r.Kept, len(r.History), r.Stopped)
	}
	for i := range want.W1 {
		if stopped.W1[i] != want.W1[i] {
			t.Fatalf("W1[%d] = %v, two epochs give %v", i, stopped.W1[i], want.W1[i])
		}
	}
	for i := range want.W2 {
		if stopped.W2[i] != want.W2[i] {
			t.Fatalf("W2[%d] = %v, two epochs give %v", i, stopped.W2[i], want.W2[i])
		}
	}
	t.Log(stopped.Report.Stopped)

	cfg.OnBatch = func() bool { return false }
	if _, err := Train(s, cfg, nil); err != ErrStopped {
		t.Fatalf("stopped at the first batch: error %v, want ErrStopped", err)
	}
}

// TestArgmaxMatchesNaiveLoop: the batched argmax equals a float64 loop
// over each row, on every kernel implementation, with and without a
// hidden layer and an output bias.
func TestArgmaxMatchesNaiveLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	randn := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	const in, k, n = 37, 5, 300
	for _, hidden := range []int{0, 11} {
		h := &Head{Labels: make([]string, k), In: in, Hidden: hidden}
		first := in
		if hidden > 0 {
			h.W1, h.B1, first = randn(in*hidden), randn(hidden), hidden
		}
		h.W2, h.B2 = randn(first*k), randn(k)
		x := randn(n * in)
		for _, kern := range kernels.Available() {
			got, err := h.Argmax(kern, x, n)
			if err != nil {
				t.Fatal(err)
			}
			for r := range n {
				a := make([]float64, first)
				for j := range first {
					if hidden == 0 {
						a[j] = float64(x[r*in+j])
						continue
					}
					s := float64(h.B1[j])
					for i := range in {
						s += float64(x[r*in+i]) * float64(h.W1[i*hidden+j])
					}
					a[j] = max(s, 0)
				}
				best, bestZ := 0, math.Inf(-1)
				for c := range k {
					z := float64(h.B2[c])
					for j := range first {
						z += a[j] * float64(h.W2[j*k+c])
					}
					if z > bestZ {
						best, bestZ = c, z
					}
				}
				if got[r] != best {
					t.Fatalf("%s hidden %d row %d: argmax %d, naive %d", kern, hidden, r, got[r], best)
				}
			}
		}
	}
	if _, err := (&Head{In: 3, W2: make([]float32, 6), Labels: []string{"a", "b"}}).Argmax(kernels.Go{}, make([]float32, 5), 2); err == nil {
		t.Error("a short input was accepted")
	}
}

// TestStandardizedHeadMatchesFloat64Reference: with Standardize, the saved
// head reads raw embeddings and gives the probabilities of softmax
// regression trained (in float64, by the same Adam steps over the same
// batches) on features standardized by a naive two-pass mean and
// deviation, each variance shrunk by 1% towards the mean variance. The features span six orders of magnitude, as multi-level
// features span two, so an unfolded or misfolded scale shows.
func TestStandardizedHeadMatchesFloat64Reference(t *testing.T) {
	s := blobs(4, 3, 12, 8, 0.8)
	scale := []float64{1e-3, 1e-2, 0.1, 1, 10, 100, 1e3, 1}
	shift := []float64{5, -3, 0, 1, 50, -200, 0, 7}
	for i := range s.X {
		j := i % s.Dim
		s.X[i] = float32(float64(s.X[i])*scale[j] + shift[j])
	}
	cfg, _ := Preset("linear")
	cfg.Epochs, cfg.BatchSize, cfg.Validation, cfg.LearningRate, cfg.Seed = 12, 8, 0, 0.01, 3
	cfg.Standardize = true
	h, err := Train(s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}

	n, d, k := s.Len(), s.Dim, len(s.Labels)
	z := make([][]float64, n)
	mean, sd := make([]float64, d), make([]float64, d)
	for j := 0; j < d; j++ {
		for i := 0; i < n; i++ {
			mean[j] += float64(s.Row(i)[j]) / float64(n)
		}
		for i := 0; i < n; i++ {
			dv := float64(s.Row(i)[j]) - mean[j]
			sd[j] += dv * dv / float64(n) // the variance, for now
		}
	}
	// Each variance shrinks by 1% towards the mean variance.
	pooled := 0.0
	for _, v := range sd {
		pooled += v / float64(d)
	}
	for j := range sd {
		sd[j] = math.Sqrt(0.99*sd[j] + 0.01*pooled)
	}
	for i := range z {
		z[i] = make([]float64, d)
		for j := range z[i] {
			z[i][j] = (float64(s.Row(i)[j]) - mean[j]) / sd[j]
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x676c696d707365))
	order, _ := split(s, 0, rng)
	w, b := make([]float64, d*k), make([]float64, k)
	mw, vw, mb, vb := make([]float64, d*k), make([]float64, d*k), make([]float64, k), make([]float64, k)
	step := 0
	adam := func(p, g, m, v []float64) {
		const b1, b2, eps = 0.9, 0.999, 1e-7
		alpha := cfg.LearningRate * math.Sqrt(1-math.Pow(b2, float64(step))) / (1 - math.Pow(b1, float64(step)))
		for i := range p {
			m[i] = b1*m[i] + (1-b1)*g[i]
			v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
			p[i] -= alpha * m[i] / (math.Sqrt(v[i]) + eps)
		}
	}
	probs := func(x []float64) []float64 {
		p := make([]float64, k)
		mx := math.Inf(-1)
		for c := range p {
			p[c] = b[c]
			for j := 0; j < d; j++ {
				p[c] += x[j] * w[j*k+c]
			}
			mx = math.Max(mx, p[c])
		}
		sum := 0.0
		for c := range p {
			p[c] = math.Exp(p[c] - mx)
			sum += p[c]
		}
		for c := range p {
			p[c] /= sum
		}
		return p
	}
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		if epoch > 0 {
			shuffle(order, rng)
		}
		for b0 := 0; b0 < len(order); b0 += cfg.BatchSize {
			batch := order[b0:min(b0+cfg.BatchSize, len(order))]
			gw, gb := make([]float64, d*k), make([]float64, k)
			for _, r := range batch {
				p := probs(z[r])
				for c := range p {
					g := p[c]
					if c == s.Y[r] {
						g--
					}
					g /= float64(len(batch))
					gb[c] += g
					for j := 0; j < d; j++ {
						gw[j*k+c] += g * z[r][j]
					}
				}
			}
			step++
			adam(w, gw, mw, vw)
			adam(b, gb, mb, vb)
		}
	}
	worst := 0.0
	for i := 0; i < n; i++ {
		got, err := h.Probabilities(s.Row(i))
		if err != nil {
			t.Fatal(err)
		}
		for c, p := range probs(z[i]) {
			worst = max(worst, math.Abs(got[c]-p))
		}
	}
	t.Logf("after %d Adam steps the folded head's probabilities on raw features differ from float64 on standardized ones by at most %.2g", step, worst)
	if worst > 1e-4 {
		t.Fatalf("probabilities differ from the float64 reference by %v", worst)
	}
}

// TestStandardizeBoundsNearConstantFeatures: a feature that barely
// varies over the training samples (the same pictures recorded again and
// again) must not be scaled so far that a shift in it as large as the
// noise in the features that tell the classes apart (a new camera, a
// sample embedded again from its thumbnail) decides the prediction.
func TestStandardizeBoundsNearConstantFeatures(t *testing.T) {
	s := blobs(7, 2, 30, 16, 3)
	const quiet = 5 // the feature that barely varies
	for i := 0; i < s.Len(); i++ {
		s.X[i*s.Dim+quiet] = 0.5 + float32(s.Y[i])*1e-5
	}
	cfg, _ := Preset(DefaultHead)
	cfg.MultiLevel = false
	cfg.Epochs = 100
	h, err := Train(s, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < s.Len(); i++ {
		x := append([]float32(nil), s.Row(i)...)
		// The other features' spread within a class is 1: move the quiet
		// one by a tenth of that, towards the other class.
		x[quiet] += float32(0.1 * (1 - 2*float64(s.Y[i])))
		p, err := h.Probabilities(x)
		if err != nil {
			t.Fatal(err)
		}
		if p[s.Y[i]] < 0.5 {
			t.Fatalf("sample %d (class %d): moving a near-constant feature by 0.1 gives p=%.3f for its class", i, s.Y[i], p[s.Y[i]])
		}
	}
}

// TestStepBudget: the strong preset's epochs shrink only past its budget
// (200 a class of 10 keeps all 200), and Train runs and reports that many.
func TestStepBudget(t *testing.T) {
	cfg, _ := Preset("strong")
	for _, c := range []struct{ n, want int }{{20, 200}, {2000, 200}, {2016, 200}, {2017, 196}, {10000, 40}, {1 << 22, 1}} {
		if got := cfg.EpochsFor(c.n); got != c.want {
			t.Errorf("%d samples: %d epochs, want %d", c.n, got, c.want)
		}
	}
	s := blobs(5, 2, 40, 4, 2)
	cfg.MultiLevel, cfg.MaxSteps, cfg.Epochs = false, 10, 50 // 80 samples: 3 batches an epoch, 3 epochs
	var heard []Epoch
	h, err := Train(s, cfg, func(e Epoch) bool { heard = append(heard, e); return true })
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Report.History) != 3 || len(heard) != 3 || heard[2].Epochs != 3 {
		t.Fatalf("ran %d epochs (heard %v), want 3 of 3", len(h.Report.History), heard)
	}
	cfg.MaxSteps = -1
	if err := cfg.Check(); err == nil {
		t.Fatal("a negative step budget passed Check")
	}
}
