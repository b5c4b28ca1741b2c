package train

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/model"
)

// Classifier collects examples of a user's classes, as embeddings, and
// trains a head on them: the state behind the browser's
// model.classifier(). It needs no files and no goroutines, so it runs as
// is under GOOS=js; the JavaScript bridge embeds each picture with
// core/model and hands the vector here.
//
// Training orders the samples as `glimpse train` does for a folder:
// classes by sorted name, and within a class in the order the examples
// were added. So the same pictures, added in file order, with the same
// config and seed, give the same head in the browser as on the command
// line (to the bit with the default pure-Go kernels).
type Classifier struct {
	dim    int
	labels []string       // in order of first appearance
	index  map[string]int // label -> position in labels
	x      []float32
	y      []int // into labels
	origin []int // the example each row is a view of (itself for an example)
	head   *Head
}

// maxClassifierRows bounds the rows a Classifier holds: 200,000 rows of a
// 1280-value embedding is 1 GB, past what a browser tab can hold anyway.
const maxClassifierRows = 200000

// NewClassifier makes an empty classifier for embeddings of dim values.
func NewClassifier(dim int) (*Classifier, error) {
	if dim < 1 || dim > 1<<20 {
		return nil, fmt.Errorf("embedding length %d: want 1 to %d", dim, 1<<20)
	}
	return &Classifier{dim: dim, index: map[string]int{}}, nil
}

func (c *Classifier) add(e []float32) error {
	if len(e) != c.dim {
		return fmt.Errorf("embedding has %d values, the classifier takes %d", len(e), c.dim)
	}
	if len(c.y) >= maxClassifierRows {
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
// Augment.View): it trains with its example and is never validated on.
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
// sorted name, then in the order added.
func (c *Classifier) Samples() *Samples {
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
	// A view may come long after its example: keep each example's views
	// right after it, as EmbedFolder lays them out.
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
	s := &Samples{Labels: sorted, Dim: c.dim, X: make([]float32, 0, len(c.x))}
	at := make(map[int]int, len(order))
	for _, r := range order {
		at[r] = len(s.Y)
		s.X = append(s.X, c.x[r*c.dim:(r+1)*c.dim]...)
		s.Y = append(s.Y, rank[c.y[r]])
		s.Origin = append(s.Origin, at[c.origin[r]])
	}
	return s
}

// Train trains a new head on everything added so far; onEpoch is as for
// the package's Train. The previous head stays in place if training
// fails.
func (c *Classifier) Train(cfg Config, onEpoch func(Epoch) bool) (*Report, error) {
	h, err := Train(c.Samples(), cfg, onEpoch)
	if err != nil {
		return nil, err
	}
	c.head = h
	return &h.Report, nil
}

// Head is the trained head, or nil before Train.
func (c *Classifier) Head() *Head { return c.head }

// Predict returns the top k classes (k <= 0: all) for an embedding, most
// probable first.
func (c *Classifier) Predict(embedding []float32, k int) ([]model.Prediction, error) {
	if c.head == nil {
		return nil, fmt.Errorf("the classifier has not been trained")
	}
	p, err := c.head.Probabilities(embedding)
	if err != nil {
		return nil, err
	}
	preds := make([]model.Prediction, len(p))
	for i, v := range p {
		preds[i] = model.Prediction{ClassName: c.head.Labels[i], Probability: v}
	}
	sort.SliceStable(preds, func(a, b int) bool { return preds[a].Probability > preds[b].Probability })
	if k > 0 && k < len(preds) {
		preds = preds[:k]
	}
	return preds, nil
}

// Export returns the backbone with the trained head as the bytes of one
// self-contained model file, weights stored as dtype ("" keeps f32).
func (c *Classifier) Export(backbone *ir.Graph, dtype string) ([]byte, error) {
	if c.head == nil {
		return nil, fmt.Errorf("the classifier has not been trained")
	}
	g, err := c.head.Attach(backbone)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := format.Write(&buf, g, format.Options{DType: dtype}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// View returns augmented view number view (from 1) of example number
// index, drawn from seed: EmbedFolder and the browser draw views the same
// way, so a view is the same wherever it is made.
func (a Augment) View(img image.Image, seed uint64, index, view int) (*image.NRGBA, error) {
	return a.Apply(img, rand.New(rand.NewPCG(seed, uint64(index)<<16|uint64(view))))
}
