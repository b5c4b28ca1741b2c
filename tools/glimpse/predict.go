package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/model"
)

type predictResult struct {
	Image       string             `json:"image"`
	Predictions []model.Prediction `json:"predictions,omitempty"`
	Embedding   []float32          `json:"embedding,omitempty"`
}

func runPredict(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	modelPath := fs.String("m", "", "model file (.glimpse)")
	top := fs.Int("top", 5, "how many classes to print (0: all)")
	asJSON := fs.Bool("json", false, "print one JSON document")
	images, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *modelPath == "" {
		return fmt.Errorf("-m MODEL is required")
	}
	if len(images) == 0 {
		return fmt.Errorf("no images given")
	}
	if *top < 0 {
		return fmt.Errorf("--top %d: want 0 (all) or more", *top)
	}
	m, err := model.Open(*modelPath, model.Options{})
	if err != nil {
		return err
	}
	var results []predictResult
	for _, path := range images {
		img, err := imageprep.DecodeFile(path)
		if err != nil {
			return err
		}
		r := predictResult{Image: path}
		if m.HasClassifier() {
			if r.Predictions, err = m.Classify(img, *top); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		} else {
			if r.Embedding, err = m.Embed(img); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		results = append(results, r)
	}
	if *asJSON {
		return writeJSON(stdout, struct {
			Model   string          `json:"model"`
			Results []predictResult `json:"results"`
		}{*modelPath, results})
	}
	for _, r := range results {
		fmt.Fprintln(stdout, r.Image)
		if r.Embedding != nil {
			fmt.Fprintf(stdout, "  no classifier: the model was cut at its embedding; %d features\n", len(r.Embedding))
			continue
		}
		for _, p := range r.Predictions {
			fmt.Fprintf(stdout, "  %6.2f%%  %s\n", 100*p.Probability, p.ClassName)
		}
	}
	return nil
}
