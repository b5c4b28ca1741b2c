package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/model"
)

func runBench(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	modelPath := fs.String("m", "", "model file (.glimpse)")
	runs := fs.Int("runs", 50, "timed inferences after warm-up")
	which := fs.String("kernels", "best", "kernels: best (the fastest here), go (the pure-Go reference), avx2fma or avx512")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *modelPath == "" || len(pos) > 0 {
		return fmt.Errorf("usage: glimpse bench -m MODEL [--runs N] [--kernels best|go|avx2fma|avx512]")
	}
	if *runs < 1 {
		return fmt.Errorf("--runs %d: want at least 1", *runs)
	}
	k := kernels.Best()
	if *which != "best" {
		var names []string
		k = nil
		for _, a := range kernels.Available() {
			names = append(names, a.Name())
			if a.Name() == *which {
				k = a
			}
		}
		if k == nil {
			return fmt.Errorf("--kernels %q: want best or one of %s (the kernels this machine runs)", *which, strings.Join(names, ", "))
		}
	}
	g, err := format.ReadFile(*modelPath)
	if err != nil {
		return err
	}
	m, err := model.New(*modelPath, g, k)
	if err != nil {
		return err
	}
	input := make([]float32, g.InputShape.Size())
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range input {
		input[i] = rng.Float32()
	}
	for i := 0; i < 5; i++ { // warm-up: caches, page faults
		if err := m.RunInput(input); err != nil {
			return err
		}
	}
	times := make([]float64, *runs)
	for i := range times {
		start := time.Now()
		if err := m.RunInput(input); err != nil {
			return err
		}
		times[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	slices.Sort(times)
	name := k.Name()
	if q := m.Engine().Int8Kernels(); q != "" {
		name += " int8=" + q // a calibrated model computes in int8
	}
	fmt.Fprintf(stdout, "%s: kernels=%s input=%v median_ms=%.2f min_ms=%.2f runs=%d arena_mb=%.1f\n",
		*modelPath, name, g.InputShape, times[len(times)/2], times[0], *runs, float64(m.Engine().ArenaBytes())/(1<<20))
	return nil
}
