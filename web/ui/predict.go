//go:build js && wasm

package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"syscall/js"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/core/train"
	"github.com/glimpse-ml/glimpse/wasm/browser"
	"github.com/glimpse-ml/glimpse/web/project"
)

// meter is one class's confidence bar.
type meter struct {
	row, bar, fill, value, name dom.Element
}

// headLabel is the name to show for the head's output i: the class's
// current name, or the name it had when trained if it was deleted since.
func (a *App) headLabel(i int) string {
	if i < len(a.headIDs) {
		if c := a.classByID(a.headIDs[i]); c != nil {
			return c.name
		}
	}
	return a.head.Labels[i]
}

// rebuildMeters makes one role=meter bar per class of the head.
func (a *App) rebuildMeters() {
	box := a.el("meters")
	box.SetInnerHTML("")
	a.meters = nil
	if a.head == nil {
		a.el("fps").SetTextContent(tr("Train a model to see predictions.", "모델을 학습시키면 예측이 보입니다."))
		return
	}
	if a.cam.err != nil {
		a.el("fps").SetTextContent(tr("No camera: drop or pick images below to classify them.", "카메라 없음: 분류할 사진을 아래에 끌어다 놓거나 고르세요."))
	} else {
		a.el("fps").SetTextContent(tr("Waiting for the camera…", "카메라를 기다리는 중…"))
	}
	for i := range a.head.Classes() {
		m := meter{
			row:   a.doc.CreateElement("div"),
			name:  a.doc.CreateElement("span"),
			bar:   a.doc.CreateElement("div"),
			fill:  a.doc.CreateElement("div"),
			value: a.doc.CreateElement("span"),
		}
		m.row.SetAttribute("class", "meter")
		m.name.SetAttribute("class", "name")
		m.name.SetAttribute("aria-hidden", "true")
		m.bar.SetAttribute("class", "bar")
		m.bar.SetAttribute("role", "meter")
		m.bar.SetAttribute("aria-valuemin", "0")
		m.bar.SetAttribute("aria-valuemax", "100")
		m.bar.SetAttribute("aria-valuenow", "0")
		m.fill.SetAttribute("class", "fill")
		m.value.SetAttribute("class", "value")
		m.value.SetAttribute("aria-hidden", "true")
		m.bar.AppendChild(m.fill)
		m.row.AppendChild(m.name)
		m.row.AppendChild(m.bar)
		m.row.AppendChild(m.value)
		box.AppendChild(m.row)
		a.meters = append(a.meters, m)
		_ = i
	}
	a.renameMeters()
}

// renameMeters labels the bars with the classes' current names.
func (a *App) renameMeters() {
	for i, m := range a.meters {
		name := a.headLabel(i)
		m.name.SetTextContent(name)
		m.bar.SetAttribute("aria-label", name)
	}
}

// useHead makes head (nil for none) the app's, trained on the classes
// ids, and the Worker's, which judges live pictures with it.
func (a *App) useHead(head *train.Head, ids []int) {
	var b []byte
	if head != nil {
		var err error
		if b, err = project.EncodeHead(head); err != nil {
			a.fail(err)
			head, ids = nil, nil
		}
	}
	a.head, a.headIDs = head, ids
	wait := a.worker.SetHead(b)
	go func() {
		if err := wait(); err != nil {
			a.fail(err)
		}
	}()
}

// showPredictions moves the bars to the head's probabilities.
func (a *App) showPredictions(probs []float64) {
	for i, m := range a.meters {
		if i >= len(probs) {
			break
		}
		pct := math.Round(probs[i] * 100)
		m.bar.SetAttribute("aria-valuenow", strconv.Itoa(int(pct)))
		m.bar.SetAttribute("aria-valuetext", fmt.Sprintf("%.0f%%", pct))
		m.fill.(dom.HTMLElement).Style().SetProperty("width", fmt.Sprintf("%.1f%%", probs[i]*100), "")
		m.value.SetTextContent(fmt.Sprintf("%.0f%%", pct))
	}
}

// decoded is an uploaded image the browser decoded.
type decoded struct {
	bitmap js.Value
	w, h   int
}

// decode decodes a file through the browser runtime, as the library does
// (no colour-space conversion, no premultiplied alpha, EXIF orientation).
func decode(file js.Value) (decoded, error) {
	bm, err := browser.Decode(file, file.Get("name").String())
	if err != nil {
		return decoded{}, err
	}
	return decoded{bitmap: bm, w: bm.Get("width").Int(), h: bm.Get("height").Int()}, nil
}

// skipped tells the user which files were not images.
func (a *App) skipped(names []string) {
	if len(names) == 0 {
		return
	}
	shown := names
	if len(shown) > 5 {
		shown = append(shown[:5:5], fmt.Sprintf("and %d more", len(names)-5))
	}
	a.fail(fmt.Errorf("skipped %s that could not be read as images: %s", plural(len(names), "file"), strings.Join(shown, ", ")))
}

// addFiles embeds uploaded or dropped images into a class.
func (a *App) addFiles(c *class, files []js.Value) {
	var bad []string
	var batch []*sample
	for i, f := range files {
		name := f.Get("name").String()
		a.status(trf("Adding %s to %q (%d of %d)…", "%s을(를) %q에 추가하는 중 (%d/%d)…", name, c.name, i+1, len(files)))
		img, err := decode(f)
		if err != nil {
			bad = append(bad, name)
			continue
		}
		id := a.newID()
		thumb := a.thumbnail(img.bitmap, img.w, img.h)
		e, err := a.embed(img.bitmap, a.settings.Augment, id, false)
		if err != nil {
			bad = append(bad, name)
			continue
		}
		s := &sample{id: id, emb: e.Embedding, views: e.Views, thumb: thumb}
		batch = append(batch, s)
		if len(batch) == 20 {
			a.addSamples(c, batch)
			batch = nil
		}
	}
	a.addSamples(c, batch)
	a.status(trf("Added %s to %q.", "%s을(를) %q에 추가했습니다.", plural(len(files)-len(bad), "image"), c.name))
	a.skipped(bad)
}

// predictFiles classifies uploaded or dropped images with the head.
func (a *App) predictFiles(files []js.Value) {
	if a.head == nil {
		a.fail(fmt.Errorf("train the model before predicting images"))
		return
	}
	list := a.el("predict-results")
	var bad []string
	for _, f := range files {
		name := f.Get("name").String()
		img, err := decode(f)
		if err != nil {
			bad = append(bad, name)
			continue
		}
		thumb := a.thumbnail(img.bitmap, img.w, img.h)
		e, err := a.embed(img.bitmap, false, 0, true)
		if err != nil {
			bad = append(bad, name)
			continue
		}
		probs := e.Probabilities
		if probs == nil {
			a.fail(fmt.Errorf("train the model before predicting images"))
			return
		}
		a.recordPrediction(name, e.Embedding, probs)
		best := 0
		for i, p := range probs {
			if p > probs[best] {
				best = i
			}
		}
		li := a.doc.CreateElement("li")
		im := a.doc.CreateElement("img")
		im.SetAttribute("alt", name)
		im.Underlying().Set("src", thumb)
		txt := a.doc.CreateElement("span")
		txt.SetAttribute("class", "prediction")
		txt.SetTextContent(fmt.Sprintf("%s: %s (%.0f%%)", name, a.headLabel(best), probs[best]*100))
		li.AppendChild(im)
		li.AppendChild(txt)
		if first := list.FirstChild(); first != nil {
			list.InsertBefore(li, first)
		} else {
			list.AppendChild(li)
		}
	}
	a.skipped(bad)
}

// recordPrediction leaves the last predicted picture's embedding and
// probabilities (by class name) in __glimpseStats.lastPrediction: the
// end-to-end test holds them to glimpse.js and to the command line.
func (a *App) recordPrediction(name string, emb []float32, probs []float64) {
	e := js.Global().Get("Float32Array").New(len(emb))
	for i, v := range emb {
		e.SetIndex(i, v)
	}
	p := js.Global().Get("Object").New()
	for i, v := range probs {
		p.Set(a.headLabel(i), v)
	}
	a.stats.Set("lastPrediction", map[string]any{"name": name, "embedding": e, "probabilities": p})
}
