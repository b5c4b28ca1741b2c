//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"math"
	"syscall/js"

	"github.com/glimpse-ml/glimpse/core/classifier"
	"github.com/glimpse-ml/glimpse/core/train"
)

// classifierNew(modelHandle, head) starts an empty classifier on the
// model's features for the named head preset and returns its handle.
func (st *runtimeState) classifierNew(args []js.Value) (any, error) {
	if len(args) != 2 || args[0].Type() != js.TypeNumber || args[1].Type() != js.TypeString {
		return nil, errors.New("classifierNew takes (modelHandle, head)")
	}
	m := st.models[args[0].Int()]
	if m == nil {
		return nil, errors.New("this model was disposed")
	}
	if m.EmbeddingSize() == 0 {
		return nil, errors.New("this model has no embedding: a classifier trains on a backbone's features")
	}
	cfg, err := train.Preset(args[1].String())
	if err != nil {
		return nil, err
	}
	c, err := classifier.New(m, cfg)
	if err != nil {
		return nil, err
	}
	h := st.next
	st.next++
	st.classifiers[h] = c
	return h, nil
}

// classifier finds an idle classifier: one that is training must not
// change under its training, which yields to the page between epochs.
func (st *runtimeState) classifier(v js.Value) (*classifier.Classifier, int, error) {
	if v.Type() != js.TypeNumber {
		return nil, 0, errors.New("want a classifier handle")
	}
	h := v.Int()
	c := st.classifiers[h]
	if c == nil {
		return nil, 0, errors.New("this classifier was disposed")
	}
	if st.training[h] {
		return nil, 0, errors.New("the classifier is training: wait for train() to finish")
	}
	return c, h, nil
}

// classifierAdd(ch, modelHandle, rgba, width, height, label, views, seed)
// embeds one example, and views augmented copies of it drawn from seed,
// and returns the classes' example counts. The views are made here, from
// the pixels of this call, because the pixel buffer is reused by the next.
func (st *runtimeState) classifierAdd(args []js.Value) (any, error) {
	if len(args) != 8 || args[5].Type() != js.TypeString || args[6].Type() != js.TypeNumber || args[7].Type() != js.TypeNumber {
		return nil, errors.New("classifierAdd takes (classifier, model, rgba, width, height, label, views, seed)")
	}
	c, _, err := st.classifier(args[0])
	if err != nil {
		return nil, err
	}
	views := args[6].Float()
	if views != math.Trunc(views) || views < 0 || views > classifier.MaxViews {
		return nil, fmt.Errorf("augment %v: want 0 to %d views per example", views, classifier.MaxViews)
	}
	seed, err := seedOf(args[7])
	if err != nil {
		return nil, err
	}
	_, img, err := st.image(args[1:5])
	if err != nil {
		return nil, err
	}
	if _, err := c.AddPicture(img, args[5].String(), int(views), seed); err != nil {
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

// trainConfig is the preset opts.head names with the options opts gives
// (epochs, batchSize, learningRate, seed) in place of the preset's. The
// dense layers run on the pure-Go kernels, the default, so the same seed
// gives the command line's head. (The SIMD kernels trained no faster on
// 2 x 100 samples in Chromium: at a head's sizes the time is spago's, not
// the GEMM's.)
func trainConfig(opts js.Value) (train.Config, error) {
	if opts.Type() != js.TypeObject {
		return train.Config{}, errors.New("train options must be an object")
	}
	head := "tm"
	if h := opts.Get("head"); h.Type() == js.TypeString {
		head = h.String()
	}
	cfg, err := train.Preset(head)
	if err != nil {
		return cfg, err
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
		if cfg.Seed, err = seedOf(v); err != nil {
			return cfg, err
		}
	} else if !v.IsUndefined() {
		return cfg, errors.New("seed must be a number")
	}
	return cfg, cfg.Check()
}

// classifierTrain(ch, opts, onEpoch) trains a head on everything added
// and returns a Promise of the report. Training runs on a goroutine that,
// after each epoch, calls onEpoch (if a function) and then waits for a
// zero-delay timer, so the page can paint its progress; onEpoch returning
// false stops training, keeping the head of the last epoch.
func (st *runtimeState) classifierTrain(args []js.Value) (any, error) {
	if len(args) != 3 {
		return nil, errors.New("classifierTrain takes (classifier, options, onEpoch)")
	}
	c, h, err := st.classifier(args[0])
	if err != nil {
		return nil, err
	}
	cfg, err := trainConfig(args[1])
	if err != nil {
		return nil, err
	}
	// Checked here so that the Promise is never made for a training that
	// cannot start.
	s := c.Samples()
	if s.Len() == 0 {
		return nil, errors.New("the classifier has no examples: addExample() pictures of at least two classes")
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	onEpoch := args[2]
	if onEpoch.Type() != js.TypeFunction {
		onEpoch = js.Undefined()
	}
	st.training[h] = true
	var executor js.Func
	executor = js.FuncOf(func(_ js.Value, a []js.Value) any {
		resolve, reject := a[0], a[1]
		go func() {
			report, err := st.runTraining(c, cfg, onEpoch)
			delete(st.training, h)
			if err != nil {
				reject.Invoke(js.Global().Get("Error").New(err.Error()))
				return
			}
			resolve.Invoke(report)
		}()
		return nil
	})
	p := js.Global().Get("Promise").New(executor)
	executor.Release()
	return p, nil
}

// runTraining trains c, reporting each epoch to onEpoch, and returns the
// report as a JavaScript object. A panic, or onEpoch throwing, becomes the
// error.
func (st *runtimeState) runTraining(c *classifier.Classifier, cfg train.Config, onEpoch js.Value) (report any, err error) {
	defer func() {
		if r := recover(); r != nil {
			report, err = nil, fmt.Errorf("internal error: %v", r)
		}
	}()
	var cbErr error
	r, err := c.Train(cfg, func(e train.Epoch) (more bool) {
		if !onEpoch.IsUndefined() {
			defer func() {
				if r := recover(); r != nil {
					cbErr = fmt.Errorf("onEpoch threw: %v", r)
					more = false
				}
			}()
			if ret := onEpoch.Invoke(epochValue(e)); ret.Type() == js.TypeBoolean && !ret.Bool() {
				return false
			}
		}
		yield()
		return true
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
	return js.ValueOf(map[string]any{
		"train":      r.Train,
		"validation": r.Validation,
		"kept":       r.Kept,
		"stopped":    r.Stopped,
		"diverged":   r.Diverged,
		"history":    history,
	}), nil
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

// yield blocks the calling goroutine until a zero-delay timer fires: the
// browser runs its pending work (painting, input, the page's promises) in
// between.
func yield() {
	done := make(chan struct{})
	f := js.FuncOf(func(js.Value, []js.Value) any {
		close(done)
		return nil
	})
	js.Global().Call("setTimeout", f, 0)
	<-done
	f.Release()
}

// classifierPredict(ch, modelHandle, rgba, width, height, topk) returns
// [{className, probability}], most probable first.
func (st *runtimeState) classifierPredict(args []js.Value) (any, error) {
	if len(args) != 6 || args[5].Type() != js.TypeNumber {
		return nil, errors.New("classifierPredict takes (classifier, model, rgba, width, height, topk)")
	}
	c, _, err := st.classifier(args[0])
	if err != nil {
		return nil, err
	}
	if c.Head() == nil {
		return nil, errors.New("the classifier has not been trained: call train() first")
	}
	_, img, err := st.image(args[1:5])
	if err != nil {
		return nil, err
	}
	preds, err := c.PredictPicture(img, args[5].Int())
	if err != nil {
		return nil, err
	}
	out := make([]any, len(preds))
	for i, p := range preds {
		out[i] = map[string]any{"className": p.ClassName, "probability": p.Probability}
	}
	return out, nil
}

// classifierExport(ch, modelHandle) returns the bytes of one model file
// holding the backbone and the trained head, weights in f16: a backbone
// on TF.js's 8-bit grid keeps its values, and the file stays small.
func (st *runtimeState) classifierExport(args []js.Value) (any, error) {
	if len(args) != 2 || args[1].Type() != js.TypeNumber {
		return nil, errors.New("classifierExport takes (classifier, model)")
	}
	c, _, err := st.classifier(args[0])
	if err != nil {
		return nil, err
	}
	if c.Head() == nil {
		return nil, errors.New("the classifier has not been trained: call train() first")
	}
	b, err := c.Export()
	if err != nil {
		return nil, err
	}
	arr := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(arr, b)
	return arr, nil
}

// classifierDispose(ch) forgets a classifier and its examples; disposing
// twice is harmless, disposing during training is refused.
func (st *runtimeState) classifierDispose(args []js.Value) (any, error) {
	if len(args) != 1 || args[0].Type() != js.TypeNumber {
		return nil, errors.New("classifierDispose takes (classifier)")
	}
	h := args[0].Int()
	if st.training[h] {
		return nil, errors.New("the classifier is training: wait for train() to finish")
	}
	delete(st.classifiers, h)
	return nil, nil
}
