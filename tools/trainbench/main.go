// Command trainbench measures how fast LeNet-5 trains natively, Glimpse
// beside torch, and prints one line for make bench:
//
//	lenet5_train_native glimpse_eps=N torch_eps=N
//
// in training examples per second: batch 64, Adam 1e-3, one thread each,
// timed after a warm-up of 512 examples, on the same random 32x32 grey
// pictures. torch runs through torch_lenet5.py beside this file (Debian's
// python3-torch); without it the line ends in torch_eps=none.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/core/scratch"
	"github.com/glimpse-ml/glimpse/models"
)

func main() {
	examples := flag.Int("examples", 6400, "examples timed after the warm-up")
	python := flag.String("python", "/usr/bin/python3", "Python with torch")
	script := flag.String("torch", "tools/trainbench/torch_lenet5.py", "the torch side's script")
	flag.Parse()
	runtime.GOMAXPROCS(1)
	eps, err := glimpse(*examples)
	if err != nil {
		fmt.Fprintln(os.Stderr, "trainbench:", err)
		os.Exit(1)
	}
	torch := "none"
	if out, err := exec.Command(*python, *script, fmt.Sprint(*examples)).Output(); err == nil {
		torch = strings.TrimSpace(string(out))
	} else {
		fmt.Fprintf(os.Stderr, "trainbench: torch not measured (%s %s: %v)\n", *python, filepath.Base(*script), err)
	}
	fmt.Printf("lenet5_train_native glimpse_eps=%.0f torch_eps=%s\n", eps, torch)
}

// glimpse trains LeNet-5 on random pictures with the best kernels and
// returns the examples per second after a warm-up of 512 examples.
func glimpse(examples int) (float64, error) {
	g, err := models.Build("lenet5", models.Options{})
	if err != nil {
		return 0, err
	}
	if err := scratch.Init(g, 1); err != nil {
		return 0, err
	}
	net, err := scratch.New(g, kernels.Best())
	if err != nil {
		return 0, err
	}
	const batch, warm = 64, 512
	n := warm + examples
	rng := rand.New(rand.NewPCG(1, 2))
	d := &scratch.Data{X: make([]float32, n*1024), Y: make([]int, n)}
	for i := 0; i < 10; i++ {
		d.Labels = append(d.Labels, fmt.Sprint(i))
	}
	for i := range d.X {
		d.X[i] = rng.Float32()
	}
	for i := range d.Y {
		d.Y[i] = rng.IntN(10)
	}
	cfg := scratch.Defaults()
	cfg.Epochs = 1
	var start time.Time
	cfg.OnBatch = func(epoch, done, total int, loss float64) bool {
		if done == warm {
			start = time.Now()
		}
		return true
	}
	if _, err := scratch.Train(net, d, cfg); err != nil {
		return 0, err
	}
	return float64(examples) / time.Since(start).Seconds(), nil
}
