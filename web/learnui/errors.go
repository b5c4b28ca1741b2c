package learnui

import (
	"strconv"
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

// koRules word each kind of error in Korean. In a pattern, {} stands for
// any text up to what follows it (a trailing one: to the next ": " or the
// end), a trailing {*} for the rest of the message, and {1}, {2}… in the Korean put those texts back; a pattern
// matches the error's own phrase wherever it sits in a chain ("name:
// phrase: cause"). No regular expressions: their package and Unicode
// tables would add a third of a megabyte to the page's program.
var koRules = [][2]string{
	// Reading a model file (wasm/browser, core/format).
	{`could not fetch the model ({})`, `모델을 내려받지 못했습니다 ({1})`},
	{`TypeError: Failed to fetch`, `네트워크에 연결할 수 없습니다`},
	{`Failed to fetch`, `네트워크에 연결할 수 없습니다`},
	{`NetworkError{*}`, `네트워크에 연결할 수 없습니다`},
	{`the server answered HTTP {} {}`, `서버가 HTTP {1} 오류로 답했습니다`},
	{`the server answered HTTP {}`, `서버가 HTTP {1} 오류로 답했습니다`},
	{`the file is empty`, `파일이 비어 있습니다`},
	{`larger than {} MB, not a model Glimpse can load`, `{1} MB보다 커서 Glimpse가 불러올 수 있는 모델이 아닙니다`},
	{`not a Glimpse model file: magic "{}", want "{}"`, `Glimpse 모델 파일이 아닙니다 (첫 네 바이트가 "{2}"가 아니라 "{1}"입니다)`},
	{`truncated: {}`, `파일이 잘렸습니다 (끝까지 받지 못했거나 일부가 없습니다)`},
	{`header checksum mismatch: {}`, `헤더의 체크섬이 맞지 않습니다 (파일이 손상되었습니다)`},
	{`data checksum mismatch: {}`, `가중치의 체크섬이 맞지 않습니다 (가중치가 손상되었습니다)`},
	{`format version {} is newer than this reader supports ({}); a newer Glimpse can read it`, `파일 형식 버전 {1}은(는) 이 페이지가 읽을 수 있는 버전({2})보다 새롭습니다. 더 새로운 Glimpse가 읽을 수 있습니다`},
	{`version 0 is not a valid format version`, `버전 0은 올바른 파일 형식 버전이 아닙니다`},
	{`metadata key "{}"{}`, `메타데이터 "{1}"이(가) 올바르지 않습니다`},
	{`tensor "{}"{}`, `텐서 "{1}"이(가) 올바르지 않습니다`},
	{`the network has no value "{}"`, `신경망에 "{1}" 값이 없습니다`},
	{`this model was disposed`, `이 모델은 이미 닫혔습니다`},
	// Pictures (wasm/browser).
	{`the browser could not decode it ({})`, `브라우저가 사진으로 해독하지 못했습니다`},
	{`the {} is {}x{} pixels: nothing to see`, `사진이 {2}×{3} 픽셀이라 볼 것이 없습니다`},
	{`the {} is {}x{} pixels, more than the {} allowed`, `사진이 {2}×{3} 픽셀로, 허용되는 {4} 픽셀보다 큽니다`},
	// The camera (the browser's own error names).
	{`this browser has no OffscreenCanvas to read pixels with`, `이 브라우저에는 픽셀을 읽을 OffscreenCanvas가 없습니다`},
	{`NotAllowedError{*}`, `카메라 사용이 허락되지 않았습니다`},
	{`NotFoundError{*}`, `카메라를 찾지 못했습니다`},
	{`OverconstrainedError{*}`, `카메라를 찾지 못했습니다`},
	{`NotReadableError{*}`, `카메라를 다른 프로그램이 쓰고 있거나 켤 수 없습니다`},
	{`AbortError{*}`, `카메라를 다른 프로그램이 쓰고 있거나 켤 수 없습니다`},
	{`this browser gives no camera access here`, `이 브라우저는 여기서 카메라를 쓸 수 없게 합니다`},
	// Class activation maps (core/course).
	{`the camera sends no picture`, `카메라가 화면을 보내지 않습니다`},
	{`layer "{}": a class activation map follows ReLU only, not {}`, `"{1}" 층: 클래스 활성화 맵은 ReLU 뒤에서만 구할 수 있습니다 ({2} 뒤에서는 안 됩니다)`},
	{`layer "{}" has no weights`, `"{1}" 층에 가중치가 없습니다`},
	{`layer "{}" joins values that are not global average pools`, `"{1}" 층이 전역 평균 풀링이 아닌 값을 이어 붙입니다`},
	{`the classifier reads layer "{}", a {}, not a global average pool`, `분류기가 전역 평균 풀링이 아닌 "{1}" 층({2})을 읽습니다`},
	{`the classifier reads {} features, the pools give {}`, `분류기는 특징 {1}개를 읽는데 풀링은 {2}개를 줍니다`},
	{`the model has no classifier{*}`, `이 모델에는 분류기가 없습니다`},
	// The calculator (core/course).
	{`the classifier flattens a feature map{*}`, `분류기가 특징 맵을 평탄화합니다`},
	{`input size W={} is outside [1, {}]`, `입력 크기 W={1}은(는) 1부터 {2} 사이여야 합니다`},
	{`kernel size F={} is outside [1, {}]`, `커널 크기 F={1}은(는) 1부터 {2} 사이여야 합니다`},
	{`stride S={} is outside [1, {}]`, `스트라이드 S={1}은(는) 1부터 {2} 사이여야 합니다`},
	{`padding {},{} is outside [0, {}]`, `패딩 {1}은(는) 0부터 {3} 사이여야 합니다`},
	// What a lesson's guard reports.
	{`output cell {} is outside 0..{}`, `출력 칸 {1}은(는) 0부터 {2} 사이여야 합니다`},
	{`panic: `, `내부 오류: `},
}

// koError words an English error message in Korean. A message none of the
// rules words entirely is still shown, marked as the original English, so
// that nothing is hidden from the student.
func koError(msg string) string {
	ko := msg
	for _, r := range koRules {
		ko = rewrite(ko, r[0], r[1])
	}
	if hasEnglish(ko) {
		return "오류가 났습니다 (원문: " + strings.TrimSpace(msg) + ")"
	}
	return ko
}

// rewrite replaces every match of pattern in s with the Korean template.
func rewrite(s, pattern, ko string) string {
	pattern, rest := strings.CutSuffix(pattern, "{*}")
	lits := strings.Split(pattern, "{}")
	var b strings.Builder
	for {
		at := strings.Index(s, lits[0])
		if at < 0 {
			b.WriteString(s)
			return b.String()
		}
		caps, end, ok := match(s[at+len(lits[0]):], lits[1:])
		if !ok {
			b.WriteString(s[:at+len(lits[0])])
			s = s[at+len(lits[0]):]
			continue
		}
		b.WriteString(s[:at])
		out := ko
		for i, c := range caps {
			out = strings.ReplaceAll(out, "{"+strconv.Itoa(i+1)+"}", c)
		}
		b.WriteString(out)
		s = s[at+len(lits[0])+end:]
		if rest {
			s = ""
		}
	}
}

// match matches the captures and literals after a pattern's first literal
// at the start of s: each capture takes the text up to the next literal (a
// capture ending the pattern, to the next ": " or the end). It returns the
// captured texts and how much of s matched.
func match(s string, lits []string) ([]string, int, bool) {
	var caps []string
	off := 0
	for i, lit := range lits {
		rest := s[off:]
		var n int
		switch {
		case lit != "":
			n = strings.Index(rest, lit)
			if n < 0 {
				return nil, 0, false
			}
		case i == len(lits)-1:
			n = strings.Index(rest, ": ")
			if n < 0 {
				n = len(rest)
			}
		default:
			return nil, 0, false // two captures in a row
		}
		caps = append(caps, rest[:n])
		off += n + len(lit)
	}
	return caps, off, true
}

// hasEnglish finds English prose left in a message: three words of two or
// more ASCII letters in a row, each followed by a space (or a comma or
// semicolon and a space).
func hasEnglish(s string) bool {
	run := 0
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && (s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z') {
			j++
		}
		if j-i < 2 || i > 0 && isWordByte(s[i-1]) || j < len(s) && isWordByte(s[j]) {
			run = 0
			i = max(j, i+1)
			continue
		}
		run++
		if run == 3 {
			return true
		}
		if j < len(s) && (s[j] == ',' || s[j] == ';') {
			j++
		}
		if j < len(s) && s[j] == ' ' {
			i = j + 1
			continue
		}
		run = 0
		i = j
	}
	return false
}

// isWordByte: a byte that joins letters into a longer token (a digit, an
// underscore, a dot or a hyphen, as in a file name), or a UTF-8 byte.
func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c >= 0x80
}
