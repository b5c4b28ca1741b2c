package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/glimpse-ml/glimpse/core/format"
	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/tools/convert"
)

func runConvert(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	out := fs.String("o", "", "output model file (.glimpse)")
	dtype := fs.String("dtype", "f32", "weight storage: f32, f16 or int8 (per output channel)")
	labelsFile := fs.String("labels", "", "file with one class name per line (default: ImageNet's class names for 1000 or 1001 outputs; none: no names)")
	dropHead := fs.Bool("drop-head", false, "cut the network at its embedding (the last pooling layer before the classifier)")
	arch := fs.String("arch", "", "architecture of a PyTorch state_dict (.pth, .pt): "+strings.Join(convert.PyTorchArchs(), ", "))
	width := fs.Float64("width", 0, "width multiplier of a MobileNet state_dict (default: 1)")
	preprocess := fs.String("preprocess", "", "preprocessing spec overriding the source's, e.g. torchvision or resize=stretch,range=-1:1 (see FORMAT.md)")
	calibrate := fs.String("calibrate", "", "with --dtype int8: a folder of pictures (or of sub-folders of pictures) to measure the activations on, so the model computes in int8")
	srcs, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-o OUT.glimpse is required")
	}
	if len(srcs) != 1 {
		return fmt.Errorf("want one source model (a TF.js model.json or Teachable Machine .zip, an .onnx file or a PyTorch .pth), got %d", len(srcs))
	}
	dt, err := format.ParseDType(*dtype)
	if err != nil {
		return err
	}
	if *calibrate != "" && dt != format.Int8 {
		return fmt.Errorf("--calibrate %s: calibration quantizes the activations to int8; it needs --dtype int8 (got %s)", *calibrate, dt)
	}
	src := srcs[0]
	var report convert.Report
	opt := convert.Options{DropHead: *dropHead, Report: &report}
	switch *labelsFile {
	case "":
	case "none":
		opt.NoLabels = true
	default:
		if opt.Labels, err = readLabels(*labelsFile); err != nil {
			return err
		}
		opt.LabelsFrom = *labelsFile
	}
	var g *ir.Graph
	ext := strings.ToLower(filepath.Ext(src))
	pth := ext == ".pth" || ext == ".pt"
	switch {
	case pth && *arch == "":
		return fmt.Errorf("%s: a PyTorch state_dict holds weights but no graph: name its architecture with --arch (one of %s)", src, strings.Join(convert.PyTorchArchs(), ", "))
	case !pth && (*arch != "" || *width != 0):
		return fmt.Errorf("%s: --arch and --width apply to PyTorch state_dicts (.pth, .pt) only; this file describes its own graph", src)
	}
	switch {
	case ext == ".json" || ext == ".zip":
		g, err = convert.FromTFJS(src, opt)
	case ext == ".onnx":
		g, err = convert.FromONNX(src, opt)
	case pth:
		g, err = convert.FromPyTorch(src, *arch, *width, opt)
	default:
		return fmt.Errorf("%s: unsupported source; this version reads TF.js models (model.json with its weight shards, or a zip of them such as a Teachable Machine export), ONNX files (.onnx) and PyTorch state_dicts (.pth, .pt)", src)
	}
	if err != nil {
		return err
	}
	if *preprocess != "" {
		if g.Meta.Preprocess, err = convert.ParsePreprocess(*preprocess, g.Meta.Preprocess, g.InputShape); err != nil {
			return err
		}
	}
	compute := ""
	if *calibrate != "" {
		var rep convert.CalibrationReport
		if g, err = convert.Calibrate(g, *calibrate, &rep); err != nil {
			return err
		}
		compute = fmt.Sprintf(", int8 compute (calibrated on %d pictures", rep.Pictures)
		if n := len(rep.Unreadable); n > 0 {
			compute += fmt.Sprintf(", %d unreadable files skipped", n)
		}
		compute += ")"
	}
	if err := format.WriteFile(*out, g, format.Options{DType: dt.String()}); err != nil {
		return err
	}
	_, totals, err := g.Report()
	if err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s, %s params, %s%s, %s bytes, from %s, labels: %s\n", *out, g.Meta.Architecture, thousands(totals.Params), dt, compute, thousands(st.Size()), g.Meta.Source, report.Labels)
	return nil
}

// readLabels reads one class name per line, ignoring blank lines at the
// ends and surrounding spaces.
func readLabels(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var labels []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		labels = append(labels, strings.TrimSpace(line))
	}
	if len(labels) == 0 || labels[0] == "" {
		return nil, fmt.Errorf("%s: no labels", path)
	}
	return labels, nil
}
