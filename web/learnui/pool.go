//go:build js && wasm

package learnui

import (
	"fmt"
	"strconv"
	"strings"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/core/course"
)

// poolSide is the side of the feature map the pooling lesson pools.
const poolSide = 34

func (p *Page) setupPooling() {
	for _, id := range []string{"pool-window", "pool-coef", "pool-bias"} {
		p.on(id, "input", p.runPool)
		p.on(id, "change", p.runPool)
	}
	p.pic.onChange = append(p.pic.onChange, p.runPool)
	// The softmax lesson starts from three logits a student can change.
	row := p.el("softmax-in")
	for i, z := range []float64{2, 1, 0.1} {
		l := p.doc.CreateElement("label")
		l.SetAttribute("data-class", strconv.Itoa(i))
		in := p.doc.CreateElement("input").(*dom.HTMLInputElement)
		in.SetID(fmt.Sprintf("logit-%d", i))
		in.SetAttribute("type", "number")
		in.SetAttribute("step", "0.1")
		in.SetValue(strconv.FormatFloat(z, 'g', -1, 64))
		in.AddEventListener("input", false, func(dom.Event) { p.guard("softmax", p.runSoftmax) })
		l.AppendChild(p.doc.CreateElement("span"))
		l.AppendChild(in)
		row.AppendChild(l)
	}
	p.redraw = append(p.redraw, p.runPool, p.runSoftmax)
}

// realMap is a feature map of the live lesson's network on the current
// picture, once it has run: the pooling lesson pools it.
type realMap struct {
	fm      []float32
	side    int
	channel int
	layer   string
	model   string
}

// runPool pools a feature map three ways: a channel of the real network's
// first layer when it has run on the picture, else the picture's edges.
func (p *Page) runPool() {
	if p.pic.rgba == nil {
		return
	}
	var fm []float32
	var side int
	if r := p.poolReal; r != nil {
		fm, side = r.fm, r.side
	} else {
		var err error
		fm, side, err = course.EdgeMap(p.pic.rgba, p.pic.w, p.pic.h, poolSide)
		if err != nil {
			p.fail(err)
			return
		}
	}
	win := 2
	if v, err := strconv.Atoi(p.el("pool-window").(*dom.HTMLSelectElement).Value()); err == nil {
		win = v
	}
	coef, err1 := strconv.ParseFloat(p.input("pool-coef").Value(), 32)
	bias, err2 := strconv.ParseFloat(p.input("pool-bias").Value(), 32)
	if err1 != nil || err2 != nil {
		p.message("pool-source", text{"The LeNet coefficient and bias must be numbers.", "LeNet 계수와 편향에는 숫자를 넣어 주세요."})
		return
	}
	res, err := course.Pool(fm, side, side, win, win, float32(coef), float32(bias))
	if err != nil {
		p.el("pool-source").SetTextContent(p.errText(err))
		return
	}
	if r := p.poolReal; r != nil {
		p.message("pool-source", text{
			"The feature map: channel %d of layer %s of %s on %s (%d×%d), the channel that varies most. Each pooling uses a %d×%d window with stride %d.",
			"특징 맵: %[4]s에 대한 %[3]s의 %[2]s 계층, %[1]d번 채널(%[5]d×%[6]d)로, 가장 많이 변하는 채널입니다. 풀링은 모두 %[7]d×%[8]d 창, stride %[9]d입니다.",
		}, r.channel, r.layer, r.model, p.t(p.pic.source), side, side, win, win, win)
	} else {
		p.message("pool-source", text{
			"The feature map: %s in grey at %d×%d, convolved with a 3×3 vertical-edge kernel and passed through ReLU (%d×%d). Each pooling uses a %d×%d window with stride %d.",
			"특징 맵: %s을(를) %d×%d 회색으로 바꾸고 3×3 세로 모서리 커널로 합성곱한 뒤 ReLU를 통과시킨 것(%d×%d)입니다. 풀링은 모두 %d×%d 창, stride %d입니다.",
		}, p.t(p.pic.source), poolSide, poolSide, side, side, win, win, win)
	}
	lo, hi := extent(fm)
	p.canvas("pool-in").put(grey(fm, lo, hi), side, side)
	p.canvas("pool-max").put(grey(res.Max, lo, hi), res.Out[1], res.Out[0])
	p.canvas("pool-avg").put(grey(res.Avg, lo, hi), res.Out[1], res.Out[0])
	llo, lhi := extent(res.LeNet)
	p.canvas("pool-lenet").put(grey(res.LeNet, min(llo, 0), max(lhi, 1)), res.Out[1], res.Out[0])
	p.message("pool-in-cap", text{"Feature map %d×%d", "특징 맵 %d×%d"}, side, side)
	p.message("pool-max-cap", text{"Max pooling → %d×%d", "최대 풀링 → %d×%d"}, res.Out[0], res.Out[1])
	p.message("pool-avg-cap", text{"Average pooling → %d×%d", "평균 풀링 → %d×%d"}, res.Out[0], res.Out[1])
	p.message("pool-lenet-cap", text{"LeNet's trainable pooling: sigmoid(%s × sum + %s) → %d×%d",
		"LeNet의 훈련 가능한 풀링: sigmoid(%s × 합 + %s) → %d×%d"}, num(coef), num(bias), res.Out[0], res.Out[1])

	// The first window in numbers: where the feature map is busiest, so
	// the three poolings differ.
	best, bi, bj := float32(-1), 0, 0
	for i := range res.Out[0] {
		for j := range res.Out[1] {
			if v := res.Max[i*res.Out[1]+j] - res.Avg[i*res.Out[1]+j]; v > best {
				best, bi, bj = v, i, j
			}
		}
	}
	var b strings.Builder
	b.WriteString(`<table><caption>`)
	b.WriteString(esc(p.f(text{"The window at output row %d, column %d", "출력 %d행 %d열의 창"}, bi, bj)))
	b.WriteString(`</caption>`)
	for a := range win {
		b.WriteString("<tr>")
		for c := range win {
			fmt.Fprintf(&b, "<td>%s</td>", num(float64(fm[(bi*win+a)*side+bj*win+c])))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	k := bi*res.Out[1] + bj
	fmt.Fprintf(&b, `<p>%s<br>%s<br>%s</p>`,
		esc(p.f(text{"max = %s", "최댓값 = %s"}, num(float64(res.Max[k])))),
		esc(p.f(text{"average = %s", "평균 = %s"}, num(float64(res.Avg[k])))),
		esc(p.f(text{"LeNet = sigmoid(%s × %s + %s) = %s", "LeNet = sigmoid(%s × %s + %s) = %s"},
			num(coef), num(float64(res.Avg[k])*float64(win*win)), num(bias), num(float64(res.LeNet[k])))))
	p.el("pool-numbers").SetInnerHTML(b.String())
	p.stats.Set("pooled", res.Out[0])
	p.stats.Set("poolIn", side)
}

// softmaxNames are the default softmax lesson's classes.
var softmaxNames = []text{{"cat", "고양이"}, {"dog", "개"}, {"car", "자동차"}}

// runSoftmax works softmax step by step on the logits in the inputs.
func (p *Page) runSoftmax() {
	labels := p.el("softmax-in").QuerySelectorAll("label")
	var logits []float32
	var names []string
	for i, l := range labels {
		name := p.t(softmaxNames[i%len(softmaxNames)])
		l.QuerySelector("span").SetTextContent(p.f(text{"Logit z for “%s”", "“%s”의 로짓 z"}, name))
		in := l.QuerySelector("input").(*dom.HTMLInputElement)
		v, err := strconv.ParseFloat(strings.TrimSpace(in.Value()), 32)
		if err != nil {
			p.el("softmax-table").SetInnerHTML(`<caption>` + esc(p.f(text{"The logit for “%s” must be a number.", "“%s”의 로짓에는 숫자를 넣어 주세요."}, name)) + `</caption>`)
			return
		}
		logits = append(logits, float32(v))
		names = append(names, name)
	}
	p.softmaxTable(logits, names)
}

// softmaxTable writes softmax's steps for the given logits and class names.
func (p *Page) softmaxTable(logits []float32, names []string) {
	p.softmaxTableIn("softmax-table", logits, names)
}

// softmaxTableIn writes softmax's steps into the table with the given id.
func (p *Page) softmaxTableIn(id string, logits []float32, names []string) {
	s, err := course.Softmax(logits)
	if err != nil {
		p.el(id).SetInnerHTML(`<caption>` + esc(p.errText(err)) + `</caption>`)
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
		esc(p.t(text{"Class", "클래스"})), esc(p.t(text{"Logit z", "로짓 z"})),
		esc(p.f(text{"z − max (%s)", "z − 최댓값 (%s)"}, num(s.Max))), "exp(z − max)",
		esc(p.t(text{"Probability", "확률"})))
	var total float64
	for i := range s.Prob {
		total += s.Prob[i]
		fmt.Fprintf(&b, "<tr><th>%s</th><td>%s</td><td>%s</td><td>%.4f</td><td>%.4f</td></tr>", esc(names[i]),
			num(s.Logits[i]), num(s.Shifted[i]), s.Exp[i], s.Prob[i])
	}
	fmt.Fprintf(&b, "</tbody><tfoot><tr><th>%s</th><td></td><td></td><td>Σ = %.4f</td><td>Σ = %.4f</td></tr></tfoot>",
		esc(p.t(text{"Sum", "합"})), s.Sum, total)
	p.el(id).SetInnerHTML(b.String())
}
