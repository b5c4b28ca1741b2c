package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/glimpse-ml/glimpse/core/augment"
	"github.com/glimpse-ml/glimpse/core/classifier"
	"github.com/glimpse-ml/glimpse/core/dataset"
	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/model"
	"github.com/glimpse-ml/glimpse/core/scratch"
	"github.com/glimpse-ml/glimpse/core/train"
)

const trainUsage = "train -m MODEL -d DIR -o OUT.glimpse [--head linear|tm|strong] [--epochs N] [--lr X] [--batch N] [--hidden N] [--val F] [--augment] [--views N] [--seed N] [--patience N] [--label-smoothing X] [--class-weights] [--dtype f32|f16|int8]\n       train --arch lenet5|lenet5_1998 -d DIR -o OUT.glimpse [--epochs N] [--batch N] [--lr X] [--val F] [--seed N] [--license TEXT]"

// runTrain embeds every image of a dataset folder once with the model's
// backbone, trains a head on the cached embeddings and writes the backbone
// and the head as one model file. Progress goes to stderr, the summary to
// stdout.
func runTrain(args []string, stdout io.Writer) error { return trainCommand(args, stdout, os.Stderr) }

// trainCommand is runTrain with its stderr given, for tests.
func trainCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	modelPath := fs.String("m", "", "backbone model file (.glimpse)")
	dir := fs.String("d", "", "dataset folder: one sub-folder of images per class")
	out := fs.String("o", "", "output model file")
	head := fs.String("head", train.DefaultHead, "head preset: "+strings.Join(train.Presets, ", "))
	epochs := fs.Int("epochs", 0, "epochs (default: the preset's)")
	lr := fs.Float64("lr", 0, "learning rate (default: the preset's)")
	batch := fs.Int("batch", 0, "batch size (default: the preset's)")
	hidden := fs.Int("hidden", 0, "hidden units, 0 for none (default: the preset's)")
	val := fs.Float64("val", 0, "fraction of each class held out for validation (default: the preset's)")
	patience := fs.Int("patience", 0, "stop after N epochs without a lower validation loss (default: the preset's)")
	smoothing := fs.Float64("label-smoothing", 0, "label smoothing (default: the preset's)")
	classWeights := fs.Bool("class-weights", false, "weigh classes by inverse frequency")
	augmentFlag := fs.Bool("augment", false, "add augmented views of each training image (flip, crop, rotation, brightness, contrast)")
	views := fs.Int("views", 4, "augmented views per image with --augment")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same head")
	dtype := fs.String("dtype", "", "weight storage of the output (default: the backbone's; f16 for a backbone on an 8-bit grid)")
	workers := fs.Int("workers", 0, "embedding goroutines (default: one per CPU)")
	arch := fs.String("arch", "", "train this architecture from scratch (lenet5, lenet5_1998, ...) instead of a head on -m MODEL")
	license := fs.String("license", "", "with --arch: the licence of the training data, recorded in the model file")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *arch != "" {
		switch {
		case len(rest) > 0:
			return fmt.Errorf("unexpected argument %q (usage: glimpse %s)", rest[0], trainUsage)
		case *modelPath != "":
			return fmt.Errorf("give -m MODEL (a head on its backbone) or --arch NAME (a whole network from scratch), not both")
		case *dir == "":
			return fmt.Errorf("-d DIR is required")
		case *out == "":
			return fmt.Errorf("-o OUT.glimpse is required")
		}
		for _, name := range []string{"head", "hidden", "patience", "label-smoothing", "class-weights", "augment", "views"} {
			if set[name] {
				return fmt.Errorf("--%s is for a head on -m MODEL; --arch trains the whole network", name)
			}
		}
		cfg := scratch.Defaults()
		cfg.Seed = *seed
		if set["epochs"] {
			cfg.Epochs = *epochs
		}
		if set["lr"] {
			cfg.LearningRate = *lr
		}
		if set["batch"] {
			cfg.BatchSize = *batch
		}
		if set["val"] {
			cfg.Validation = *val
		}
		if err := cfg.Check(); err != nil {
			return err
		}
		if *dtype != "" {
			if _, err := format.ParseDType(*dtype); err != nil {
				return err
			}
		}
		return trainScratch(scratchOptions{arch: *arch, dir: *dir, out: *out, license: *license, dtype: *dtype,
			cfg: cfg, workers: *workers}, stdout, stderr)
	}
	if set["license"] {
		return fmt.Errorf("--license is for --arch (a network trained from scratch); a head keeps its backbone's licence")
	}
	switch {
	case len(rest) > 0:
		return fmt.Errorf("unexpected argument %q (usage: glimpse %s)", rest[0], trainUsage)
	case *modelPath == "":
		return fmt.Errorf("-m MODEL is required")
	case *dir == "":
		return fmt.Errorf("-d DIR is required")
	case *out == "":
		return fmt.Errorf("-o OUT.glimpse is required")
	case *views < 1 || *views > 64:
		return fmt.Errorf("--views %d: want 1 to 64", *views)
	}
	cfg, err := train.Preset(*head)
	if err != nil {
		return err
	}
	if set["epochs"] {
		cfg.Epochs = *epochs
		cfg.MaxSteps = 0 // epochs asked for are epochs run
	}
	if set["lr"] {
		cfg.LearningRate = *lr
	}
	if set["batch"] {
		cfg.BatchSize = *batch
	}
	if set["hidden"] {
		cfg.Hidden = *hidden
	}
	if set["val"] {
		cfg.Validation = *val
	}
	if set["patience"] {
		cfg.Patience = *patience
	}
	if set["label-smoothing"] {
		cfg.LabelSmoothing = *smoothing
	}
	cfg.ClassWeights = cfg.ClassWeights || *classWeights
	cfg.Seed = *seed
	if err := cfg.Check(); err != nil {
		return err
	}
	if *dtype != "" {
		if _, err := format.ParseDType(*dtype); err != nil {
			return err
		}
	}

	start := time.Now()
	m, err := model.Open(*modelPath, model.Options{})
	if err != nil {
		return err
	}
	m, tap, err := classifier.Features(m, cfg)
	if err != nil {
		return err
	}
	if tap != "" {
		fmt.Fprintf(stderr, "features: the embedding and the average of %s, %d values\n", tap, m.EmbeddingSize())
	}
	folder, err := dataset.ReadFolder(*dir)
	if err != nil {
		return err
	}
	bar := newProgress(stderr)
	opt := dataset.EmbedOptions{Workers: *workers, Seed: *seed,
		Progress: func(done, total int) { bar.update("embedding", done, total, "") }}
	if *augmentFlag {
		a := augment.Default()
		opt.Augment, opt.Views = &a, *views
	}
	samples, bad, err := dataset.EmbedFolder(m, folder, opt)
	bar.finish()
	warnUnreadable(stderr, "train", bad)
	if err != nil {
		return err
	}
	embedded := time.Since(start)

	h, err := train.Train(samples, cfg, func(e train.Epoch) bool {
		extra := fmt.Sprintf("loss %.4f acc %.3f", e.Loss, e.Accuracy)
		if e.HasValidation {
			extra += fmt.Sprintf(" val_loss %.4f val_acc %.3f", e.ValLoss, e.ValAccuracy)
		}
		bar.update("epoch", e.Epoch, e.Epochs, extra)
		return true
	})
	bar.finish()
	if err != nil {
		return err
	}
	if h.Report.Diverged {
		fmt.Fprintf(stderr, "glimpse train: warning: %s\n", h.Report.Stopped)
	}
	if err := classifier.WriteFile(*out, h, m, *dtype); err != nil {
		return err
	}

	r := h.Report
	last := r.History[r.Kept-1]
	fmt.Fprintf(stdout, "wrote %s: %s head, %d classes, %d images (%d unreadable) as %d samples, epoch %d of %d kept, train acc %.3f",
		*out, cfg.Head, len(h.Labels), folder.Len()-len(bad), len(bad), samples.Len(), r.Kept, len(r.History), last.Accuracy)
	if last.HasValidation {
		fmt.Fprintf(stdout, ", val acc %.3f (loss %.4f, %d images)", last.ValAccuracy, last.ValLoss, r.Validation)
	}
	fmt.Fprintf(stdout, "; embedding %.1fs, training %.1fs\n", embedded.Seconds(), (time.Since(start) - embedded).Seconds())
	return nil
}

// warnUnreadable prints one warning line naming the files skipped.
func warnUnreadable(w io.Writer, cmd string, bad []dataset.Unreadable) {
	if len(bad) == 0 {
		return
	}
	const show = 5
	var parts []string
	for i, b := range bad {
		if i == show {
			parts = append(parts, fmt.Sprintf("and %d more", len(bad)-show))
			break
		}
		parts = append(parts, b.String())
	}
	fmt.Fprintf(w, "glimpse %s: warning: skipped %d unreadable file(s): %s\n", cmd, len(bad), oneLine(strings.Join(parts, "; ")))
}

// progress draws a one-line bar on a terminal (rewritten in place) or, on
// anything else, a line at every tenth of the way.
type progress struct {
	w        io.Writer
	tty      bool
	start    time.Time
	phase    string
	lastTick int
	drawn    bool
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		st, err := f.Stat()
		p.tty = err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	return p
}

func (p *progress) update(phase string, done, total int, extra string) {
	if phase != p.phase {
		p.phase, p.start, p.lastTick = phase, time.Now(), -1
	}
	eta := ""
	if done > 0 && done < total {
		left := time.Duration(float64(time.Since(p.start)) * float64(total-done) / float64(done))
		eta = " ETA " + left.Round(time.Second).String()
	}
	line := fmt.Sprintf("%s %d/%d%s %s", phase, done, total, eta, extra)
	if p.tty {
		const width = 24
		fill := width * done / max(total, 1)
		bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
		fmt.Fprintf(p.w, "\r\033[K[%s] %s", bar, line)
		p.drawn = true
		return
	}
	if tick := 10 * done / max(total, 1); tick != p.lastTick {
		p.lastTick = tick
		fmt.Fprintln(p.w, line)
	}
}

// finish ends the bar's line.
func (p *progress) finish() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
	p.drawn, p.phase = false, ""
}
