//go:build js && wasm

package learnui

import (
	"syscall/js"

	"github.com/glimpse-ml/glimpse/wasm/browser"
)

// A network the student opened here (AlexNet converted from their own
// torchvision .pth, say) can become the app's backbone: the file is kept
// in the browser's Cache Storage under backboneKey, and the app's loader
// (web/app/app.js) takes it instead of its default MobileNetV2. The app
// then trains only a new head on its features, as with any backbone.
const (
	backboneCache = "backbone-choice" // not "glimpse-…": the service worker clears those on update
	backboneKey   = "backbone.glimpse"
)

func (p *Page) setupBackbone() {
	p.on("live-backbone", "click", func() { p.spawn("backbone", p.useAsBackbone) })
	p.on("live-backbone-reset", "click", func() { p.spawn("backbone", p.resetBackbone) })
	p.spawn("backbone", func() {
		if c := backboneStore(); c.Truthy() {
			if hit, err := browser.Await(c.Call("match", backboneKey)); err == nil && hit.Truthy() {
				p.el("live-backbone-reset").RemoveAttribute("hidden")
			}
		}
	})
}

// backboneStore opens the cache, or returns a zero Value where the
// browser keeps no Cache Storage (an insecure origin).
func backboneStore() js.Value {
	caches := js.Global().Get("caches")
	if !caches.Truthy() {
		return js.Value{}
	}
	c, err := browser.Await(caches.Call("open", backboneCache))
	if err != nil {
		return js.Value{}
	}
	return c
}

// offerBackbone shows the button for a file that has features to train
// on, and hides it otherwise.
func (p *Page) offerBackbone(file js.Value, embedding int) {
	p.live.file = js.Value{}
	btn := p.el("live-backbone")
	if !file.Truthy() || embedding == 0 || !js.Global().Get("caches").Truthy() {
		btn.SetAttribute("hidden", "")
		return
	}
	p.live.file = file
	btn.RemoveAttribute("hidden")
}

func (p *Page) useAsBackbone() {
	f := p.live.file
	c := backboneStore()
	if !f.Truthy() || !c.Truthy() {
		return
	}
	h := js.Global().Get("Headers").New()
	h.Call("set", "Content-Type", "application/octet-stream")
	h.Call("set", "X-Backbone-Name", js.Global().Call("encodeURIComponent", p.live.name))
	opts := js.Global().Get("Object").New()
	opts.Set("headers", h)
	res := js.Global().Get("Response").New(f, opts)
	if _, err := browser.Await(c.Call("put", backboneKey, res)); err != nil {
		p.message("live-status", text{"The app's backbone could not be kept: %v", "앱의 백본을 저장하지 못했습니다: %v"}, p.errText(err))
		return
	}
	p.el("live-backbone-reset").RemoveAttribute("hidden")
	p.message("live-status", text{"The Glimpse app now uses %s as its backbone: open the app and train a new head on its features. Samples recorded with another backbone are embedded again there.",
		"이제 Glimpse 앱이 %s을(를) 백본으로 씁니다. 앱을 열어 그 특징 위에 새 헤드를 학습시키세요. 다른 백본으로 녹화한 샘플은 앱에서 다시 임베딩합니다."}, p.live.name)
	p.stats.Set("backbone", p.live.name)
}

func (p *Page) resetBackbone() {
	if c := backboneStore(); c.Truthy() {
		browser.Await(c.Call("delete", backboneKey))
	}
	p.el("live-backbone-reset").SetAttribute("hidden", "")
	p.message("live-status", text{"The Glimpse app is back to its default backbone, MobileNetV2.", "Glimpse 앱이 기본 백본인 MobileNetV2로 돌아갔습니다."})
	p.stats.Set("backbone", "")
}
