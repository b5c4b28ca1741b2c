//go:build js && wasm

package ui

import (
	"fmt"
	"syscall/js"
)

// The app speaks Korean and English. The page's own text carries both
// (web/app/lang.js swaps it); what this package writes picks its language
// here, from <html lang>, which lang.js sets from the reader's choice or
// the browser's languages.

// korean reports whether the page shows Korean.
func korean() bool {
	return js.Global().Get("document").Get("documentElement").Get("lang").String() == "ko"
}

// tr picks the reader's language.
func tr(en, ko string) string {
	if korean() {
		return ko
	}
	return en
}

// trf formats in the reader's language.
func trf(en, ko string, args ...any) string { return fmt.Sprintf(tr(en, ko), args...) }

// nouns are the Korean for the nouns plural counts.
var nouns = map[string]string{"sample": "샘플", "class": "클래스", "image": "사진"}

// plural counts a noun: "1 sample", "3 samples"; in Korean "샘플 3개".
func plural(n int, one string) string {
	if korean() {
		if ko, ok := nouns[one]; ok {
			return fmt.Sprintf("%s %d개", ko, n)
		}
	}
	if n == 1 {
		return "1 " + one
	}
	if one == "class" {
		return fmt.Sprintf("%d classes", n)
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// relabel rewrites what this package wrote once the reader switches
// language: the counts, the buttons, the predictions' state.
func (a *App) relabel() {
	for _, c := range a.classes {
		a.updateCount(c)
		if a.cam.recording != c {
			c.record.SetTextContent(tr("Hold to record", "누르고 있는 동안 녹화"))
		}
	}
	if !a.training {
		a.button("train").SetTextContent(tr("Train", "학습"))
	}
	if a.info.Architecture != "" {
		a.status(trf("Ready. Model: %s, kernels: %s.", "준비되었습니다. 모델: %s, 커널: %s.", a.info.Architecture, a.info.Kernels))
	}
}
