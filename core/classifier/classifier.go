// Package classifier is a user's own classes on a backbone's features:
// pictures (or their embeddings) go in one at a time, a head is trained
// on them with core/train, and predictions and one self-contained model
// file come out. It is the state behind the browser library's
// model.classifier() and the app's Train button, and it needs no files and
// no goroutines, so it runs as is under GOOS=js and is tested natively.
//
// Two policies live here, once for every program: which model embeds the
// pictures for a head (Features: the backbone, or its multi-level
// features for the "strong" preset), and how a trained model is stored
// (Write: as the backbone's file stores its weights).
package classifier

import (
	"bytes"
	"fmt"
	"image"
	"io"
	"math"
	"sort"

	"github.com/glimpse-ml/glimpse/core/augment"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
)

// Features returns the model whose embedding a head of config cfg reads:
// backbone itself, or, when cfg.MultiLevel, a model on the same weights
// whose embedding is multi-level (see model.MultiLevelGraph). tap names
// the value pooled besides the embedding ("" for the backbone). The
// command line, the study and Classifier all call it, so a preset means
// the same features everywhere.
func Features(backbone *model.Model, cfg train.Config) (m *model.Model, tap string, err error) {
	if backbone.EmbeddingSize() == 0 {
		return nil, "", fmt.Errorf("%s: the model names no embedding output (the backbone features a head reads); convert it again with glimpse convert", backbone.Name)
	}
	if !cfg.MultiLevel {
		return backbone, "", nil
	}
	m, tap, err = backbone.MultiLevel()
	if err != nil {
		return nil, "", fmt.Errorf("%w (head %q reads multi-level features; head tm does not)", err, cfg.Head)
	}
	return m, tap, nil
}

// Classifier collects examples of a user's classes, as embeddings, and
// trains a head on them.
//
// Training orders the samples as `glimpse train` does for a folder:
// classes by sorted name, and within a class in the order the examples
// were added. So the same pictures, added in file order, with the same
// config and seed, give the same head in the browser as on the command
// line (to the bit, since training runs on kernels.Exact).
type Classifier struct {
	cfg      train.Config // the preset the classifier was made for
	features *model.Model // embeds pictures: the backbone or its multi-level features

	dim    int
	labels []string       // in order of first appearance
	index  map[string]int // label -> position in labels
	x      []float32
	y      []int // into labels
	origin []int // the example each row is a view of (itself for an example)
	head   *train.Head
}

// maxRows bounds the rows a Classifier holds: 200,000 rows of a
// 1280-value embedding is 1 GB, past what a browser tab can hold anyway.
const maxRows = 200000

// New makes an empty classifier for heads of config cfg (a preset, see
// train.Preset) on backbone's features.
func New(backbone *model.Model, cfg train.Config) (*Classifier, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	f, _, err := Features(backbone, cfg)
	if err != nil {
		return nil, err
	}
	return NewOn(f, cfg)
}

// NewOn is New for a caller that holds the features already: f must be
// what Features returns for the backbone and cfg. Features plans a
// multi-level model anew on every call (hundreds of milliseconds under
// wasm, more than training 200 samples), which a page that trains again
// and again need not pay each time.
func NewOn(f *model.Model, cfg train.Config) (*Classifier, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	dim := f.EmbeddingSize()
	if dim > 1<<20 {
		return nil, fmt.Errorf("embedding length %d: want at most %d", dim, 1<<20)
	}
	return &Classifier{cfg: cfg, features: f, dim: dim, index: map[string]int{}}, nil
}

// Config is the config the classifier was made for.
func (c *Classifier) Config() train.Config { return c.cfg }

// Features is the model that embeds the classifier's pictures.
func (c *Classifier) Features() *model.Model { return c.features }

// Dim is the length of the embeddings the classifier takes.
func (c *Classifier) Dim() int { return c.dim }

// Embed returns the features of img that the head reads.
func (c *Classifier) Embed(img image.Image) ([]float32, error) { return c.features.Embed(img) }

func (c *Classifier) add(e []float32) error {
	if len(e) != c.dim {
		return fmt.Errorf("embedding has %d values, the classifier takes %d", len(e), c.dim)
	}
	if len(c.y) >= maxRows {
		return fmt.Errorf("the classifier holds %d samples already, its limit", len(c.y))
	}
	for _, v := range e {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("embedding holds %v", v)
		}
	}
	c.x = append(c.x, e...)
	return nil
}

// AddExample stores the embedding of one picture of class label and
// returns its example number (for AddView).
func (c *Classifier) AddExample(embedding []float32, label string) (int, error) {
	if label == "" {
		return 0, fmt.Errorf("an example needs a class name")
	}
	if err := c.add(embedding); err != nil {
		return 0, err
	}
	k, ok := c.index[label]
	if !ok {
		k = len(c.labels)
		c.index[label] = k
		c.labels = append(c.labels, label)
	}
	c.y = append(c.y, k)
	c.origin = append(c.origin, len(c.y)-1)
	return len(c.y) - 1, nil
}

// AddView stores the embedding of an augmented view of example of (see
// augment.Augment.View): it trains with its example and is never
// validated on.
func (c *Classifier) AddView(embedding []float32, of int) error {
	if of < 0 || of >= len(c.y) || c.origin[of] != of {
		return fmt.Errorf("example %d does not exist", of)
	}
	if err := c.add(embedding); err != nil {
		return err
	}
	c.y = append(c.y, c.y[of])
	c.origin = append(c.origin, of)
	return nil
}

// MaxViews bounds the augmented views per example, as the command line's
// --views does.
const MaxViews = 64

// AddPicture embeds img as an example of class label, with views
// augmented views of it (augment.Default, drawn from seed as `glimpse
// train --augment` draws them), and returns its example number. The views
// are made now because the picture is at hand only now.
func (c *Classifier) AddPicture(img image.Image, label string, views int, seed uint64) (int, error) {
	if views < 0 || views > MaxViews {
		return 0, fmt.Errorf("augment %d: want 0 to %d views per example", views, MaxViews)
	}
	if label == "" {
		return 0, fmt.Errorf("an example needs a class name")
	}
	e, err := c.Embed(img)
	if err != nil {
		return 0, err
	}
	// Every view is embedded before anything is stored, so a failure
	// leaves the classifier as it was.
	aug := augment.Default()
	var ve [][]float32
	for v := 1; v <= views; v++ {
		vi, err := aug.View(img, seed, len(c.y), v)
		if err != nil {
			return 0, err
		}
		e, err := c.Embed(vi)
		if err != nil {
			return 0, err
		}
		ve = append(ve, e)
	}
	idx, err := c.AddExample(e, label)
	if err != nil {
		return 0, err
	}
	for _, e := range ve {
		if err := c.AddView(e, idx); err != nil {
			return 0, err
		}
	}
	return idx, nil
}

// ClassCount is one class and its number of examples (views not counted).
type ClassCount struct {
	Label    string `json:"label"`
	Examples int    `json:"examples"`
}

// Counts lists the classes in order of first appearance.
func (c *Classifier) Counts() []ClassCount {
	out := make([]ClassCount, len(c.labels))
	for i, l := range c.labels {
		out[i].Label = l
	}
	for i, y := range c.y {
		if c.origin[i] == i {
			out[y].Examples++
		}
	}
	return out
}

// Samples returns the examples and views in training order: classes by
// sorted name, then in the order added, each example followed by its
// views (as core/dataset lays out a folder).
func (c *Classifier) Samples() *train.Samples {
	sorted := append([]string(nil), c.labels...)
	sort.Strings(sorted)
	rank := make([]int, len(c.labels))
	for r, l := range sorted {
		rank[c.index[l]] = r
	}
	rows := make([]int, len(c.y))
	for i := range rows {
		rows[i] = i
	}
	sort.SliceStable(rows, func(a, b int) bool { return rank[c.y[rows[a]]] < rank[c.y[rows[b]]] })
	var order []int
	views := map[int][]int{}
	for _, r := range rows {
		if o := c.origin[r]; o != r {
			views[o] = append(views[o], r)
		}
	}
	for _, r := range rows {
		if c.origin[r] == r {
			order = append(order, r)
			order = append(order, views[r]...)
		}
	}
	s := &train.Samples{Labels: sorted, Dim: c.dim, X: make([]float32, 0, len(c.x))}
	at := make(map[int]int, len(order))
	for _, r := range order {
		at[r] = len(s.Y)
		s.X = append(s.X, c.x[r*c.dim:(r+1)*c.dim]...)
		s.Y = append(s.Y, rank[c.y[r]])
		s.Origin = append(s.Origin, at[c.origin[r]])
	}
	return s
}

// Train trains a new head on everything added so far with cfg (the
// classifier's config with the caller's epochs, batch size, learning
// rate, seed, callbacks); onEpoch is as for train.Train. The previous
// head stays in place if training fails.
func (c *Classifier) Train(cfg train.Config, onEpoch func(train.Epoch) bool) (*train.Report, error) {
	if cfg.MultiLevel != c.cfg.MultiLevel {
		return nil, fmt.Errorf("the classifier was made for head %q: train it with that head's config", c.cfg.Head)
	}
	if len(c.y) == 0 {
		return nil, fmt.Errorf("the classifier has no examples: add pictures of at least two classes")
	}
	h, err := train.Train(c.Samples(), cfg, onEpoch)
	if err != nil {
		return nil, err
	}
	c.head = h
	return &h.Report, nil
}

// Head is the trained head, or nil before Train.
func (c *Classifier) Head() *train.Head { return c.head }

// SetHead puts back a head trained before (a saved project's) on the
// same features.
func (c *Classifier) SetHead(h *train.Head) error {
	if h != nil && h.In != c.dim {
		return fmt.Errorf("the head reads %d features, this classifier's model gives %d", h.In, c.dim)
	}
	c.head = h
	return nil
}

// Probabilities returns the trained head's probability of each class (in
// the head's label order) for an embedding.
func (c *Classifier) Probabilities(embedding []float32) ([]float64, error) {
	if c.head == nil {
		return nil, fmt.Errorf("the classifier has not been trained")
	}
	return c.head.Probabilities(embedding)
}

// Predict returns the top k classes (k <= 0: all) for an embedding, most
// probable first.
func (c *Classifier) Predict(embedding []float32, k int) ([]model.Prediction, error) {
	p, err := c.Probabilities(embedding)
	if err != nil {
		return nil, err
	}
	return model.Top(c.head.Labels, p, k), nil
}

// PredictPicture embeds img and predicts its classes.
func (c *Classifier) PredictPicture(img image.Image, k int) ([]model.Prediction, error) {
	if c.head == nil {
		return nil, fmt.Errorf("the classifier has not been trained")
	}
	e, err := c.Embed(img)
	if err != nil {
		return nil, err
	}
	return c.Predict(e, k)
}

// Confusion runs the trained head over every example added (views left
// out) in one batched pass and counts, for each true class, the classes
// predicted: Confusion[t][p], classes in the head's (sorted) order. A
// confusion matrix over thousands of examples is then two matrix
// products on the fastest kernels, not thousands of one-row ones.
func (c *Classifier) Confusion() ([][]int, error) {
	if c.head == nil {
		return nil, fmt.Errorf("the classifier has not been trained")
	}
	s := c.Samples()
	if len(s.Labels) != c.head.Classes() {
		return nil, fmt.Errorf("the head was trained on %d classes, the classifier holds %d", c.head.Classes(), len(s.Labels))
	}
	pred, err := c.head.Argmax(kernels.Best(), s.X, s.Len())
	if err != nil {
		return nil, err
	}
	conf := make([][]int, len(s.Labels))
	for i := range conf {
		conf[i] = make([]int, len(s.Labels))
	}
	for i, p := range pred {
		if s.Origin == nil || s.Origin[i] == i {
			conf[s.Y[i]][p]++
		}
	}
	return conf, nil
}

// Model returns the features' network with the trained head attached:
// what Export writes (the app also hands it to the Teachable Machine
// exporter).
func (c *Classifier) Model() (*ir.Graph, error) {
	if c.head == nil {
		return nil, fmt.Errorf("the classifier has not been trained")
	}
	return c.head.Attach(c.features.Graph)
}

// Export returns the trained classifier as the bytes of one
// self-contained model file (see Write).
func (c *Classifier) Export() ([]byte, error) {
	if c.head == nil {
		return nil, fmt.Errorf("the classifier has not been trained")
	}
	var buf bytes.Buffer
	if err := Write(&buf, c.head, c.features, ""); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write writes head on features (the model Features gave for its config)
// as one self-contained model file: the network up to the embedding, the
// head, the class names, the preprocessing. dtype "" chooses the storage
// by ExportDType; the command line's --dtype names another.
func Write(w io.Writer, head *train.Head, features *model.Model, dtype string) error {
	g, opt, err := export(head, features, dtype)
	if err != nil {
		return err
	}
	return format.Write(w, g, opt)
}

// WriteFile is Write to a file, written whole or not at all.
func WriteFile(path string, head *train.Head, features *model.Model, dtype string) error {
	g, opt, err := export(head, features, dtype)
	if err != nil {
		return err
	}
	return format.WriteFile(path, g, opt)
}

func export(head *train.Head, features *model.Model, dtype string) (*ir.Graph, format.Options, error) {
	if dtype == "" {
		dtype = ExportDType(features)
	}
	if _, err := format.ParseDType(dtype); err != nil {
		return nil, format.Options{}, err
	}
	g, err := head.Attach(features.Graph)
	if err != nil {
		return nil, format.Options{}, fmt.Errorf("%s: %w", features.Name, err)
	}
	return g, format.Options{DType: dtype}, nil
}

// ExportDType is the storage of a model trained on m: that of most of m's
// file's weight bytes, so a trained model keeps its backbone's size (the
// head is small whatever its type), except that a backbone on TF.js's
// 8-bit grid (u8, as the default models are) gives f16: the backbone's
// weights stay on their grid exactly, and the head, which lies on no
// grid, is stored in f16 rather than quantized to int8. A model made from
// a graph in memory, with no file behind it, gives f32.
func ExportDType(m *model.Model) string {
	info := m.Info()
	if info == nil {
		return format.F32.String()
	}
	d := info.WeightDType()
	if d == format.U8 {
		d = format.F16
	}
	return d.String()
}
