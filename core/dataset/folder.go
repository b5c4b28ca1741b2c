//go:build !js

// Package dataset is what the command line learns from and is measured
// on: a folder of images with one sub-folder per class, embedded by a
// model on a pool of goroutines (each file once, each augmented view
// once), and a classifier's evaluation on such a folder. It reads files,
// so it is for the native tools (build tag !js: it decodes with
// core/imageprep's decoder, which the browser build leaves out); the
// browser's classifier (core/classifier) takes pictures one at a time
// instead.
package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/glimpse-ml/glimpse/core/augment"
	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/train"
)

// Folder is a dataset on disk: one sub-folder per class, holding that
// class's images (the ImageFolder habit). Classes are the sorted folder
// names; files are sorted too, so a folder always gives the same samples
// in the same order.
type Folder struct {
	Dir     string
	Classes []string
	Files   [][]string // per class, paths
}

// maxFolderFiles bounds the files read from one dataset, so that a
// mistaken -d / cannot queue millions of embeddings.
const maxFolderFiles = 1 << 20

// ReadFolder lists a dataset folder. Hidden entries (".name") are skipped,
// as are files directly in dir; a class folder is read one level deep.
func ReadFolder(dir string) (*Folder, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	f := &Folder{Dir: dir}
	total := 0
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var paths []string
		for _, file := range files {
			if file.IsDir() || strings.HasPrefix(file.Name(), ".") {
				continue
			}
			paths = append(paths, filepath.Join(dir, e.Name(), file.Name()))
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("%s: class folder %q is empty", dir, e.Name())
		}
		total += len(paths)
		if total > maxFolderFiles {
			return nil, fmt.Errorf("%s: more than %d files", dir, maxFolderFiles)
		}
		sort.Strings(paths)
		f.Classes = append(f.Classes, e.Name())
		f.Files = append(f.Files, paths)
	}
	switch len(f.Classes) {
	case 0:
		return nil, fmt.Errorf("%s: no class folders (want one sub-folder of images per class)", dir)
	case 1:
		return nil, fmt.Errorf("%s: only one class folder (%q): a classifier needs at least two", dir, f.Classes[0])
	}
	// os.ReadDir sorts by name already; sorting again keeps that a
	// property of this function rather than of the file system package.
	sort.Sort(byClass{f})
	return f, nil
}

type byClass struct{ f *Folder }

func (b byClass) Len() int           { return len(b.f.Classes) }
func (b byClass) Less(i, j int) bool { return b.f.Classes[i] < b.f.Classes[j] }
func (b byClass) Swap(i, j int) {
	b.f.Classes[i], b.f.Classes[j] = b.f.Classes[j], b.f.Classes[i]
	b.f.Files[i], b.f.Files[j] = b.f.Files[j], b.f.Files[i]
}

// Len is the number of files.
func (f *Folder) Len() int {
	n := 0
	for _, files := range f.Files {
		n += len(files)
	}
	return n
}

// EmbedOptions controls EmbedFolder.
type EmbedOptions struct {
	Workers int              // goroutines, each with its own clone of the model; 0: one per CPU
	Augment *augment.Augment // nil: originals only
	Views   int              // augmented views per image when Augment is set; 0: 4
	Seed    uint64           // the views' randomness: view v of file i always gets the same draws
	// Progress hears the number of files embedded so far, from one
	// goroutine at a time.
	Progress func(done, total int)
}

// Unreadable is a file that could not be decoded or embedded.
type Unreadable struct {
	Path string
	Err  error
}

// String names the file and the problem once, whether or not the error
// already names the file.
func (u Unreadable) String() string {
	if strings.Contains(u.Err.Error(), u.Path) {
		return u.Err.Error()
	}
	return u.Path + ": " + u.Err.Error()
}

// EmbedFolder decodes every image of f and embeds it (and its augmented
// views) with m, on several goroutines. Files that cannot be read are
// returned, not fatal, unless a class is left with none. The samples come
// in folder order whatever the scheduling: class by class, file by file,
// each original followed by its views.
func EmbedFolder(m *model.Model, f *Folder, opt EmbedOptions) (*train.Samples, []Unreadable, error) {
	dim := m.EmbeddingSize()
	if dim == 0 {
		return nil, nil, fmt.Errorf("%s: the model has no embedding output to train a head on", m.Name)
	}
	views := 1
	if opt.Augment != nil {
		if err := opt.Augment.Check(); err != nil {
			return nil, nil, err
		}
		views += opt.Views
		if opt.Views == 0 {
			views += 4
		}
	}
	type job struct{ class, file, index int }
	var jobs []job
	for c, files := range f.Files {
		for i := range files {
			jobs = append(jobs, job{c, i, len(jobs)})
		}
	}
	// One allocation for every embedding: rows of unreadable files are
	// squeezed out at the end, in place.
	x := make([]float32, len(jobs)*views*dim)
	failed := make([]error, len(jobs))

	forEachFile(m, len(jobs), opt.Workers, opt.Progress, func(wm *model.Model, i int) {
		j := jobs[i]
		failed[i] = embedFile(wm, f.Files[j.class][j.file], opt, i, views, x[i*views*dim:(i+1)*views*dim])
	})

	s := &train.Samples{Labels: append([]string(nil), f.Classes...), Dim: dim}
	var bad []Unreadable
	readable := make([]int, len(f.Classes))
	firstBad := make([]int, len(f.Classes))
	rows := 0
	for _, j := range jobs {
		if failed[j.index] != nil {
			if readable[j.class] == 0 && firstBad[j.class] == 0 {
				firstBad[j.class] = len(bad) + 1
			}
			bad = append(bad, Unreadable{f.Files[j.class][j.file], failed[j.index]})
			continue
		}
		readable[j.class]++
		copy(x[rows*dim:], x[j.index*views*dim:(j.index+1)*views*dim])
		for v := 0; v < views; v++ {
			s.Y = append(s.Y, j.class)
			rows++
		}
	}
	s.X = x[: rows*dim : rows*dim]
	if views > 1 {
		s.Origin = make([]int, rows)
		for i := range s.Origin {
			s.Origin[i] = i - i%views
		}
	}
	for c, n := range readable {
		if n == 0 {
			b := bad[firstBad[c]-1]
			return nil, bad, fmt.Errorf("%s: none of the %d files of class %q could be read (%s)",
				f.Dir, len(f.Files[c]), f.Classes[c], b)
		}
	}
	return s, bad, nil
}

// embedFile writes the embeddings of one file's original and views into
// dst (views x dim). A panic (a bug met by a strange image) becomes the
// file's error rather than the end of the program.
func embedFile(m *model.Model, path string, opt EmbedOptions, index, views int, dst []float32) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	img, err := imageprep.DecodeFile(path)
	if err != nil {
		return err
	}
	dim := len(dst) / views
	for v := 0; v < views; v++ {
		view := img
		if v > 0 {
			if view, err = opt.Augment.View(img, opt.Seed, index, v); err != nil {
				return err
			}
		}
		e, err := m.Embed(view)
		if err != nil {
			return err
		}
		copy(dst[v*dim:(v+1)*dim], e)
	}
	return nil
}
