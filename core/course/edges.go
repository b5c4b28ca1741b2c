package course

import (
	"fmt"

	"github.com/glimpse-ml/glimpse/core/engine"
	"github.com/glimpse-ml/glimpse/core/imageprep"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
)

// EdgeKernel is a 3x3 vertical-edge kernel (Sobel's), row-major: it
// answers where brightness rises from left to right, the kind of kernel a
// trained network's first layer learns.
func EdgeKernel() []float32 {
	return []float32{
		-1, 0, 1,
		-2, 0, 2,
		-1, 0, 1,
	}
}

// EdgeMap is a real feature map of a picture for the pooling lesson: the
// picture's centred square in grey at side x side (resized as the model
// files prescribe, by core/imageprep), convolved with EdgeKernel and
// passed through ReLU on the engine. The result is (side−2) x (side−2).
func EdgeMap(rgba []byte, w, h, side int) ([]float32, int, error) {
	if side < 4 || side > MaxPoolSide {
		return nil, 0, fmt.Errorf("edge map side %d is outside 4..%d", side, MaxPoolSide)
	}
	img, err := imageprep.FromRGBA(w, h, rgba)
	if err != nil {
		return nil, 0, err
	}
	x := make([]float32, side*side)
	pre := ir.Preprocess{Resize: ir.ResizeShorter, ResizeTo: side, Crop: "center", Channels: "L",
		Scale: [3]float32{1.0 / 255, 1.0 / 255, 1.0 / 255}}
	if err := imageprep.Prepare(img, pre, ir.Shape{side, side, 1}, x); err != nil {
		return nil, 0, err
	}
	g := ir.New(ir.Shape{side, side, 1})
	k := g.AddTensor("edge", []int{3, 3, 1, 1}, EdgeKernel())
	g.Outputs = []string{g.AddNode("edges", ir.Conv2D, []string{g.Input}, []string{k}, ir.Attrs{Act: ir.ActReLU})}
	e, err := engine.New(g, kernels.Go{})
	if err != nil {
		return nil, 0, err
	}
	if err := e.Run(x); err != nil {
		return nil, 0, err
	}
	return append([]float32(nil), e.Output("edges")...), side - 2, nil
}
