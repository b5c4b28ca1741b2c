package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/glimpse-ml/glimpse/core/dataset"
	"github.com/glimpse-ml/glimpse/core/model"
)

const evalUsage = "eval -m MODEL -d DIR [--json]"

// runEval classifies every image of a dataset folder (one sub-folder per
// class, named as the model's classes) and reports accuracy, per-class
// precision and recall, and the confusion matrix.
func runEval(args []string, stdout io.Writer) error { return evalCommand(args, stdout, os.Stderr) }

func evalCommand(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	modelPath := fs.String("m", "", "model file (.glimpse) with a classifier")
	dir := fs.String("d", "", "dataset folder: one sub-folder of images per class")
	asJSON := fs.Bool("json", false, "print one JSON document")
	workers := fs.Int("workers", 0, "goroutines (default: one per CPU)")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) > 0:
		return fmt.Errorf("unexpected argument %q (usage: glimpse %s)", rest[0], evalUsage)
	case *modelPath == "":
		return fmt.Errorf("-m MODEL is required")
	case *dir == "":
		return fmt.Errorf("-d DIR is required")
	}
	m, err := model.Open(*modelPath, model.Options{})
	if err != nil {
		return err
	}
	if !m.HasClassifier() {
		return fmt.Errorf("%s: %w; train a head on it with glimpse train", *modelPath, model.ErrNoClassifier)
	}
	folder, err := dataset.ReadFolder(*dir)
	if err != nil {
		return err
	}
	bar := newProgress(stderr)
	ev, bad, err := dataset.EvaluateFolder(m, folder, *workers, func(done, total int) { bar.update("classifying", done, total, "") })
	bar.finish()
	warnUnreadable(stderr, "eval", bad)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(stdout, ev)
	}
	n := 0
	for _, c := range ev.PerClass {
		n += c.Support
	}
	fmt.Fprintf(stdout, "accuracy %.4f on %d images\n\n", ev.Accuracy, n)
	width := 5
	for _, c := range ev.Classes {
		width = max(width, len(c))
	}
	fmt.Fprintf(stdout, "%-*s  %9s  %6s  %7s\n", width, "class", "precision", "recall", "support")
	for _, c := range ev.PerClass {
		fmt.Fprintf(stdout, "%-*s  %9.4f  %6.4f  %7d\n", width, c.ClassName, c.Precision, c.Recall, c.Support)
	}
	fmt.Fprintf(stdout, "\nconfusion (rows: true class, columns: predicted, in the order above)\n")
	for i, row := range ev.Confusion {
		fmt.Fprintf(stdout, "%-*s ", width, ev.Classes[i])
		for _, v := range row {
			fmt.Fprintf(stdout, " %5d", v)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}
