package train

import (
	"fmt"
	"math"
	"strings"

	"github.com/glimpse-ml/glimpse/core/kernels"
)

// Config says how to train a head. Start from Preset and change what you
// need; Check says what is wrong with a Config before any work is done.
type Config struct {
	// Head names the preset the config started from ("linear", "tm",
	// ...); it is recorded in the model file's source line.
	Head string `json:"head"`
	// Hidden is the width of the hidden ReLU layer; 0 makes the head one
	// softmax layer (softmax regression).
	Hidden int `json:"hidden"`
	// OutputBias gives the output layer a bias (Teachable Machine's has
	// none).
	OutputBias bool `json:"outputBias"`
	Epochs     int  `json:"epochs"`
	// MaxSteps, if not 0, caps the batches trained on: a large set gets
	// fewer epochs (Epochs() says how many), so that training time stops
	// growing with the samples. Each of its epochs already takes many
	// steps, and 10,000 samples train in seconds, not minutes.
	MaxSteps     int     `json:"maxSteps,omitempty"`
	BatchSize    int     `json:"batchSize"`
	LearningRate float64 `json:"learningRate"`
	// Validation is the fraction of each class's samples held out to
	// measure the head while it trains (Teachable Machine: 0.15). A class
	// keeps at least one training sample.
	Validation float64 `json:"validation"`
	// LabelSmoothing mixes this much of the uniform distribution into the
	// one-hot targets.
	LabelSmoothing float64 `json:"labelSmoothing,omitempty"`
	// ClassWeights weighs each training sample by N/(K*n_class), so that
	// a class with few samples counts as much as one with many.
	ClassWeights bool `json:"classWeights,omitempty"`
	// Patience stops training after this many epochs without a lower
	// validation loss, keeping the best head seen (0: never stop early).
	Patience int `json:"patience,omitempty"`
	// Shuffle reshuffles the training samples every epoch. Teachable
	// Machine shuffles once, before the first.
	Shuffle bool `json:"shuffle,omitempty"`
	// Standardize scales each feature to zero mean and unit variance over
	// the training samples; the scaling is folded into the first layer's
	// weights at the end, so the saved head reads raw embeddings.
	// Multi-level features join values of very different scales (the
	// level below averages a 14x14 map of ReLU6 outputs, the embedding a
	// 7x7 one): standardized, each counts by what it tells apart, not by
	// its size.
	Standardize bool `json:"standardize,omitempty"`
	// MultiLevel asks for a head on multi-level features (see
	// model.MultiLevelGraph): the embedding plus the global average of
	// the level below it. Train reads the samples it is given; the model
	// that embeds them is chosen from the config in one place,
	// classifier.Features, which the command line, the study and the
	// browser's classifier all call.
	MultiLevel bool `json:"multiLevel,omitempty"`
	// Seed fixes the split, the initial weights and the batch order: the
	// same seed on the same samples gives the same head on every platform
	// (with the pure-Go kernels, the default).
	Seed uint64 `json:"seed"`
	// Kernels runs the dense layers. nil means kernels.Exact(), whose sums
	// are bit-for-bit those of kernels.Go{} natively and under wasm (there
	// with the SIMD module's exact GEMM when a loader published it); the
	// other SIMD kernels are faster still but round differently.
	Kernels kernels.Kernels `json:"-"`
	// OnBatch, if not nil, is called after every batch; returning false
	// stops training, keeping the head of the last finished epoch as when
	// the epoch callback stops it. Epochs over many samples take seconds,
	// and a caller that shares its thread with a user interface (a browser
	// page) needs it back more often than that to repaint and answer
	// clicks.
	OnBatch func() bool `json:"-"`
}

// Presets lists the preset names Preset knows, for usage messages.
var Presets = []string{"linear", "tm", "strong"}

// DefaultHead is the preset every trainer uses when none is named: glimpse
// train, the JavaScript library's model.classifier() and the app. Users
// keep defaults, so it is the most accurate head tools/study found on
// every task it measures (see Preset), not the most familiar.
const DefaultHead = "strong"

// Preset returns the named configuration:
//
//   - "linear": softmax regression on the embedding; Adam 1e-3, batch 32,
//     100 epochs, 15% validation, reshuffled every epoch.
//   - "tm": Teachable Machine's head: Dense(100, ReLU), then Dense(K,
//     softmax) without bias, Adam 1e-3, batch 16, 50 epochs, 15%
//     validation, shuffled once.
//   - "strong", the default: the best of the recipes tools/study compared
//     on three tasks of small upscaled pictures (Fashion-MNIST, MNIST,
//     OpenCV's 20x20 digits) at 10, 50 and 200 pictures a class: softmax
//     regression on standardized multi-level features (the embedding plus
//     the level below it, each feature scaled to zero mean and unit
//     variance over the training samples, its variance first shrunk by
//     1% towards the mean variance, the scaling folded into the saved
//     weights), trained on every sample, none held out (with 10
//     pictures a class, the 15% that "tm" holds out are worth more as
//     training data than as a measure; there is no validation curve to
//     show); Adam 1e-3, batch 32, 200 epochs, reshuffled every epoch.
//     Standardizing is what lets the level below count: raw, its values
//     are a fraction of the embedding's, and with 10 pictures a class the
//     head scored 12 points less on the digits. Tried there without gain:
//     a hidden layer, label smoothing, fewer or more epochs, augmented
//     views (which also cost an embedding each).
func Preset(name string) (Config, error) {
	switch name {
	case "linear":
		return Config{Head: name, OutputBias: true, Epochs: 100, BatchSize: 32, LearningRate: 1e-3,
			Validation: 0.15, Shuffle: true}, nil
	case "tm":
		return Config{Head: name, Hidden: 100, Epochs: 50, BatchSize: 16, LearningRate: 1e-3,
			Validation: 0.15}, nil
	case "strong":
		return Config{Head: name, OutputBias: true, Epochs: 200, MaxSteps: strongSteps, BatchSize: 32, LearningRate: 1e-3,
			Shuffle: true, MultiLevel: true, Standardize: true}, nil
	}
	return Config{}, fmt.Errorf("unknown head %q (want %s)", name, strings.Join(Presets, ", "))
}

// strongSteps is the "strong" preset's step budget: 200 epochs of 2,000
// samples (200 a class of 10, the study's largest protocol) in batches of
// 32. Up to there the budget changes nothing; past it, epochs shrink.
const strongSteps = 200 * 63

// EpochsFor returns the epochs a training run on n training samples
// takes: Epochs, fewer when MaxSteps caps the batches, at least one.
func (c *Config) EpochsFor(n int) int {
	if c.MaxSteps <= 0 || c.BatchSize <= 0 || n <= 0 {
		return c.Epochs
	}
	batches := (n + c.BatchSize - 1) / c.BatchSize
	return max(1, min(c.Epochs, c.MaxSteps/batches))
}

// Limits on a Config: generous, but they keep a typo from asking for a
// terabyte or a week.
const (
	maxHidden = 1 << 14
	maxEpochs = 100000
	maxBatch  = 1 << 16
)

// Check reports the first setting that cannot work.
func (c *Config) Check() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case c.Hidden < 0 || c.Hidden > maxHidden:
		return fmt.Errorf("hidden units %d: want 0 (no hidden layer) to %d", c.Hidden, maxHidden)
	case c.Epochs < 1 || c.Epochs > maxEpochs:
		return fmt.Errorf("epochs %d: want 1 to %d", c.Epochs, maxEpochs)
	case c.MaxSteps < 0:
		return fmt.Errorf("step budget %d: want 0 (none) or more", c.MaxSteps)
	case c.BatchSize < 1 || c.BatchSize > maxBatch:
		return fmt.Errorf("batch size %d: want 1 to %d", c.BatchSize, maxBatch)
	case !finite(c.LearningRate) || c.LearningRate <= 0:
		return fmt.Errorf("learning rate %v: want a positive number", c.LearningRate)
	case !finite(c.Validation) || c.Validation < 0 || c.Validation >= 1:
		return fmt.Errorf("validation fraction %v: want 0 to below 1", c.Validation)
	case !finite(c.LabelSmoothing) || c.LabelSmoothing < 0 || c.LabelSmoothing >= 1:
		return fmt.Errorf("label smoothing %v: want 0 to below 1", c.LabelSmoothing)
	case c.Patience < 0:
		return fmt.Errorf("patience %d: want 0 (off) or more", c.Patience)
	case c.Patience > 0 && c.Validation == 0:
		return fmt.Errorf("early stopping (patience %d) needs a validation fraction", c.Patience)
	}
	return nil
}

func (c *Config) kernels() kernels.Kernels {
	if c.Kernels == nil {
		return kernels.Exact()
	}
	return c.Kernels
}
