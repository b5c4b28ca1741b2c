//go:build js && wasm

package learnui

import (
	"fmt"
	"html"
	"strings"
	"syscall/js"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/wasm/browser"
)

// Page is the running course page. Its methods run on the page's one
// thread; anything that waits (decoding a picture, the camera) runs in a
// goroutine.
type Page struct {
	doc  dom.Document
	host js.Value // globalThis.glimpseLearn
	// stats is globalThis.__learnStats, which the browser test reads.
	stats js.Value
	// redraw holds each lesson's renderer; a language switch reruns them all.
	redraw []func()
	// afterFirst runs once the live lesson has drawn (see settled).
	afterFirst []func()
	ready      bool
	// sampled is closed once the sample picture is in (or failed): the
	// live lesson, whose first picture is of it, waits for it before it
	// reads the model (see startLive).
	sampled chan struct{}

	pic  picture
	toy  toyState
	calc calcState
	arch archState
	live liveState
	// poolReal is the live network's feature map the pooling lesson pools.
	poolReal *realMap
	// korean is whether the page shows Korean: <html lang>, read at start
	// and on each language switch. Reading it from the document for every
	// piece of text cost the first picture hundreds of milliseconds (a
	// string from JavaScript per call).
	korean bool
}

// Run starts the page and never returns.
func Run() {
	p := &Page{
		doc:   dom.GetWindow().Document(),
		host:  js.Global().Get("glimpseLearn"),
		stats: js.Global().Get("Object").New(),
	}
	p.mark("program")
	p.stats.Set("pictures", 0)
	p.stats.Set("liveUpdates", 0)
	js.Global().Set("__learnStats", p.stats)
	p.guard("start", p.start)
	select {}
}

func (p *Page) start() {
	p.readLanguage()
	p.setupPixels()
	p.setupConvolution()
	p.setupPooling()
	p.setupArchitectures()
	p.setupLive()
	p.setupBackbone()
	p.doc.AddEventListener("glimpse-language", false, func(dom.Event) {
		p.readLanguage()
		p.guard("language", p.rerender)
	})
	// learn.js asked for the sample picture and the default model while
	// this program compiled. The sample is drawn first, with the cheap
	// lessons (Go shares the page's one thread: the yield lets both
	// goroutines reach their first wait), then the live lesson reads the
	// model and looks inside it (see startLive); the costly architecture
	// explorer draws once the live lesson has (see settled).
	p.sampled = make(chan struct{})
	p.spawn("sample", func() {
		defer close(p.sampled)
		p.loadSample()
		p.mark("sample")
	})
	p.spawn("live", p.startLive)
	browser.Yield()
	p.rerender()
}

// settled runs once, when the live lesson has drawn its first picture or
// given up: what waited for it (the architecture explorer, the service
// worker's download of the whole site) starts then, and the page is ready.
func (p *Page) settled() {
	if p.ready {
		return
	}
	p.ready = true
	if f := p.host.Get("settled"); f.Type() == js.TypeFunction {
		f.Invoke()
	}
	for _, f := range p.afterFirst {
		p.guard("lessons", f)
	}
	p.status(text{"Ready.", "준비되었습니다."})
	p.stats.Set("ready", true)
}

// rerender redraws every lesson in the current language.
func (p *Page) rerender() {
	for _, f := range p.redraw {
		f()
	}
}

// guard runs f, turning a panic into a message on the page: one lesson's
// bug must never leave the whole page broken.
func (p *Page) guard(what string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			p.fail(fmt.Errorf("%s: %v", what, r))
		}
	}()
	f()
}

// spawn runs f in a goroutine under guard.
func (p *Page) spawn(what string, f func()) { go p.guard(what, f) }

// on wires an event to a handler that runs under guard.
func (p *Page) on(id, event string, f func()) {
	p.el(id).AddEventListener(event, false, func(dom.Event) { p.guard(id, f) })
}

// text is one piece of interface text in both languages.
type text struct{ en, ko string }

// ko reports whether the page shows Korean.
func (p *Page) ko() bool { return p.korean }

// readLanguage reads the page's language, which lang.js sets on <html>
// before the program starts and before it announces a switch.
func (p *Page) readLanguage() {
	p.korean = js.Global().Get("document").Get("documentElement").Get("lang").String() == "ko"
}

// t picks the reader's language.
func (p *Page) t(x text) string {
	if p.ko() {
		return x.ko
	}
	return x.en
}

// f formats in the reader's language.
func (p *Page) f(x text, args ...any) string { return fmt.Sprintf(p.t(x), args...) }

func (p *Page) el(id string) dom.Element { return p.doc.GetElementByID(id) }

// node is the element with the given id as a plain JavaScript value: for
// what needs no typed wrapper (text, canvases), it spares dom's wrapping,
// which reads the element's tag name back as a string on every call.
func (p *Page) node(id string) js.Value {
	return js.Global().Get("document").Call("getElementById", id)
}

func (p *Page) input(id string) *dom.HTMLInputElement { return p.el(id).(*dom.HTMLInputElement) }

// status shows a passing message.
func (p *Page) status(x text) { p.el("status").SetTextContent(p.t(x)) }

// fail shows an error in the alert region, which screen readers announce.
func (p *Page) fail(err error) {
	al := p.el("alert").(dom.HTMLElement)
	al.SetTextContent(p.errText(err))
	al.RemoveAttribute("hidden")
	js.Global().Get("console").Call("warn", "glimpse:", err.Error())
}

// errText is err in the reader's language (see koError).
func (p *Page) errText(err error) string {
	if err == nil {
		return ""
	}
	if !p.ko() {
		return err.Error()
	}
	return koError(err.Error())
}

// message shows a lesson's own message (bad input and the like) in the
// element with the given id, in the reader's language.
func (p *Page) message(id string, x text, args ...any) {
	p.node(id).Set("textContent", p.f(x, args...))
}

// esc escapes text for innerHTML.
func esc(s string) string { return html.EscapeString(s) }

// digits writes n in full with thousands separators: 61,706.
func digits(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// minus writes a number with a real minus sign.
func minus(s string) string { return strings.ReplaceAll(s, "-", "−") }

// num formats a float for tables: a few significant digits, real minus.
func num(v float64) string { return minus(fmt.Sprintf("%.3g", v)) }

// mark records when a step of the page's start happened, in milliseconds
// since navigation (performance.now), as __learnStats.t_NAME: the browser
// test prints how long the first live picture took.
func (p *Page) mark(name string) {
	p.stats.Set("t_"+name, js.Global().Get("performance").Call("now"))
}
