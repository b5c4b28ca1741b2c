//go:build js && wasm

package ui

import (
	"fmt"
	"strings"
	"syscall/js"
	"time"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/wasm/browser"
	"github.com/glimpse-ml/glimpse/web/appworker"
)

// thumbSize is a thumbnail's side in pixels: small enough that thousands
// of samples' thumbnails weigh a few megabytes.
const thumbSize = 64

// camera is the webcam and the state of recording from it.
type camera struct {
	stream    js.Value // the MediaStream, or undefined
	err       error    // why there is no stream
	recording *class   // the class "Hold to record" is held on, or nil
	// nextCapture is when the next sample is due, in performance.now()
	// ms; 0 takes the next frame.
	nextCapture float64
}

func (c *camera) live() bool { return c.stream.Truthy() }

func (c *camera) problem() string {
	if c.err != nil {
		return c.err.Error() + "."
	}
	return "the camera is still starting."
}

// canvas2D is an off-screen canvas thumbnails are drawn on (pixels for
// the model are the runtime's to read).
type canvas2D struct {
	el  js.Value
	ctx js.Value
}

func newCanvas(doc dom.Document) canvas2D {
	el := doc.CreateElement("canvas").Underlying()
	return canvas2D{el: el, ctx: el.Call("getContext", "2d")}
}

func (c canvas2D) resize(w, h int) {
	if c.el.Get("width").Int() != w || c.el.Get("height").Int() != h {
		c.el.Set("width", w)
		c.el.Set("height", h)
	}
}

// embed has the Worker embed a picture, an ImageBitmap, which moves there
// (the page cannot use it afterwards): the browser runtime reads its
// pixels and prepares them as the model file says (the centred square of
// the default models). With withView, it also embeds one augmented view
// of it (core/augment's default: flip, crop, rotation, brightness and
// contrast), drawn from the sample's id so that it is reproducible; with
// predict, the Worker's head judges it too.
func (a *App) embed(bitmap js.Value, withView bool, id int, predict bool) (appworker.Embedding, error) {
	views := 0
	if withView {
		views = 1
	}
	e, err := a.worker.Embed(bitmap, views, id, predict)
	if err == nil && e.Probabilities != nil {
		a.stats.Set("predictedIn", e.Where)
	}
	return e, err
}

// thumbnail draws the centre square of src small and returns it as a
// JPEG data URL.
func (a *App) thumbnail(src js.Value, w, h int) js.Value {
	side := min(w, h)
	a.thumbC.ctx.Call("drawImage", src, (w-side)/2, (h-side)/2, side, side, 0, 0, thumbSize, thumbSize)
	return a.thumbC.el.Call("toDataURL", "image/jpeg", 0.8)
}

// startCamera opens the camera (deviceID "" for the default) and lists the
// cameras in the picker.
func (a *App) startCamera(deviceID string) {
	status := a.el("camera-status")
	video := a.el("preview").(*dom.HTMLVideoElement)
	md := js.Global().Get("navigator").Get("mediaDevices")
	if !md.Truthy() || !md.Get("getUserMedia").Truthy() {
		a.cam.err = fmt.Errorf("this browser gives no camera access here (it needs https or localhost)")
		status.SetTextContent(tr("No camera", "카메라 없음"))
		a.fail(fmt.Errorf("camera unavailable: %v. Uploading images still works", a.cam.err))
		return
	}
	if a.cam.stream.Truthy() {
		tracks := a.cam.stream.Call("getTracks")
		for i := range tracks.Length() {
			tracks.Index(i).Call("stop")
		}
		a.cam.stream = js.Undefined()
	}
	status.SetTextContent(tr("Starting the camera…", "카메라를 켜는 중…"))
	cons := js.Global().Get("Object").New()
	v := js.Global().Get("Object").New()
	v.Set("width", map[string]any{"ideal": 640})
	v.Set("height", map[string]any{"ideal": 480})
	if deviceID != "" {
		v.Set("deviceId", map[string]any{"exact": deviceID})
	}
	cons.Set("video", v)
	cons.Set("audio", false)
	p, err := browser.Call(md, "getUserMedia", cons)
	var stream js.Value
	if err == nil {
		stream, err = browser.Await(p)
	}
	if err != nil {
		a.cam.err = cameraError(err)
		// Say why on the preview itself: "denied" asks for a different
		// remedy (the site's permissions) than "not found".
		why := a.cam.err.Error()
		status.SetTextContent(strings.ToUpper(why[:1]) + why[1:])
		a.el("fps").SetTextContent(tr("No camera: drop or pick images below to classify them.", "카메라 없음: 분류할 사진을 아래에 끌어다 놓거나 고르세요."))
		a.fail(fmt.Errorf("camera unavailable: %v. Uploading images still works", a.cam.err))
		return
	}
	a.cam.err = nil
	el := video.Underlying()
	el.Set("srcObject", stream)
	if p, err := browser.Call(el, "play"); err == nil {
		_, _ = browser.Await(p)
	}
	a.cam.stream = stream
	status.SetTextContent("")
	a.listCameras(stream)
}

// cameraError explains getUserMedia's refusals in the user's terms.
func cameraError(err error) error {
	switch browser.ErrorName(err) {
	case "NotAllowedError", "SecurityError":
		return fmt.Errorf("access to the camera was denied")
	case "NotFoundError", "OverconstrainedError":
		return fmt.Errorf("no camera was found")
	case "NotReadableError", "AbortError":
		return fmt.Errorf("the camera is in use by another program")
	}
	return err
}

// listCameras fills the "Camera" picker (labels are known once access is
// granted) and selects the running one.
func (a *App) listCameras(stream js.Value) {
	devs, err := browser.Await(js.Global().Get("navigator").Get("mediaDevices").Call("enumerateDevices"))
	if err != nil {
		return
	}
	current := ""
	if tracks := stream.Call("getVideoTracks"); tracks.Length() > 0 {
		current = tracks.Index(0).Call("getSettings").Get("deviceId").String()
	}
	sel := a.el("camera").(*dom.HTMLSelectElement)
	sel.SetInnerHTML("")
	n := 0
	for i := range devs.Length() {
		d := devs.Index(i)
		if d.Get("kind").String() != "videoinput" {
			continue
		}
		n++
		opt := a.doc.CreateElement("option").(*dom.HTMLOptionElement)
		id := d.Get("deviceId").String()
		opt.SetValue(id)
		label := d.Get("label").String()
		if label == "" {
			label = trf("Camera %d", "카메라 %d", n)
		}
		opt.SetTextContent(label)
		opt.SetSelected(id == current)
		sel.AppendChild(opt)
	}
}

// frameLoop runs for the life of the page: on every animation frame with
// a live camera it takes the frame as an ImageBitmap, has the Worker embed
// it (and judge it, when there is a head), keeps it as a sample while
// "Hold to record" is held (at the chosen rate, on a schedule: see
// scheduled), and shows the head's
// predictions. The embedding takes tens of milliseconds, in the Worker:
// the page's thread waits for it free.
func (a *App) frameLoop() {
	video := a.el("preview").Underlying()
	perf := js.Global().Get("performance")
	var frames int
	var since float64
	// Recorded samples show at once and are saved ten at a time, which
	// keeps IndexedDB's transactions few.
	var pending []*sample
	var pendingFor *class
	flush := func() {
		a.saveRecorded(pendingFor, pending)
		pending, pendingFor = nil, nil
	}
	for {
		rec := a.cam.recording
		if len(pending) > 0 && (rec != pendingFor || len(pending) >= 10) {
			flush()
		}
		wantPredict := a.head != nil && !a.training
		if !a.cam.live() || video.Get("readyState").Int() < 2 || (rec == nil && !wantPredict) {
			flush()
			frames, since = 0, 0
			browser.Sleep(50)
			continue
		}
		browser.NextFrame()
		rec = a.cam.recording
		w, h := video.Get("videoWidth").Int(), video.Get("videoHeight").Int()
		if w == 0 || h == 0 {
			continue
		}
		now := perf.Call("now").Float()
		due := rec != nil && now >= a.cam.nextCapture
		if !due && !wantPredict {
			continue
		}
		t0 := time.Now()
		id := 0 // a recorded sample's, which seeds its augmented view
		if due {
			id = a.newID()
		}
		bm, err := browser.Frame(video)
		var thumb js.Value
		var e appworker.Embedding
		if err == nil {
			if due {
				thumb = a.thumbnail(bm, w, h) // before the frame moves to the Worker
			}
			e, err = a.embed(bm, due && a.settings.Augment, id, wantPredict)
		}
		if err != nil {
			a.fail(fmt.Errorf("camera frame: %v", err))
			a.stopRecording()
			browser.Sleep(500)
			continue
		}
		a.stats.Set("embedMs", float64(time.Since(t0).Microseconds())/1000)
		if due && a.cam.recording != rec {
			due = false // released while the frame was in the Worker: recording ended then
		}
		if due {
			a.cam.nextCapture = scheduled(a.cam.nextCapture, now, float64(a.settings.CaptureRate))
			s := &sample{id: id, emb: e.Embedding, views: e.Views, thumb: thumb}
			if pendingFor != rec {
				flush()
				pendingFor = rec
			}
			pending = append(pending, s)
			rec.samples = append(rec.samples, s)
			a.showSample(rec, s)
			a.updateCount(rec)
			a.stats.Set("captured", a.stats.Get("captured").Int()+1)
		}
		if wantPredict && a.head != nil && e.Probabilities != nil {
			a.showPredictions(e.Probabilities)
		}
		frames++
		if since == 0 {
			since = now
		} else if now-since >= 1000 {
			fps := float64(frames) * 1000 / (now - since)
			a.el("fps").SetTextContent(fmt.Sprintf("%.1f frames per second (%.0f ms per frame)", fps, float64(time.Since(t0).Microseconds())/1000))
			a.stats.Set("fps", fps)
			frames, since = 0, now
		}
	}
}

// saveRecorded saves samples already shown on their card.
func (a *App) saveRecorded(c *class, ss []*sample) {
	if c == nil || len(ss) == 0 || a.classByID(c.id) == nil {
		return
	}
	recs := make([]any, len(ss))
	for i, s := range ss {
		recs[i] = a.sampleRecord(c, s)
	}
	a.queueSave(func() error {
		_, err := browser.Await(a.store.Call("putSamples", js.ValueOf(recs)))
		return err
	})
}
