//go:build js && wasm

package learnui

import (
	"fmt"
	"math"
	"strings"

	"github.com/glimpse-ml/glimpse/core/course"
)

// kindColours colour the diagram by what a layer does.
var kindColours = []struct {
	kind   course.Kind
	colour string
	name   text
}{
	{course.KindConv, "#1f6feb", text{"convolution", "합성곱"}},
	{course.KindDepthwise, "#2da44e", text{"depthwise", "깊이별 합성곱"}},
	{course.KindPointwise, "#8250df", text{"pointwise 1×1", "점별 합성곱 1×1"}},
	{course.KindMaxPool, "#d4a72c", text{"pooling", "풀링"}},
	{course.KindDense, "#cf222e", text{"fully connected", "완전 연결"}},
	{course.KindConcat, "#6e7781", text{"concatenation", "이어 붙이기"}},
}

func colourOf(k course.Kind) string {
	switch k {
	case course.KindAvgPool, course.KindGlobalPool:
		k = course.KindMaxPool
	case course.KindGrouped:
		k = course.KindConv
	case course.KindAdd:
		k = course.KindConcat
	}
	for _, c := range kindColours {
		if c.kind == k {
			return c.colour
		}
	}
	return ""
}

// diagram draws the network as a strip: one bar per layer that computes
// (convolutions, pools, dense layers, joins), its height the map's side on
// top and the channel count below, both on a log scale, so the shape of
// every CNN shows: the map shrinks while the channels grow.
func (p *Page) diagram(t *course.Table, pp course.Paper) {
	var rows []course.Row
	for _, r := range t.Rows {
		if colourOf(r.Kind) != "" {
			rows = append(rows, r)
		}
	}
	const left, top, lane, gap = 90.0, 30.0, 70.0, 24.0
	step := math.Max(3, math.Min(28, 690/float64(len(rows))))
	width := math.Max(800, left+step*float64(len(rows))+20)
	height := top + 2*lane + gap + 40
	maxSide, maxC := 1.0, 1.0
	for _, r := range rows {
		maxSide = math.Max(maxSide, float64(r.Output[0]))
		maxC = math.Max(maxC, float64(r.Output[2]))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<text x="4" y="%g" font-size="12">%s</text>`, top+lane/2, esc(p.t(text{"map side", "맵 크기"})))
	fmt.Fprintf(&b, `<text x="4" y="%g" font-size="12">%s</text>`, top+lane+gap+lane/2, esc(p.t(text{"channels", "채널 수"})))
	for i, r := range rows {
		x := left + step*float64(i)
		hs := lane * math.Log2(float64(r.Output[0])+1) / math.Log2(maxSide+1)
		hc := lane * math.Log2(float64(r.Output[2])+1) / math.Log2(maxC+1)
		w := math.Max(1.5, step-1)
		title := fmt.Sprintf("%s: %s, %s", r.Name, p.kindName(r), shape(r.Output))
		fmt.Fprintf(&b, `<g><title>%s</title><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" opacity=".6"/></g>`,
			esc(title), x, top+lane-hs, w, hs, colourOf(r.Kind), x, top+lane+gap, w, hc, colourOf(r.Kind))
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11">%d</text>`, left, top-4, rows[0].Output[0])
	// legend
	lx := 4.0
	for _, c := range kindColours {
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="10" height="10" fill="%s"/><text x="%g" y="%g" font-size="11">%s</text>`,
			lx, height-22, c.colour, lx+13, height-13, esc(p.t(c.name)))
		lx += 13 + 7*float64(len([]rune(p.t(c.name)))) + 14
	}
	svg := p.el("arch-diagram")
	svg.SetAttribute("viewBox", fmt.Sprintf("0 0 %.0f %.0f", math.Max(width, lx), height))
	svg.SetInnerHTML(b.String())
	p.message("arch-diagram-cap", text{
		"%s, %d layers that compute, input to output, left to right. Top: each output map's side (%d down to %d); bottom: its channels (up to %d). Both on a log scale.",
		"%s, 계산하는 계층 %d개를 입력에서 출력까지 왼쪽에서 오른쪽으로. 위: 각 출력 맵의 한 변 크기(%d에서 %d까지), 아래: 채널 수(최대 %d). 둘 다 로그 눈금.",
	}, pp.Name, len(rows), rows[0].Output[0], rows[len(rows)-1].Output[0], int(maxC))
}

// chart plots every architecture: multiply-accumulates across (log scale),
// the ImageNet top-1 accuracy its paper reports up, parameters as the
// circle's area. The chosen architecture is outlined.
func (p *Page) chart() {
	const w, h, left, right, top, bottom = 640.0, 380.0, 60.0, 20.0, 20.0, 90.0
	lo, hi := 5.0, 11.0 // 10^5 .. 10^11 MACs
	accLo, accHi := 55.0, 80.0
	x := func(macs int64) float64 {
		return left + (math.Log10(float64(macs))-lo)/(hi-lo)*(w-left-right)
	}
	y := func(acc float64) float64 { return top + (accHi-acc)/(accHi-accLo)*(h-top-bottom) }
	var b strings.Builder
	for e := lo; e <= hi; e++ {
		xx := left + (e-lo)/(hi-lo)*(w-left-right)
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="#8884"/><text x="%g" y="%g" font-size="13" text-anchor="middle">10<tspan dy="-6" font-size="9">%d</tspan></text>`,
			xx, xx, top, h-bottom+30, xx, h-bottom+44, int(e))
	}
	for a := accLo; a <= accHi; a += 5 {
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="#8884"/><text x="%g" y="%g" font-size="13" text-anchor="end">%g%%</text>`,
			left, w-right, y(a), y(a), left-4, y(a)+4, a)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="14" text-anchor="middle">%s</text>`, (left+w-right)/2, h-bottom+64,
		esc(p.t(text{"multiply-accumulates per picture (log scale)", "사진 한 장의 곱셈-누산 연산 수 (로그 눈금)"})))
	fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="12" text-anchor="end">%s</text>`, w-right, h-bottom+26,
		esc(p.t(text{"↑ no ImageNet top-1 in the paper", "↑ 논문에 ImageNet top-1 없음"})))
	var maxP float64
	type point struct {
		pp     course.Paper
		params int64
		macs   int64
	}
	var pts []point
	for _, pp := range p.arch.papers {
		if pp.Arch == "lenet5_1998" {
			continue // the same cost as lenet5, and no ImageNet figure
		}
		t, err := p.table(pp.Arch) // a model file's once it is loaded
		if err != nil {
			continue
		}
		pts = append(pts, point{pp, t.Params, t.MACs})
		maxP = math.Max(maxP, float64(t.Params))
	}
	for _, pt := range pts {
		cx := x(pt.macs)
		cy := h - bottom + 12
		if pt.pp.Top1 > 0 {
			cy = y(pt.pp.Top1)
		}
		r := 3 + 24*math.Sqrt(float64(pt.params)/maxP)
		stroke := ""
		if pt.pp.Arch == p.arch.name {
			stroke = ` stroke="currentColor" stroke-width="3"`
		}
		acc := p.t(text{"no top-1 reported", "top-1 보고 없음"})
		if pt.pp.Top1 > 0 {
			acc = fmt.Sprintf("top-1 %.1f%%", pt.pp.Top1)
		}
		fmt.Fprintf(&b, `<g><title>%s: %s %s, %s MACs, %s</title><circle cx="%.1f" cy="%.1f" r="%.1f" fill="#1f6feb55"%s/><text x="%.1f" y="%.1f" font-size="13">%s</text></g>`,
			esc(pt.pp.Name), digits(pt.params), esc(p.t(text{"parameters", "매개변수"})), digits(pt.macs), esc(acc),
			cx, cy, r, stroke, cx+r+2, cy+4, esc(pt.pp.Name))
	}
	p.el("arch-chart").SetInnerHTML(b.String())
	p.message("arch-chart-cap", text{
		"Across: multiply-accumulates per picture, counted from each network here. Up: the ImageNet top-1 accuracy each paper reports (sources below). Circle area: parameters, counted here.",
		"가로: 사진 한 장의 곱셈-누산 연산 수(여기서 각 신경망으로부터 셈). 세로: 각 논문이 보고한 ImageNet top-1 정확도(출처는 아래). 원의 넓이: 매개변수 수(여기서 셈).",
	})
	var c strings.Builder
	for _, pt := range pts {
		note := archNotes[pt.pp.Arch].setting
		acc := ""
		switch {
		case pt.pp.Top1 > 0:
			acc = p.f(text{"ImageNet top-1 %.1f%% (%s, %s).", "ImageNet top-1 %.1f%% (%s, %s)."}, pt.pp.Top1, p.table2(pt.pp.Table), p.t(note))
		case pt.pp.Top5 > 0:
			acc = p.f(text{"No top-1 reported; %s (%s).", "top-1 보고 없음. %s (%s)."}, p.t(note), p.table2(pt.pp.Table))
		default:
			acc = p.t(note)
		}
		fmt.Fprintf(&c, "<li><strong>%s</strong>: %s. %s %s</li>", esc(pt.pp.Name), esc(pt.pp.Cite), esc(acc),
			esc(p.f(text{"Counted here: %s parameters, %s MACs.", "여기서 센 값: 매개변수 %s개, MACs %s."}, digits(pt.params), digits(pt.macs))))
	}
	p.el("arch-cites").SetInnerHTML(c.String())
}

// table2 words a paper's table reference.
func (p *Page) table2(t string) string {
	if p.ko() {
		return strings.Replace(t, "Table ", "표 ", 1)
	}
	return t
}
