//go:build !js

package dataset

import (
	"fmt"
	"image"
	"runtime"
	"sync"

	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
)

// Pixels are a folder's images prepared as a network's input, for
// training the whole network (core/scratch) rather than a head on
// embeddings.
type Pixels struct {
	X       []float32 // Len() inputs of the shape given, one after another
	Y       []int     // class of each, indexing Classes
	Classes []string
	// Sizes counts the pictures of each width x height read: more than one
	// size is not an error (the preprocessing resizes each), but worth
	// saying.
	Sizes map[image.Point]int
}

// Len is the number of pictures read.
func (p *Pixels) Len() int { return len(p.Y) }

// ReadPixels decodes every image of f and prepares it as the
// preprocessing p says for an input of the given shape, on workers
// goroutines (0: one per CPU). Files that cannot be read are returned,
// not fatal, unless a class is left with none. Pictures come in folder
// order, class by class and file by file, whatever the scheduling.
func ReadPixels(f *Folder, p ir.Preprocess, shape ir.Shape, workers int, progress func(done, total int)) (*Pixels, []Unreadable, error) {
	n := f.Len()
	in := shape.Size()
	if int64(n)*int64(in) > 1<<31 {
		return nil, nil, fmt.Errorf("%s: %d pictures of %v would take more than 8 GB", f.Dir, n, shape)
	}
	type job struct {
		i, class int
		path     string
	}
	var jobs []job
	for c, files := range f.Files {
		for _, path := range files {
			jobs = append(jobs, job{len(jobs), c, path})
		}
	}
	x := make([]float32, n*in)
	sizes := make([]image.Point, n)
	errs := make([]error, n)
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	queue := make(chan job)
	done := make(chan struct{}, n)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, max(n, 1)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pre imageprep.Preparer
			for j := range queue {
				sizes[j.i], errs[j.i] = preparePicture(&pre, j.path, p, shape, x[j.i*in:(j.i+1)*in])
				done <- struct{}{}
			}
		}()
	}
	go func() {
		for _, j := range jobs {
			queue <- j
		}
		close(queue)
	}()
	for i := 0; i < n; i++ {
		<-done
		if progress != nil {
			progress(i+1, n)
		}
	}
	wg.Wait()

	out := &Pixels{Classes: append([]string(nil), f.Classes...), Sizes: map[image.Point]int{}}
	var bad []Unreadable
	count := make([]int, len(f.Classes))
	kept := 0
	for _, j := range jobs {
		if errs[j.i] != nil {
			bad = append(bad, Unreadable{Path: j.path, Err: errs[j.i]})
			continue
		}
		copy(x[kept*in:(kept+1)*in], x[j.i*in:(j.i+1)*in])
		out.Y = append(out.Y, j.class)
		out.Sizes[sizes[j.i]]++
		count[j.class]++
		kept++
	}
	out.X = x[:kept*in]
	for c, k := range count {
		if k == 0 {
			return nil, bad, fmt.Errorf("%s: class %q has no readable images", f.Dir, f.Classes[c])
		}
	}
	return out, bad, nil
}

// preparePicture decodes one file into dst and returns its size. A panic
// (a bug met by a strange image) becomes the file's error.
func preparePicture(pre *imageprep.Preparer, path string, p ir.Preprocess, shape ir.Shape, dst []float32) (size image.Point, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	img, err := imageprep.DecodeFile(path)
	if err != nil {
		return image.Point{}, err
	}
	if err := pre.Prepare(img, p, shape, dst); err != nil {
		return image.Point{}, fmt.Errorf("%s: %w", path, err)
	}
	return img.Bounds().Size(), nil
}
