//go:build js && wasm && classifier

package main

import (
	"errors"
	"fmt"
	"math"
	"syscall/js"

	"github.com/glimpse-ml/glimpse/core/train"
	"github.com/glimpse-ml/glimpse/wasm/browser"
)

// apiName is the global this program publishes its functions on, beside
// the library program's __glimpse.
const apiName = "__glimpseClassifier"

// addClassifierCalls adds model.classifier()'s calls to the bridge's.
func (b *bridge) addClassifierCalls(sync, async map[string]func([]js.Value) (any, error)) {
	sync["classifierNew"] = b.classifierNew
	sync["classifierDispose"] = b.classifierDispose
	async["classifierAdd"] = b.classifierAdd
	async["classifierTrain"] = b.classifierTrain
	async["classifierPredict"] = b.classifierPredict
	async["classifierExport"] = b.classifierExport
}

// classifierNew(modelHandle, head) starts an empty classifier on the
// model's features for the named head preset ("": train.DefaultHead, the
// one place the default is named) and returns its handle.
func (b *bridge) classifierNew(args []js.Value) (any, error) {
	if len(args) != 2 || args[1].Type() != js.TypeString {
		return nil, errors.New("classifierNew takes (modelHandle, head)")
	}
	m, err := b.model(args[0])
	if err != nil {
		return nil, err
	}
	head := args[1].String()
	if head == "" {
		head = train.DefaultHead
	}
	cfg, err := train.Preset(head)
	if err != nil {
		return nil, err
	}
	c, err := m.NewClassifier(cfg)
	if err != nil {
		return nil, err
	}
	h := b.handle()
	b.classifiers[h] = c
	return h, nil
}

// classifier finds an idle classifier: one that is training must not
// change under its training, which yields to the page between epochs.
func (b *bridge) classifier(v js.Value) (*browser.Classifier, error) {
	if v.Type() != js.TypeNumber {
		return nil, errors.New("want a classifier handle")
	}
	c := b.classifiers[v.Int()]
	if c == nil {
		return nil, errors.New("this classifier was disposed")
	}
	if c.Training() {
		return nil, errors.New("the classifier is training: wait for train() to finish")
	}
	return c, nil
}

// classifierAdd(ch, picture, label, views, seed) embeds one example, and
// views augmented copies of it drawn from seed, and resolves to the
// classes' example counts.
func (b *bridge) classifierAdd(args []js.Value) (any, error) {
	if len(args) != 5 || args[2].Type() != js.TypeString || args[3].Type() != js.TypeNumber || args[4].Type() != js.TypeNumber {
		return nil, errors.New("classifierAdd takes (classifier, picture, label, views, seed)")
	}
	c, err := b.classifier(args[0])
	if err != nil {
		return nil, err
	}
	views := args[3].Float()
	if views != math.Trunc(views) {
		return nil, fmt.Errorf("augment %v: want a whole number of views", views)
	}
	seed, err := seedOf(args[4])
	if err != nil {
		return nil, err
	}
	if err := c.AddFrom(args[1], args[2].String(), int(views), seed); err != nil {
		return nil, err
	}
	counts := map[string]any{}
	for _, k := range c.Counts() {
		counts[k.Label] = k.Examples
	}
	return counts, nil
}

// seedOf reads a seed: a whole number a JavaScript number holds exactly.
func seedOf(v js.Value) (uint64, error) {
	f := v.Float()
	if f != math.Trunc(f) || f < 0 || f > 1<<53 {
		return 0, fmt.Errorf("seed %v: want a whole number from 0 to 2^53", f)
	}
	return uint64(f), nil
}

// trainConfig is the classifier's preset with the options opts gives
// (epochs, batchSize, learningRate, seed) in place of the preset's.
func trainConfig(cfg train.Config, opts js.Value) (train.Config, error) {
	if opts.Type() != js.TypeObject {
		return cfg, errors.New("train options must be an object")
	}
	given := func(name string) (float64, bool, error) {
		v := opts.Get(name)
		if v.IsUndefined() || v.IsNull() {
			return 0, false, nil
		}
		if v.Type() != js.TypeNumber {
			return 0, false, fmt.Errorf("%s must be a number", name)
		}
		return v.Float(), true, nil
	}
	whole := func(name string, dst *int) error {
		f, ok, err := given(name)
		if err != nil || !ok {
			return err
		}
		if f != math.Trunc(f) || f < 1 || f > 1<<30 {
			return fmt.Errorf("%s %v: want a whole number from 1", name, f)
		}
		*dst = int(f)
		return nil
	}
	if e := opts.Get("epochs"); !e.IsUndefined() && !e.IsNull() {
		cfg.MaxSteps = 0 // epochs asked for are epochs run, as on the command line
	}
	if err := whole("epochs", &cfg.Epochs); err != nil {
		return cfg, err
	}
	if err := whole("batchSize", &cfg.BatchSize); err != nil {
		return cfg, err
	}
	if f, ok, err := given("learningRate"); err != nil {
		return cfg, err
	} else if ok {
		cfg.LearningRate = f
	}
	if v := opts.Get("seed"); v.Type() == js.TypeNumber {
		var err error
		if cfg.Seed, err = seedOf(v); err != nil {
			return cfg, err
		}
	} else if !v.IsUndefined() {
		return cfg, errors.New("seed must be a number")
	}
	return cfg, cfg.Check()
}

// classifierTrain(ch, opts, onEpoch) trains a head on everything added
// and resolves to the report. onEpoch, if a function, hears every epoch
// (the runtime yields to the page after it); returning false stops
// training there, and throwing rejects the training.
func (b *bridge) classifierTrain(args []js.Value) (any, error) {
	if len(args) != 3 {
		return nil, errors.New("classifierTrain takes (classifier, options, onEpoch)")
	}
	c, err := b.classifier(args[0])
	if err != nil {
		return nil, err
	}
	cfg, err := trainConfig(c.Config(), args[1])
	if err != nil {
		return nil, err
	}
	s := c.Samples()
	if s.Len() == 0 {
		return nil, errors.New("the classifier has no examples: addExample() pictures of at least two classes")
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	var cbErr error
	onEpoch := args[2]
	r, err := c.Train(cfg, func(e train.Epoch) (more bool) {
		if onEpoch.Type() != js.TypeFunction {
			return true
		}
		defer func() {
			if r := recover(); r != nil {
				cbErr = fmt.Errorf("onEpoch threw: %v", r)
				more = false
			}
		}()
		ret := onEpoch.Invoke(epochValue(e))
		return ret.Type() != js.TypeBoolean || ret.Bool()
	})
	if cbErr != nil {
		return nil, cbErr
	}
	if err != nil {
		return nil, err
	}
	history := make([]any, len(r.History))
	for i, e := range r.History {
		history[i] = epochValue(e)
	}
	return map[string]any{
		"train":      r.Train,
		"validation": r.Validation,
		"kept":       r.Kept,
		"stopped":    r.Stopped,
		"diverged":   r.Diverged,
		"history":    history,
	}, nil
}

// epochValue is what onEpoch receives; the validation figures are null
// when nothing is held out.
func epochValue(e train.Epoch) map[string]any {
	v := map[string]any{
		"epoch":       e.Epoch,
		"epochs":      e.Epochs,
		"loss":        e.Loss,
		"accuracy":    e.Accuracy,
		"valLoss":     nil,
		"valAccuracy": nil,
	}
	if e.HasValidation {
		v["valLoss"], v["valAccuracy"] = e.ValLoss, e.ValAccuracy
	}
	return v
}

// classifierPredict(ch, picture, topk) resolves to [{className,
// probability}], most probable first.
func (b *bridge) classifierPredict(args []js.Value) (any, error) {
	if len(args) != 3 || args[2].Type() != js.TypeNumber {
		return nil, errors.New("classifierPredict takes (classifier, picture, topk)")
	}
	c, err := b.classifier(args[0])
	if err != nil {
		return nil, err
	}
	preds, err := c.PredictFrom(args[1], args[2].Int())
	if err != nil {
		return nil, err
	}
	return predictions(preds), nil
}

// classifierExport(ch) resolves to the bytes of one model file holding
// the backbone and the trained head.
func (b *bridge) classifierExport(args []js.Value) (any, error) {
	if len(args) != 1 {
		return nil, errors.New("classifierExport takes (classifier)")
	}
	c, err := b.classifier(args[0])
	if err != nil {
		return nil, err
	}
	if c.Head() == nil {
		return nil, errors.New("the classifier has not been trained: call train() first")
	}
	data, err := c.Export()
	if err != nil {
		return nil, err
	}
	return browser.BytesToJS(data), nil
}

// classifierDispose(ch) forgets a classifier and its examples; disposing
// twice is harmless, disposing during training is refused.
func (b *bridge) classifierDispose(args []js.Value) (any, error) {
	if len(args) != 1 || args[0].Type() != js.TypeNumber {
		return nil, errors.New("classifierDispose takes (classifier)")
	}
	h := args[0].Int()
	if c := b.classifiers[h]; c != nil && c.Training() {
		return nil, errors.New("the classifier is training: wait for train() to finish")
	}
	delete(b.classifiers, h)
	return nil, nil
}
