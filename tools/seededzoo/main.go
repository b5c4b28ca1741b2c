// Command seededzoo writes a zoo architecture (models/) with weights drawn
// from a seed as torch initialises an untrained Conv2d and Linear, as a
// Glimpse file: the browser test's stand-in for a network converted from
// a torchvision .pth, which CI cannot make (no pretrained weights can be
// had, and torch is not installed there). The file says what it is in its
// source metadata, which the course page shows, so it can never pass for
// a trained network.
//
// usage: go run ./tools/seededzoo -arch alexnet -seed 1 [-drop-head] [-dtype f16] -o FILE.glimpse
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/scratch"
	"github.com/glimpse-ml/glimpse/models"
)

func main() {
	arch := flag.String("arch", "alexnet", "zoo architecture (networks of convolutions and dense layers only)")
	seed := flag.Uint64("seed", 1, "seed of the weights")
	dropHead := flag.Bool("drop-head", false, "cut the network at its embedding, as glimpse convert --drop-head does")
	dtype := flag.String("dtype", "f16", "weight storage: f32, f16 or int8")
	out := flag.String("o", "", "output file")
	flag.Parse()
	if err := run(*arch, *seed, *dropHead, *dtype, *out); err != nil {
		fmt.Fprintln(os.Stderr, "seededzoo:", err)
		os.Exit(1)
	}
}

func run(arch string, seed uint64, dropHead bool, dtype, out string) error {
	if out == "" {
		return fmt.Errorf("-o FILE is required")
	}
	g, err := models.Build(arch, models.Options{})
	if err != nil {
		return err
	}
	if err := scratch.Init(g, seed); err != nil {
		return fmt.Errorf("%s: %v", arch, err)
	}
	g.Meta.Source = fmt.Sprintf("untrained %s: seeded random weights (seed %d), a test fixture", arch, seed)
	if dropHead {
		g.Outputs = []string{g.Meta.Embedding}
		g.Prune()
	}
	if _, err := format.ParseDType(dtype); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".seededzoo-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := format.Write(tmp, g, format.Options{DType: dtype}); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %v", out, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}
