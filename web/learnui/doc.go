// Package learnui is the course page's interface, "Inside the CNN",
// written in Go on honnef.co/go/js/dom/v2 and compiled to WebAssembly
// (wasm/learn). The page's HTML, CSS and the course text in Korean and
// English are static (web/learn); this package fills in what is computed
// and wires up the controls, one file per lesson.
//
// No math lives here: output sizes, receptive fields, tables, separable
// blocks, the toy classifier, pooling and softmax come from core/course,
// architectures from models. This package only words and draws them, in
// the language the reader chose.
package learnui
