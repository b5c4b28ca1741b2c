//go:build js && wasm

package ui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall/js"
	"unicode"
	"unicode/utf8"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/core/train"
	"github.com/glimpse-ml/glimpse/wasm/browser"
	"github.com/glimpse-ml/glimpse/web/appworker"
	"github.com/glimpse-ml/glimpse/web/project"
)

// StartClasses is how many empty classes a new project has.
const StartClasses = 2

// sample is one example the user gave a class.
type sample struct {
	id    int
	emb   []float32
	views [][]float32 // augmented views' embeddings
	thumb js.Value    // a JPEG data URL
}

// class is one of the user's classes and its card.
type class struct {
	id      int
	name    string
	samples []*sample
	card    dom.Element
	nameIn  *dom.HTMLInputElement
	count   dom.Element
	thumbs  *thumbList
	record  *dom.HTMLButtonElement
}

// App is the running app. Its methods run on the page's one thread:
// event handlers do quick work and start goroutines for anything that
// waits (the store, the camera, decoding, training).
type App struct {
	doc   dom.Document
	host  js.Value // globalThis.glimpseApp: the store and the model's URL
	store js.Value
	stats js.Value // globalThis.__glimpseStats, read by the end-to-end test

	// worker holds the model and the head, and embeds, predicts and
	// trains off the page's thread (web/appworker).
	worker    *appworker.Worker
	info      appworker.Info // the model's, read once
	modelName string
	// singleLevel: the backbone gives no multi-level features (see
	// loadBackbone), so the head reads its embedding alone.
	singleLevel bool

	classes  []*class
	nextID   int
	settings project.Settings

	head    *train.Head
	headIDs []int // the class id behind each of the head's outputs
	// stale says why the samples cannot train ("" when they can): they
	// were embedded by another backbone or preprocessing rule than the
	// model's, and mixing them with new ones would be silently wrong.
	stale string
	// samplesHash and samplesRule name the backbone (its file's hash) and
	// the preprocessing rule the samples were embedded with.
	samplesHash, samplesRule string

	cam      camera
	thumbC   canvas2D
	meters   []meter
	training bool

	saveMu    sync.Mutex
	saveJobs  []func() error
	saveWake  chan struct{}
	saveFails int
}

// Run starts the app on the page and never returns.
func Run() {
	a := &App{
		doc:      dom.GetWindow().Document(),
		host:     js.Global().Get("glimpseApp"),
		settings: project.DefaultSettings(),
		saveWake: make(chan struct{}, 1),
		stats:    js.Global().Get("Object").New(),
	}
	a.stats.Set("captured", 0)
	a.stats.Set("saved", 0)
	a.stats.Set("trained", 0)
	js.Global().Set("__glimpseStats", a.stats)
	a.store = a.host.Get("store")
	if err := a.start(); err != nil {
		a.status(tr("Glimpse could not start.", "Glimpse를 시작하지 못했습니다."))
		a.fail(err)
	}
	select {}
}

func (a *App) el(id string) dom.Element { return a.doc.GetElementByID(id) }

func (a *App) input(id string) *dom.HTMLInputElement {
	return a.el(id).(*dom.HTMLInputElement)
}

func (a *App) button(id string) *dom.HTMLButtonElement {
	return a.el(id).(*dom.HTMLButtonElement)
}

// status shows a passing message in the status line.
func (a *App) status(msg string) { a.el("status").SetTextContent(msg) }

// fail shows an error in the alert region, which screen readers announce.
func (a *App) fail(err error) {
	al := a.el("alert").(dom.HTMLElement)
	al.SetInnerHTML("")
	msg := a.doc.CreateElement("span")
	msg.SetTextContent(upperFirst(err.Error()))
	al.AppendChild(msg)
	dismiss := a.doc.CreateElement("button").(*dom.HTMLButtonElement)
	dismiss.SetTextContent(tr("Dismiss", "닫기"))
	dismiss.SetAttribute("type", "button")
	dismiss.AddEventListener("click", false, func(dom.Event) { setHidden(al, true); al.SetInnerHTML("") })
	al.AppendChild(dismiss)
	setHidden(al, false)
	js.Global().Get("console").Call("warn", "glimpse:", err.Error())
}

// upperFirst capitalises a message's first letter.
func upperFirst(text string) string {
	if r, n := utf8.DecodeRuneInString(text); n > 0 {
		text = string(unicode.ToUpper(r)) + text[n:]
	}
	return text
}

// notice tells something that is not an error (skipped files, saves).
func (a *App) notice(msg string) { a.status(msg) }

func (a *App) start() error {
	a.status(tr("Loading the model…", "모델을 불러오는 중…"))
	if err := a.loadModel(); err != nil {
		return err
	}
	a.thumbC = newCanvas(a.doc)
	a.thumbC.resize(thumbSize, thumbSize)
	if err := a.restore(); err != nil {
		// A store that cannot be read (private mode, a corrupt database)
		// must not keep the app from working: start empty and say so.
		a.fail(fmt.Errorf("the saved project could not be read (%v); starting a new one", err))
		a.newProject()
	}
	a.wire()
	setHidden(a.el("load-progress"), true)
	setHidden(a.el("app"), false)
	a.status(trf("Ready. Model: %s, kernels: %s.", "준비되었습니다. 모델: %s, 커널: %s.", a.info.Architecture, a.info.Kernels))
	a.stats.Set("ready", true)
	go a.saver()
	go a.startCamera("")
	go a.frameLoop()
	go func() { _, _ = browser.Await(a.store.Call("persist")) }()
	return nil
}

// loadModel has the Worker (started by app.js) fetch the backbone, with
// a progress bar: the default, or the one chosen on the course page
// (host.modelName names its file), falling back to the default should
// that one fail.
func (a *App) loadModel() error {
	a.worker = appworker.Start(a.host.Get("worker"), a.host.Get("workerSaid"))
	url, name := a.host.Get("modelURL").String(), a.host.Get("modelURL").String()
	if n := a.host.Get("modelName"); n.Type() == js.TypeString {
		name = n.String()
	}
	err := a.loadBackbone(url, name)
	if def := a.host.Get("defaultModelURL"); err != nil && def.Type() == js.TypeString && def.String() != url {
		a.fail(fmt.Errorf("the backbone chosen on the course page could not be used (%v); the default is used instead", err))
		err = a.loadBackbone(def.String(), def.String())
	}
	return err
}

func (a *App) loadBackbone(url, name string) error {
	prog := a.el("load-progress").(*dom.HTMLProgressElement)
	info, err := a.worker.Load(url, name, headPreset, prog.SetValue)
	if err != nil {
		return err
	}
	if info.EmbeddingSize == 0 {
		return fmt.Errorf("%s: the model names no embedding layer, so it cannot learn new classes", name)
	}
	// Samples are the head's features: a saved project records them
	// under the backbone's hash with what was pooled, so samples embedded
	// for another head (the backbone's embedding alone, before) are told
	// apart and re-embedded rather than mixed.
	if info.EmbeddingSize != info.BackboneEmbeddingSize {
		info.Hash += featuresTag
	}
	a.info, a.modelName, a.singleLevel = info, name, info.SingleLevel
	a.stats.Set("kernels", info.Kernels)
	a.stats.Set("backbone", name)
	return nil
}

// newID hands out ids for classes and samples.
func (a *App) newID() int {
	a.nextID++
	return a.nextID
}

// newProject starts over with two empty classes.
func (a *App) newProject() {
	for _, c := range a.classes {
		c.remove()
	}
	a.classes = nil
	a.useHead(nil, nil)
	a.ownEmbeddings()
	for i := range StartClasses {
		a.addClass(a.newID(), trf("Class %d", "클래스 %d", i+1))
	}
	a.showSettings()
	a.rebuildMeters()
	a.clearResults()
}

// wire connects the page's fixed controls.
func (a *App) wire() {
	a.doc.AddEventListener("glimpse-language", false, func(dom.Event) { a.relabel() })
	a.button("add-class").AddEventListener("click", false, func(dom.Event) {
		if len(a.classes) >= project.MaxClasses {
			a.fail(fmt.Errorf("a project has at most %d classes", project.MaxClasses))
			return
		}
		c := a.addClass(a.newID(), trf("Class %d", "클래스 %d", len(a.classes)+1))
		a.saveProject()
		a.updateAddClass()
		c.nameIn.Focus()
	})
	for _, id := range []string{"epochs", "batch", "lr", "augment", "rate"} {
		a.input(id).AddEventListener("change", false, func(dom.Event) {
			if err := a.readSettings(); err != nil {
				a.fail(err)
				return
			}
			a.saveProject()
		})
	}
	a.button("train").AddEventListener("click", false, func(dom.Event) { go a.train() })
	a.el("camera").AddEventListener("change", false, func(dom.Event) {
		go a.startCamera(a.el("camera").(*dom.HTMLSelectElement).Value())
	})
	a.wireFiles(a.input("predict-files"), a.el("predict-drop"), func(files []js.Value) { go a.predictFiles(files) })
	a.button("export-project").AddEventListener("click", false, func(dom.Event) { go a.exportProject() })
	a.input("import-project").AddEventListener("change", false, func(dom.Event) {
		in := a.input("import-project")
		files := in.Underlying().Get("files")
		if files.Length() > 0 {
			f := files.Index(0)
			in.SetValue("")
			go a.importProject(f)
		}
	})
	a.button("export-model").AddEventListener("click", false, func(dom.Event) { go a.exportModel() })
	a.button("export-tm").AddEventListener("click", false, func(dom.Event) { go a.exportTeachable() })
	a.button("reset-project").AddEventListener("click", false, func(dom.Event) {
		if !js.Global().Call("confirm", "Start a new project? The classes and samples here will be deleted.").Bool() {
			return
		}
		a.newProject()
		a.updateAddClass()
		a.saveAll()
	})
	// The space bar records into the class whose button has the focus.
	dom.GetWindow().AddEventListener("keyup", false, func(e dom.Event) {
		if e.(*dom.KeyboardEvent).Code() == "Space" && a.cam.recording != nil {
			a.stopRecording()
		}
	})
	dom.GetWindow().AddEventListener("blur", false, func(dom.Event) { a.stopRecording() })
}

// wireFiles makes a file input and a drop zone deliver files to f.
func (a *App) wireFiles(in *dom.HTMLInputElement, zone dom.Element, f func([]js.Value)) {
	in.AddEventListener("change", false, func(dom.Event) {
		files := listFiles(in.Underlying().Get("files"))
		in.SetValue("")
		if len(files) > 0 {
			f(files)
		}
	})
	zone.AddEventListener("dragover", false, func(e dom.Event) {
		e.PreventDefault()
		zone.Class().Add("dragover")
	})
	zone.AddEventListener("dragleave", false, func(dom.Event) { zone.Class().Remove("dragover") })
	zone.AddEventListener("drop", false, func(e dom.Event) {
		e.PreventDefault()
		zone.Class().Remove("dragover")
		dt := e.Underlying().Get("dataTransfer")
		if dt.Truthy() {
			if files := listFiles(dt.Get("files")); len(files) > 0 {
				f(files)
			}
		}
	})
}

func listFiles(list js.Value) []js.Value {
	out := make([]js.Value, list.Length())
	for i := range out {
		out[i] = list.Index(i)
	}
	return out
}

// showSettings puts the settings into the form.
func (a *App) showSettings() {
	s := a.settings
	a.input("epochs").SetValue(strconv.Itoa(s.Epochs))
	a.input("batch").SetValue(strconv.Itoa(s.BatchSize))
	a.input("lr").SetValue(strconv.FormatFloat(s.LearningRate, 'g', -1, 64))
	a.input("augment").SetChecked(s.Augment)
	a.input("rate").SetValue(strconv.Itoa(s.CaptureRate))
}

// readSettings takes the settings from the form, refusing bad values.
func (a *App) readSettings() error {
	num := func(id, what string) (float64, error) {
		v := strings.TrimSpace(a.input(id).Value())
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q is not a number", what, v)
		}
		return f, nil
	}
	var s project.Settings
	var errs []error
	if v, err := num("epochs", "Epochs"); err != nil {
		errs = append(errs, err)
	} else {
		s.Epochs = int(v)
	}
	if v, err := num("batch", "Batch size"); err != nil {
		errs = append(errs, err)
	} else {
		s.BatchSize = int(v)
	}
	if v, err := num("lr", "Learning rate"); err != nil {
		errs = append(errs, err)
	} else {
		s.LearningRate = v
	}
	if v, err := num("rate", "Frames per second"); err != nil {
		errs = append(errs, err)
	} else {
		s.CaptureRate = int(v)
	}
	s.Augment = a.input("augment").Checked()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := s.Check(); err != nil {
		return err
	}
	a.settings = s
	return nil
}

// classByID finds a class, nil if it was deleted.
func (a *App) classByID(id int) *class {
	for _, c := range a.classes {
		if c.id == id {
			return c
		}
	}
	return nil
}

func (a *App) updateAddClass() {
	a.button("add-class").SetDisabled(len(a.classes) >= project.MaxClasses)
	for _, c := range a.classes {
		c.card.QuerySelector(".delete").(*dom.HTMLButtonElement).SetDisabled(len(a.classes) <= 1)
	}
}

func (a *App) totalSamples() int {
	n := 0
	for _, c := range a.classes {
		n += len(c.samples)
	}
	return n
}

// setHidden sets the hidden attribute (dom/v2 has no setter for it).
func setHidden(e dom.Element, hidden bool) { e.Underlying().Set("hidden", hidden) }
