//go:build js && wasm

package learnui

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"syscall/js"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/core/course"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/wasm/browser"
)

// liveState is the network the live lesson runs and what it shows.
type liveState struct {
	rt    *browser.Runtime
	model *browser.Model
	name  string
	liveNet
	stream  js.Value
	video   js.Value
	busy    bool
	loading bool
	gen     int // bumped by each load, so a stale update gives up
	drawn   bool
	file    js.Value // the file the model came from, when the student opened one
}

// liveNet is what the lesson reads from a network's graph: the layers it
// offers, which values to ask for, and its head.
type liveNet struct {
	layers  []liveLayer
	layer   int
	head    *course.Head
	headErr error
	logits  string // the value before the softmax, or ""
	filters string // the first convolution's kernel tensor
	pool    int    // the layer whose busiest channel the pooling lesson pools, or -1
	note    string // a message about the layer asked for, shown above the maps' caption
	params  int64  // the network's parameters, as glimpse inspect counts them
}

// values are the network's values one update reads: the chosen layer's,
// the head's feature maps, the logits and the pooling lesson's layer.
func (n *liveNet) values() []string {
	values := []string{n.layers[n.layer].value}
	if n.head != nil {
		values = append(values, n.head.Maps...)
	}
	if n.logits != "" {
		values = append(values, n.logits)
	}
	if n.pool >= 0 {
		values = append(values, n.layers[n.pool].value)
	}
	return values
}

// liveLayer is one value the Layer select offers.
type liveLayer struct {
	value string
	row   course.Row
}

func (p *Page) setupLive() {
	p.live.rt = browser.New()
	p.live.video = p.el("live-video").Underlying()
	p.on("live-model", "change", func() {
		url := p.el("live-model").(*dom.HTMLSelectElement).Value()
		if url == "" {
			p.input("live-file").Underlying().Call("click")
			return
		}
		p.spawn("load", func() { p.loadLive(url, js.ValueOf(url)) })
	})
	p.on("live-file", "change", func() {
		files := p.input("live-file").Underlying().Get("files")
		if files.Length() == 0 {
			return
		}
		f := files.Index(0)
		p.input("live-file").SetValue("")
		p.el("live-model").(*dom.HTMLSelectElement).SetValue("")
		p.spawn("load", func() { p.loadLive(f.Get("name").String(), f) })
	})
	p.on("live-layer", "change", func() {
		i, _ := strconv.Atoi(p.el("live-layer").(*dom.HTMLSelectElement).Value())
		p.chooseLayer(i)
	})
	p.on("live-camera", "click", func() { p.spawn("camera", p.toggleCamera) })
	p.pic.onChange = append(p.pic.onChange, func() { p.spawn("live", p.updateLive) })
	p.redraw = append(p.redraw, func() {
		if p.live.model != nil {
			p.fillLayers()
			p.drawFilters()
			p.spawn("live", p.updateLive)
		}
	})
}

// startLive loads the default model.
func (p *Page) startLive() {
	url := p.el("live-model").(*dom.HTMLSelectElement).Value()
	src := js.ValueOf(url)
	// learn.js read the default model while this program compiled; should
	// that read have failed (headless Chromium failed a fetch made
	// that early about once in 25 first visits), the model is fetched here.
	if req := p.host.Get("model"); req.Truthy() && p.host.Get("modelURL").String() == url {
		if buf, err := browser.Await(req); err == nil {
			src = buf
		}
	}
	p.host.Set("model", js.Undefined())
	// Reading, checking and planning the model hold the page's one thread
	// for a while, and the sample picture, which the browser decodes
	// meanwhile, would only arrive after them: so the picture first.
	<-p.sampled
	p.loadLive(url, src)
}

// deviceBytes is the device's memory as the browser reports it
// (navigator.deviceMemory, in GB, Chromium only), or 0.
func deviceBytes() int64 {
	v := js.Global().Get("navigator").Get("deviceMemory")
	if v.Type() != js.TypeNumber {
		return 0
	}
	return int64(v.Float() * (1 << 30))
}

// loadLive loads a model from a URL or a file.
func (p *Page) loadLive(name string, source js.Value) {
	if p.live.loading {
		return
	}
	p.live.loading = true
	defer func() { p.live.loading = false }()
	p.live.gen++
	// A file is checked before it is read: its header says how many
	// weights it holds, and a network that cannot fit is refused plainly.
	blob := source.InstanceOf(js.Global().Get("Blob"))
	if blob && !p.fits(name, source) {
		p.settled()
		return
	}
	prog := p.el("live-progress").(*dom.HTMLProgressElement)
	prog.RemoveAttribute("hidden")
	prog.SetValue(0)
	if !blob {
		p.message("live-status", text{"Loading %s…", "%s 불러오는 중…"}, name)
	}
	p.stats.Set("liveProgress", 0)
	p.stats.Set("liveProgressSteps", 0)
	m, err := p.live.rt.LoadInside(name, source, true, func(f float64, _, _ int64) {
		prog.SetValue(f)
		p.stats.Set("liveProgress", f)
		p.stats.Set("liveProgressSteps", p.stats.Get("liveProgressSteps").Int()+1)
	})
	prog.SetAttribute("hidden", "")
	p.mark("modelRead")
	var next *liveNet
	if err == nil {
		next, err = p.readNet(m.Graph())
	}
	if err != nil {
		p.message("live-status", text{"The model could not be loaded: %v", "모델을 불러오지 못했습니다: %v"}, p.errText(err))
		p.stats.Set("liveError", err.Error())
		p.settled()
		return
	}
	if p.live.model != nil {
		p.live.model.Close()
	}
	p.live.model, p.live.name = m, name
	p.live.liveNet = *next
	p.poolReal = nil
	p.fillLayers()
	p.drawFilters()
	// What the status says comes from the graph: the model's Info would
	// plan the whole network before the first picture (see LoadInside).
	g := m.Graph()
	p.message("live-status", text{"%s: %s, %s parameters, %d layers to look into.", "%s: %s, 매개변수 %s개, 들여다볼 계층 %d개."},
		name, g.Meta.Architecture, digits(p.live.params), len(p.live.layers))
	if blob && g.Meta.Source != "" {
		// where the weights came from, as the file says (a fixture says it is untrained)
		st := p.el("live-status")
		st.SetTextContent(st.TextContent() + p.f(text{" Weights: %s.", " 가중치 출처: %s."}, g.Meta.Source))
	}
	p.stats.Set("liveModel", name)
	p.mark("model")
	p.updateLive()
	if len(p.live.layers) == 0 {
		p.settled()
	}
	// A file the student opened can become the app's backbone if it has
	// features to train on; their size is the planned network's, so this
	// waits until the first picture is drawn.
	file, embedding := js.Value{}, 0
	if blob {
		file, embedding = source, m.Info().EmbeddingSize
	}
	p.offerBackbone(file, embedding)
}

// readNet reads what the lesson shows from a network's graph, and the
// layer the address asks for (learn.html?layer=N#live), else the first
// convolution's output.
func (p *Page) readNet(g *ir.Graph) (*liveNet, error) {
	t, err := course.Explore(g)
	if err != nil {
		return nil, err
	}
	n := &liveNet{pool: -1, params: t.Params}
	for i, r := range t.Rows {
		node := g.Nodes[i]
		if n.filters == "" && node.Op == ir.Conv2D && node.Attrs.GroupCount() == 1 {
			n.filters = node.Weights[0]
		}
		if r.Output[0]*r.Output[1] > 1 && r.Kind != course.KindBatchNorm && r.Kind != course.KindPad {
			// the first layer after an activation, a square map: what the pooling lesson pools
			if n.pool < 0 && (r.Kind == course.KindActivation || r.Act == "relu" || r.Act == "relu6") && r.Output[0] == r.Output[1] && r.Output[0] <= 128 {
				n.pool = len(n.layers)
			}
			n.layers = append(n.layers, liveLayer{value: node.Output, row: r})
		}
	}
	n.head, n.headErr = course.HeadOf(g)
	if out := g.Producer(g.Outputs[0]); out != nil && out.Op == ir.Softmax {
		n.logits = out.Inputs[0]
	}
	if q := js.Global().Get("URLSearchParams").New(js.Global().Get("location").Get("search")).Call("get", "layer"); q.Type() == js.TypeString {
		i, err := strconv.Atoi(q.String())
		if err != nil || i < 0 || i >= len(n.layers) {
			n.note = p.f(text{"There is no layer %s in this model: its layers are numbered 0 to %d. Showing layer 0. ",
				"이 모델에는 %s번 계층이 없습니다: 계층 번호는 0부터 %d까지입니다. 0번 계층을 보여 줍니다. "}, q.String(), len(n.layers)-1)
			p.stats.Set("layerRefused", true)
		} else {
			n.layer = i
		}
	}
	return n, nil
}

// fillLayers lists the layers in the Layer select.
func (p *Page) fillLayers() {
	var b strings.Builder
	for i, l := range p.live.layers {
		fmt.Fprintf(&b, `<option value="%d">%d: %s, %s (%s)</option>`, i, i, esc(l.row.Name), esc(p.kindName(l.row)), shape(l.row.Output))
	}
	sel := p.el("live-layer").(*dom.HTMLSelectElement)
	sel.SetInnerHTML(b.String())
	sel.SetValue(strconv.Itoa(p.live.layer))
}

// chooseLayer shows another layer's feature maps.
func (p *Page) chooseLayer(i int) {
	if i < 0 || i >= len(p.live.layers) {
		p.message("live-maps-cap", text{"There is no layer %d in this model: its layers are numbered 0 to %d.",
			"이 모델에는 %d번 계층이 없습니다: 계층 번호는 0부터 %d까지입니다."}, i, len(p.live.layers)-1)
		return
	}
	p.live.layer, p.live.note = i, ""
	p.spawn("live", p.updateLive)
}

// drawFilters draws the first convolution's kernels, each scaled to the
// full range of all of them, in colour for an RGB input.
func (p *Page) drawFilters() {
	c := p.canvas("live-filters")
	g := p.live.model.Graph()
	t := g.Tensors[p.live.filters]
	if t == nil || t.Data == nil || len(t.Shape) != 4 {
		c.ctx.Call("clearRect", 0, 0, c.el.Get("width").Int(), c.el.Get("height").Int())
		p.message("live-filters-cap", text{"(this model keeps no first-layer weights to show)", "(이 모델에는 보여 줄 첫 층 가중치가 없습니다)"})
		return
	}
	kh, kw, cin, cout := t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]
	lo, hi := extent(t.Data)
	span := math.Max(float64(hi), -float64(lo))
	cols := min(cout, 16)
	rows := (cout + cols - 1) / cols
	// each weight a px x px square, so the canvas stays sharp when scaled
	px := max(1, 24/max(kh, kw))
	const gap = 2
	w, h := cols*(kw*px+gap), rows*(kh*px+gap)
	rgba := make([]byte, 4*w*h)
	for f := range cout {
		ox, oy := (f%cols)*(kw*px+gap), (f/cols)*(kh*px+gap)
		for y := range kh * px {
			for x := range kw * px {
				i := 4 * ((oy+y)*w + ox + x)
				for ch := range 3 {
					v := t.Data[((y/px*kw+x/px)*cin+min(ch, cin-1))*cout+f]
					rgba[i+ch] = byte(max(0, min(255, 128+127*float64(v)/span)))
				}
				rgba[i+3] = 255
			}
		}
	}
	c.put(rgba, w, h)
	p.message("live-filters-cap", text{"%d filters of %d×%d×%d: grey is 0, brighter positive, darker negative.",
		"%[2]d×%[3]d×%[4]d 필터 %[1]d개: 회색은 0, 밝을수록 양수, 어두울수록 음수."}, cout, kh, kw, cin)
	p.stats.Set("filters", cout)
}

// toggleCamera starts or stops the webcam as the live lesson's picture.
func (p *Page) toggleCamera() {
	btn := p.el("live-camera")
	if p.live.stream.Truthy() {
		stopCamera(p.live.stream)
		p.live.stream = js.Value{}
		btn.SetAttribute("aria-pressed", "false")
		p.spawn("live", p.updateLive)
		return
	}
	p.message("live-status", text{"Starting the camera…", "카메라를 켜는 중…"})
	v, stream, err := startCamera()
	if err != nil {
		p.message("live-status", text{"No camera picture: %v. The lessons use the current picture instead.", "카메라 화면을 얻지 못했습니다: %v. 지금 사진으로 계속합니다."}, p.errText(err))
		return
	}
	p.live.video = v
	p.live.stream = stream
	btn.SetAttribute("aria-pressed", "true")
	p.message("live-status", text{"The camera is on: everything below follows it.", "카메라가 켜졌습니다: 아래 모든 것이 카메라를 따라갑니다."})
	for p.live.stream.Truthy() && p.live.stream.Equal(stream) {
		p.updateLive()
		browser.Sleep(150)
	}
}

// source is the picture the live lesson looks at: the camera when it is
// on, else the current picture.
func (p *Page) source() (js.Value, bool) {
	if p.live.stream.Truthy() {
		return p.live.video, true
	}
	if p.pic.rgba == nil {
		return js.Value{}, false
	}
	arr := js.Global().Get("Uint8ClampedArray").New(len(p.pic.rgba))
	js.CopyBytesToJS(arr, p.pic.rgba)
	return js.Global().Get("ImageData").New(arr, p.pic.w, p.pic.h), true
}

// updateLive runs the network on the picture and redraws the lesson.
func (p *Page) updateLive() {
	m := p.live.model
	if m == nil || p.live.busy || len(p.live.layers) == 0 {
		return
	}
	src, ok := p.source()
	if !ok {
		return
	}
	p.live.busy = true
	defer func() { p.live.busy = false }()
	gen := p.live.gen
	layer := p.live.layers[p.live.layer]
	vals, err := m.Inside(src, p.live.values())
	if gen != p.live.gen {
		return
	}
	if err != nil {
		p.message("live-status", text{"The network could not run on this picture: %v", "이 사진으로 신경망을 실행하지 못했습니다: %v"}, p.errText(err))
		return
	}
	p.drawInput(src, m.Graph().InputShape)
	p.drawMaps(layer, vals.Shapes[0], vals.Data[0])
	p.drawCAM(vals)
	p.drawLogits(vals)
	if p.live.pool >= 0 && !p.live.stream.Truthy() {
		n := len(vals.Data) - 1
		if ch, plane, err := course.BusiestChannel(vals.Data[n], vals.Shapes[n]); err == nil {
			l := p.live.layers[p.live.pool]
			p.poolReal = &realMap{fm: plane, side: vals.Shapes[n][0], channel: ch, layer: l.row.Name, model: p.live.name}
			p.runPool()
		}
	}
	p.stats.Set("liveUpdates", p.stats.Get("liveUpdates").Int()+1)
	if !p.live.drawn {
		p.live.drawn = true
		p.mark("firstDraw")
		p.settled()
	}
}

// drawInput draws what the network sees: the picture's centred square.
func (p *Page) drawInput(src js.Value, in ir.Shape) {
	c := p.canvas("live-input")
	w, h := 0, 0
	if src.InstanceOf(js.Global().Get("ImageData")) {
		w, h = src.Get("width").Int(), src.Get("height").Int()
		o := offscreen(w, h)
		o.ctx.Call("putImageData", src, 0, 0)
		src = o.el
	} else {
		w, h = src.Get("videoWidth").Int(), src.Get("videoHeight").Int()
	}
	s := min(w, h)
	c.size(224, 224)
	c.ctx.Call("drawImage", src, (w-s)/2, (h-s)/2, s, s, 0, 0, 224, 224)
}

// drawMaps draws up to 32 channels of a layer's output, each scaled to its
// own range.
func (p *Page) drawMaps(l liveLayer, s ir.Shape, v []float32) {
	n := min(s[2], 32)
	cols := min(n, 8)
	rows := (n + cols - 1) / cols
	const gap = 2
	w, h := cols*(s[1]+gap), rows*(s[0]+gap)
	rgba := make([]byte, 4*w*h)
	for i := range rgba {
		rgba[i] = 255
	}
	blank := true
	for ch := range n {
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for q := range s[0] * s[1] {
			x := v[q*s[2]+ch]
			lo, hi = min(lo, x), max(hi, x)
		}
		if hi > lo {
			blank = false
		}
		ox, oy := (ch%cols)*(s[1]+gap), (ch/cols)*(s[0]+gap)
		for y := range s[0] {
			for x := range s[1] {
				g := byte(0)
				if hi > lo {
					g = byte(255 * (v[(y*s[1]+x)*s[2]+ch] - lo) / (hi - lo))
				}
				i := 4 * ((oy+y)*w + ox + x)
				rgba[i], rgba[i+1], rgba[i+2] = g, g, g
			}
		}
	}
	p.canvas("live-maps").put(rgba, w, h)
	more := ""
	if s[2] > n {
		more = p.f(text{" (the first %d shown)", " (처음 %d개를 표시)"}, n)
	}
	p.message("live-maps-cap", text{"layer %d, %s (%s): output %s, %d channels%s. Each map is scaled to its own range: white is its largest value.",
		"%d번 계층 %s (%s): 출력 %s, 채널 %d개%s. 각 맵은 자기 범위로 맞췄습니다: 흰색이 가장 큰 값."},
		p.live.layer, l.row.Name, p.kindName(l.row), shape(s), s[2], more)
	if blank {
		p.message("live-maps-cap", text{"layer %d, %s: every map is flat on this picture (nothing in it makes these channels respond).",
			"%d번 계층 %s: 이 사진에서는 모든 맵이 평평합니다(이 채널들이 반응할 것이 없습니다)."}, p.live.layer, l.row.Name)
	}
	if p.live.note != "" {
		cap := p.el("live-maps-cap")
		cap.SetTextContent(p.live.note + cap.TextContent())
	}
	p.stats.Set("mapsShape", shape(s))
}

// drawCAM draws the class activation map over what the network sees.
func (p *Page) drawCAM(vals *browser.Values) {
	c := p.canvas("live-cam")
	c.size(224, 224)
	if p.live.head == nil {
		c.el.Call("setAttribute", "hidden", "")
		var msg string
		switch {
		case errors.Is(p.live.headErr, course.ErrNoClassifier):
			msg = p.t(text{"No class activation map: this model has no classifier, only features. Train classes in the Glimpse app, press “Export model”, and open that file here.",
				"클래스 활성화 맵이 없습니다: 이 모델에는 분류기가 없고 특징만 있습니다. Glimpse 앱에서 클래스를 학습시키고 “Export model”을 누른 뒤 그 파일을 여기서 여세요."})
		case errors.Is(p.live.headErr, course.ErrFlattens):
			msg = p.t(text{"No class activation map: this model flattens its last feature map into fully connected layers, so every cell has weights of its own; a class activation map needs global average pooling (as the MobileNets and GoogLeNet have).",
				"클래스 활성화 맵이 없습니다: 이 모델은 마지막 특징 맵을 평탄화해 완전 연결 계층에 넣으므로 칸마다 가중치가 따로 있습니다. 클래스 활성화 맵에는 전역 평균 풀링(MobileNet, GoogLeNet처럼)이 필요합니다."})
		default:
			msg = p.f(text{"No class activation map: %v.", "클래스 활성화 맵이 없습니다: %v."}, p.errText(p.live.headErr))
		}
		p.el("live-cam-cap").SetTextContent(msg)
		p.stats.Set("cam", false)
		return
	}
	c.el.Call("removeAttribute", "hidden")
	h := p.live.head
	var maps []course.Map
	for i := range h.Maps {
		maps = append(maps, course.Map{Shape: vals.Shapes[1+i], Values: vals.Data[1+i]})
	}
	a, err := h.CAM(maps, -1)
	if err != nil {
		p.el("live-cam-cap").SetTextContent(p.errText(err))
		return
	}
	var top float64
	for _, v := range a.Heat {
		top = math.Max(top, v)
	}
	heat := make([]byte, 4*len(a.Heat))
	for i, v := range a.Heat {
		t := 0.0
		if top > 0 {
			t = v / top
		}
		heat[4*i], heat[4*i+1], heat[4*i+2], heat[4*i+3] = byte(255*t), byte(80*t), byte(255*(1-t)), byte(40+150*t)
	}
	small := offscreen(a.W, a.H)
	small.put(heat, a.W, a.H)
	c.ctx.Call("drawImage", p.canvas("live-input").el, 0, 0)
	c.ctx.Set("imageSmoothingEnabled", true)
	c.ctx.Call("drawImage", small.el, 0, 0, 224, 224)
	label := fmt.Sprintf("%d", a.Class)
	if a.Class < len(h.Labels) {
		label = h.Labels[a.Class]
	}
	kind := text{"Grad-CAM through the head's hidden layer", "헤드의 은닉층을 거친 Grad-CAM"}
	if a.Linear {
		kind = text{"CAM of a linear head on global average pooling", "전역 평균 풀링 위 선형 헤드의 CAM"}
	}
	if len(h.Maps) > 1 {
		kind.en += fmt.Sprintf(", over %d levels of features", len(h.Maps))
		kind.ko += fmt.Sprintf(", 특징 %d단계에 걸쳐", len(h.Maps))
	}
	p.message("live-cam-cap", text{"for “%s” (%s, on a %d×%d grid): red where the picture raised that class's score, blue where it did not.",
		"“%s” 클래스 (%s, %d×%d 격자): 빨간 곳이 그 클래스의 점수를 올린 부분, 파란 곳은 아닌 부분입니다."}, label, p.t(kind), a.H, a.W)
	p.stats.Set("cam", true)
	// where the map is strongest, for the browser test: the heat's centre of mass
	var sx, sy, sum float64
	for i, v := range a.Heat {
		sx += v * (float64(i%a.W) + 0.5) / float64(a.W)
		sy += v * (float64(i/a.W) + 0.5) / float64(a.H)
		sum += v
	}
	if sum > 0 {
		p.stats.Set("camX", sx/sum)
		p.stats.Set("camY", sy/sum)
	}
	p.stats.Set("camClass", label)
}

// headMaps are the values the head's class activation map reads, if any.
func (p *Page) headMaps() []string {
	if p.live.head == nil {
		return nil
	}
	return p.live.head.Maps
}

// drawLogits shows the network's last step: its logits, then softmax.
func (p *Page) drawLogits(vals *browser.Values) {
	g := p.live.model.Graph()
	var z []float32
	if p.live.logits != "" {
		z = vals.Data[1+len(p.headMaps())]
	}
	if z == nil {
		p.el("live-softmax").SetInnerHTML("")
		p.message("live-softmax-note", text{"This model ends in features, not classes: it has no logits to turn into probabilities. A model trained in the app does.",
			"이 모델은 클래스가 아니라 특징으로 끝나므로 확률로 바꿀 로짓이 없습니다. 앱에서 학습시킨 모델에는 있습니다."})
		return
	}
	names := make([]string, len(z))
	for i := range names {
		if i < len(g.Meta.Labels) {
			names[i] = g.Meta.Labels[i]
		} else {
			names[i] = p.f(text{"class %d", "클래스 %d"}, i)
		}
	}
	p.message("live-softmax-note", text{"The network's %d logits for this picture, then softmax step by step.", "이 사진에 대한 신경망의 로짓 %d개와 소프트맥스 단계."}, len(z))
	p.softmaxTableIn("live-softmax", z, names)
}
