//go:build js && wasm

// Command lenet is the LeNet-5 page (lenet.html): it trains LeNet-5 from
// scratch on MNIST in the browser, on core/scratch over the WebAssembly
// SIMD kernels, and reads digits drawn on the page's pad with the shipped
// model or the one just trained. It is a program of its own
// (dist/lenet.wasm), so neither training nor the digits weigh on
// glimpse.wasm. It stands on the browser runtime (wasm/browser) for
// fetching, pixels, yielding and the error boundary; the page's script
// (web/lenet/lenet.js) only draws. Its functions are on
// globalThis.glimpseLenet.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"syscall/js"
	"time"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/scratch"
	"github.com/glimpse-ml/glimpse/models"
	"github.com/glimpse-ml/glimpse/wasm/browser"
)

var digits = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

type page struct {
	rt          *browser.Runtime
	train, test *digitSet
	shipped     *scratch.Net
	net         *scratch.Net // the network being (or last) trained
	trainer     *scratch.Trainer
	running     bool
	paused      bool
}

func main() {
	p := &page{rt: browser.New()}
	api := js.Global().Get("Object").New()
	fn := func(name string, f func(args []js.Value) js.Value) {
		api.Set(name, js.FuncOf(func(_ js.Value, a []js.Value) any { return f(a) }))
	}
	fn("kernels", func([]js.Value) js.Value { return js.ValueOf(browser.Kernels()) })
	fn("loadModel", func(a []js.Value) js.Value {
		return browser.Promise(func() (any, error) { return p.loadModel(arg(a, 0).String()) })
	})
	fn("loadData", func(a []js.Value) js.Value {
		return browser.Promise(func() (any, error) { return p.loadData(arg(a, 0).String(), arg(a, 1)) })
	})
	fn("train", func(a []js.Value) js.Value {
		return browser.Promise(func() (any, error) { return p.run(arg(a, 0)) })
	})
	fn("pause", func([]js.Value) js.Value { p.paused = true; return js.Undefined() })
	fn("resume", func([]js.Value) js.Value { p.paused = false; return js.Undefined() })
	fn("predict", func(a []js.Value) js.Value {
		return browser.Promise(func() (any, error) { return p.predict(arg(a, 0), arg(a, 1).Truthy()) })
	})
	fn("compareWeights", func(a []js.Value) js.Value {
		return browser.Promise(func() (any, error) { return p.compareWeights(arg(a, 0).String()) })
	})
	fn("benchmark", func(a []js.Value) js.Value {
		return browser.Promise(func() (any, error) { return p.benchmark(arg(a, 0).Int(), arg(a, 1).Int()) })
	})
	js.Global().Set("glimpseLenet", api)
	if ready := js.Global().Get("onGlimpseLenet"); ready.Type() == js.TypeFunction {
		ready.Invoke(api)
	}
	select {}
}

func arg(a []js.Value, i int) js.Value {
	if i < len(a) {
		return a[i]
	}
	return js.Undefined()
}

// fetchBytes fetches url whole.
func fetchBytes(url string) ([]byte, error) {
	return browser.ReadModel(url, js.ValueOf(url), nil)
}

// loadModel reads a model file (the shipped LeNet-5) for the digit pad.
func (p *page) loadModel(url string) (any, error) {
	data, err := fetchBytes(url)
	if err != nil {
		return nil, err
	}
	g, err := format.Read(bytes.NewReader(data), int64(len(data)), url)
	if err != nil {
		return nil, err
	}
	n, err := scratch.New(g, kernels.Best())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if len(g.Meta.Labels) != n.Classes {
		return nil, fmt.Errorf("%s: %d labels for %d classes", url, len(g.Meta.Labels), n.Classes)
	}
	p.shipped = n
	return map[string]any{"source": g.Meta.Source, "license": g.Meta.License, "labels": anySlice(g.Meta.Labels)}, nil
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// idx reads one gzipped IDX file: the header's counts, then the bytes.
// It decompresses a megabyte at a time with the pacer between, so the
// page keeps painting.
func idx(name string, data []byte, dims int, pacer *browser.Pacer) ([]byte, []int, error) {
	z, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", name, err)
	}
	var raw []byte
	buf := make([]byte, 1<<20)
	for {
		n, err := z.Read(buf)
		raw = append(raw, buf[:n]...)
		if len(raw) > 64<<20 {
			return nil, nil, fmt.Errorf("%s: larger than 64 MB", name)
		}
		pacer.Pace()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	if len(raw) < 4+4*dims || binary.BigEndian.Uint32(raw) != uint32(0x800+dims) {
		return nil, nil, fmt.Errorf("%s: not an IDX file of %d dimensions", name, dims)
	}
	shape := make([]int, dims)
	size := 1
	for i := range shape {
		shape[i] = int(binary.BigEndian.Uint32(raw[4+4*i:]))
		size *= shape[i]
	}
	body := raw[4+4*dims:]
	if len(body) != size {
		return nil, nil, fmt.Errorf("%s: %d bytes for %v", name, len(body), shape)
	}
	return body, shape, nil
}

// digitSet is MNIST's digits as their 28x28 bytes (47 MB for the 60,000
// training digits), prepared as LeNet-5's input a batch at a time, as the
// command line prepares a picture: prepared float32 inputs would hold
// 245 MB of the tab's memory.
type digitSet struct {
	pix []byte // 784 bytes a digit, one after another
	y   []int
	g   *ir.Graph // LeNet-5: its preprocessing and input shape
}

func (s *digitSet) Len() int { return len(s.y) }

// data is the digits at rows (every digit when rows is nil) as training
// data whose inputs are prepared on demand.
func (s *digitSet) data(rows []int) *scratch.Data {
	if rows == nil {
		rows = make([]int, s.Len())
		for i := range rows {
			rows[i] = i
		}
	}
	d := &scratch.Data{Y: make([]int, len(rows)), Labels: digits}
	for i, r := range rows {
		d.Y[i] = s.y[r]
	}
	var pre imageprep.Preparer
	d.Input = func(i int, dst []float32) error {
		r := rows[i]
		gray := &image.Gray{Pix: s.pix[r*784 : (r+1)*784], Stride: 28, Rect: image.Rect(0, 0, 28, 28)}
		return pre.Prepare(gray, s.g.Meta.Preprocess, s.g.InputShape, dst)
	}
	return d
}

// loadData fetches MNIST's four files from base and keeps every digit's
// bytes, to be prepared as the command line prepares them; progress, if
// a function, hears the fraction done.
func (p *page) loadData(base string, progress js.Value) (any, error) {
	g, err := models.Build("lenet5", models.Options{})
	if err != nil {
		return nil, err
	}
	var sets [2]*digitSet
	var pacer browser.Pacer
	report := func(f float64) {
		if progress.Type() == js.TypeFunction {
			progress.Invoke(f)
		}
	}
	for si, set := range []string{"train", "t10k"} {
		imgData, err := fetchBytes(base + set + "-images-idx3-ubyte.gz")
		if err != nil {
			return nil, err
		}
		report((float64(si) + 0.5) / 2)
		labData, err := fetchBytes(base + set + "-labels-idx1-ubyte.gz")
		if err != nil {
			return nil, err
		}
		pix, shape, err := idx(set+" images", imgData, 3, &pacer)
		if err != nil {
			return nil, err
		}
		labels, lshape, err := idx(set+" labels", labData, 1, &pacer)
		if err != nil {
			return nil, err
		}
		n := shape[0]
		if shape[1] != 28 || shape[2] != 28 || lshape[0] != n {
			return nil, fmt.Errorf("%s: %v images and %d labels, want 28x28 digits, one label each", set, shape, lshape[0])
		}
		s := &digitSet{pix: pix, y: make([]int, n), g: g}
		for i, l := range labels {
			if l > 9 {
				return nil, fmt.Errorf("%s: label %d of digit %d", set, l, i)
			}
			s.y[i] = int(l)
		}
		// One digit prepared now: a preprocessing that cannot work fails
		// here, not in the middle of training.
		if n > 0 {
			if err := s.data([]int{0}).Input(0, make([]float32, g.InputShape.Size())); err != nil {
				return nil, fmt.Errorf("%s: %w", set, err)
			}
		}
		sets[si] = s
		report(float64(si+1) / 2)
	}
	// The training digits in the order glimpse train reads the same digits
	// written as class folders (tools/mnist): class by class, in file (so
	// index) order. The same seed then gives the command line's weights.
	sortByClass(sets[0], &pacer)
	p.train, p.test = sets[0], sets[1]
	return map[string]any{"train": p.train.Len(), "test": p.test.Len()}, nil
}

// sortByClass reorders s's digits by class, keeping their order within a
// class, in place, yielding along the way.
func sortByClass(s *digitSet, pacer *browser.Pacer) {
	n := s.Len()
	// dest[i] is where digit i goes.
	dest := make([]int, n)
	next := 0
	for c := range digits {
		for i, y := range s.y {
			if y == c {
				dest[i] = next
				next++
			}
		}
	}
	var tmp [784]byte
	for i := 0; i < n; i++ {
		// Follow the cycle through i, carrying one digit at a time.
		for dest[i] != i {
			j := dest[i]
			copy(tmp[:], s.pix[j*784:(j+1)*784])
			copy(s.pix[j*784:(j+1)*784], s.pix[i*784:(i+1)*784])
			copy(s.pix[i*784:(i+1)*784], tmp[:])
			s.y[i], s.y[j] = s.y[j], s.y[i]
			dest[i], dest[j] = dest[j], j
		}
		if i%1024 == 0 {
			pacer.Pace()
		}
	}
}

// run trains LeNet-5 from scratch on the loaded digits. opts: {epochs,
// batch, seed, onBatch, onEpoch}. The page stays responsive: the loop
// yields every ~50 ms, waits while paused, and reports every ~200 ms.
func (p *page) run(opts js.Value) (any, error) {
	if p.train == nil {
		return nil, errors.New("the digits are not loaded yet")
	}
	if p.running {
		return nil, errors.New("training is already running")
	}
	p.running, p.paused = true, false
	defer func() { p.running = false }()
	cfg := scratch.Defaults()
	if v := opts.Get("epochs"); v.Type() == js.TypeNumber {
		cfg.Epochs = v.Int()
	}
	if v := opts.Get("batch"); v.Type() == js.TypeNumber {
		cfg.BatchSize = v.Int()
	}
	if v := opts.Get("seed"); v.Type() == js.TypeNumber {
		cfg.Seed = uint64(v.Int())
	}
	if v := opts.Get("limit"); v.Type() == js.TypeNumber && v.Int() > 0 && v.Int() < p.train.Len() {
		// The first n digits of each class, for tests and slow machines.
		n := v.Int()
		var rows []int
		count := make([]int, len(digits))
		for i, y := range p.train.y {
			if count[y] < n {
				count[y]++
				rows = append(rows, i)
			}
		}
		return p.trainOn(p.train.data(rows), cfg, opts)
	}
	return p.trainOn(p.train.data(nil), cfg, opts)
}

func (p *page) trainOn(d *scratch.Data, cfg scratch.Config, opts js.Value) (any, error) {
	g, err := models.Build("lenet5", models.Options{})
	if err != nil {
		return nil, err
	}
	if err := scratch.Init(g, cfg.Seed); err != nil {
		return nil, err
	}
	net, err := scratch.New(g, kernels.Best())
	if err != nil {
		return nil, err
	}
	p.net = net
	onBatch, onEpoch := opts.Get("onBatch"), opts.Get("onEpoch")
	var last time.Time
	lossSum, count := 0.0, 0
	cfg.OnBatch = func(epoch, done, total int, loss float64) bool {
		lossSum += loss
		count++
		if onBatch.Type() == js.TypeFunction && time.Since(last) > 200*time.Millisecond {
			last = time.Now()
			onBatch.Invoke(map[string]any{"epoch": epoch, "done": done, "total": total,
				"loss": lossSum / float64(count), "filters": filters(g)})
			lossSum, count = 0, 0
		}
		return true
	}
	t, err := scratch.NewTrainer(net, d, cfg)
	if err != nil {
		return nil, err
	}
	test := p.test.data(nil)
	var pacer browser.Pacer
	var history []any
	for !t.Done() {
		for p.paused {
			browser.Sleep(100)
			pacer.Yielded()
		}
		e, err := t.Batch()
		if err != nil {
			return nil, err
		}
		pacer.Pace()
		if e == nil {
			continue
		}
		acc, err := accuracy(net, test, &pacer)
		if err != nil {
			return nil, err
		}
		row := map[string]any{"epoch": e.Epoch, "epochs": e.Epochs, "loss": e.Loss, "accuracy": e.Accuracy,
			"testAccuracy": acc, "examplesPerSecond": e.PerSecond, "filters": filters(g)}
		history = append(history, row)
		if onEpoch.Type() == js.TypeFunction {
			onEpoch.Invoke(row)
		}
	}
	return map[string]any{"history": history}, nil
}

// accuracy measures net on d in chunks, yielding between them.
func accuracy(net *scratch.Net, d *scratch.Data, pacer *browser.Pacer) (float64, error) {
	right := 0
	const chunk = 200
	rows := make([]int, 0, chunk)
	for c0 := 0; c0 < d.Len(); c0 += chunk {
		rows = rows[:0]
		for i := c0; i < min(c0+chunk, d.Len()); i++ {
			rows = append(rows, i)
		}
		pred, err := net.Predict(d, rows)
		if err != nil {
			return 0, err
		}
		for i, r := range rows {
			if pred[i] == d.Y[r] {
				right++
			}
		}
		pacer.Pace()
	}
	return float64(right) / float64(d.Len()), nil
}

// filters returns the first layer's six 5x5 filters, filter by filter
// (HWIO [5,5,1,6] read out per output channel).
func filters(g *ir.Graph) js.Value {
	w := g.Tensors["conv1.weight"].Data
	out := make([]float32, 0, 150)
	for o := 0; o < 6; o++ {
		for k := 0; k < 25; k++ {
			out = append(out, w[k*6+o])
		}
	}
	a := js.Global().Get("Float32Array").New(len(out))
	for i, v := range out {
		a.SetIndex(i, v)
	}
	return a
}

// compareWeights reads a model file (one glimpse train --arch wrote) and
// returns the largest difference between its weights and the network
// trained here, relative to each tensor's largest weight.
func (p *page) compareWeights(url string) (any, error) {
	if p.net == nil {
		return nil, errors.New("nothing trained yet")
	}
	data, err := fetchBytes(url)
	if err != nil {
		return nil, err
	}
	g, err := format.Read(bytes.NewReader(data), int64(len(data)), url)
	if err != nil {
		return nil, err
	}
	worst := 0.0
	for name, t := range p.net.Graph.Tensors {
		o := g.Tensors[name]
		if o == nil || len(o.Data) != len(t.Data) {
			return nil, fmt.Errorf("%s: no tensor %s of %d values", url, name, len(t.Data))
		}
		diff, scale := 0.0, 0.0
		for i, v := range t.Data {
			diff = math.Max(diff, math.Abs(float64(v)-float64(o.Data[i])))
			scale = math.Max(scale, math.Abs(float64(o.Data[i])))
		}
		worst = math.Max(worst, diff/scale)
	}
	return worst, nil
}

// predict reads the digit drawn on src (any picture source; bright ink on
// a dark ground) with the network just trained, or the shipped one when
// shipped is set or none was trained, and returns ten probabilities.
func (p *page) predict(src js.Value, shipped bool) (any, error) {
	net := p.net
	if shipped || net == nil {
		net = p.shipped
	}
	if net == nil {
		return nil, errors.New("no model yet: the shipped model is still loading")
	}
	img, err := p.rt.Pixels(src)
	if err != nil {
		return nil, err
	}
	digit, err := imageprep.CenterDigit(img)
	if err != nil {
		return nil, err
	}
	in := make([]float32, net.Input.Size())
	if err := imageprep.Prepare(digit, net.Graph.Meta.Preprocess, net.Input, in); err != nil {
		return nil, err
	}
	z, err := net.Chain.Logits(in, 1)
	if err != nil {
		return nil, err
	}
	probs := make([]any, len(z))
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, float64(v))
	}
	sum := 0.0
	e := make([]float64, len(z))
	for i, v := range z {
		e[i] = math.Exp(float64(v) - mx)
		sum += e[i]
	}
	for i := range e {
		probs[i] = e[i] / sum
	}
	return probs, nil
}

// benchmark trains LeNet-5 on the loaded digits (or random pictures when
// none are loaded) for warm+examples examples in batches of 64 and
// returns the examples per second after the warm-up, as make bench
// reports it; it does not yield, so the clock measures training alone.
func (p *page) benchmark(warm, examples int) (any, error) {
	g, err := models.Build("lenet5", models.Options{})
	if err != nil {
		return nil, err
	}
	if err := scratch.Init(g, 1); err != nil {
		return nil, err
	}
	net, err := scratch.New(g, kernels.Best())
	if err != nil {
		return nil, err
	}
	n := warm + examples
	// The page's own digits prepared a batch at a time as training does,
	// or, before they are loaded, made-up ones.
	set := p.train
	if set == nil || set.Len() < n {
		set = &digitSet{pix: make([]byte, n*784), y: make([]int, n), g: g}
		for i := range set.pix {
			set.pix[i] = byte(i * 7919 % 251)
		}
		for i := range set.y {
			set.y[i] = i % 10
		}
	}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i * (set.Len() / n)
	}
	d := set.data(rows)
	cfg := scratch.Defaults()
	cfg.Epochs = 1
	var start time.Time
	cfg.OnBatch = func(_, done, _ int, _ float64) bool {
		if done == warm {
			start = time.Now()
		}
		return true
	}
	if _, err := scratch.Train(net, d, cfg); err != nil {
		return nil, err
	}
	return float64(examples) / time.Since(start).Seconds(), nil
}
