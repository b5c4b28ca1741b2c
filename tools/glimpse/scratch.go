package main

import (
	"fmt"
	"image"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/glimpse-ml/glimpse/core/dataset"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/scratch"
	"github.com/glimpse-ml/glimpse/models"
)

// scratchOptions are the settings of glimpse train --arch.
type scratchOptions struct {
	arch, dir, out, license, dtype string
	cfg                            scratch.Config
	workers                        int
}

// trainScratch trains a zoo architecture from scratch on a dataset folder
// (glimpse train --arch): every picture is prepared as the model's input
// once, then the whole network learns; one progress line per epoch goes to
// stderr, the summary to stdout. Nothing is written unless training ends
// well.
func trainScratch(o scratchOptions, stdout, stderr io.Writer) error {
	start := time.Now()
	folder, err := dataset.ReadFolder(o.dir)
	if err != nil {
		return err
	}
	g, err := models.Build(o.arch, models.Options{Classes: len(folder.Classes)})
	if err != nil {
		return err
	}
	if err := scratch.Init(g, o.cfg.Seed); err != nil {
		return err
	}
	net, err := scratch.New(g, kernels.Best())
	if err != nil {
		return err
	}
	bar := newProgress(stderr)
	px, bad, err := dataset.ReadPixels(folder, g.Meta.Preprocess, g.InputShape, o.workers,
		func(done, total int) { bar.update("reading", done, total, "") })
	bar.finish()
	warnUnreadable(stderr, "train", bad)
	if err != nil {
		return err
	}
	if len(px.Sizes) > 1 {
		fmt.Fprintf(stderr, "glimpse train: note: the pictures come in %d sizes (%s); each is resized to %dx%d as %s's preprocessing says\n",
			len(px.Sizes), sizeList(px.Sizes), g.InputShape[1], g.InputShape[0], o.arch)
	}
	read := time.Since(start)
	d := &scratch.Data{X: px.X, Y: px.Y, Labels: px.Classes}
	cfg := o.cfg
	cfg.OnEpoch = func(e scratch.Epoch) bool {
		line := fmt.Sprintf("epoch %d/%d loss %.4f acc %.4f", e.Epoch, e.Epochs, e.Loss, e.Accuracy)
		if e.HasValidation {
			line += fmt.Sprintf(" val_acc %.4f", e.ValAccuracy)
		}
		fmt.Fprintf(stderr, "%s %.0f examples/s\n", line, e.PerSecond)
		return true
	}
	r, err := scratch.Train(net, d, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w; nothing written", o.out, err)
	}
	schedule := "constant"
	if cfg.Cosine {
		schedule = "cosine"
	}
	source := fmt.Sprintf("glimpse train --arch %s --epochs %d --batch %d --lr %g --seed %d on %s (%d pictures; Adam, %s learning rate)",
		o.arch, cfg.Epochs, cfg.BatchSize, cfg.LearningRate, cfg.Seed, filepath.Base(filepath.Clean(o.dir)), px.Len(), schedule)
	if cfg.Validation > 0 {
		source = strings.Replace(source, " --seed", fmt.Sprintf(" --val %g --seed", cfg.Validation), 1)
	}
	out, err := scratch.Classifier(g, px.Classes, source)
	if err != nil {
		return err
	}
	out.Meta.License = o.license
	if err := format.WriteFile(o.out, out, format.Options{DType: o.dtype}); err != nil {
		return err
	}
	last := r.History[len(r.History)-1]
	fmt.Fprintf(stdout, "wrote %s: %s from scratch, %d classes, %d pictures (%d unreadable), %d epochs, train acc %.4f",
		o.out, o.arch, len(px.Classes), px.Len(), len(bad), len(r.History), last.Accuracy)
	if last.HasValidation {
		fmt.Fprintf(stdout, ", val acc %.4f (%d pictures)", last.ValAccuracy, r.Validation)
	}
	fmt.Fprintf(stdout, "; reading %.1fs, training %.1fs\n", read.Seconds(), (time.Since(start) - read).Seconds())
	return nil
}

// sizeList names up to four sizes, most common first.
func sizeList(sizes map[image.Point]int) string {
	keys := make([]image.Point, 0, len(sizes))
	for k := range sizes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b image.Point) int {
		if sizes[a] != sizes[b] {
			return sizes[b] - sizes[a]
		}
		return a.X*100000 + a.Y - (b.X*100000 + b.Y)
	})
	var parts []string
	for i, k := range keys {
		if i == 4 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("%dx%d: %d", k.X, k.Y, sizes[k]))
	}
	return strings.Join(parts, ", ")
}
