// Command study measures transfer learning on Fashion-MNIST with a frozen
// backbone: a nearest-neighbour baseline, Teachable Machine's head and
// Glimpse's presets, at 10, 50 and 200 training images per class, on the
// first 2,000 and on all 10,000 test images. `make study` runs it; it is
// not a test (it takes minutes), and it prints a table for the notes.
//
// Protocol (the reference figures were measured with TF.js on it): the
// first N training images of each class in file order; the first 2,000
// test images; the 28x28 grey images go through the model's own
// preprocessing (stretched to 224x224, grey copied to R, G and B).
//
// Embeddings are cached under -cache, keyed by the model file's checksum,
// so a second run only trains heads.
package main

import (
	"compress/gzip"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/glimpse-ml/glimpse/core/classifier"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
)

// Fashion-MNIST's class names, in label order.
var classes = []string{"t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"}

func main() {
	modelPath := flag.String("model", "dist/models/mobilenet_v2_1.0_224.glimpse", "backbone model file")
	data := flag.String("data", "/usr/share/datasets/fashion-mnist", "folder of the Fashion-MNIST IDX files (Debian dataset-fashion-mnist)")
	cache := flag.String("cache", "build/study", "folder for cached embeddings and exported image folders")
	seeds := flag.Int("seeds", 5, "seeds per head (the median is reported)")
	export := flag.Bool("export", true, "write the 200-per-class training images and the first 2,000 test images as PNG class folders under -cache, for glimpse train and eval")
	flag.Parse()
	if err := run(*modelPath, *data, *cache, *seeds, *export); err != nil {
		fmt.Fprintln(os.Stderr, "study:", err)
		os.Exit(1)
	}
}

// set is a labelled image set in file order.
type set struct {
	images []*image.Gray
	labels []int
}

func run(modelPath, data, cache string, seeds int, export bool) error {
	trainSet, err := readIDX(filepath.Join(data, "train-images-idx3-ubyte.gz"), filepath.Join(data, "train-labels-idx1-ubyte.gz"))
	if err != nil {
		return err
	}
	testSet, err := readIDX(filepath.Join(data, "t10k-images-idx3-ubyte.gz"), filepath.Join(data, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		return err
	}
	// The first 200 training images of each class, in file order; the
	// smaller protocols take the first 10 and 50 of these.
	var pick []int
	count := make([]int, len(classes))
	for i, y := range trainSet.labels {
		if count[y] < 200 {
			count[y]++
			pick = append(pick, i)
		}
	}
	train200 := set{}
	for _, i := range pick {
		train200.images = append(train200.images, trainSet.images[i])
		train200.labels = append(train200.labels, trainSet.labels[i])
	}
	if export {
		if err := exportFolder(filepath.Join(cache, "fashion-train-200"), train200); err != nil {
			return err
		}
		first := set{images: testSet.images[:2000], labels: testSet.labels[:2000]}
		if err := exportFolder(filepath.Join(cache, "fashion-test-2000"), first); err != nil {
			return err
		}
	}

	info, err := format.InspectFile(modelPath)
	if err != nil {
		return err
	}
	plain, err := model.Open(modelPath, model.Options{})
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
		modelPath, plain.Graph.Meta.Source, plain.EmbeddingSize(), m.EmbeddingSize(), tap, m.Engine().Kernels(), runtime.NumCPU())

	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	trainEmb, trainTime, err := embedCached(m, train200, filepath.Join(cache, "train200-"+key+".f32"))
	if err != nil {
		return err
	}
	testEmb, testTime, err := embedCached(m, testSet, filepath.Join(cache, "test10000-"+key+".f32"))
	if err != nil {
		return err
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	fmt.Printf("embeddings: 2,000 training images %s, 10,000 test images %s; heap held by the 12,000 cached embeddings %.1f MB (10,000: %.1f MB of float32)\n",
		fmtTime(trainTime), fmtTime(testTime), float64(after.HeapAlloc-before.HeapAlloc)/1e6, float64(10000*m.EmbeddingSize()*4)/1e6)

	full := m.EmbeddingSize()
	heads := []struct {
		name  string
		knn   bool
		cfg   string
		seeds int
	}{{"kNN (k=3, cosine)", true, "", 1}, {"tm", false, "tm", seeds}, {"linear", false, "linear", seeds}, {"strong", false, "strong", seeds}}
	fmt.Printf("\n%-20s %-10s %-14s %-14s %s\n", "head", "per class", "test 2,000", "test 10,000", "seeds (2,000)")
	for _, n := range []int{10, 50, 200} {
		for _, h := range heads {
			// Which columns of the cached features this head reads.
			lo := full - plain.EmbeddingSize()
			cfg, _ := train.Preset(h.cfg)
			if cfg.MultiLevel {
				lo = 0
			}
			s := subset(train200, trainEmb, full, lo, n)
			var acc2k, acc10k []float64
			var timeTrain time.Duration
			for seed := 1; seed <= h.seeds; seed++ {
				var predict func(x []float32) int
				if h.knn {
					predict = knn(s, 3)
				} else {
					cfg, _ := train.Preset(h.cfg)
					cfg.Seed = uint64(seed)
					t0 := time.Now()
					head, err := train.Train(s, cfg, nil)
					if err != nil {
						return err
					}
					timeTrain += time.Since(t0)
					predict = func(x []float32) int {
						p, _ := head.Probabilities(x)
						return slices.Index(p, slices.Max(p))
					}
				}
				acc2k = append(acc2k, accuracy(predict, testEmb, testSet.labels, full, lo, 2000))
				acc10k = append(acc10k, accuracy(predict, testEmb, testSet.labels, full, lo, 10000))
			}
			per := make([]string, len(acc2k))
			for i, a := range acc2k {
				per[i] = fmt.Sprintf("%.1f", 100*a)
			}
			fmt.Printf("%-20s %-10d %-14s %-14s %s", h.name, n, fmt.Sprintf("%.1f%%", 100*median(acc2k)), fmt.Sprintf("%.1f%%", 100*median(acc10k)), strings.Join(per, " "))
			if timeTrain > 0 {
				fmt.Printf("  (training %s per seed)", fmtTime(timeTrain/time.Duration(h.seeds)))
			}
			fmt.Println()
		}
	}
	return nil
}

func fmtTime(d time.Duration) string {
	if d < 0 {
		return "cached"
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// subset returns the first n samples of each class of the 200-per-class
// set (which is in file order) as training samples, each the columns lo
// to dim of its cached features.
func subset(s set, emb []float32, dim, lo, n int) *train.Samples {
	out := &train.Samples{Labels: classes, Dim: dim - lo}
	count := make([]int, len(classes))
	for i, y := range s.labels {
		if count[y] < n {
			count[y]++
			out.X = append(out.X, emb[i*dim+lo:(i+1)*dim]...)
			out.Y = append(out.Y, y)
		}
	}
	return out
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

func accuracy(predict func([]float32) int, emb []float32, labels []int, dim, lo, n int) float64 {
	correct := 0
	for i := 0; i < n; i++ {
		if predict(emb[i*dim+lo:(i+1)*dim]) == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(n)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// embedCached embeds every image of s on one goroutine per CPU (each with
// its own clone of the model), or reads the embeddings cached at path. The
// duration is negative when they came from the cache.
func embedCached(m *model.Model, s set, path string) ([]float32, time.Duration, error) {
	dim := m.EmbeddingSize()
	n := len(s.images)
	if raw, err := os.ReadFile(path); err == nil && len(raw) == 4*n*dim {
		out := make([]float32, n*dim)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return out, -1, nil
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
				e, err := wm.Embed(s.images[i])
				if err != nil {
					errs <- err
					return
				}
				copy(out[i*dim:], e)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
		if (i+1)%1000 == 0 {
			fmt.Fprintf(os.Stderr, "embedded %d/%d (%s)\n", i+1, n, time.Since(start).Round(time.Second))
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, 0, err
	default:
	}
	elapsed := time.Since(start)
	raw := make([]byte, 4*len(out))
	for i, v := range out {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, 0, err
	}
	return out, elapsed, os.WriteFile(path, raw, 0o644)
}

// readIDX reads an IDX image file and its label file (gzip-compressed, as
// Debian ships them).
func readIDX(imagesPath, labelsPath string) (set, error) {
	img, err := readGz(imagesPath)
	if err != nil {
		return set{}, err
	}
	lab, err := readGz(labelsPath)
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
		if y >= len(classes) {
			return set{}, fmt.Errorf("%s: label %d", labelsPath, y)
		}
		s.labels = append(s.labels, y)
	}
	return s, nil
}

func readGz(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s is missing: install Debian's dataset-fashion-mnist", path)
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
func exportFolder(dir string, s set) error {
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
