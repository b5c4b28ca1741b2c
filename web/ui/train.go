//go:build js && wasm

package ui

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/train"
)

// headPreset is the head the app trains: Teachable Machine's, so that
// its users find what they know, with the options the form sets.
const headPreset = "tm"

// train trains a head on every sample, showing progress and a live chart.
func (a *App) train() {
	if a.training {
		return
	}
	if err := a.readSettings(); err != nil {
		a.fail(err)
		return
	}
	a.stopRecording()
	s, ids, err := a.trainingSet()
	if err != nil {
		a.fail(fmt.Errorf("cannot train yet: %v", err))
		return
	}
	cfg, err := train.Preset(headPreset)
	if err != nil {
		a.fail(err)
		return
	}
	cfg.Epochs = a.settings.Epochs
	cfg.BatchSize = a.settings.BatchSize
	cfg.LearningRate = a.settings.LearningRate
	cfg.Seed = 1
	// The SIMD kernels train several times faster; the pure-Go default
	// exists to make native and browser heads agree to the bit, which
	// the app does not need.
	cfg.Kernels = kernels.Best()
	// An epoch over many samples takes seconds: between batches, hand the
	// page its thread back whenever ~50 ms of work have gone by, so it
	// stays responsive within an epoch too.
	lastYield := time.Now()
	cfg.OnBatch = func() bool {
		if time.Since(lastYield) >= 50*time.Millisecond {
			sleep(0)
			lastYield = time.Now()
		}
		return true
	}
	if err := cfg.Check(); err != nil {
		a.fail(err)
		return
	}
	a.training = true
	btn := a.button("train")
	btn.SetDisabled(true)
	btn.SetTextContent("Training…")
	defer func() {
		a.training = false
		btn.SetDisabled(false)
		btn.SetTextContent("Train")
	}()
	prog := a.el("train-progress").(*dom.HTMLProgressElement)
	prog.SetValue(0)
	a.clearResults()
	var hist []train.Epoch
	start := time.Now()
	a.el("train-status").SetTextContent(fmt.Sprintf("Training on %s…", plural(s.Len(), "sample")))
	sleep(0)
	head, err := train.Train(s, cfg, func(e train.Epoch) bool {
		hist = append(hist, e)
		prog.SetValue(float64(e.Epoch) / float64(e.Epochs))
		msg := fmt.Sprintf("Epoch %d of %d: loss %.3f, accuracy %.0f%%", e.Epoch, e.Epochs, e.Loss, e.Accuracy*100)
		if e.HasValidation {
			msg += fmt.Sprintf("; validation loss %.3f, accuracy %.0f%%", e.ValLoss, e.ValAccuracy*100)
		}
		a.el("train-status").SetTextContent(msg)
		a.drawChart(hist)
		// Give the page its thread back between epochs: the bar and the
		// chart repaint, clicks are answered.
		sleep(0)
		lastYield = time.Now()
		return true
	})
	elapsed := time.Since(start)
	if err != nil {
		a.fail(fmt.Errorf("training failed: %v", err))
		a.el("train-status").SetTextContent("Training failed.")
		return
	}
	a.stats.Set("trainMs", float64(elapsed.Microseconds())/1000)
	prog.SetValue(1)
	a.head, a.headIDs = head, ids
	msg := fmt.Sprintf("Trained in %.1f s on %d samples", elapsed.Seconds(), head.Report.Train)
	if head.Report.Validation > 0 {
		msg += fmt.Sprintf(", validated on %d", head.Report.Validation)
	}
	if head.Report.Stopped != "" {
		msg += "; " + head.Report.Stopped
	}
	a.el("train-status").SetTextContent(msg + ".")
	a.showResults(s)
	a.rebuildMeters()
	a.saveHead()
	a.stats.Set("trained", a.stats.Get("trained").Int()+1)
}

// trainingSet gathers every class's samples (and augmented views, when
// Augment is on) for core/train.
func (a *App) trainingSet() (*train.Samples, []int, error) {
	s := &train.Samples{Dim: a.model.EmbeddingSize()}
	var ids []int
	var empty []string
	for _, c := range a.classes {
		if len(c.samples) == 0 {
			empty = append(empty, fmt.Sprintf("%q", c.name))
		}
	}
	if len(empty) > 0 {
		return nil, nil, fmt.Errorf("%s %s no samples", strings.Join(empty, ", "), map[bool]string{true: "has", false: "have"}[len(empty) == 1])
	}
	if len(a.classes) < 2 {
		return nil, nil, errors.New("a classifier needs at least two classes")
	}
	views := a.settings.Augment
	rows := 0
	for _, c := range a.classes {
		for _, smp := range c.samples {
			rows++
			if views {
				rows += len(smp.views)
			}
		}
	}
	// Sized once: thousands of embeddings are tens of megabytes, and
	// wasm memory never shrinks back after a peak.
	s.X = make([]float32, 0, rows*s.Dim)
	s.Y = make([]int, 0, rows)
	if views {
		s.Origin = make([]int, 0, rows)
	}
	// Copying thousands of embeddings takes a while under wasm: hand the
	// page its thread back every ~50 ms.
	lastYield := time.Now()
	for y, c := range a.classes {
		s.Labels = append(s.Labels, c.name)
		ids = append(ids, c.id)
		for _, smp := range c.samples {
			if time.Since(lastYield) >= 50*time.Millisecond {
				sleep(0)
				lastYield = time.Now()
			}
			row := len(s.Y)
			s.X = append(s.X, smp.emb...)
			s.Y = append(s.Y, y)
			if views {
				s.Origin = append(s.Origin, row)
				for _, v := range smp.views {
					s.X = append(s.X, v...)
					s.Y = append(s.Y, y)
					s.Origin = append(s.Origin, row)
				}
			}
		}
	}
	return s, ids, s.Check()
}

func (a *App) clearResults() {
	a.el("results").SetInnerHTML("")
	a.el("chart").SetInnerHTML("")
}

// drawChart draws loss (left scale, up to the largest seen) and accuracy
// (right scale, 0–100%) per epoch: solid for training, dashed for
// validation.
func (a *App) drawChart(hist []train.Epoch) {
	const w, h, pad = 320.0, 160.0, 18.0
	svg := a.el("chart")
	maxLoss := 1e-9
	for _, e := range hist {
		maxLoss = math.Max(maxLoss, finite(e.Loss))
		if e.HasValidation {
			maxLoss = math.Max(maxLoss, finite(e.ValLoss))
		}
	}
	n := max(hist[len(hist)-1].Epochs, 2)
	x := func(i int) float64 { return pad + (w-2*pad)*float64(i)/float64(n-1) }
	y := func(v, top float64) float64 { return h - pad - (h-2*pad)*math.Min(finite(v)/top, 1) }
	line := func(get func(train.Epoch) (float64, bool), top float64) string {
		var b strings.Builder
		for i, e := range hist {
			v, ok := get(e)
			if !ok {
				continue
			}
			if b.Len() == 0 {
				b.WriteString("M")
			} else {
				b.WriteString(" L")
			}
			fmt.Fprintf(&b, "%.1f %.1f", x(i), y(v, top))
		}
		return b.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="currentColor" stroke-opacity=".3"/>`, pad, h-pad, w-pad, h-pad)
	fmt.Fprintf(&b, `<text x="2" y="12" font-size="9" fill="#d9480f">loss (max %.2f)</text>`, maxLoss)
	fmt.Fprintf(&b, `<text x="%g" y="12" font-size="9" fill="#1f6feb" text-anchor="end">accuracy (0–100%%)</text>`, w-2)
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="9" fill="currentColor" text-anchor="end">epoch %d of %d</text>`, w-pad, h-4, hist[len(hist)-1].Epoch, n)
	path := func(d, color, dash string) {
		if d != "" {
			fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="1.5" stroke-dasharray="%s"/>`, d, color, dash)
		}
	}
	path(line(func(e train.Epoch) (float64, bool) { return e.Loss, true }, maxLoss), "#d9480f", "")
	path(line(func(e train.Epoch) (float64, bool) { return e.ValLoss, e.HasValidation }, maxLoss), "#d9480f", "4 3")
	path(line(func(e train.Epoch) (float64, bool) { return e.Accuracy, true }, 1), "#1f6feb", "")
	path(line(func(e train.Epoch) (float64, bool) { return e.ValAccuracy, e.HasValidation }, 1), "#1f6feb", "4 3")
	svg.SetInnerHTML(b.String())
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// showResults shows each class's accuracy and the confusion matrix of the
// trained head on every original sample.
func (a *App) showResults(s *train.Samples) {
	k := len(s.Labels)
	conf := make([][]int, k)
	for i := range conf {
		conf[i] = make([]int, k)
	}
	// Thousands of samples: one batched pass on the SIMD kernels, not a
	// product per sample, so the page does not freeze after training.
	pred, err := a.head.Argmax(kernels.Best(), s.X, s.Len())
	if err != nil {
		a.fail(err)
		return
	}
	for i, best := range pred {
		if s.Origin == nil || s.Origin[i] == i {
			conf[s.Y[i]][best]++
		}
	}
	var b strings.Builder
	b.WriteString(`<h3>Accuracy per class</h3><table><thead><tr><th scope="col">Class</th><th scope="col">Accuracy</th><th scope="col">Samples</th></tr></thead><tbody>`)
	for i, l := range s.Labels {
		n := 0
		for _, v := range conf[i] {
			n += v
		}
		fmt.Fprintf(&b, `<tr><th scope="row">%s</th><td>%.0f%%</td><td>%d</td></tr>`, html(l), 100*float64(conf[i][i])/float64(max(n, 1)), n)
	}
	b.WriteString(`</tbody></table><h3>Confusion matrix</h3><p class="muted">Rows: the true class; columns: the predicted one.</p><div class="results"><table><thead><tr><th scope="col">True \ predicted</th>`)
	for _, l := range s.Labels {
		fmt.Fprintf(&b, `<th scope="col">%s</th>`, html(l))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i, l := range s.Labels {
		fmt.Fprintf(&b, `<tr><th scope="row">%s</th>`, html(l))
		for _, v := range conf[i] {
			fmt.Fprintf(&b, `<td>%d</td>`, v)
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></div>`)
	a.el("results").SetInnerHTML(b.String())
}

// html escapes text for markup built here.
func html(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}
