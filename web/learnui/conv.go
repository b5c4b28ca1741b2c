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
	"github.com/glimpse-ml/glimpse/wasm/browser"
)

// toyState is the "\" versus "/" classifier's drawing and the kernel's
// position in the step-by-step view.
type toyState struct {
	drawing []float32
	cells   []*dom.HTMLButtonElement
	result  *course.Toy
	pos     int
	playing bool
}

// calcState is the calculator's last result and chosen output cell.
type calcState struct {
	o        *course.OutSize
	row, col int
}

func (p *Page) setupConvolution() {
	p.toy.drawing = course.ToyDrawing(`\`)
	grid := p.el("toy-grid")
	for i := range course.ToySide * course.ToySide {
		b := p.doc.CreateElement("button").(*dom.HTMLButtonElement)
		b.SetAttribute("type", "button")
		i := i
		b.AddEventListener("click", false, func(dom.Event) {
			p.guard("toy", func() {
				p.toy.drawing[i] = 1 - p.toy.drawing[i]
				p.runToy()
			})
		})
		grid.AppendChild(b)
		p.toy.cells = append(p.toy.cells, b)
	}
	p.on("toy-back", "click", func() { p.toy.drawing = course.ToyDrawing(`\`); p.runToy() })
	p.on("toy-fwd", "click", func() { p.toy.drawing = course.ToyDrawing(`/`); p.runToy() })
	p.on("toy-clear", "click", func() { p.toy.drawing = make([]float32, len(p.toy.drawing)); p.runToy() })
	p.on("slide-pos", "input", func() { p.toy.pos = int(p.input("slide-pos").ValueAsNumber()); p.drawToy() })
	p.on("slide-play", "click", func() { p.spawn("slide", p.playSlide) })

	for _, id := range []string{"calc-w", "calc-f", "calc-p", "calc-s"} {
		p.on(id, "input", func() { p.calc.row, p.calc.col = 0, 0; p.runCalc() })
	}
	for _, id := range []string{"rf-row", "rf-col"} {
		p.on(id, "input", p.chooseCell)
	}
	set := func(w, f, pad, s int) func() {
		return func() {
			for id, v := range map[string]int{"calc-w": w, "calc-f": f, "calc-p": pad, "calc-s": s} {
				p.input(id).SetValue(strconv.Itoa(v))
			}
			p.calc.row, p.calc.col = 0, 0
			p.runCalc()
		}
	}
	p.on("ex-7", "click", set(7, 3, 0, 1))
	p.on("ex-227", "click", set(227, 11, 0, 4))
	p.on("ex-odd", "click", set(224, 3, 0, 2))
	p.el("rf-out").Underlying().Call("addEventListener", "click", js.FuncOf(func(_ js.Value, a []js.Value) any {
		p.guard("rf-out", func() {
			o := p.calc.o
			if o == nil {
				return
			}
			r := a[0].Get("target").Call("getBoundingClientRect")
			fx := (a[0].Get("clientX").Float() - r.Get("left").Float()) / r.Get("width").Float()
			fy := (a[0].Get("clientY").Float() - r.Get("top").Float()) / r.Get("height").Float()
			p.calc.row = max(0, min(o.Floor-1, int(fy*float64(o.Floor))))
			p.calc.col = max(0, min(o.Floor-1, int(fx*float64(o.Floor))))
			p.input("rf-row").SetValue(strconv.Itoa(p.calc.row))
			p.input("rf-col").SetValue(strconv.Itoa(p.calc.col))
			p.drawField()
		})
		return nil
	}))
	p.redraw = append(p.redraw, p.runToy, p.runCalc)
}

// runToy classifies the drawing and redraws the lesson.
func (p *Page) runToy() {
	r, err := course.Diagonal(p.toy.drawing)
	if err != nil {
		p.fail(err)
		return
	}
	p.toy.result = r
	var k strings.Builder
	for _, v := range r.Kernel {
		fmt.Fprintf(&k, `<div class="cell %s">%s</div>`, sign(v), minus(fmt.Sprint(v)))
	}
	p.el("toy-kernel").SetInnerHTML(k.String())
	verdict := text{"The average is 0: neither “\\” nor “/”.", "평균이 0입니다: “\\”도 “/”도 아닙니다."}
	switch r.Class {
	case `\`:
		verdict = text{"The average is positive, so the classifier says “\\”.", "평균이 양수이므로 분류기의 답은 “\\” 입니다."}
	case `/`:
		verdict = text{"The average is negative, so the classifier says “/”.", "평균이 음수이므로 분류기의 답은 “/” 입니다."}
	}
	p.el("toy-result").SetTextContent(p.f(text{"Average of the feature map: %s. %s", "특징 맵의 평균: %s. %s"},
		num(float64(r.Score)), p.t(verdict)))
	p.input("slide-pos").SetAttribute("max", strconv.Itoa(len(r.Slides)-1))
	p.drawToy()
}

func sign(v float32) string {
	switch {
	case v > 0:
		return "pos"
	case v < 0:
		return "neg"
	}
	return ""
}

// drawToy draws the drawing, the feature map and the kernel at its position.
func (p *Page) drawToy() {
	r := p.toy.result
	if r == nil {
		return
	}
	pos := max(0, min(p.toy.pos, len(r.Slides)-1))
	s := r.Slides[pos]
	for i, b := range p.toy.cells {
		row, col := i/course.ToySide, i%course.ToySide
		b.SetAttribute("aria-pressed", strconv.FormatBool(p.toy.drawing[i] != 0))
		b.SetAttribute("aria-label", p.f(text{"Row %d, column %d", "%d행 %d열"}, row+1, col+1))
		under := row >= s.Row && row < s.Row+course.ToyKernel && col >= s.Col && col < s.Col+course.ToyKernel
		if under {
			b.Class().Add("under")
		} else {
			b.Class().Remove("under")
		}
	}
	var m strings.Builder
	for i, v := range r.Map {
		under := ""
		if i == pos {
			under = " under"
		}
		fmt.Fprintf(&m, `<div class="cell %s%s">%s</div>`, sign(v), under, num(float64(v)))
	}
	p.el("toy-map").SetInnerHTML(m.String())
	var terms []string
	for i := range s.Products {
		k := r.Kernel[i]
		x := p.toy.drawing[(s.Row+i/course.ToyKernel)*course.ToySide+s.Col+i%course.ToyKernel]
		terms = append(terms, fmt.Sprintf("(%s)×%s", minus(fmt.Sprint(k)), fmt.Sprint(x)))
	}
	p.el("slide-sum").SetTextContent(p.f(text{
		"Position %d of %d (row %d, column %d): %s = %s, the feature map's cell there.",
		"%d/%d번째 위치 (%d행 %d열): %s = %s, 특징 맵의 그 칸입니다.",
	}, pos+1, len(r.Slides), s.Row+1, s.Col+1, strings.Join(terms, " + "), num(float64(s.Sum))))
}

// playSlide moves the kernel over every position.
func (p *Page) playSlide() {
	if p.toy.playing || p.toy.result == nil {
		return
	}
	p.toy.playing = true
	defer func() { p.toy.playing = false }()
	for i := range p.toy.result.Slides {
		p.toy.pos = i
		p.input("slide-pos").SetValue(strconv.Itoa(i))
		p.guard("slide", p.drawToy)
		browser.Sleep(250)
	}
}

// intField reads a whole number from an input.
func (p *Page) intField(id string, name text) (int, error) {
	s := strings.TrimSpace(p.input(id).Value())
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, errors.New(p.f(text{"%s must be a whole number (got “%s”).", "%s에는 정수를 넣어 주세요 (“%s” 입력됨)."}, p.t(name), s))
	}
	return v, nil
}

// runCalc works out the calculator's output size.
func (p *Page) runCalc() {
	out := p.el("calc-out")
	var vals [4]int
	for i, f := range []struct {
		id   string
		name text
	}{{"calc-w", text{"Input size (W)", "입력 크기 (W)"}}, {"calc-f", text{"Kernel size (F)", "커널 크기 (F)"}},
		{"calc-p", text{"Padding (P)", "패딩 (P)"}}, {"calc-s", text{"Stride (S)", "스트라이드 (S)"}}} {
		v, err := p.intField(f.id, f.name)
		if err != nil {
			p.calc.o = nil
			out.SetInnerHTML(`<p class="note">` + esc(p.errText(err)) + `</p>`)
			p.drawField()
			return
		}
		vals[i] = v
	}
	w, f, pad, s := vals[0], vals[1], vals[2], vals[3]
	o, err := course.OutputSize(w, f, pad, s)
	if err != nil {
		p.calc.o = nil
		var big *course.TooBigError
		msg := p.f(text{"These numbers do not make a layer: %v.", "이 값으로는 층을 만들 수 없습니다: %v."}, p.errText(err))
		if errors.As(err, &big) {
			msg = p.f(text{"The kernel (F = %d) is larger than the padded input (W + 2P = %d): it does not fit even once.",
				"커널(F = %d)이 패딩한 입력(W + 2P = %d)보다 커서 한 번도 들어가지 않습니다."}, big.F, big.W+big.Pad)
		}
		out.SetInnerHTML(`<p class="note">` + esc(msg) + `</p>`)
		p.drawField()
		return
	}
	p.calc.o = &o
	var b strings.Builder
	q := fmt.Sprint(o.Span / o.S)
	if !o.Whole {
		q = fmt.Sprintf("%.4g", float64(o.Span)/float64(o.S))
	}
	fmt.Fprintf(&b, `<span class="eq">(W − F + 2P)/S + 1 = (%d − %d + 2×%d)/%d + 1 = %d/%d + 1 = %s + 1</span>`,
		w, f, pad, s, o.Span, s, q)
	if o.Whole {
		fmt.Fprintf(&b, ` <span class="big">= %d</span>`, o.Floor)
		fmt.Fprintf(&b, `<p class="note">%s</p>`, esc(p.f(text{
			"The output is %d×%d. The division is whole: the kernel's last position ends exactly at the edge of the padded input.",
			"출력은 %d×%d입니다. 나누어떨어지므로 커널의 마지막 위치가 패딩한 입력의 가장자리에 정확히 맞습니다."}, o.Floor, o.Floor)))
	} else {
		fmt.Fprintf(&b, ` <span class="big">→ %d</span>`, o.Floor)
		fmt.Fprintf(&b, `<p class="note">%s</p><ul>`, esc(p.f(text{
			"The division is not whole: %d = %d×%d + %d, so the formula gives %s + 1 and the kernel cannot land on the last %d pixel(s). Frameworks round, each in its own way:",
			"나누어떨어지지 않습니다: %d = %d×%d + %d 이므로 식의 값은 %s + 1이고, 커널이 마지막 %d픽셀에는 닿지 못합니다. 프레임워크마다 이렇게 반올림합니다:"},
			o.Span, o.S, o.Span/o.S, o.Left, q, o.Left)))
		items := []string{
			p.f(text{"Floor (PyTorch, Keras and TensorFlow with explicit padding, and pooling by default): %d; the last %d row(s) and column(s) of the padded input are never seen.",
				"내림(floor; PyTorch, Keras, 패딩을 직접 준 TensorFlow, 기본 풀링): %d. 패딩한 입력의 마지막 %d행·열은 보지 못합니다."}, o.Floor, o.Left),
			p.f(text{"Ceil mode (PyTorch pooling with ceil_mode=True, as in GoogLeNet's max pools): %d; the last window hangs over the edge.",
				"올림 모드(ceil mode; PyTorch 풀링의 ceil_mode=True, GoogLeNet의 최대 풀링): %d. 마지막 창이 가장자리 밖으로 걸칩니다."}, o.Ceil),
			p.f(text{"Padding SAME (TensorFlow, Keras): ignores P and pads %d before and %d after, so the output is ceil(W/S) = %d.",
				"SAME 패딩(TensorFlow, Keras): P를 무시하고 앞에 %d, 뒤에 %d를 채워 출력이 ceil(W/S) = %d가 됩니다."}, o.SamePad[0], o.SamePad[1], o.Same),
			p.f(text{"Padding VALID (TensorFlow, Keras): no padding at all, floor((W − F)/S) + 1 = %d.",
				"VALID 패딩(TensorFlow, Keras): 패딩 없이 floor((W − F)/S) + 1 = %d."}, o.Valid),
			p.f(text{"Or choose P (or W) so that the division is whole, as network designers do.",
				"또는 신경망 설계자들처럼 나누어떨어지도록(정수가 되도록) P나 W를 조정합니다."}),
		}
		for _, it := range items {
			fmt.Fprintf(&b, "<li>%s</li>", esc(it))
		}
		b.WriteString("</ul>")
	}
	out.SetInnerHTML(b.String())
	p.stats.Set("calcOutput", o.Floor)
	p.input("rf-row").SetAttribute("max", strconv.Itoa(o.Floor-1))
	p.input("rf-col").SetAttribute("max", strconv.Itoa(o.Floor-1))
	p.input("rf-row").SetValue(strconv.Itoa(p.calc.row))
	p.input("rf-col").SetValue(strconv.Itoa(p.calc.col))
	p.drawField()
}

// chooseCell reads the chosen output cell.
func (p *Page) chooseCell() {
	o := p.calc.o
	if o == nil {
		return
	}
	r, err1 := strconv.Atoi(p.input("rf-row").Value())
	c, err2 := strconv.Atoi(p.input("rf-col").Value())
	if err1 != nil || err2 != nil || r < 0 || c < 0 || r >= o.Floor || c >= o.Floor {
		p.el("rf-out-cap").SetTextContent(p.f(text{"The output has rows and columns 0 to %d; choose a cell inside it.",
			"출력의 행과 열은 0부터 %d까지입니다. 그 안의 칸을 골라 주세요."}, o.Floor-1))
		return
	}
	p.calc.row, p.calc.col = r, c
	p.drawField()
}

// drawField draws the padded input with the chosen cell's receptive field,
// and the output with that cell.
func (p *Page) drawField() {
	in, out := p.canvas("rf-in"), p.canvas("rf-out")
	o := p.calc.o
	if o == nil {
		in.ctx.Call("clearRect", 0, 0, 280, 280)
		out.ctx.Call("clearRect", 0, 0, 200, 200)
		p.el("rf-in-cap").SetTextContent("")
		p.el("rf-out-cap").SetTextContent("")
		return
	}
	wr, err := o.Window(p.calc.row)
	if err != nil {
		p.fail(err)
		return
	}
	wc, err := o.Window(p.calc.col)
	if err != nil {
		p.fail(err)
		return
	}
	pad := o.PadBefore
	side := o.W + o.PadBefore + o.PadAfter
	const px = 280.0
	cell := px / float64(side)
	ctx := in.ctx
	ctx.Call("clearRect", 0, 0, px, px)
	ctx.Set("fillStyle", "#8883")
	ctx.Call("fillRect", 0, 0, px, px)
	ctx.Set("fillStyle", "#8880")
	ctx.Call("clearRect", float64(pad)*cell, float64(pad)*cell, float64(o.W)*cell, float64(o.W)*cell)
	ctx.Set("fillStyle", "#fff")
	ctx.Call("fillRect", float64(pad)*cell, float64(pad)*cell, float64(o.W)*cell, float64(o.W)*cell)
	if cell >= 4 {
		ctx.Set("strokeStyle", "#8888")
		ctx.Set("lineWidth", 1)
		for i := 0; i <= side; i++ {
			ctx.Call("beginPath")
			ctx.Call("moveTo", float64(i)*cell, 0)
			ctx.Call("lineTo", float64(i)*cell, px)
			ctx.Call("moveTo", 0, float64(i)*cell)
			ctx.Call("lineTo", px, float64(i)*cell)
			ctx.Call("stroke")
		}
	}
	ctx.Set("fillStyle", "#1f6febaa")
	ctx.Call("fillRect", float64(wc.First+pad)*cell, float64(wr.First+pad)*cell, float64(o.F)*cell, float64(o.F)*cell)
	ctx.Set("strokeStyle", "#d03030")
	ctx.Set("lineWidth", 2)
	ctx.Call("strokeRect", float64(wc.First+pad)*cell, float64(wr.First+pad)*cell, float64(o.F)*cell, float64(o.F)*cell)
	if float64(o.F)*cell < 12 {
		// too small to see on a large input: ring it
		ctx.Call("beginPath")
		ctx.Call("arc", (float64(wc.First+pad)+float64(o.F)/2)*cell, (float64(wr.First+pad)+float64(o.F)/2)*cell, 12, 0, 2*math.Pi)
		ctx.Call("stroke")
	}

	const opx = 200.0
	oc := opx / float64(o.Floor)
	octx := out.ctx
	octx.Call("clearRect", 0, 0, opx, opx)
	octx.Set("fillStyle", "#fff")
	octx.Call("fillRect", 0, 0, opx, opx)
	if oc >= 4 {
		octx.Set("strokeStyle", "#8888")
		octx.Set("lineWidth", 1)
		for i := 0; i <= o.Floor; i++ {
			octx.Call("beginPath")
			octx.Call("moveTo", float64(i)*oc, 0)
			octx.Call("lineTo", float64(i)*oc, opx)
			octx.Call("moveTo", 0, float64(i)*oc)
			octx.Call("lineTo", opx, float64(i)*oc)
			octx.Call("stroke")
		}
	}
	octx.Set("fillStyle", "#1f6feb")
	octx.Call("fillRect", float64(p.calc.col)*oc, float64(p.calc.row)*oc, max(oc, 2), max(oc, 2))

	p.el("rf-in-cap").SetTextContent(p.f(text{
		"Input %d×%d with %d pixel(s) of zero padding around it (grey). The highlighted square is the receptive field of the chosen output cell: rows %d–%d, columns %d–%d%s.",
		"입력 %d×%d, 둘레에 제로 패딩 %d픽셀(회색). 강조한 정사각형이 고른 출력 칸의 receptive field입니다: %d–%d행, %d–%d열%s.",
	}, o.W, o.W, pad, wr.First, wr.Last, wc.First, wc.Last, p.paddingNote(wr, wc)))
	p.el("rf-out-cap").SetTextContent(p.f(text{
		"Output %d×%d; chosen cell: row %d, column %d (click a cell to choose).",
		"출력 %d×%d. 고른 칸: %d행 %d열 (칸을 눌러 고르세요).",
	}, o.Floor, o.Floor, p.calc.row, p.calc.col))
}

func (p *Page) paddingNote(r, c course.Window) string {
	if r.First >= 0 && c.First >= 0 && r.Last == r.InLast && c.Last == c.InLast {
		return ""
	}
	return p.t(text{", partly in the padding", ", 일부는 패딩"})
}
