//go:build js && wasm

package ui

import (
	"encoding/base64"
	"fmt"
	"syscall/js"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/wasm/browser"
	"github.com/glimpse-ml/glimpse/web/appworker"
)

// A sample is its embedding: numbers the backbone made from the picture,
// prepared by the model file's rule. Another backbone (a new default
// model, an int8 one) or another rule (a changed crop) makes other
// numbers, and a head trained on a mix of the two would be silently
// wrong. So the project records which backbone (its file's hash) and
// which rule its embeddings were made with, and when either differs from
// the model's the app says so, refuses to train, and offers to re-embed
// the samples from their thumbnails or to record them again.

// ownEmbeddings marks the samples as made by the model in the page.
func (a *App) ownEmbeddings() {
	a.samplesHash, a.samplesRule = a.info.Hash, a.info.Preprocess
	a.stale = ""
}

// checkBackbone compares what the samples were embedded with to the model
// and, when they differ, drops the head and offers the ways out. where
// says where the samples came from ("saved project", a file's name).
func (a *App) checkBackbone(where string) {
	if a.totalSamples() == 0 {
		a.ownEmbeddings()
		return
	}
	rule := a.info.Preprocess
	var why string
	switch {
	case a.samplesHash == "":
		why = fmt.Sprintf("the samples of %s do not say which backbone embedded them", where)
	case a.samplesHash+featuresTag == a.info.Hash:
		why = fmt.Sprintf("the samples of %s hold this backbone's embedding alone; the default head now reads multi-level features (the embedding and the level below it)", where)
	case a.samplesHash != a.info.Hash:
		why = fmt.Sprintf("the samples of %s were embedded by another backbone (%s) than this model (%s)", where, a.samplesHash, a.info.Hash)
	case a.samplesRule != rule:
		why = fmt.Sprintf("the samples of %s were embedded with another preprocessing rule (%s) than this model's (%s)", where, a.samplesRule, rule)
	}
	if why == "" {
		a.stale = ""
		return
	}
	a.stale = why + ": re-embed them from their thumbnails or record them again before training"
	a.useHead(nil, nil)
	a.rebuildMeters()
	a.offerRefresh()
}

// offerRefresh shows why the samples cannot train, with the two ways out.
func (a *App) offerRefresh() {
	al := a.el("alert").(dom.HTMLElement)
	al.SetInnerHTML("")
	msg := a.doc.CreateElement("span")
	msg.SetTextContent(upperFirst(a.stale) + ".")
	al.AppendChild(msg)
	for _, b := range []struct {
		label string
		do    func()
	}{{tr("Re-embed samples", "샘플 다시 임베딩"), a.reEmbed}, {tr("Record again", "다시 녹화"), a.recordAgain}} {
		btn := a.doc.CreateElement("button").(*dom.HTMLButtonElement)
		btn.SetAttribute("type", "button")
		btn.SetTextContent(b.label)
		do := b.do
		btn.AddEventListener("click", false, func(dom.Event) {
			setHidden(al, true)
			al.SetInnerHTML("")
			go do()
		})
		al.AppendChild(btn)
	}
	setHidden(al, false)
	a.stats.Set("stale", true)
}

// reEmbed embeds every sample again from its thumbnail (the only picture
// kept), with this model: smaller pictures than the originals, so
// recording again gives a better model, but the classes keep their
// samples.
func (a *App) reEmbed() {
	var pace browser.Pacer
	n, done := a.totalSamples(), 0
	for _, c := range a.classes {
		for _, s := range c.samples {
			pace.Pace()
			done++
			a.status(trf("Re-embedding sample %d of %d…", "샘플 %d/%d 다시 임베딩 중…", done, n))
			e, err := a.embedThumb(s.thumb, a.settings.Augment && len(s.views) > 0, s.id)
			if err != nil {
				a.fail(fmt.Errorf("re-embedding a sample of %q: %v", c.name, err))
				return
			}
			s.emb, s.views = e.Embedding, e.Views
		}
	}
	a.ownEmbeddings()
	a.stats.Set("stale", false)
	a.saveAll()
	a.status(trf("Re-embedded %s from their thumbnails; record again for the best accuracy.", "%s을(를) 썸네일로 다시 임베딩했습니다. 가장 정확하려면 다시 녹화하세요.", plural(n, "sample")))
}

// embedThumb embeds a sample's thumbnail (a JPEG data URL).
func (a *App) embedThumb(thumb js.Value, withView bool, id int) (appworker.Embedding, error) {
	b, err := dataURLBytes(thumb.String())
	if err != nil {
		return appworker.Embedding{}, err
	}
	blob := js.Global().Get("Blob").New([]any{browser.BytesToJS(b)}, map[string]any{"type": "image/jpeg"})
	bm, err := browser.Decode(blob, "thumbnail")
	if err != nil {
		return appworker.Embedding{}, err
	}
	return a.embed(bm, withView, id, false)
}

// recordAgain deletes every sample, keeping the classes, so that they are
// recorded with this model.
func (a *App) recordAgain() {
	for _, c := range a.classes {
		if len(c.samples) > 0 {
			a.deleteSamples(c, append([]*sample(nil), c.samples...))
		}
	}
	a.ownEmbeddings()
	a.stats.Set("stale", false)
	a.saveProject()
	a.status(tr("The samples were deleted: record them again.", "샘플을 지웠습니다. 다시 녹화하세요."))
}

// thumbDataURL is a thumbnail's bytes as the data URL samples keep.
func thumbDataURL(b []byte) js.Value {
	return js.ValueOf("data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(b))
}
