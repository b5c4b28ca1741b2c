//go:build js && wasm

package appworker

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"syscall/js"
	"time"

	"github.com/glimpse-ml/glimpse/core/train"
	"github.com/glimpse-ml/glimpse/wasm/browser"
)

// Worker is the page's side of the app's Worker. Each method posts one
// request and blocks the calling goroutine until its answer arrives, so
// call them from goroutines, never from an event handler directly
// (SetHead excepted).
type Worker struct {
	w       js.Value
	mu      sync.Mutex
	next    int
	pending map[int]*mailbox
	ready   chan struct{} // closed once the Worker listens, or is gone
	gone    error         // why the Worker cannot answer, once it cannot
}

// Start takes the Worker that web/app/app.js started (app-worker.js) and
// listens to it, first hearing said, an array of the messages it posted
// before (app.js keeps them: a message with no listener is lost). The
// Worker says when it is ready; requests made before wait for it.
func Start(w, said js.Value) *Worker {
	c := &Worker{w: w, pending: map[int]*mailbox{}, ready: make(chan struct{})}
	w.Set("onmessage", js.FuncOf(func(_ js.Value, a []js.Value) any {
		c.receive(a[0].Get("data"))
		return nil
	}))
	w.Set("onerror", js.FuncOf(func(_ js.Value, a []js.Value) any {
		a[0].Call("preventDefault")
		msg := a[0].Get("message")
		why := "it could not be started"
		if msg.Type() == js.TypeString && msg.String() != "" {
			why = msg.String()
		}
		c.stop(fmt.Errorf("the app's worker failed: %s", why))
		return nil
	}))
	if said.Type() == js.TypeObject {
		for i := range said.Length() {
			c.receive(said.Index(i))
		}
		said.Set("length", 0)
	}
	return c
}

// receive routes a message: the Worker's readiness or failure, or an
// event or the answer of a request.
func (c *Worker) receive(m js.Value) {
	switch {
	case m.Get("ready").Truthy():
		c.mu.Lock()
		select {
		case <-c.ready:
		default:
			close(c.ready)
		}
		c.mu.Unlock()
		return
	case m.Get("failed").Type() == js.TypeString:
		c.stop(fmt.Errorf("the app's worker could not start: %s", m.Get("failed").String()))
		return
	case m.Get("stopped").Truthy():
		c.stop(errors.New("the app's worker stopped: reload the page"))
		return
	case m.Get("id").Type() != js.TypeNumber:
		return
	}
	id := m.Get("id").Int()
	c.mu.Lock()
	box := c.pending[id]
	if box != nil && m.Get("event").IsUndefined() {
		delete(c.pending, id)
	}
	c.mu.Unlock()
	if box != nil {
		box.put(m)
	}
}

// stop fails every request waiting and every later one with err.
func (c *Worker) stop(err error) {
	c.mu.Lock()
	if c.gone == nil {
		c.gone = err
	}
	select {
	case <-c.ready:
	default:
		close(c.ready)
	}
	boxes := c.pending
	c.pending = map[int]*mailbox{}
	c.mu.Unlock()
	for _, b := range boxes {
		b.put(js.ValueOf(map[string]any{"error": err.Error()}))
	}
}

// post sends a request now and returns where its events and answer
// arrive. Anything in transfer (ImageBitmaps, buffers) moves to the
// Worker.
func (c *Worker) post(op string, args map[string]any, transfer ...any) *mailbox {
	box := newMailbox()
	c.mu.Lock()
	if c.gone != nil {
		err := c.gone
		c.mu.Unlock()
		box.put(js.ValueOf(map[string]any{"error": err.Error()}))
		return box
	}
	c.next++
	id := c.next
	c.pending[id] = box
	c.mu.Unlock()
	args["id"], args["op"] = id, op
	c.w.Call("postMessage", args, transfer)
	return box
}

// call posts a request once the Worker listens and waits for its answer,
// handing each event to onEvent.
func (c *Worker) call(op string, args map[string]any, onEvent func(js.Value), transfer ...any) (js.Value, error) {
	<-c.ready
	return wait(c.post(op, args, transfer...), onEvent)
}

func wait(box *mailbox, onEvent func(js.Value)) (js.Value, error) {
	for {
		m := box.take()
		if ev := m.Get("event"); !ev.IsUndefined() {
			if onEvent != nil {
				onEvent(ev)
			}
			continue
		}
		if e := m.Get("error"); e.Type() == js.TypeString {
			return js.Undefined(), errors.New(e.String())
		}
		return m.Get("value"), nil
	}
}

// Info is what the app needs to know of its model.
type Info struct {
	Architecture, Kernels string
	// Hash names the backbone's file and Preprocess its pictures' rule:
	// what a saved project records its samples were embedded with.
	Hash, Preprocess string
	// EmbeddingSize is the length of a sample's embedding: the features
	// the head preset reads (the backbone's embedding, of
	// BackboneEmbeddingSize values, or multi-level features).
	EmbeddingSize, BackboneEmbeddingSize int
	// SingleLevel says the preset reads multi-level features but the
	// backbone gives none (AlexNet and VGG16 flatten their last map: no
	// global average pool to take the level below from), so its samples
	// are the embedding alone and its head must be trained so.
	SingleLevel bool
}

// Load loads the model at url (relative to the page; errors call it
// name) for heads of the preset (see train.Preset), reporting the
// fraction downloaded.
func (c *Worker) Load(url, name, preset string, progress func(float64)) (Info, error) {
	abs := js.Global().Get("URL").New(url, js.Global().Get("location").Get("href")).Get("href")
	v, err := c.call("load", map[string]any{"name": name, "url": abs, "preset": preset}, func(e js.Value) {
		if progress != nil {
			progress(e.Float())
		}
	})
	if err != nil {
		return Info{}, err
	}
	return Info{
		Architecture: v.Get("architecture").String(), Kernels: v.Get("kernels").String(),
		Hash: v.Get("hash").String(), Preprocess: v.Get("preprocess").String(),
		EmbeddingSize: v.Get("embeddingSize").Int(), BackboneEmbeddingSize: v.Get("backboneEmbeddingSize").Int(),
		SingleLevel: v.Get("singleLevel").Bool(),
	}, nil
}

// Embedding is a picture's embedding, its augmented views' and, when
// asked and the Worker has a head, the head's probabilities for it.
type Embedding struct {
	Embedding     []float32
	Views         [][]float32
	Probabilities []float64 // nil without a head
	Where         string    // the kind of global scope that embedded it
}

// Embed embeds picture, an ImageBitmap, which is transferred (the page
// cannot use it afterwards): with views augmented views, drawn for sample
// number index, and with predict the head's probabilities.
func (c *Worker) Embed(picture js.Value, views, index int, predict bool) (Embedding, error) {
	v, err := c.call("embed", map[string]any{"picture": picture, "views": views, "index": index, "predict": predict}, nil, picture)
	if err != nil {
		return Embedding{}, err
	}
	e, _ := fromJS[float32](v.Get("embedding"))
	out := Embedding{Embedding: e, Where: v.Get("where").String()}
	vs := v.Get("views")
	for i := range vs.Length() {
		x, _ := fromJS[float32](vs.Index(i))
		out.Views = append(out.Views, x)
	}
	if p, ok := fromJS[float64](v.Get("probabilities")); ok {
		out.Probabilities = p
	}
	return out, nil
}

// SetHead makes head (project.EncodeHead's bytes; nil for none) the one
// live pictures are judged by. Call it once Load has answered. It posts at
// once, so that every picture embedded after it sees it, and so may be
// called from an event handler; the Worker's answer comes through the
// returned function, which blocks.
func (c *Worker) SetHead(head []byte) (wait func() error) {
	b := js.Null()
	if head != nil {
		b = browser.BytesToJS(head)
	}
	box := c.post("head", map[string]any{"head": b})
	return func() error { _, err := waitBox(box); return err }
}

func waitBox(box *mailbox) (js.Value, error) { return wait(box, nil) }

// Samples are what a head trains on, gathered straight into the typed
// arrays the Worker receives (no copy of them is made in Go, whose
// collector would then scan a heap tens of megabytes larger): every
// example's embedding with its class, and the augmented views' with the
// example each belongs to, in order.
type Samples struct {
	classes              []any
	dim, n, nViews       int
	examples, views      js.Value // Uint8Array views of Float32Arrays' buffers
	exampleClass, viewOf js.Value // Int32Array
}

// NewSamples makes room for examples examples and views views of dim
// features each, of the named classes.
func NewSamples(classes []string, dim, examples, views int) *Samples {
	s := &Samples{dim: dim}
	for _, c := range classes {
		s.classes = append(s.classes, c)
	}
	u8, i32 := js.Global().Get("Uint8Array"), js.Global().Get("Int32Array")
	s.examples, s.exampleClass = u8.New(4*dim*examples), i32.New(examples)
	s.views, s.viewOf = u8.New(4*dim*views), i32.New(views)
	return s
}

// Add adds an example of class number class (into the classes' list).
func (s *Samples) Add(embedding []float32, class int) error {
	if len(embedding) != s.dim || s.n >= s.exampleClass.Length() {
		return fmt.Errorf("a sample has %d features, the model gives %d", len(embedding), s.dim)
	}
	off := 4 * s.dim * s.n
	js.CopyBytesToJS(s.examples.Call("subarray", off, off+4*s.dim), bytesOf(embedding))
	s.exampleClass.SetIndex(s.n, class)
	s.n++
	return nil
}

// AddView adds an augmented view of the last example added.
func (s *Samples) AddView(view []float32) error {
	if len(view) != s.dim || s.n == 0 || s.nViews >= s.viewOf.Length() {
		return fmt.Errorf("an augmented view has %d features, the model gives %d", len(view), s.dim)
	}
	off := 4 * s.dim * s.nViews
	js.CopyBytesToJS(s.views.Call("subarray", off, off+4*s.dim), bytesOf(view))
	s.viewOf.SetIndex(s.nViews, s.n-1)
	s.nViews++
	return nil
}

// Len is the number of rows training sees: examples and views.
func (s *Samples) Len() int { return s.n + s.nViews }

// Trained is what training gives back.
type Trained struct {
	Head       []byte // project.EncodeHead's bytes
	Train      int    // rows trained on
	Validation int    // examples validated on
	Stopped    string // why training ended early, or ""
	Confusion  [][]int
	Where      string // the kind of global scope that trained
}

// Train trains a head of config cfg on the samples in the Worker, which
// predicts with it from then on; onEpochs hears every epoch, in order, in
// batches of those that finished since the last (a fraction of a second
// of training each), so that the page repaints its progress once a batch.
// The samples' arrays move to the Worker: s cannot be used again.
func (c *Worker) Train(cfg train.Config, s *Samples, onEpochs func([]train.Epoch)) (Trained, error) {
	conf, err := json.Marshal(cfg)
	if err != nil {
		return Trained{}, err
	}
	f32 := js.Global().Get("Float32Array")
	x := f32.New(s.examples.Get("buffer"), 0, s.n*s.dim)
	vx := f32.New(s.views.Get("buffer"), 0, s.nViews*s.dim)
	cls, of := s.exampleClass.Call("subarray", 0, s.n), s.viewOf.Call("subarray", 0, s.nViews)
	v, err := c.call("train", map[string]any{
		"config": string(conf), "classes": s.classes, "examples": x, "exampleClass": cls, "views": vx, "viewOf": of,
	}, func(batch js.Value) {
		if onEpochs == nil {
			return
		}
		es := make([]train.Epoch, batch.Length())
		for i := range es {
			e := batch.Index(i)
			es[i] = train.Epoch{
				Epoch: e.Get("epoch").Int(), Epochs: e.Get("epochs").Int(), Loss: e.Get("loss").Float(),
				Accuracy: e.Get("accuracy").Float(), HasValidation: e.Get("hasValidation").Bool(),
				ValLoss: e.Get("valLoss").Float(), ValAccuracy: e.Get("valAccuracy").Float(),
			}
		}
		onEpochs(es)
	}, x.Get("buffer"), cls.Get("buffer"), vx.Get("buffer"), of.Get("buffer"))
	if err != nil {
		return Trained{}, err
	}
	head, err := browser.BytesFromJS(v.Get("head"))
	if err != nil {
		return Trained{}, err
	}
	t := Trained{Head: head, Train: v.Get("train").Int(), Validation: v.Get("validation").Int(),
		Stopped: v.Get("stopped").String(), Where: v.Get("where").String()}
	m := v.Get("confusion")
	for i := range m.Length() {
		row := make([]int, m.Index(i).Length())
		for j := range row {
			row[j] = m.Index(i).Index(j).Int()
		}
		t.Confusion = append(t.Confusion, row)
	}
	return t, nil
}

// Export returns the backbone with head on top as one Glimpse model file.
func (c *Worker) Export(head []byte) ([]byte, error) {
	v, err := c.call("export", map[string]any{"head": browser.BytesToJS(head)}, nil)
	if err != nil {
		return nil, err
	}
	return browser.BytesFromJS(v)
}

// ExportTeachable returns the backbone with head on top as Teachable
// Machine's zip, its files dated at.
func (c *Worker) ExportTeachable(head []byte, at time.Time) ([]byte, error) {
	v, err := c.call("teachable", map[string]any{"head": browser.BytesToJS(head), "time": float64(at.UnixMilli())}, nil)
	if err != nil {
		return nil, err
	}
	return browser.BytesFromJS(v)
}
