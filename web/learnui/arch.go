//go:build js && wasm

package learnui

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall/js"

	"honnef.co/go/js/dom/v2"

	"github.com/glimpse-ml/glimpse/core/course"
	"github.com/glimpse-ml/glimpse/core/ir"
)

// archState caches each architecture's table: building one takes
// milliseconds, and the chart needs all of them.
type archState struct {
	papers  []course.Paper
	tables  map[string]*course.Table
	name    string
	loading bool
}

// archNotes are, for each architecture, what the course says about it
// and which setting the paper's accuracy is.
var archNotes = map[string]struct{ about, setting text }{
	"lenet5": {
		text{"LeNet-5 (1998) is the pattern every later network repeats: two convolution layers and three fully connected layers, about 60,000 parameters, light and efficient. Pooling (subsampling) shrinks the maps so the next layer sees a wider area; the original used trainable average pooling and a scaled tanh (this version, like today's courses, ReLU and max pooling). It tolerates shifts, scaling and distortion of the digits it reads.",
			"LeNet-5(1998)는 이후 모든 신경망이 되풀이하는 틀입니다. 2개의 합성곱 계층과 3개의 완전 연결 계층으로 이루어진 초기 형태의 CNN으로, 약 6만 개의 매개변수를 가진 가볍고 효율적인 구조입니다. 서브샘플링(풀링)으로 공간 크기를 줄여 다음 층이 더 넓은 영역을 보게 합니다. 원래는 훈련 가능한 가중치를 가진 평균 풀링과 tanh를 썼고, 이 버전은 요즘 강의처럼 ReLU와 최대 풀링을 씁니다. 이미지의 위치 변화, 크기 변화, 왜곡에 강합니다."},
		text{"MNIST digits, not ImageNet: 0.95% test error.", "ImageNet이 아니라 MNIST 숫자: 시험 오류율 0.95%."},
	},
	"lenet5_1998": {
		text{"LeNet-5 as the 1998 paper built it: the same layers, with a scaled tanh (1.7159·tanh(2x/3)) after every layer and trainable subsampling: each 2×2 average is multiplied by a learned coefficient and shifted by a learned bias, one pair per channel (the rows “coefficient and bias per channel” below: 12 parameters for 6 channels).",
			"1998년 논문 그대로의 LeNet-5입니다. 계층은 같고, 모든 층 뒤에 스케일된 tanh(1.7159·tanh(2x/3))를 두며, 서브샘플링은 훈련 가능합니다: 2×2 평균에 학습된 계수를 곱하고 학습된 편향을 더하며, 채널마다 한 쌍씩입니다(아래의 “채널별 계수·편향” 행: 채널 6개에 매개변수 12개)."},
		text{"MNIST digits, not ImageNet: 0.95% test error.", "ImageNet이 아니라 MNIST 숫자: 시험 오류율 0.95%."},
	},
	"alexnet": {
		text{"AlexNet (2012) scaled LeNet's pattern up and started the deep-learning boom: 8 layers (5 convolution, 3 fully connected), about 60 million parameters, max pooling instead of average pooling, ReLU, and a large first kernel (11×11, stride 4) to shrink the picture fast. Trained on ImageNet, its features are far stronger; the three fully connected layers hold most of its parameters.",
			"AlexNet(2012)은 LeNet을 바탕으로 보완한 후속 모델로, 딥러닝 붐을 일으킨 핵심 모델입니다. 총 8개 계층(합성곱 5개 + 완전 연결 3개), 약 6천만 개의 매개변수로 이루어지며 평균 풀링 대신 최대 풀링(Max Pooling)과 ReLU를 썼고, 큰 첫 커널(11×11, stride 4)로 이미지를 빠르게 줄입니다. 대규모 ImageNet으로 훈련되어 특징 추출이 훨씬 강력하며, 매개변수 대부분은 세 완전 연결 계층에 있습니다."},
		text{"one CNN, ILSVRC-2012 validation set: 40.7% top-1 error, 18.2% top-5 error", "CNN 1개, ILSVRC-2012 검증 세트: top-1 오류율 40.7%, top-5 오류율 18.2%"},
	},
	"vgg16": {
		text{"VGG16 (2014) goes deeper with one kind of convolution only: small 3×3 kernels, stacked. Two stacked 3×3 layers see 5×5 and three see 7×7, with fewer parameters and more non-linearities. 13 convolution and 3 fully connected layers, about 138 million parameters. Variants by depth: VGG13, VGG16, VGG19, and versions with batch normalization.",
			"VGG16(2014)은 3×3 크기의 작은 합성곱 커널만 층층이 쌓아 깊이에 집중한 설계입니다. 3×3 두 층은 5×5를, 세 층은 7×7을 보면서도 매개변수는 더 적고 비선형성은 더 높습니다. 합성곱 13개와 완전 연결 3개, 약 1억 3천 8백만 개의 매개변수. 깊이에 따라 VGG13, VGG16, VGG19로 나뉘고, 배치 정규화(BN)를 추가한 변형도 있습니다."},
		text{"configuration D, trained with scale jittering, single test scale: 25.6% top-1 error, 8.1% top-5 error", "구성 D, scale jittering 학습, 단일 스케일 시험: top-1 오류율 25.6%, top-5 오류율 8.1%"},
	},
	"googlenet": {
		text{"GoogLeNet (2014, Inception v1) is built from Inception modules: parallel convolutions of several sizes and a max pool, concatenated, so the next layer picks the scale that fits. 1×1 convolutions cut the channels before the larger ones, and global average pooling replaces the big fully connected layers (auxiliary classifiers steadied training). 22 layers deep with far fewer parameters than VGG, about 5 to 7 million.",
			"GoogLeNet(2014, Inception v1)은 Inception 모듈로 이루어집니다. 여러 크기의 필터를 병렬로 적용하고 최대 풀링과 함께 이어 붙여, 다음 층이 맞는 크기를 고르게 합니다. 1×1 합성곱으로 차원을 먼저 줄여 매개변수를 획기적으로 줄이고, 완전 연결 계층 대신 전역 평균 풀링(GAP)을 써서 과적합을 줄이며 보조 분류기로 학습을 안정화합니다. 22개의 깊은 계층이지만 매개변수는 VGG보다 훨씬 적은 약 5백만~7백만 개입니다."},
		text{"the paper gives top-5 only: 6.67% top-5 error (7 models, 144 crops)", "논문에는 top-5만 있습니다: top-5 오류율 6.67% (모델 7개, 144 crop)"},
	},
	"inception_v3": {
		text{"InceptionV3 (2016) refines GoogLeNet's Inception modules: 5×5 convolutions become two 3×3, n×n ones become 1×n then n×1, and grids shrink inside the modules. These are real pretrained weights (the network nsfwjs ships, its classifier dropped), loaded from a 22 MB model file and counted here, at its 299×299 input.",
			"InceptionV3(2016)는 GoogLeNet의 Inception 모듈을 다듬었습니다. 5×5 합성곱은 3×3 두 개로, n×n은 1×n과 n×1로 나누고, 격자는 모듈 안에서 줄입니다. 이것은 실제 사전 학습된 가중치(nsfwjs가 싣고 있는 신경망, 분류기는 뺌)로, 22 MB 모델 파일을 불러와 299×299 입력에서 센 값입니다."},
		text{"single crop: 21.2% top-1 error, 5.6% top-5 error", "단일 crop: top-1 오류율 21.2%, top-5 오류율 5.6%"},
	},
	"mobilenet_v1": {
		text{"MobileNet v1 (2017) factors each convolution into a depthwise convolution (one filter per channel) and a pointwise 1×1 convolution (mixing channels): eight to nine times fewer multiply-accumulates. See the separable blocks below.",
			"MobileNet v1(2017)은 합성곱을 깊이별 합성곱(채널마다 필터 하나)과 점별 1×1 합성곱(채널 섞기)으로 나누어 곱셈-누산 연산을 8~9배 줄였습니다. 아래의 분리 합성곱 블록을 보세요."},
		text{"1.0 MobileNet-224", "1.0 MobileNet-224"},
	},
	"mobilenet_v2": {
		text{"MobileNet v2 (2018) is built from inverted residual blocks: a 1×1 convolution expands the channels six times, a 3×3 depthwise convolution filters in that wide space, and a 1×1 projection goes back to a thin bottleneck with no activation (a linear bottleneck). Residual connections join the thin ends. It is the backbone the Glimpse app trains on.",
			"MobileNet v2(2018)는 역 잔차(inverted residual) 블록으로 이루어집니다. 1×1 합성곱이 채널을 6배로 넓히고, 그 넓은 공간에서 3×3 깊이별 합성곱이 걸러 낸 뒤, 활성화 없는 1×1 투영으로 다시 얇은 병목으로 돌아갑니다(선형 병목). 잔차 연결이 얇은 끝을 잇습니다. Glimpse 앱이 학습에 쓰는 백본입니다."},
		text{"MobileNetV2 (1.0)", "MobileNetV2 (1.0)"},
	},
	"mobilenet_v3_small": {
		text{"MobileNet v3 (2019) was found by architecture search: v2's blocks with 5×5 kernels in places, squeeze-and-excite (each channel averaged over the whole map, then reweighted) and hard-swish. The small version is for the lightest devices.",
			"MobileNet v3(2019)는 아키텍처 탐색으로 찾은 구조입니다. v2의 블록에 곳곳의 5×5 커널, 스퀴즈-익사이트(채널마다 맵 전체를 평균 내어 다시 가중), hard-swish를 더했습니다. small은 가장 가벼운 기기용입니다."},
		text{"MobileNetV3-Small 1.0", "MobileNetV3-Small 1.0"},
	},
	"mobilenet_v3_large": {
		text{"MobileNet v3-large: the same search, sized for accuracy: more and wider blocks than v3-small, still cheaper than v2.",
			"MobileNet v3-large: 같은 탐색으로 정확도에 맞춘 크기입니다. v3-small보다 블록이 많고 넓지만 여전히 v2보다 가볍습니다."},
		text{"MobileNetV3-Large 1.0", "MobileNetV3-Large 1.0"},
	},
}

func (p *Page) setupArchitectures() {
	p.arch.papers = append(course.Papers(), course.FilePapers()...)
	p.arch.tables = map[string]*course.Table{}
	sel := p.el("arch").(*dom.HTMLSelectElement)
	for _, pp := range p.arch.papers {
		o := p.doc.CreateElement("option").(*dom.HTMLOptionElement)
		o.SetValue(pp.Arch)
		o.SetTextContent(pp.Name)
		sel.AppendChild(o)
	}
	p.arch.name = "lenet5"
	if h := strings.TrimPrefix(dom.GetWindow().Location().Hash(), "#arch-"); h != "" {
		for _, pp := range p.arch.papers {
			if pp.Arch == h {
				p.arch.name = h
			}
		}
	}
	sel.SetValue(p.arch.name)
	p.on("arch", "change", func() { p.arch.name = sel.Value(); p.drawArch() })
	// The explorer builds every architecture for its chart: it draws once
	// the live lesson has (see settled), and with every redraw after that.
	p.redraw = append(p.redraw, func() {
		if p.ready {
			p.drawArch()
		}
	})
	p.afterFirst = append(p.afterFirst, p.drawArch)
}

func (p *Page) table(name string) (*course.Table, error) {
	if t := p.arch.tables[name]; t != nil {
		return t, nil
	}
	if pp := p.paper(name); pp.File != "" {
		return nil, errNotLoaded
	}
	t, err := course.ExploreArch(name)
	if err != nil {
		return nil, err
	}
	p.arch.tables[name] = t
	return t, nil
}

func (p *Page) paper(name string) course.Paper {
	for _, pp := range p.arch.papers {
		if pp.Arch == name {
			return pp
		}
	}
	return course.Paper{Arch: name, Name: name}
}

// errNotLoaded is an architecture explored from a model file not loaded yet.
var errNotLoaded = errors.New("not loaded yet")

// loadArch loads an architecture's model file through the runtime, with
// its progress in the summary, and explores its network.
func (p *Page) loadArch(pp course.Paper) {
	if p.arch.loading {
		return
	}
	p.arch.loading = true
	defer func() { p.arch.loading = false }()
	sum := p.el("arch-summary")
	m, err := p.live.rt.Load(pp.File, js.ValueOf(pp.File), true, func(f float64, loaded, total int64) {
		sum.SetTextContent(p.f(text{"Loading %s: %.0f%%…", "%s 불러오는 중: %.0f%%…"}, pp.Name, 100*f))
	})
	if err != nil {
		sum.SetTextContent(p.f(text{"%s could not be loaded: %v", "%s을(를) 불러오지 못했습니다: %v"}, pp.Name, p.errText(err)))
		return
	}
	t, err := course.Explore(m.Graph())
	m.Close()
	if err != nil {
		sum.SetTextContent(p.f(text{"%s could not be explored: %v", "%s을(를) 살펴보지 못했습니다: %v"}, pp.Name, p.errText(err)))
		return
	}
	p.arch.tables[pp.Arch] = t
	if p.arch.name == pp.Arch {
		p.drawArch()
	}
}

// drawArch shows the chosen architecture.
func (p *Page) drawArch() {
	name := p.arch.name
	t, err := p.table(name)
	if errors.Is(err, errNotLoaded) {
		p.spawn("arch", func() { p.loadArch(p.paper(name)) })
		return
	}
	if err != nil {
		p.el("arch-summary").SetTextContent(p.f(text{"%s could not be built: %v", "%s을(를) 만들 수 없습니다: %v"}, name, p.errText(err)))
		return
	}
	pp := p.paper(name)
	convs, layers := 0, 0
	for _, r := range t.Rows {
		switch r.Kind {
		case course.KindConv, course.KindDepthwise, course.KindPointwise, course.KindGrouped, course.KindDense:
			layers++
			if r.Kind != course.KindDense {
				convs++
			}
		}
	}
	p.el("arch-summary").SetInnerHTML(esc(p.f(text{"%s at %s: ", "%s, 입력 %s: "}, pp.Name, shape(t.Input))) +
		p.f(text{`<span id="arch-params">%s</span> parameters, <span id="arch-macs">%s</span> multiply-accumulates (MACs) per picture; %d layers with weights (%d convolutions); the last feature map's receptive field is %s.`,
			`매개변수 <span id="arch-params">%s</span>개, 사진 한 장에 곱셈-누산 <span id="arch-macs">%s</span>번(MACs). 가중치가 있는 계층 %d개(합성곱 %d개), 마지막 특징 맵의 receptive field는 %s입니다.`},
			digits(t.Params), digits(t.MACs), layers, convs, esc(p.field(t.Field, t.Input))))
	notes := archNotes[name]
	p.el("arch-about").SetInnerHTML("<p>" + esc(p.t(notes.about)) + "</p>")
	p.stats.Set("arch", name)
	p.stats.Set("archParams", float64(t.Params))
	p.stats.Set("archMACs", float64(t.MACs))
	p.layerTable(t)
	p.sharingTable(t)
	p.blocksTable(t)
	p.diagram(t, pp)
	p.chart()
}

func shape(s ir.Shape) string { return fmt.Sprintf("%d×%d×%d", s[0], s[1], s[2]) }

// field words a receptive field.
func (p *Page) field(f course.Field, in ir.Shape) string {
	if f.Whole {
		return p.t(text{"the whole picture", "사진 전체"})
	}
	s := fmt.Sprintf("%d×%d", f.Size[0], f.Size[1])
	if f.Size[0] > in[0] || f.Size[1] > in[1] {
		s += p.t(text{" (larger than the picture)", " (사진보다 큼)"})
	}
	return s
}

// kindName words a layer's kind the way the course does.
func (p *Page) kindName(r course.Row) string {
	switch r.Kind {
	case course.KindConv:
		return p.t(text{"Convolution", "합성곱"})
	case course.KindDepthwise:
		return p.t(text{"Depthwise convolution", "깊이별 합성곱"})
	case course.KindPointwise:
		return p.t(text{"Pointwise convolution", "점별 합성곱"})
	case course.KindGrouped:
		return p.f(text{"Grouped convolution (%d groups)", "그룹 합성곱 (그룹 %d개)"}, r.Groups)
	case course.KindScale:
		return p.t(text{"Coefficient and bias per channel", "채널별 계수·편향"})
	case course.KindDense:
		return p.t(text{"Fully connected", "완전 연결"})
	case course.KindBatchNorm:
		return p.t(text{"Batch normalization", "배치 정규화"})
	case course.KindMaxPool:
		return p.t(text{"Max pooling", "최대 풀링"})
	case course.KindAvgPool:
		return p.t(text{"Average pooling", "평균 풀링"})
	case course.KindGlobalPool:
		return p.t(text{"Global average pooling", "전역 평균 풀링(GAP)"})
	case course.KindAdd:
		return p.t(text{"Residual sum", "잔차 덧셈"})
	case course.KindMul:
		return p.t(text{"Channel reweighting (squeeze-and-excite)", "채널 재가중(스퀴즈-익사이트)"})
	case course.KindConcat:
		return p.t(text{"Concatenation", "이어 붙이기"})
	case course.KindSoftmax:
		return p.t(text{"Softmax", "소프트맥스"})
	case course.KindFlatten:
		return p.t(text{"Flatten", "평탄화"})
	case course.KindPad:
		return p.t(text{"Zero padding", "제로 패딩"})
	}
	switch ir.Activation(r.Act) {
	case ir.ActHardSwish:
		return p.t(text{"Hard-swish", "하드 스위시"})
	case ir.ActHardSigmoid:
		return p.t(text{"Hard sigmoid", "하드 시그모이드"})
	case ir.ActSigmoid:
		return p.t(text{"Sigmoid", "시그모이드"})
	case ir.ActReLU6:
		return "ReLU6"
	case "tanh":
		return "tanh"
	}
	return "ReLU"
}

func pair(v [2]int) string {
	if v == [2]int{} {
		return "–"
	}
	return fmt.Sprintf("%d×%d", v[0], v[1])
}

func pads(v ir.Pads) string {
	if v == (ir.Pads{}) {
		return "–"
	}
	if v[0] == v[1] && v[1] == v[2] && v[2] == v[3] {
		return fmt.Sprint(v[0])
	}
	return fmt.Sprintf("%d,%d,%d,%d", v[0], v[1], v[2], v[3])
}

// formula writes a layer's output-size formula with its numbers.
func formula(o *course.OutSize, ceil bool) string {
	p := fmt.Sprintf("2×%d", o.PadBefore)
	if o.PadBefore != o.PadAfter {
		p = fmt.Sprintf("%d+%d", o.PadBefore, o.PadAfter)
	}
	in := fmt.Sprintf("(%d − %d + %s)/%d", o.W, o.F, p, o.S)
	switch {
	case o.Whole:
		return fmt.Sprintf("%s + 1 = %d", in, o.Floor)
	case ceil:
		return fmt.Sprintf("⌈%s⌉ + 1 = %d", in, o.Ceil)
	}
	return fmt.Sprintf("⌊%s⌋ + 1 = %d", in, o.Floor)
}

// layerTable writes every layer.
func (p *Page) layerTable(t *course.Table) {
	var b strings.Builder
	fmt.Fprintf(&b, `<caption class="visually-hidden">%s</caption><thead><tr><th>#</th><th class="name">%s</th><th class="name">%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>`,
		esc(p.t(text{"Every layer", "모든 계층"})),
		esc(p.t(text{"Layer", "계층"})), esc(p.t(text{"Operation", "연산"})), esc(p.t(text{"Kernel", "커널"})),
		esc(p.t(text{"Stride", "스트라이드"})), esc(p.t(text{"Padding", "패딩"})), esc(p.t(text{"Output shape", "출력 모양"})),
		esc(p.t(text{"Receptive field", "receptive field"})), esc(p.t(text{"Parameters", "매개변수"})), "MACs")
	for i, r := range t.Rows {
		minor := ""
		switch r.Kind {
		case course.KindBatchNorm, course.KindActivation:
			minor = ` class="minor"`
		}
		out := esc(shape(r.Output))
		if r.Height != nil {
			out += "<small>" + esc(formula(r.Height, r.Ceil)) + "</small>"
		}
		fmt.Fprintf(&b, `<tr%s><td>%d</td><td class="name">%s</td><td class="name">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>`,
			minor, i+1, esc(r.Name), esc(p.kindName(r)), pair(r.Kernel), pair(r.Stride), pads(r.Padding), out,
			esc(p.field(r.Field, t.Input)), digits(r.Params), digits(r.MACs))
	}
	fmt.Fprintf(&b, `</tbody><tfoot><tr><th colspan="8">%s</th><td id="arch-total-params">%s</td><td id="arch-total-macs">%s</td></tr></tfoot>`,
		esc(p.t(text{"Total", "합계"})), digits(t.Params), digits(t.MACs))
	p.el("arch-layers").SetInnerHTML(b.String())
}

// sharingTable sets each convolution beside a fully connected layer of
// the same input and output sizes.
func (p *Page) sharingTable(t *course.Table) {
	var b strings.Builder
	fmt.Fprintf(&b, `<thead><tr><th class="name">%s</th><th class="name">%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>`,
		esc(p.t(text{"Layer", "계층"})), esc(p.t(text{"Operation", "연산"})), esc(p.t(text{"Input → output", "입력 → 출력"})),
		esc(p.t(text{"Parameters (shared kernel)", "매개변수 (공유 커널)"})),
		esc(p.t(text{"Fully connected, same sizes", "같은 크기의 완전 연결"})), esc(p.t(text{"Times more", "배수"})))
	for _, r := range t.Rows {
		if r.Op != string(ir.Conv2D) {
			continue
		}
		dense, times := "", ""
		if r.Overflow {
			dense = p.t(text{"more than 9 quintillion", "900경 이상"})
		} else {
			dense = digits(r.DenseParams)
			times = fmt.Sprintf("%s×", digits(int64(math.Round(float64(r.DenseParams)/float64(max(r.Params, 1))))))
		}
		fmt.Fprintf(&b, `<tr><td class="name">%s</td><td class="name">%s</td><td>%s → %s</td><td>%s</td><td>%s</td><td>%s</td></tr>`,
			esc(r.Name), esc(p.kindName(r)), shape(r.Input), shape(r.Output), digits(r.Params), esc(dense), times)
	}
	b.WriteString("</tbody>")
	p.el("arch-sharing").SetInnerHTML(b.String())
}

// blocksTable sets each depthwise-separable block beside the standard
// convolution it replaces.
func (p *Page) blocksTable(t *course.Table) {
	box := p.el("mobilenet-box")
	if len(t.Blocks) == 0 {
		box.SetAttribute("hidden", "")
		return
	}
	box.RemoveAttribute("hidden")
	var b strings.Builder
	fmt.Fprintf(&b, `<thead><tr><th class="name">%s</th><th>D<sub>K</sub></th><th>M</th><th>N</th><th>D<sub>F</sub>×D<sub>F</sub></th><th>%s<br><small>D<sub>K</sub>²·M·N·D<sub>F</sub>²</small></th><th>%s<br><small>D<sub>K</sub>²·M·D<sub>F</sub>²</small></th><th>%s<br><small>M·N·D<sub>F</sub>²</small></th><th>%s</th><th>1/N + 1/D<sub>K</sub>²</th></tr></thead><tbody>`,
		esc(p.t(text{"Depthwise → pointwise layers", "깊이별 → 점별 계층"})),
		esc(p.t(text{"Standard convolution MACs", "표준 합성곱 MACs"})),
		esc(p.t(text{"Depthwise MACs", "깊이별 합성곱 MACs"})),
		esc(p.t(text{"Pointwise MACs", "점별 합성곱 MACs"})),
		esc(p.t(text{"Ratio (real layers)", "비율 (실제 계층)"})))
	var std, sep int64
	for _, k := range t.Blocks {
		std += k.StandardMACs
		sep += k.DepthwiseMACs + k.PointwiseMACs
		fmt.Fprintf(&b, `<tr><td class="name">%s → %s</td><td>%d</td><td>%d</td><td>%d</td><td>%d×%d</td><td>%s</td><td>%s</td><td>%s</td><td>%.4f</td><td>1/%d + 1/%d = %.4f</td></tr>`,
			esc(k.Depthwise), esc(k.Pointwise), k.K, k.M, k.N, k.D[0], k.D[1], digits(k.StandardMACs), digits(k.DepthwiseMACs),
			digits(k.PointwiseMACs), k.Ratio, k.N, k.K*k.K, k.Formula)
	}
	fmt.Fprintf(&b, `</tbody><tfoot><tr><th class="name">%s</th><td colspan="4"></td><td>%s</td><td colspan="2">%s</td><td>%.4f</td><td>%s</td></tr></tfoot>`,
		esc(p.t(text{"All blocks", "모든 블록"})), digits(std), digits(sep), float64(sep)/float64(std),
		esc(p.f(text{"%.1f× cheaper", "%.1f배 가벼움"}, float64(std)/float64(sep))))
	p.el("arch-blocks").SetInnerHTML(b.String())
}
