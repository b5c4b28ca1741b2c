//go:build js && wasm

package ui

import (
	"math"
	"strconv"
	"syscall/js"
)

// A class's samples show as a grid of thumbnails, newest first, each with
// its "Delete sample" button. Only the rows in sight of the list's scroll
// box (and one more each side) are in the document: the rest are two
// spacers of the rows' height (hidden from assistive technology), so the
// scroll bar and the scroll range are those of the whole grid. At 5,000 samples a full grid was 20,000 nodes, each
// button with its own listener, and collecting them took the page's
// thread for 58 ms while the camera ran; a window is a few dozen, and one
// listener per list serves every button in it. A screen reader hears each
// item's place in the whole list (aria-posinset of aria-setsize), Tab
// walks the buttons (the browser scrolls the focused one into sight,
// which brings the next row in), and deleting with the keyboard moves the
// focus to the sample that took the deleted one's place.

// thumbStep is a grid cell's pitch in CSS pixels: a 44-pixel thumbnail
// and the 2-pixel gap after it (app.css, .thumbs).
const (
	thumbStep = 46
	thumbGap  = 2
)

// thumbList is a class's grid of thumbnails.
type thumbList struct {
	a  *App
	c  *class
	ul js.Value
	// shown holds the item of every sample in the document; before and
	// after stand for the rows above and below them.
	shown         map[*sample]js.Value
	before, after js.Value
	// pending says a redraw is asked for at the next frame; focus, if not
	// -1, is the place whose button takes the focus after it. gone says
	// the card was removed.
	pending, gone bool
	focus         int
	// funcs are the list's listeners and the frame callback, released
	// with it.
	draw, onScroll, onClick, onResize js.Func
	observer                          js.Value
}

func newThumbList(a *App, c *class, ul js.Value) *thumbList {
	t := &thumbList{a: a, c: c, ul: ul, shown: map[*sample]js.Value{}, focus: -1}
	spacer := func() js.Value {
		li := a.doc.Underlying().Call("createElement", "li")
		li.Set("className", "spacer")
		li.Call("setAttribute", "aria-hidden", "true")
		li.Set("hidden", true)
		ul.Call("append", li)
		return li
	}
	t.before, t.after = spacer(), spacer()
	t.draw = js.FuncOf(func(js.Value, []js.Value) any { t.redraw(); return nil })
	t.onScroll = js.FuncOf(func(js.Value, []js.Value) any { t.update(); return nil })
	t.onResize = js.FuncOf(func(js.Value, []js.Value) any { t.update(); return nil })
	t.onClick = js.FuncOf(func(_ js.Value, args []js.Value) any {
		t.click(args[0])
		return nil
	})
	ul.Call("addEventListener", "scroll", t.onScroll, map[string]any{"passive": true})
	ul.Call("addEventListener", "click", t.onClick)
	if ro := js.Global().Get("ResizeObserver"); ro.Truthy() {
		t.observer = ro.New(t.onResize)
		t.observer.Call("observe", ul)
	}
	return t
}

// update asks for a redraw at the next frame (many changes in one task,
// such as a project of thousands of samples coming in, draw once).
func (t *thumbList) update() {
	if t.pending {
		return
	}
	t.pending = true
	js.Global().Call("requestAnimationFrame", t.draw)
}

// dispose stops the list's listeners; its card is gone.
func (t *thumbList) dispose() {
	if t.observer.Truthy() {
		t.observer.Call("disconnect")
	}
	t.ul.Call("removeEventListener", "scroll", t.onScroll)
	t.ul.Call("removeEventListener", "click", t.onClick)
	t.gone = true
	if !t.pending { // else the frame callback still comes, and releases
		t.release()
	}
}

func (t *thumbList) release() {
	t.draw.Release()
	t.onScroll.Release()
	t.onClick.Release()
	t.onResize.Release()
}

// at returns the sample at place i of the grid (0 is the newest).
func (t *thumbList) at(i int) *sample { return t.c.samples[len(t.c.samples)-1-i] }

// window returns the places [from, to) in the document and the grid's
// columns and rows.
func (t *thumbList) window() (from, to, cols, rows int) {
	n := len(t.c.samples)
	width := t.ul.Get("clientWidth").Int()
	height := t.ul.Get("clientHeight").Int()
	if width == 0 || height == 0 {
		// Not laid out (the app is still hidden): a first screenful; the
		// resize observer redraws once the list has a size.
		return 0, min(n, 32), 1, n
	}
	cols = max(1, (width+thumbGap)/thumbStep)
	rows = (n + cols - 1) / cols
	top := t.ul.Get("scrollTop").Float()
	first := max(0, int(top/thumbStep)-1)
	last := min(rows, int(math.Ceil((top+float64(height))/thumbStep))+1)
	return min(n, first*cols), min(n, last*cols), cols, rows
}

func (t *thumbList) redraw() {
	t.pending = false
	if t.gone {
		t.release()
		return
	}
	n := len(t.c.samples)
	from, to, cols, rows := t.window()
	want := make(map[*sample]bool, to-from)
	for i := from; i < to; i++ {
		want[t.at(i)] = true
	}
	for s, li := range t.shown {
		if !want[s] {
			li.Call("remove")
			delete(t.shown, s)
		}
	}
	// The rows above and below the window: a spacer a whole line wide,
	// followed by the grid's gap like a row of thumbnails.
	firstRow, lastRow := from/max(cols, 1), (to+cols-1)/max(cols, 1)
	space := func(li js.Value, rows int) {
		li.Set("hidden", rows == 0)
		li.Get("style").Set("height", strconv.Itoa(max(0, rows*thumbStep-thumbGap))+"px")
	}
	space(t.before, firstRow)
	space(t.after, max(0, rows-lastRow))
	// Items in order between the spacers, the ones already there kept (a
	// focused button stays focused) and the new ones put in their places.
	next := t.before.Get("nextElementSibling")
	setSize := strconv.Itoa(n)
	for i := from; i < to; i++ {
		s := t.at(i)
		li, ok := t.shown[s]
		if !ok {
			li = t.item(s)
			t.shown[s] = li
		}
		li.Call("setAttribute", "aria-setsize", setSize)
		li.Call("setAttribute", "aria-posinset", strconv.Itoa(i+1))
		if next.Truthy() && li.Equal(next) {
			next = next.Get("nextElementSibling")
		} else {
			t.ul.Call("insertBefore", li, next)
		}
	}
	if t.focus >= 0 {
		if n > 0 {
			if li, ok := t.shown[t.at(min(t.focus, n-1))]; ok {
				li.Get("lastElementChild").Call("focus")
			}
		}
		t.focus = -1
	}
}

// item makes a sample's list item: its thumbnail and its "Delete sample"
// button, which names the sample by id for the list's one click listener.
func (t *thumbList) item(s *sample) js.Value {
	doc := t.a.doc.Underlying()
	li := doc.Call("createElement", "li")
	img := doc.Call("createElement", "img")
	img.Call("setAttribute", "alt", "")
	img.Set("src", s.thumb)
	del := doc.Call("createElement", "button")
	del.Call("setAttribute", "type", "button")
	label := tr("Delete sample", "샘플 삭제")
	del.Call("setAttribute", "aria-label", label)
	del.Call("setAttribute", "title", label)
	del.Get("dataset").Set("sample", s.id)
	del.Set("textContent", "✕")
	li.Call("append", img, del)
	return li
}

// click deletes the sample whose button was clicked.
func (t *thumbList) click(ev js.Value) {
	b := ev.Get("target").Call("closest", "button[data-sample]")
	if !b.Truthy() {
		return
	}
	id, err := strconv.Atoi(b.Get("dataset").Get("sample").String())
	if err != nil {
		return
	}
	for i := range t.c.samples {
		s := t.at(i)
		if s.id != id {
			continue
		}
		if b.Equal(t.a.doc.Underlying().Get("activeElement")) {
			t.focus = i
		}
		t.a.deleteSamples(t.c, []*sample{s})
		return
	}
}
