package scratch

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Data is a set of pictures as a network's input, with their classes.
// Either X holds every sample prepared, or Input prepares one on demand:
// a page holding MNIST's 60,000 digits keeps their 28x28 bytes (47 MB)
// and prepares a batch at a time, where prepared float32 inputs would
// take 245 MB of the tab's memory.
type Data struct {
	X      []float32 // Len() samples, one after another, each the network's input
	Y      []int     // class of each sample, indexing Labels
	Labels []string
	// Input, if set, writes sample i's input into dst (the network's
	// input size) and X is unused.
	Input func(i int, dst []float32) error
}

// sample writes sample i's input into dst.
func (d *Data) sample(i int, dst []float32) error {
	if d.Input != nil {
		return d.Input(i, dst)
	}
	copy(dst, d.X[i*len(dst):(i+1)*len(dst)])
	return nil
}

// Len is the number of samples.
func (d *Data) Len() int { return len(d.Y) }

// check reports what makes d unusable with n.
func (d *Data) check(n *Net) error {
	in := n.Input.Size()
	switch {
	case d.Len() == 0:
		return errors.New("no pictures to train on")
	case d.Input == nil && len(d.X) != d.Len()*in:
		return fmt.Errorf("%d input values for %d pictures of %d", len(d.X), d.Len(), in)
	case len(d.Labels) < 2:
		return fmt.Errorf("only %d class: a classifier needs at least two", len(d.Labels))
	case len(d.Labels) != n.Classes:
		return fmt.Errorf("%d classes, the network has %d outputs", len(d.Labels), n.Classes)
	}
	for i, y := range d.Y {
		if y < 0 || y >= len(d.Labels) {
			return fmt.Errorf("picture %d has class %d of %d", i, y, len(d.Labels))
		}
	}
	return nil
}

// Config says how to train.
type Config struct {
	Epochs       int
	BatchSize    int
	LearningRate float64
	// Validation is the fraction of the pictures held out (0: none, every
	// picture trains) to measure the network after each epoch.
	Validation float64
	// Cosine anneals the learning rate from LearningRate towards 0 over
	// the whole run, batch by batch (torch's CosineAnnealingLR stepped
	// every batch): the last epochs take small steps, so the weights
	// settle instead of swinging from one epoch to the next.
	Cosine bool
	// Seed fixes the hold-out, the batch order (and, through Init, the
	// initial weights): the same seed on the same pictures with the same
	// kernels gives the same network.
	Seed uint64
	// OnBatch, if set, hears after every batch how far the epoch is and
	// the batch's loss; returning false stops training before the next
	// (Train then returns ErrStopped). A page uses it to yield and to draw.
	OnBatch func(epoch, done, total int, loss float64) bool
	// OnEpoch, if set, hears each epoch; returning false stops training
	// there, keeping that epoch's weights.
	OnEpoch func(Epoch) bool
}

// Defaults is torch's plain recipe for LeNet-5, 10 epochs of Adam at 1e-3
// on batches of 64, every picture trained on, with the learning rate
// annealed to 0 along a cosine (see Config.Cosine).
func Defaults() Config { return Config{Epochs: 10, BatchSize: 64, LearningRate: 1e-3, Cosine: true} }

// Check reports the first setting that cannot work.
func (c *Config) Check() error {
	switch {
	case c.Epochs < 1 || c.Epochs > 10000:
		return fmt.Errorf("epochs %d: want 1 to 10000", c.Epochs)
	case c.BatchSize < 1 || c.BatchSize > 1<<16:
		return fmt.Errorf("batch size %d: want 1 to %d", c.BatchSize, 1<<16)
	case math.IsNaN(c.LearningRate) || math.IsInf(c.LearningRate, 0) || c.LearningRate <= 0:
		return fmt.Errorf("learning rate %v: want a positive number", c.LearningRate)
	case math.IsNaN(c.Validation) || c.Validation < 0 || c.Validation >= 1:
		return fmt.Errorf("validation fraction %v: want 0 to below 1", c.Validation)
	}
	return nil
}

// Epoch is what the progress callback hears after each epoch: the mean
// training loss and accuracy over the epoch's batches, the held-out
// accuracy (when pictures are held out), and the training speed.
type Epoch struct {
	Epoch         int     `json:"epoch"` // from 1
	Epochs        int     `json:"epochs"`
	Loss          float64 `json:"loss"`
	Accuracy      float64 `json:"accuracy"`
	HasValidation bool    `json:"hasValidation"`
	ValAccuracy   float64 `json:"valAccuracy"`
	PerSecond     float64 `json:"examplesPerSecond"`
}

// Report says how training went.
type Report struct {
	Train, Validation int
	History           []Epoch
}

// ErrStopped is returned when OnBatch stopped training.
var ErrStopped = errors.New("training stopped")

// Trainer runs Config on a Net one batch at a time, so that a page can
// interleave training with drawing; Train runs it to the end.
type Trainer struct {
	net    *Net
	data   *Data
	cfg    Config
	rng    *rand.Rand
	adam   *Adam
	params []*Param
	rows   []int // training samples, in this epoch's order
	val    []int
	bx     []float32
	by     []int

	epoch, next   int // current epoch (from 1), next batch start in rows
	lossSum       float64
	correct, seen int
	started       time.Time
	elapsed       time.Duration
	report        Report
}

// NewTrainer checks the data and the settings and prepares the first
// epoch.
func NewTrainer(n *Net, d *Data, cfg Config) (*Trainer, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if err := d.check(n); err != nil {
		return nil, err
	}
	t := &Trainer{net: n, data: d, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x62617463686573)), // "batches"
		adam: NewAdam(cfg.LearningRate), params: n.Chain.Params()}
	order := t.rng.Perm(d.Len())
	nVal := int(math.Ceil(cfg.Validation*float64(d.Len()) - 1e-9))
	if nVal >= d.Len() {
		return nil, fmt.Errorf("holding out %d of %d pictures leaves none to train on", nVal, d.Len())
	}
	t.val, t.rows = order[:nVal], order[nVal:]
	t.report = Report{Train: len(t.rows), Validation: len(t.val)}
	in := n.Input.Size()
	t.bx = make([]float32, cfg.BatchSize*in)
	t.by = make([]int, cfg.BatchSize)
	t.epoch = 1
	return t, nil
}

// Done tells whether every epoch has run.
func (t *Trainer) Done() bool { return t.epoch > t.cfg.Epochs }

// Report is the history so far.
func (t *Trainer) Report() Report { return t.report }

// Batch runs one batch. At the end of an epoch it evaluates the held-out
// pictures, reports the epoch to OnEpoch and returns it (nil otherwise).
// A loss that turns NaN or infinite is an error naming the learning rate;
// the weights are then those of before that batch's update.
func (t *Trainer) Batch() (*Epoch, error) {
	if t.Done() {
		return nil, errors.New("training is over")
	}
	if t.next == 0 {
		// torch's DataLoader(shuffle=True): a new order every epoch.
		t.rng.Shuffle(len(t.rows), func(i, j int) { t.rows[i], t.rows[j] = t.rows[j], t.rows[i] })
		t.lossSum, t.correct, t.seen, t.elapsed = 0, 0, 0, 0
	}
	start := time.Now()
	in, k := t.net.Input.Size(), t.net.Classes
	batch := t.rows[t.next:min(t.next+t.cfg.BatchSize, len(t.rows))]
	n := len(batch)
	for i, r := range batch {
		if err := t.data.sample(r, t.bx[i*in:(i+1)*in]); err != nil {
			return nil, err
		}
		t.by[i] = t.data.Y[r]
	}
	loss, prob, err := t.net.Chain.Step(t.bx[:n*in], t.by[:n], n)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		t.epoch = t.cfg.Epochs + 1
		return nil, fmt.Errorf("the loss turned %v in epoch %d: lower the learning rate (now %g)", loss, t.report.lastEpoch()+1, t.cfg.LearningRate)
	}
	if t.cfg.Cosine {
		total := t.cfg.Epochs * ((len(t.rows) + t.cfg.BatchSize - 1) / t.cfg.BatchSize)
		t.adam.LR = t.cfg.LearningRate * 0.5 * (1 + math.Cos(math.Pi*float64(t.adam.Steps())/float64(total)))
	}
	t.adam.Step(t.params)
	for i := range batch {
		if argmax(prob[i*k:(i+1)*k]) == t.by[i] {
			t.correct++
		}
	}
	t.lossSum += loss * float64(n)
	t.seen += n
	t.next += n
	t.elapsed += time.Since(start)
	if t.cfg.OnBatch != nil && !t.cfg.OnBatch(t.epoch, t.next, len(t.rows), loss) {
		t.epoch = t.cfg.Epochs + 1
		return nil, ErrStopped
	}
	if t.next < len(t.rows) {
		return nil, nil
	}
	e := Epoch{Epoch: t.epoch, Epochs: t.cfg.Epochs, Loss: t.lossSum / float64(t.seen),
		Accuracy: float64(t.correct) / float64(t.seen), PerSecond: float64(t.seen) / t.elapsed.Seconds()}
	if len(t.val) > 0 {
		e.HasValidation = true
		if e.ValAccuracy, err = t.net.accuracy(t.data, t.val); err != nil {
			return nil, err
		}
	}
	t.report.History = append(t.report.History, e)
	t.epoch++
	t.next = 0
	if t.cfg.OnEpoch != nil && !t.cfg.OnEpoch(e) {
		t.epoch = t.cfg.Epochs + 1
	}
	return &e, nil
}

func (r *Report) lastEpoch() int { return len(r.History) }

// Train trains n on d to the end (see Trainer) and returns the report.
// n.Graph's weights are the trained ones afterwards.
func Train(n *Net, d *Data, cfg Config) (*Report, error) {
	t, err := NewTrainer(n, d, cfg)
	if err != nil {
		return nil, err
	}
	for !t.Done() {
		if _, err := t.Batch(); err != nil {
			return nil, err
		}
	}
	r := t.Report()
	return &r, nil
}

// Predict returns the most probable class of each of the rows of d (all
// of them when rows is nil).
func (n *Net) Predict(d *Data, rows []int) ([]int, error) {
	if rows == nil {
		rows = make([]int, d.Len())
		for i := range rows {
			rows[i] = i
		}
	}
	in, k := n.Input.Size(), n.Classes
	const chunk = 256
	buf := make([]float32, min(chunk, len(rows))*in)
	out := make([]int, 0, len(rows))
	for c0 := 0; c0 < len(rows); c0 += chunk {
		part := rows[c0:min(c0+chunk, len(rows))]
		for i, r := range part {
			if err := d.sample(r, buf[i*in:(i+1)*in]); err != nil {
				return nil, err
			}
		}
		z, err := n.Chain.Logits(buf[:len(part)*in], len(part))
		if err != nil {
			return nil, err
		}
		for i := range part {
			out = append(out, argmax32(z[i*k:(i+1)*k]))
		}
	}
	return out, nil
}

// accuracy is the fraction of rows of d that n classifies right.
func (n *Net) accuracy(d *Data, rows []int) (float64, error) {
	pred, err := n.Predict(d, rows)
	if err != nil {
		return 0, err
	}
	right := 0
	for i, r := range rows {
		if pred[i] == d.Y[r] {
			right++
		}
	}
	return float64(right) / float64(len(rows)), nil
}

// Accuracy is the fraction of d that n classifies right.
func (n *Net) Accuracy(d *Data) (float64, error) {
	rows := make([]int, d.Len())
	for i := range rows {
		rows[i] = i
	}
	return n.accuracy(d, rows)
}

func argmax(p []float64) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}

func argmax32(p []float32) int {
	best := 0
	for i, v := range p {
		if v > p[best] {
			best = i
		}
	}
	return best
}
