//go:build js && wasm

package browser

import (
	"errors"
	"syscall/js"

	"github.com/glimpse-ml/glimpse/core/classifier"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
)

// Classifier is core/classifier in the browser: pictures come from any
// browser source, and training hands the thread back to the page between
// epochs and every ~50 ms within one. Its embedded *classifier.Classifier
// gives the rest (AddExample and AddView for cached embeddings, Samples,
// Head, SetHead, Probabilities, Predict, Export).
type Classifier struct {
	*classifier.Classifier
	model    *Model
	training bool
}

// NewClassifier starts an empty classifier for heads of config cfg (a
// preset, see train.Preset) on the model's features.
func (m *Model) NewClassifier(cfg train.Config) (*Classifier, error) {
	mm, err := m.model()
	if err != nil {
		return nil, err
	}
	if mm.EmbeddingSize() == 0 {
		return nil, errors.New("this model has no embedding: a classifier trains on a backbone's features")
	}
	c, err := classifier.New(mm, cfg)
	if err != nil {
		return nil, err
	}
	return &Classifier{Classifier: c, model: m}, nil
}

// NewClassifierOn is NewClassifier on features, m.Features(cfg)'s
// result, which the caller keeps from one classifier to the next (see
// classifier.NewOn).
func (m *Model) NewClassifierOn(features *Model, cfg train.Config) (*Classifier, error) {
	if _, err := m.model(); err != nil {
		return nil, err
	}
	fm, err := features.model()
	if err != nil {
		return nil, err
	}
	c, err := classifier.NewOn(fm, cfg)
	if err != nil {
		return nil, err
	}
	return &Classifier{Classifier: c, model: m}, nil
}

// Training tells whether Train is under way: while it yields, what it
// trains on must not change.
func (c *Classifier) Training() bool { return c.training }

// AddFrom embeds a picture (see Runtime.Pixels) as an example of class
// label, with views augmented views drawn from seed.
func (c *Classifier) AddFrom(src js.Value, label string, views int, seed uint64) error {
	if _, err := c.model.model(); err != nil {
		return err
	}
	img, err := c.model.rt.Pixels(src)
	if err != nil {
		return err
	}
	_, err = c.AddPicture(img, label, views, seed)
	return err
}

// PredictFrom returns the top k classes of a picture (k <= 0: all).
func (c *Classifier) PredictFrom(src js.Value, k int) ([]model.Prediction, error) {
	if c.Head() == nil {
		return nil, errors.New("the classifier has not been trained: call train() first")
	}
	if _, err := c.model.model(); err != nil {
		return nil, err
	}
	img, err := c.model.rt.Pixels(src)
	if err != nil {
		return nil, err
	}
	return c.PredictPicture(img, k)
}

// Train trains a new head on everything added, with cfg (the classifier's
// preset with the caller's options). After each epoch it calls onEpoch
// (if not nil; false stops training, keeping that epoch's head) and then
// yields, so the page paints the progress; within an epoch it yields every
// ~50 ms. The dense layers run on cfg.Kernels, nil meaning kernels.Exact:
// the SIMD module's GEMM with the pure-Go kernels' bits, so the same seed
// gives the command line's head. It blocks the calling goroutine.
func (c *Classifier) Train(cfg train.Config, onEpoch func(train.Epoch) bool) (*train.Report, error) {
	if c.training {
		return nil, errors.New("the classifier is training: wait for train() to finish")
	}
	c.training = true
	defer func() { c.training = false }()
	var pace Pacer
	batch := cfg.OnBatch
	cfg.OnBatch = func() bool {
		pace.Pace()
		return batch == nil || batch()
	}
	return c.Classifier.Train(cfg, func(e train.Epoch) bool {
		more := onEpoch == nil || onEpoch(e)
		Yield()
		pace.Yielded()
		return more
	})
}
