//go:build js && wasm

package ui

import (
	"fmt"
	"strings"
	"syscall/js"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/wasm/browser"
	"github.com/glimpse-ml/glimpse/web/project"
)

// addClass makes a class and its card from the page's template.
func (a *App) addClass(id int, name string) *class {
	tpl := a.el("class-card").Underlying().Get("content")
	frag := tpl.Call("cloneNode", true)
	card := dom.WrapElement(frag.Get("firstElementChild"))
	c := &class{
		id:     id,
		name:   name,
		card:   card,
		nameIn: card.QuerySelector(".name").(*dom.HTMLInputElement),
		count:  card.QuerySelector(".count"),
		record: card.QuerySelector(".record").(*dom.HTMLButtonElement),
	}
	c.thumbs = newThumbList(a, c, card.QuerySelector(".thumbs").Underlying())
	c.nameIn.SetValue(name)
	card.SetAttribute("aria-label", name)
	c.record.SetAttribute("aria-pressed", "false")
	c.nameIn.AddEventListener("change", false, func(dom.Event) { a.rename(c) })
	a.wireRecord(c)
	upload := card.QuerySelector(".upload").(*dom.HTMLInputElement)
	a.wireFiles(upload, card, func(files []js.Value) { go a.addFiles(c, files) })
	card.QuerySelector(".clear").AddEventListener("click", false, func(dom.Event) {
		if len(c.samples) == 0 {
			return
		}
		if !js.Global().Call("confirm", fmt.Sprintf("Delete the %s of %q?", plural(len(c.samples), "sample"), c.name)).Bool() {
			return
		}
		a.deleteSamples(c, append([]*sample(nil), c.samples...))
	})
	card.QuerySelector(".delete").AddEventListener("click", false, func(dom.Event) {
		if len(c.samples) > 0 && !js.Global().Call("confirm", fmt.Sprintf("Delete the class %q and its %s?", c.name, plural(len(c.samples), "sample"))).Bool() {
			return
		}
		a.deleteClass(c)
	})
	a.el("classes").AppendChild(card)
	a.classes = append(a.classes, c)
	a.updateCount(c)
	a.updateAddClass()
	return c
}

func (a *App) rename(c *class) {
	name := strings.TrimSpace(c.nameIn.Value())
	if err := project.CheckName(name); err != nil {
		a.fail(err)
		c.nameIn.SetValue(c.name)
		return
	}
	for _, o := range a.classes {
		if o != c && o.name == name {
			a.fail(fmt.Errorf("there is already a class named %q", name))
			c.nameIn.SetValue(c.name)
			return
		}
	}
	c.name = name
	c.nameIn.SetValue(name)
	c.card.SetAttribute("aria-label", name)
	a.renameMeters()
	a.saveProject()
}

func (a *App) deleteClass(c *class) {
	if len(a.classes) <= 1 {
		return
	}
	if a.cam.recording == c {
		a.stopRecording()
	}
	ids := make([]any, len(c.samples))
	for i, s := range c.samples {
		ids[i] = s.id
	}
	for i, o := range a.classes {
		if o == c {
			a.classes = append(a.classes[:i], a.classes[i+1:]...)
			break
		}
	}
	c.remove()
	a.updateAddClass()
	a.renameMeters()
	a.queueSave(func() error {
		if len(ids) > 0 {
			if _, err := browser.Await(a.store.Call("deleteSamples", js.ValueOf(ids))); err != nil {
				return err
			}
		}
		return a.putProject()
	})
}

// wireRecord makes "Hold to record" record while it is held down with a
// mouse, a finger or the space bar.
func (a *App) wireRecord(c *class) {
	b := c.record
	b.AddEventListener("pointerdown", false, func(e dom.Event) {
		e.PreventDefault()
		if e.Underlying().Get("button").Int() != 0 {
			return
		}
		b.Underlying().Call("setPointerCapture", e.Underlying().Get("pointerId"))
		b.Focus()
		a.startRecording(c)
	})
	for _, ev := range []string{"pointerup", "pointercancel", "lostpointercapture"} {
		b.AddEventListener(ev, false, func(dom.Event) {
			if a.cam.recording == c {
				a.stopRecording()
			}
		})
	}
	b.AddEventListener("contextmenu", false, func(e dom.Event) { e.PreventDefault() })
	b.AddEventListener("keydown", false, func(e dom.Event) {
		k := e.(*dom.KeyboardEvent)
		if k.Code() != "Space" && k.Key() != " " {
			return
		}
		e.PreventDefault() // no click, no scrolling
		if !k.Repeat() {
			a.startRecording(c)
		}
	})
	b.AddEventListener("keyup", false, func(e dom.Event) {
		k := e.(*dom.KeyboardEvent)
		if k.Code() == "Space" || k.Key() == " " {
			e.PreventDefault()
			a.stopRecording()
		}
	})
}

func (a *App) startRecording(c *class) {
	if !a.cam.live() {
		a.fail(fmt.Errorf("no camera is running: %s You can still upload images", a.cam.problem()))
		return
	}
	if a.training {
		return
	}
	a.cam.recording = c
	a.cam.nextCapture = 0
	c.record.SetAttribute("aria-pressed", "true")
	c.record.SetTextContent(tr("Recording…", "녹화 중…"))
}

func (a *App) stopRecording() {
	c := a.cam.recording
	if c == nil {
		return
	}
	a.cam.recording = nil
	c.record.SetAttribute("aria-pressed", "false")
	c.record.SetTextContent(tr("Hold to record", "누르고 있는 동안 녹화"))
}

// addSamples puts new samples on a class's card and saves them.
func (a *App) addSamples(c *class, ss []*sample) {
	if a.classByID(c.id) == nil { // deleted while its samples were made
		return
	}
	recs := make([]any, len(ss))
	for i, s := range ss {
		c.samples = append(c.samples, s)
		a.showSample(c, s)
		recs[i] = a.sampleRecord(c, s)
	}
	a.updateCount(c)
	a.queueSave(func() error {
		_, err := browser.Await(a.store.Call("putSamples", js.ValueOf(recs)))
		return err
	})
}

// showSample shows a new sample's thumbnail, with its "Delete sample"
// button, first on its class's card (at the next frame: see thumbList).
func (a *App) showSample(c *class, s *sample) { c.thumbs.update() }

// remove takes a class's card off the page.
func (c *class) remove() {
	c.thumbs.dispose()
	c.card.Remove()
}

func (a *App) deleteSamples(c *class, ss []*sample) {
	gone := map[*sample]bool{}
	ids := make([]any, len(ss))
	for i, s := range ss {
		gone[s] = true
		ids[i] = s.id
	}
	kept := c.samples[:0]
	for _, s := range c.samples {
		if !gone[s] {
			kept = append(kept, s)
		}
	}
	clear(c.samples[len(kept):])
	c.samples = kept
	c.thumbs.update()
	a.updateCount(c)
	if a.stale != "" && a.totalSamples() == 0 {
		a.ownEmbeddings() // nothing of the other backbone is left
	}
	a.queueSave(func() error {
		_, err := browser.Await(a.store.Call("deleteSamples", js.ValueOf(ids)))
		return err
	})
}

func (a *App) updateCount(c *class) {
	c.count.SetTextContent(plural(len(c.samples), "sample"))
	a.stats.Set("samples", a.totalSamples())
}
