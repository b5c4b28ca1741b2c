//go:build js && wasm

package browser

import (
	"errors"
	"syscall/js"
	"time"
)

// Go under WebAssembly runs on one thread, the page's (or the Worker's):
// while Go computes, the browser neither paints nor answers clicks. Long
// work therefore runs on a goroutine that regularly blocks on the browser
// with one of these, and the browser runs its pending work in between.
// They block the calling goroutine, so never call them from a JavaScript
// callback directly (js.FuncOf): start a goroutine, or use Promise.

// Await blocks until the promise settles and gives its value, or its
// rejection as an error.
func Await(p js.Value) (js.Value, error) {
	type result struct {
		v   js.Value
		err error
	}
	ch := make(chan result, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any {
		v := js.Undefined()
		if len(a) > 0 {
			v = a[0]
		}
		ch <- result{v: v}
		return nil
	})
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "unknown error"
		if len(a) > 0 {
			msg = ErrorText(a[0])
		}
		ch <- result{err: errors.New(msg)}
		return nil
	})
	p.Call("then", ok, fail)
	r := <-ch
	ok.Release()
	fail.Release()
	return r.v, r.err
}

// Sleep yields to the browser for ms milliseconds.
func Sleep(ms int) {
	ch := make(chan struct{})
	f := js.FuncOf(func(js.Value, []js.Value) any { close(ch); return nil })
	js.Global().Call("setTimeout", f, ms)
	<-ch
	f.Release()
}

// Yield lets the browser run what is pending (painting, input, the page's
// promises and timers) and comes back at its next task.
//
// It posts itself a message (a MessageChannel), not a zero timeout:
// browsers hold a timeout set from within timeouts to at least 4 ms, and
// training yields after every epoch, so 200 epochs waited 0.8 s for
// nothing. A message task is queued at once, and the browser still runs
// what is pending, painting included when a frame is due, before it.
// Where there is no MessageChannel it sleeps 0 ms.
func Yield() {
	mc := js.Global().Get("MessageChannel")
	if !mc.Truthy() {
		Sleep(0)
		return
	}
	ch := make(chan struct{})
	f := js.FuncOf(func(js.Value, []js.Value) any { close(ch); return nil })
	c := mc.New()
	port := c.Get("port1")
	port.Set("onmessage", f)
	c.Get("port2").Call("postMessage", nil)
	<-ch
	port.Call("close")
	f.Release()
}

// NextFrame waits for the browser's next animation frame.
func NextFrame() {
	ch := make(chan struct{})
	f := js.FuncOf(func(js.Value, []js.Value) any { close(ch); return nil })
	js.Global().Call("requestAnimationFrame", f)
	<-ch
	f.Release()
}

// PaceInterval is how much work a Pacer lets pass between yields: short
// enough that a page stays responsive (a frame is 16 ms, a click feels
// instant under 100), long enough that yielding costs little.
const PaceInterval = 50 * time.Millisecond

// Pacer yields to the browser whenever Every (PaceInterval when zero) has
// passed since it last did: call Pace between the steps of a long loop.
// The zero value is ready. A page's own thread, where a task over 50 ms
// is a stall, paces more often than a Worker need.
type Pacer struct {
	Every time.Duration
	last  time.Time
}

// Pace yields if the interval has passed since the last yield.
func (p *Pacer) Pace() {
	if p.last.IsZero() {
		p.last = time.Now()
	}
	every := p.Every
	if every == 0 {
		every = PaceInterval
	}
	if time.Since(p.last) >= every {
		Yield()
		p.last = time.Now()
	}
}

// Yielded tells the pacer that the caller just yielded by other means.
func (p *Pacer) Yielded() { p.last = time.Now() }
