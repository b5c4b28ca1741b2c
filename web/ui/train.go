//go:build js && wasm

package ui

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/core/train"
	"github.com/glimpse-ml/glimpse/wasm/browser"
	"github.com/glimpse-ml/glimpse/web/appworker"
	"github.com/glimpse-ml/glimpse/web/project"
)

// headPreset is the head the app trains, with the options the form sets:
// the library's and the command line's default, the most accurate head
// the study found (train.DefaultHead). Its samples are embedded with its
// features (App.features).
const headPreset = train.DefaultHead

// featuresTag follows the backbone's hash in a project whose samples are
// the multi-level features the default head reads.
const featuresTag = "+multilevel"

// train trains a head on every sample, showing progress and a live chart.
func (a *App) train() {
	if a.training {
		return
	}
	if err := a.readSettings(); err != nil {
		a.fail(err)
		return
	}
	if a.stale != "" {
		a.offerRefresh() // the reason, with the ways out
		return
	}
	a.stopRecording()
	cfg, err := train.Preset(headPreset)
	if err != nil {
		a.fail(err)
		return
	}
	cfg.MultiLevel = cfg.MultiLevel && !a.singleLevel
	cfg.Epochs = a.settings.Epochs
	cfg.BatchSize = a.settings.BatchSize
	cfg.LearningRate = a.settings.LearningRate
	cfg.Seed = 1
	if err := cfg.Check(); err != nil {
		a.fail(err)
		return
	}
	a.training = true
	btn := a.button("train")
	btn.SetDisabled(true)
	btn.SetTextContent(tr("Training…", "학습 중…"))
	defer func() {
		a.training = false
		btn.SetDisabled(false)
		btn.SetTextContent(tr("Train", "학습"))
	}()
	samples, err := a.samples()
	if err != nil {
		a.fail(fmt.Errorf("cannot train yet: %v", err))
		return
	}
	prog := a.el("train-progress").(*dom.HTMLProgressElement)
	prog.SetValue(0)
	a.clearResults()
	var hist []train.Epoch
	start := time.Now()
	a.el("train-status").SetTextContent(trf("Training on %s…", "%s으로 학습 중…", plural(samples.Len(), "sample")))
	// Training runs in the Worker; each batch of epochs it reports
	// repaints the bar and the chart here.
	trained, err := a.worker.Train(cfg, samples, func(es []train.Epoch) {
		hist = append(hist, es...)
		e := hist[len(hist)-1]
		prog.SetValue(float64(e.Epoch) / float64(e.Epochs))
		msg := trf("Epoch %d of %d: loss %.3f, accuracy %.0f%%", "에포크 %d/%d: 손실 %.3f, 정확도 %.0f%%", e.Epoch, e.Epochs, e.Loss, e.Accuracy*100)
		if e.HasValidation {
			msg += trf("; validation loss %.3f, accuracy %.0f%%", "; 검증 손실 %.3f, 정확도 %.0f%%", e.ValLoss, e.ValAccuracy*100)
		}
		a.el("train-status").SetTextContent(msg)
		a.drawChart(hist)
	})
	elapsed := time.Since(start)
	if err != nil {
		a.fail(fmt.Errorf("training failed: %v", err))
		a.el("train-status").SetTextContent(tr("Training failed.", "학습하지 못했습니다."))
		return
	}
	head, err := project.DecodeHead("the trained head", trained.Head)
	if err != nil {
		a.fail(fmt.Errorf("training failed: %v", err))
		return
	}
	a.stats.Set("trainMs", float64(elapsed.Microseconds())/1000)
	a.stats.Set("trainedIn", trained.Where)
	prog.SetValue(1)
	// The head's classes are in sorted order of their names (as glimpse
	// train reads a folder): find each one's class by name.
	ids := make([]int, len(head.Labels))
	for i, l := range head.Labels {
		for _, c := range a.classes {
			if c.name == l {
				ids[i] = c.id
			}
		}
	}
	a.useHead(head, ids)
	msg := trf("Trained in %.1f s on %d samples", "샘플 %[2]d개로 %[1].1f초 만에 학습했습니다", elapsed.Seconds(), trained.Train)
	if trained.Validation > 0 {
		msg += trf(", validated on %d", ", 검증 샘플 %d개", trained.Validation)
	}
	if trained.Stopped != "" {
		msg += "; " + trained.Stopped
	}
	a.el("train-status").SetTextContent(msg + ".")
	a.showResults(head.Labels, trained.Confusion)
	a.rebuildMeters()
	a.saveHead()
	a.stats.Set("trained", a.stats.Get("trained").Int()+1)
}

// samples gathers every class's samples (and augmented views, when
// Augment is on) for training, in the classes' order.
func (a *App) samples() (*appworker.Samples, error) {
	var empty []string
	names := map[string]bool{}
	for _, c := range a.classes {
		if len(c.samples) == 0 {
			empty = append(empty, fmt.Sprintf("%q", c.name))
		}
		if names[c.name] {
			return nil, fmt.Errorf("two classes are named %q: rename one", c.name)
		}
		names[c.name] = true
	}
	if len(empty) > 0 {
		return nil, fmt.Errorf("%s %s no samples", strings.Join(empty, ", "), map[bool]string{true: "has", false: "have"}[len(empty) == 1])
	}
	if len(a.classes) < 2 {
		return nil, errors.New("a classifier needs at least two classes")
	}
	if a.stale != "" {
		return nil, errors.New(a.stale)
	}
	n, views := 0, 0
	for _, c := range a.classes {
		for _, smp := range c.samples {
			n++
			if a.settings.Augment {
				views += len(smp.views)
			}
		}
	}
	labels := make([]string, len(a.classes))
	for k, c := range a.classes {
		labels[k] = c.name
	}
	s := appworker.NewSamples(labels, a.info.EmbeddingSize, n, views)
	// Thousands of samples take a while to copy: hand the page its
	// thread back often (a click waits at most a frame).
	pace := browser.Pacer{Every: 10 * time.Millisecond}
	for k, c := range a.classes {
		for _, smp := range c.samples {
			pace.Pace()
			if err := s.Add(smp.emb, k); err != nil {
				return nil, fmt.Errorf("%q: %v", c.name, err)
			}
			if a.settings.Augment {
				for _, v := range smp.views {
					if err := s.AddView(v); err != nil {
						return nil, fmt.Errorf("%q: %v", c.name, err)
					}
				}
			}
		}
	}
	return s, nil
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
	fmt.Fprintf(&b, `<text x="2" y="12" font-size="9" fill="#d9480f">%s</text>`, trf("loss (max %.2f)", "손실 (최대 %.2f)", maxLoss))
	fmt.Fprintf(&b, `<text x="%g" y="12" font-size="9" fill="#1f6feb" text-anchor="end">%s</text>`, w-2, tr("accuracy (0–100%)", "정확도 (0–100%)"))
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

// showResults shows each class's accuracy and the confusion matrix conf
// (rows the true class, columns the predicted one, in the order of
// labels) of the trained head on every original sample.
func (a *App) showResults(labels []string, conf [][]int) {
	var b strings.Builder
	fmt.Fprintf(&b, `<h3>%s</h3><table><thead><tr><th scope="col">%s</th><th scope="col">%s</th><th scope="col">%s</th></tr></thead><tbody>`,
		tr("Accuracy per class", "클래스별 정확도"), tr("Class", "클래스"), tr("Accuracy", "정확도"), tr("Samples", "샘플"))
	for i, l := range labels {
		n := 0
		for _, v := range conf[i] {
			n += v
		}
		fmt.Fprintf(&b, `<tr><th scope="row">%s</th><td>%.0f%%</td><td>%d</td></tr>`, html(l), 100*float64(conf[i][i])/float64(max(n, 1)), n)
	}
	fmt.Fprintf(&b, `</tbody></table><h3>%s</h3><p class="muted">%s</p><div class="results"><table><thead><tr><th scope="col">%s</th>`,
		tr("Confusion matrix", "혼동 행렬"), tr("Rows: the true class; columns: the predicted one.", "행: 실제 클래스, 열: 예측한 클래스."), tr(`True \ predicted`, `실제 \ 예측`))
	for _, l := range labels {
		fmt.Fprintf(&b, `<th scope="col">%s</th>`, html(l))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for i, l := range labels {
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
