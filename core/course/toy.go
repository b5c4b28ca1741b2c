package course

import (
	"fmt"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// The course's first classifier is one convolution kernel and a sign: a
// 3x3 kernel with +1 along the "\" diagonal and −1 along the "/" one,
// slid over a small drawing, averaged; positive means "\", negative "/".
const (
	ToySide   = 7 // the course's 7x7 input volume
	ToyKernel = 3 // its 3x3 kernel, giving a 5x5 output
)

// DiagonalKernel is the toy classifier's kernel, row-major: +1 on the
// main diagonal, −1 on the other, 0 in the centre where they cross.
func DiagonalKernel() []float32 {
	return []float32{
		1, 0, -1,
		0, 0, 0,
		-1, 0, 1,
	}
}

// Slide is the kernel at one position: the nine products of kernel and
// input, and their sum, the dot product that becomes one output cell.
type Slide struct {
	Row, Col int
	Products []float32
	Sum      float32
}

// Toy is the toy classifier's working on one drawing.
type Toy struct {
	Kernel []float32
	// Map is the 5x5 feature map the engine computed, row-major.
	Map  []float32
	Side int // the map's side
	// Slides give every dot product, position by position.
	Slides []Slide
	// Score is the map's average (the engine's global average pooling);
	// its sign is the answer: Class is `\`, `/`, or "" for zero.
	Score float32
	Class string
}

// Diagonal runs the toy classifier on a 7x7 drawing (row-major, values
// 0 for empty and 1 for ink; any real values work).
func Diagonal(pic []float32) (*Toy, error) {
	if len(pic) != ToySide*ToySide {
		return nil, fmt.Errorf("the drawing has %d cells, want %d", len(pic), ToySide*ToySide)
	}
	k := DiagonalKernel()
	g := ir.New(ir.Shape{ToySide, ToySide, 1})
	w := g.AddTensor("kernel", []int{ToyKernel, ToyKernel, 1, 1}, k)
	m := g.AddNode("conv", ir.Conv2D, []string{g.Input}, []string{w}, ir.Attrs{})
	s := g.AddNode("pool", ir.GlobalAvgPool, []string{m}, nil, ir.Attrs{})
	g.Outputs = []string{m, s}
	e, err := engine.New(g, kernels.Go{})
	if err != nil {
		return nil, err
	}
	if err := e.Run(pic); err != nil {
		return nil, err
	}
	side := ToySide - ToyKernel + 1
	t := &Toy{Kernel: k, Map: append([]float32(nil), e.Output(m)...), Side: side, Score: e.Output(s)[0]}
	for r := range side {
		for c := range side {
			sl := Slide{Row: r, Col: c}
			for i := range ToyKernel {
				for j := range ToyKernel {
					p := k[i*ToyKernel+j] * pic[(r+i)*ToySide+c+j]
					sl.Products = append(sl.Products, p)
					sl.Sum += p
				}
			}
			t.Slides = append(t.Slides, sl)
		}
	}
	switch {
	case t.Score > 0:
		t.Class = `\`
	case t.Score < 0:
		t.Class = `/`
	}
	return t, nil
}

// ToyDrawing is a 7x7 drawing of a diagonal line: `\` or `/`.
func ToyDrawing(class string) []float32 {
	pic := make([]float32, ToySide*ToySide)
	for i := 1; i < ToySide-1; i++ {
		j := i
		if class == "/" {
			j = ToySide - 1 - i
		}
		pic[i*ToySide+j] = 1
	}
	return pic
}
