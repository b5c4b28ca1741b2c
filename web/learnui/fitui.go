//go:build js && wasm

package learnui

import (
	"syscall/js"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/wasm/browser"
)

// inspectBlob reads a model file's header from the start of a Blob (1 MB,
// then more if the header is longer), without reading its weights.
func inspectBlob(name string, blob js.Value, size int64) (*format.Info, error) {
	for n := min(int64(1<<20), size); ; n = min(4*n, size) {
		ab, err := browser.Await(blob.Call("slice", 0, n).Call("arrayBuffer"))
		if err != nil {
			return nil, err
		}
		r := &prefixReader{b: make([]byte, n)}
		js.CopyBytesToGo(r.b, js.Global().Get("Uint8Array").New(ab))
		info, err := format.Inspect(r, size, name)
		if err == nil || !r.short || n == size || n >= 64<<20 {
			return info, err
		}
	}
}

// budget is what this page may use for a model here: 4 GiB of WebAssembly
// memory less what the program holds, half the memory the device reports
// (navigator.deviceMemory, Chromium), and the browser's heap limit for the
// page (performance.memory, Chromium), whichever is least.
func (p *Page) budget() budget {
	heap := int64(0)
	if m := js.Global().Get("performance").Get("memory"); m.Truthy() && m.Get("jsHeapSizeLimit").Type() == js.TypeNumber {
		heap = int64(m.Get("jsHeapSizeLimit").Float())
	}
	return budgetOf(int64(browser.ReadStats().Sys), deviceBytes(), heap)
}

// fits checks a model file before it is read and says plainly when it
// will not fit; it reports whether to go on.
func (p *Page) fits(name string, blob js.Value) bool {
	size := int64(blob.Get("size").Float())
	if size > browser.MaxModelBytes {
		p.message("live-status", text{"%s is %s: larger than any model this page can load (%d MB). A network stored in 32-bit numbers takes half the space in 16 (glimpse convert --dtype f16).",
			"%s 파일은 %s로, 이 페이지가 불러올 수 있는 모델(%d MB)보다 큽니다. 32비트로 저장한 신경망은 16비트로 저장하면 절반이 됩니다(glimpse convert --dtype f16)."},
			name, megabytes(size), browser.MaxModelBytes>>20)
		p.stats.Set("liveRefused", true)
		return false
	}
	info, err := inspectBlob(name, blob, size)
	if err != nil {
		p.message("live-status", text{"The model could not be loaded: %v", "모델을 불러오지 못했습니다: %v"}, p.errText(err))
		p.stats.Set("liveError", err.Error())
		return false
	}
	n, b := needOf(info, size), p.budget()
	p.stats.Set("liveNeed", float64(n.Total))
	p.stats.Set("liveBudget", float64(b.Limit))
	if n.Total <= b.Limit {
		p.message("live-status", text{"Loading %s: %s weights, about %s of memory once loaded (this page can use %s here)…",
			"%s 불러오는 중: 가중치 %s개, 불러오면 메모리 약 %s (이 페이지가 여기서 쓸 수 있는 메모리는 %s)…"},
			name, digits(n.Params), megabytes(n.Total), megabytes(b.Limit))
		return true
	}
	var why string
	switch b.By {
	case "device":
		why = p.f(text{"this device reports %s of memory, and a page should use at most half of it",
			"이 기기의 메모리는 %s이고, 한 페이지는 그 절반까지만 써야 합니다"}, megabytes(b.Device))
	case "heap":
		why = p.t(text{"that is all the browser allows this page", "이 브라우저가 이 페이지에 허락하는 만큼입니다"})
	default:
		why = p.t(text{"a WebAssembly program can address at most 4 GB, and the page holds some of it already",
			"WebAssembly 프로그램은 최대 4 GB만 쓸 수 있고, 그중 일부는 이미 쓰고 있습니다"})
	}
	p.message("live-status", text{"%s will not fit on this device. Its %s weights take %s as 32-bit numbers, held twice once loaded (as read, and arranged for the kernels), plus the file itself (%s) while it is read: about %s in all. This page can use about %s here: %s. Choose a smaller network, such as MobileNetV2.",
		"%s은(는) 이 기기에 들어가지 않습니다. 가중치 %s개는 32비트로 %s이고, 불러오면 두 벌(읽은 그대로, 커널에 맞게 배열한 것)에 읽는 동안의 파일(%s)까지 모두 약 %s가 필요합니다. 이 페이지가 여기서 쓸 수 있는 메모리는 약 %s입니다: %s. MobileNetV2처럼 더 작은 신경망을 고르세요."},
		name, digits(n.Params), megabytes(n.Weights), megabytes(n.File), megabytes(n.Total), megabytes(b.Limit), why)
	p.stats.Set("liveRefused", true)
	return false
}
