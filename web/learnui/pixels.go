//go:build js && wasm

package learnui

import (
	"fmt"
	"syscall/js"

	"github.com/glimpse-ml/glimpse/core/course"
	"github.com/glimpse-ml/glimpse/wasm/browser"
)

// maxSide bounds the side of a picture once read back from the browser: a
// 12-megapixel photo would cost 48 MB of pixels, and no lesson needs more.
const maxSide = 1024

// picture is the reader's current picture, as RGBA bytes.
type picture struct {
	rgba []byte
	w, h int
	// origW and origH are the picture's size before it was scaled to
	// maxSide: the facts talk about the picture the reader gave.
	origW, origH int
	source       text
	// lensX and lensY are the magnifier's top-left pixel.
	lensX, lensY int
	// onChange are the lessons that use the picture.
	onChange []func()
}

func (p *Page) setupPixels() {
	p.on("pic-file", "change", func() {
		files := p.input("pic-file").Underlying().Get("files")
		if files.Length() == 0 {
			return
		}
		f := files.Index(0)
		p.input("pic-file").SetValue("")
		p.spawn("upload", func() { p.loadBlob(f, text{f.Get("name").String(), f.Get("name").String()}) })
	})
	p.on("pic-camera", "click", func() { p.spawn("camera", p.cameraFrame) })
	p.on("pic-sample", "click", func() { p.spawn("sample", p.loadSample) })
	p.on("pic-zoom", "input", p.drawMatrix)
	p.el("pic-view").Underlying().Call("addEventListener", "click", js.FuncOf(func(_ js.Value, a []js.Value) any {
		p.guard("pic-view", func() {
			if p.pic.rgba == nil {
				return
			}
			r := a[0].Get("target").Call("getBoundingClientRect")
			fx := (a[0].Get("clientX").Float() - r.Get("left").Float()) / r.Get("width").Float()
			fy := (a[0].Get("clientY").Float() - r.Get("top").Float()) / r.Get("height").Float()
			n := p.lensSide()
			p.pic.lensX = max(0, min(p.pic.w-n, int(fx*float64(p.pic.w))-n/2))
			p.pic.lensY = max(0, min(p.pic.h-n, int(fy*float64(p.pic.h))-n/2))
			p.drawPicture()
		})
		return nil
	}))
	p.redraw = append(p.redraw, p.drawPicture)
}

// loadSample loads the built-in sample picture: every lesson draws on it
// before the reader does anything.
func (p *Page) loadSample() {
	url := p.host.Get("sampleURL").String()
	// The first time, the picture's bytes that learn.js read while the
	// program compiled (a promise of a Blob); later clicks, and a first
	// read that failed (headless Chromium failed a fetch made that early
	// about once in 25 first visits: "TypeError: Failed to fetch"), fetch here.
	blob, err := js.Value{}, error(nil)
	if req := p.host.Get("sample"); req.Truthy() {
		p.host.Set("sample", js.Undefined())
		blob, _ = browser.Await(req)
	}
	if !blob.Truthy() {
		var res js.Value
		res, err = browser.Await(js.Global().Call("fetch", url))
		if err == nil && !res.Get("ok").Bool() {
			err = fmt.Errorf("HTTP %d", res.Get("status").Int())
		}
		if err == nil {
			blob, err = browser.Await(res.Call("blob"))
		}
	}
	if err != nil {
		p.fail(fmt.Errorf("%s: %v", url, err))
		p.settled()
		return
	}
	p.loadBlob(blob, text{"the sample picture (a cat, Chelsea)", "예시 사진 (고양이 Chelsea)"})
}

// loadBlob decodes a picture file and makes it the current picture.
func (p *Page) loadBlob(blob js.Value, source text) {
	bmp, err := browser.Decode(blob, p.t(source))
	if err != nil {
		p.message("pic-message", text{"%s could not be read as a picture (%v).", "%s 파일을 사진으로 읽을 수 없습니다 (%v)."},
			p.t(source), p.errText(err))
		return
	}
	w, h := bmp.Get("width").Int(), bmp.Get("height").Int()
	p.setPicture(bmp, w, h, source)
	bmp.Call("close")
}

// cameraFrame takes one frame from the webcam.
func (p *Page) cameraFrame() {
	p.message("pic-message", text{"Starting the camera…", "카메라를 켜는 중…"})
	v, stream, err := startCamera()
	if err != nil {
		p.message("pic-message", text{"No camera picture: %v. Upload a picture instead.", "카메라 화면을 얻지 못했습니다: %v. 대신 사진을 올려 주세요."}, p.errText(err))
		return
	}
	defer stopCamera(stream)
	p.setPicture(v, v.Get("videoWidth").Int(), v.Get("videoHeight").Int(), text{"a camera frame", "카메라 화면"})
}

// startCamera opens the default camera and waits for its first frame.
func startCamera() (video, stream js.Value, err error) {
	md := js.Global().Get("navigator").Get("mediaDevices")
	if !md.Truthy() || !md.Get("getUserMedia").Truthy() {
		return js.Value{}, js.Value{}, fmt.Errorf("this browser gives no camera access here")
	}
	c := js.Global().Get("Object").New()
	c.Set("video", true)
	c.Set("audio", false)
	stream, err = browser.Await(md.Call("getUserMedia", c))
	if err != nil {
		return js.Value{}, js.Value{}, err
	}
	video = js.Global().Get("document").Call("createElement", "video")
	video.Set("muted", true)
	video.Set("playsInline", true)
	video.Set("srcObject", stream)
	if _, err := browser.Await(video.Call("play")); err != nil {
		stopCamera(stream)
		return js.Value{}, js.Value{}, err
	}
	for i := 0; i < 100 && video.Get("videoWidth").Int() == 0; i++ {
		browser.Sleep(20)
	}
	if video.Get("videoWidth").Int() == 0 {
		stopCamera(stream)
		return js.Value{}, js.Value{}, fmt.Errorf("the camera sends no picture")
	}
	return video, stream, nil
}

func stopCamera(stream js.Value) {
	if !stream.Truthy() {
		return
	}
	tracks := stream.Call("getTracks")
	for i := 0; i < tracks.Length(); i++ {
		tracks.Index(i).Call("stop")
	}
}

// setPicture reads src (an image bitmap, video or canvas of w x h) back
// as RGBA, scaled so that neither side passes maxSide.
func (p *Page) setPicture(src js.Value, w, h int, source text) {
	if w < 1 || h < 1 {
		p.message("pic-message", text{"The picture has no pixels.", "사진에 픽셀이 없습니다."})
		return
	}
	sw, sh := w, h
	if sw > maxSide || sh > maxSide {
		if w >= h {
			sw, sh = maxSide, max(1, h*maxSide/w)
		} else {
			sw, sh = max(1, w*maxSide/h), maxSide
		}
	}
	c := offscreen(sw, sh)
	c.ctx.Call("drawImage", src, 0, 0, sw, sh)
	data := c.ctx.Call("getImageData", 0, 0, sw, sh).Get("data")
	rgba := make([]byte, data.Get("length").Int())
	js.CopyBytesToGo(rgba, data)
	if course.Blank(rgba) {
		p.message("pic-message", text{
			"%s is a single colour (a covered camera?): there is nothing to see in it. Try another picture.",
			"%s 은(는) 한 가지 색뿐입니다(카메라가 가려졌나요?). 볼 것이 없으니 다른 사진을 써 보세요."}, p.t(source))
		p.stats.Set("blank", true)
		return
	}
	p.stats.Set("blank", false)
	p.el("pic-message").SetTextContent("")
	p.pic.rgba, p.pic.w, p.pic.h, p.pic.origW, p.pic.origH, p.pic.source = rgba, sw, sh, w, h, source
	n := p.lensSide()
	p.pic.lensX, p.pic.lensY = max(0, sw/2-n/2), max(0, sh/2-n/2)
	p.drawPicture()
	for _, f := range p.pic.onChange {
		p.guard("picture", f)
	}
	p.stats.Set("pictures", p.stats.Get("pictures").Int()+1)
}

func (p *Page) lensSide() int {
	n := 8
	if v := p.input("pic-zoom").ValueAsNumber(); v >= 4 && v <= 16 {
		n = int(v)
	}
	return min(n, p.pic.w, p.pic.h)
}

// drawPicture draws the picture, the magnifier's square, the channels and the facts.
func (p *Page) drawPicture() {
	if p.pic.rgba == nil {
		return
	}
	pic := &p.pic
	view := p.canvas("pic-view")
	view.put(pic.rgba, pic.w, pic.h)
	n := p.lensSide()
	view.ctx.Set("strokeStyle", "#ff0")
	view.ctx.Set("lineWidth", max(1, pic.w/150))
	view.ctx.Call("strokeRect", pic.lensX, pic.lensY, n, n)
	r, g, b, err := course.SplitRGBA(pic.rgba, pic.w, pic.h)
	if err != nil {
		p.fail(err)
		return
	}
	for i, ch := range [][]byte{r, g, b} {
		out := make([]byte, 4*len(ch))
		for k, v := range ch {
			out[4*k+i] = v
			out[4*k+3] = 255
		}
		p.canvas([]string{"pic-r", "pic-g", "pic-b"}[i]).put(out, pic.w, pic.h)
	}
	p.drawMatrix()
	facts, err := course.PictureSize(pic.origW, pic.origH, 3, 8)
	if err != nil {
		p.fail(err)
		return
	}
	shown := ""
	if pic.origW != pic.w || pic.origH != pic.h {
		shown = p.f(text{" (shown here at %d×%d)", " (여기서는 %d×%d로 표시)"}, pic.w, pic.h)
	}
	p.el("pic-facts").SetTextContent(p.f(text{
		"%s: %d×%d pixels%s, %d channels (R, G, B), bit depth %d: %s levels per value, %s numbers, %s bytes (%s) uncompressed.",
		"%s: %d×%d 픽셀%s, 채널 %d개(R, G, B), 비트 깊이 %d: 값마다 %s단계, 숫자 %s개, 압축하지 않으면 %s바이트(%s).",
	}, p.t(pic.source), facts.W, facts.H, shown, facts.Channels, facts.BitDepth, digits(facts.Levels), digits(facts.Values),
		digits(facts.Bytes), megabytes(facts.Bytes)))
}

func megabytes(b int64) string {
	if b < 1<<20 {
		return fmt.Sprintf("%.1f KB", float64(b)/1024)
	}
	return fmt.Sprintf("%.2f MB", float64(b)/(1<<20))
}

// drawMatrix writes the numbers under the magnifier.
func (p *Page) drawMatrix() {
	pic := &p.pic
	if pic.rgba == nil {
		return
	}
	n := p.lensSide()
	pic.lensX, pic.lensY = max(0, min(pic.lensX, pic.w-n)), max(0, min(pic.lensY, pic.h-n))
	var b []byte
	b = fmt.Appendf(b, `<table><caption class="visually-hidden">%s</caption>`, esc(p.f(text{
		"Pixels %d–%d across, %d–%d down", "가로 %d–%d, 세로 %d–%d 픽셀"}, pic.lensX, pic.lensX+n-1, pic.lensY, pic.lensY+n-1)))
	for y := pic.lensY; y < pic.lensY+n; y++ {
		b = append(b, "<tr>"...)
		for x := pic.lensX; x < pic.lensX+n; x++ {
			i := 4 * (y*pic.w + x)
			r, g, bl := pic.rgba[i], pic.rgba[i+1], pic.rgba[i+2]
			b = fmt.Appendf(b, `<td><i style="background:rgb(%d,%d,%d)"></i><span class="r">%d</span><span class="g">%d</span><span class="b">%d</span></td>`,
				r, g, bl, r, g, bl)
		}
		b = append(b, "</tr>"...)
	}
	b = append(b, "</table>"...)
	p.el("pic-matrix").SetInnerHTML(string(b))
}
