package tfjsexport

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Teachable Machine's image models: @teachablemachine/image 0.8.5 crops
// the picture to a centred square of metadata.imageSize pixels and feeds
// the network pixel/127 − 1 (its utils/tf.ts divides by 127, not 127.5).
const (
	tmDivisor        = 127
	tmPackageName    = "@teachablemachine/image"
	tmPackageVersion = "0.8.5"
	tmTFJSVersion    = "1.3.1"
)

// metadata is Teachable Machine's metadata.json.
type metadata struct {
	TFJSVersion    string         `json:"tfjsVersion"`
	PackageVersion string         `json:"packageVersion"`
	PackageName    string         `json:"packageName"`
	TimeStamp      string         `json:"timeStamp"`
	UserMetadata   map[string]any `json:"userMetadata"`
	ModelName      string         `json:"modelName"`
	Labels         []string       `json:"labels"`
	ImageSize      int            `json:"imageSize"`
}

// TeachableOptions name the exported model and date it.
type TeachableOptions struct {
	ModelName string
	Time      time.Time
	// UserMetadata goes to metadata.json's userMetadata as it is (nil: an
	// empty object): what the file holds, for whoever reads it later (the
	// app says which of its heads it wrote).
	UserMetadata map[string]any
}

// Teachable writes the zip of model.json, weights.bin and metadata.json
// that @teachablemachine/image's load(modelURL, metadataURL) reads, for a
// classifier g whose one output is its class probabilities, labelled by
// g.Meta.Labels.
//
// Teachable Machine scales pixels its own way, so a 1x1 convolution in
// front maps its input onto the model's preprocessing (scale, offset and
// channel order): pixel = 127·(x+1), and the network's channel c wants
// pixel[src(c)]·Scale[c] + Offset[c]. It also crops to a centred square
// where Glimpse may stretch: on a square picture both see the same
// pixels.
func Teachable(out io.Writer, g *ir.Graph, opt TeachableOptions) error {
	shapes, err := g.Infer()
	if err != nil {
		return err
	}
	in := g.InputShape
	if in[0] != in[1] || in[2] != 3 {
		return fmt.Errorf("Teachable Machine reads square RGB pictures; the model's input is %v", in)
	}
	if len(g.Outputs) != 1 {
		return fmt.Errorf("Teachable Machine reads one output of class probabilities; the model has %d outputs", len(g.Outputs))
	}
	classes := shapes[g.Outputs[0]].Size()
	if len(g.Meta.Labels) != classes {
		return fmt.Errorf("the model has %d labels for %d outputs", len(g.Meta.Labels), classes)
	}
	p := g.Meta.Preprocess
	var src [3]int
	switch p.Channels {
	case "RGB", "":
		src = [3]int{0, 1, 2}
	case "BGR":
		src = [3]int{2, 1, 0}
	default:
		return fmt.Errorf("Teachable Machine feeds RGB; the model reads %q", p.Channels)
	}
	if p.Scale == ([3]float32{}) {
		return fmt.Errorf("the model's preprocessing has no pixel scale")
	}
	// Kernel [1, 1, in, out] row-major: weight of TM channel i in output c.
	kernel := make([]float32, 9)
	bias := make([]float32, 3)
	for c := 0; c < 3; c++ {
		s := float64(tmDivisor) * float64(p.Scale[c])
		kernel[src[c]*3+c] = float32(s)
		bias[c] = float32(s + float64(p.Offset[c]))
	}
	name := opt.ModelName
	user := opt.UserMetadata
	if user == nil {
		user = map[string]any{}
	}
	if name == "" {
		name = "glimpse"
	}
	m, err := Write(g, Options{PrefixKernel: kernel, PrefixBias: bias, Name: name})
	if err != nil {
		return err
	}
	meta, err := json.MarshalIndent(metadata{
		TFJSVersion: tmTFJSVersion, PackageVersion: tmPackageVersion, PackageName: tmPackageName,
		TimeStamp: opt.Time.UTC().Format(time.RFC3339), UserMetadata: user, ModelName: name,
		Labels: g.Meta.Labels, ImageSize: in[0],
	}, "", "  ")
	if err != nil {
		return err
	}
	return writeZip(out, []zipFile{
		{"model.json", m.ModelJSON},
		{WeightsFile, m.Weights},
		{"metadata.json", meta},
	}, opt.Time)
}
