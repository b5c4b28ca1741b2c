package learnui

import (
	"regexp"
	"strings"
)

// The core, the model file reader and the browser runtime word their
// errors in English, for the command line and the JavaScript API. A
// student reading the course in Korean sees them in Korean: errText words
// each kind of error the page can meet (a file that is not a model, a
// truncated or corrupt one, a failed download, a picture with no pixels,
// a layer that has no class activation map, numbers that make no layer)
// in Korean, keeping the file names and numbers it names. The messages'
// English phrasing is the contract these patterns follow; a test loads
// bad files under Korean and finds no English in what it shows.

// koRule rewrites one kind of error; the pattern matches the error's own
// phrase wherever it sits in a chain ("name: phrase: cause").
type koRule struct {
	re *regexp.Regexp
	ko string
}

var koRules = func() []koRule {
	rules := [][2]string{
		// Reading a model file (wasm/browser, core/format).
		{`could not fetch the model \(([^()]*)\)`, `모델을 내려받지 못했습니다 (${1})`},
		{`TypeError: Failed to fetch|Failed to fetch|NetworkError[^)]*`, `네트워크에 연결할 수 없습니다`},
		{`the server answered HTTP (\d+)[^:]*`, `서버가 HTTP ${1} 오류로 답했습니다`},
		{`the file is empty`, `파일이 비어 있습니다`},
		{`larger than (\d+) MB, not a model Glimpse can load`, `${1} MB보다 커서 Glimpse가 불러올 수 있는 모델이 아닙니다`},
		{`not a Glimpse model file: magic "([^"]*)", want "([^"]*)"`, `Glimpse 모델 파일이 아닙니다 (첫 네 바이트가 "${2}"가 아니라 "${1}"입니다)`},
		{`truncated: [^:]*`, `파일이 잘렸습니다 (끝까지 받지 못했거나 일부가 없습니다)`},
		{`header checksum mismatch: [^:]*`, `헤더의 체크섬이 맞지 않습니다 (파일이 손상되었습니다)`},
		{`data checksum mismatch: [^:]*`, `가중치의 체크섬이 맞지 않습니다 (가중치가 손상되었습니다)`},
		{`format version (\d+) is newer than this reader supports \((\d+)\); a newer Glimpse can read it`,
			`파일 형식 버전 ${1}은(는) 이 페이지가 읽을 수 있는 버전(${2})보다 새롭습니다. 더 새로운 Glimpse가 읽을 수 있습니다`},
		{`version 0 is not a valid format version`, `버전 0은 올바른 파일 형식 버전이 아닙니다`},
		{`metadata key "([^"]*)"[^:]*`, `메타데이터 "${1}"이(가) 올바르지 않습니다`},
		{`tensor "([^"]*)"[^:]*`, `텐서 "${1}"이(가) 올바르지 않습니다`},
		{`the network has no value "([^"]*)"`, `신경망에 "${1}" 값이 없습니다`},
		{`this model was disposed`, `이 모델은 이미 닫혔습니다`},
		// Pictures (wasm/browser).
		{`the browser could not decode it \([^)]*\)`, `브라우저가 사진으로 해독하지 못했습니다`},
		{`the (?:image|video|canvas|ImageBitmap|picture) is (\d+)x(\d+) pixels: nothing to see`, `사진이 ${1}×${2} 픽셀이라 볼 것이 없습니다`},
		{`the (?:image|video|canvas|ImageBitmap|picture) is (\d+)x(\d+) pixels, more than the (\d+) allowed`, `사진이 ${1}×${2} 픽셀로, 허용되는 ${3} 픽셀보다 큽니다`},
		{`this browser has no OffscreenCanvas to read pixels with`, `이 브라우저에는 픽셀을 읽을 OffscreenCanvas가 없습니다`},
		// The camera (the browser's own error names).
		{`NotAllowedError[^.]*`, `카메라 사용이 허락되지 않았습니다`},
		{`NotFoundError[^.]*|OverconstrainedError[^.]*`, `카메라를 찾지 못했습니다`},
		{`NotReadableError[^.]*|AbortError[^.]*`, `카메라를 다른 프로그램이 쓰고 있거나 켤 수 없습니다`},
		{`this browser gives no camera access here`, `이 브라우저는 여기서 카메라를 쓸 수 없게 합니다`},
		{`the camera sends no picture`, `카메라가 화면을 보내지 않습니다`},
		// Class activation maps (core/course).
		{`layer "([^"]*)": a class activation map follows ReLU only, not (\w+)`, `"${1}" 층: 클래스 활성화 맵은 ReLU 뒤에서만 구할 수 있습니다 (${2} 뒤에서는 안 됩니다)`},
		{`layer "([^"]*)" has no weights`, `"${1}" 층에 가중치가 없습니다`},
		{`layer "([^"]*)" joins values that are not global average pools`, `"${1}" 층이 전역 평균 풀링이 아닌 값을 이어 붙입니다`},
		{`the classifier reads layer "([^"]*)", a (\w+), not a global average pool`, `분류기가 전역 평균 풀링이 아닌 "${1}" 층(${2})을 읽습니다`},
		{`the classifier reads (\d+) features, the pools give (\d+)`, `분류기는 특징 ${1}개를 읽는데 풀링은 ${2}개를 줍니다`},
		{`the model has no classifier[^.]*`, `이 모델에는 분류기가 없습니다`},
		{`the classifier flattens a feature map[^.]*`, `분류기가 특징 맵을 평탄화합니다`},
		// The calculator (core/course).
		{`input size W=(-?\d+) is outside \[1, (\d+)\]`, `입력 크기 W=${1}은(는) 1부터 ${2} 사이여야 합니다`},
		{`kernel size F=(-?\d+) is outside \[1, (\d+)\]`, `커널 크기 F=${1}은(는) 1부터 ${2} 사이여야 합니다`},
		{`stride S=(-?\d+) is outside \[1, (\d+)\]`, `스트라이드 S=${1}은(는) 1부터 ${2} 사이여야 합니다`},
		{`padding (-?\d+),(-?\d+) is outside \[0, (\d+)\]`, `패딩 ${1}은(는) 0부터 ${3} 사이여야 합니다`},
		{`output cell (-?\d+) is outside 0\.\.(-?\d+)`, `출력 칸 ${1}은(는) 0부터 ${2} 사이여야 합니다`},
		// What a lesson's guard reports.
		{`^panic: `, `내부 오류: `},
	}
	out := make([]koRule, len(rules))
	for i, r := range rules {
		out[i] = koRule{regexp.MustCompile(r[0]), r[1]}
	}
	return out
}()

// english finds English prose left in a message: three words in a row.
var english = regexp.MustCompile(`[A-Za-z]{2,}[,;]? [A-Za-z]{2,}[,;]? [A-Za-z]{2,}`)

// koError words an English error message in Korean. A message none of the
// rules words entirely is still shown, marked as the original English, so
// that nothing is hidden from the student.
func koError(msg string) string {
	ko := msg
	for _, r := range koRules {
		ko = r.re.ReplaceAllString(ko, r.ko)
	}
	if english.MatchString(ko) {
		return "오류가 났습니다 (원문: " + strings.TrimSpace(msg) + ")"
	}
	return ko
}
