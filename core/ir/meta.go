package ir

import (
	"fmt"
	"strconv"
	"strings"
)

// Meta is what a model file says about its network besides the graph:
// enough for the CLI, the browser and the source framework to agree on
// every pixel and every label.
type Meta struct {
	Architecture string  // e.g. "mobilenet_v2"; free text for imported graphs
	Width        float32 // width multiplier, 0 when it does not apply
	Labels       []string
	Preprocess   Preprocess
	// Embedding names the value that holds the backbone's features: the
	// output of the last pooling layer before any classifier. Training
	// heads read it; --drop-head makes it the only output.
	Embedding string
	Source    string // where the weights came from, e.g. "tfjs-layers nsfwjs@4.4.0 mobilenet_v2"
	License   string
	// Quant holds the int8 quantization of activation values, by value
	// name, for a calibrated model (glimpse convert --calibrate); nil for
	// every other model, which computes in float32.
	Quant map[string]QParams
}

// Resize policies of Preprocess.Resize.
const (
	ResizeStretch = "stretch" // resize to the input size, ignoring the aspect ratio
	ResizeShorter = "shorter" // resize the shorter side to ResizeTo, keeping the aspect ratio, then crop
)

// Preprocess says how pixels become the network's input. A pixel's channel
// value v in 0..255 becomes v*Scale[c] + Offset[c], indexed by the
// network's channel; mean/std normalisation is Scale = 1/(255*std),
// Offset = -mean/std. Channels names the order of the input's channels:
// "RGB", "BGR", or "L" for a one-channel grey input (the picture's luma).
type Preprocess struct {
	Resize   string // ResizeStretch or ResizeShorter
	ResizeTo int    // the shorter side's length for ResizeShorter
	Crop     string // "center" (the only crop so far)
	Scale    [3]float32
	Offset   [3]float32
	Channels string // "RGB", "BGR" or "L"
}

// TorchvisionPreprocess is torchvision's evaluation transform for an
// input of h x w: resize the shorter side to 256/224 of the crop
// (rounded down: 256 for 224, 182 for 160, as timm's crop_pct of 0.875
// gives), crop the centre, then x/255 normalised by ImageNet's mean and
// standard deviation, folded into one scale and offset per channel. The
// ONNX and PyTorch front ends and the zoo's builders all take it from
// here, so a network has one preprocessing whichever way it arrived.
func TorchvisionPreprocess(h, w int) Preprocess {
	mean := [3]float64{0.485, 0.456, 0.406}
	std := [3]float64{0.229, 0.224, 0.225}
	p := Preprocess{Resize: ResizeShorter, ResizeTo: min(h, w) * 256 / 224, Crop: "center", Channels: "RGB"}
	for c := range 3 {
		p.Scale[c] = float32(1 / (255 * std[c]))
		p.Offset[c] = float32(-mean[c] / std[c])
	}
	return p
}

// String writes p as a --preprocess spec (the grammar of FORMAT.md,
// section 8) that reads back to the same values: scale and offset are
// written exactly, as float32. It names a rule in one line, as a saved
// project records the rule its embeddings were made with.
func (p Preprocess) String() string {
	var items []string
	switch p.Resize {
	case ResizeShorter:
		items = append(items, fmt.Sprintf("resize=shorter:%d", p.ResizeTo), "crop=center")
	case ResizeStretch:
		items = append(items, "resize=stretch")
	}
	num := func(v [3]float32) string {
		if v[0] == v[1] && v[1] == v[2] {
			return strconv.FormatFloat(float64(v[0]), 'g', -1, 32)
		}
		s := make([]string, 3)
		for i, x := range v {
			s[i] = strconv.FormatFloat(float64(x), 'g', -1, 32)
		}
		return strings.Join(s, ":")
	}
	items = append(items, "scale="+num(p.Scale), "offset="+num(p.Offset))
	if p.Channels != "" {
		items = append(items, "channels="+p.Channels)
	}
	return strings.Join(items, ",")
}
