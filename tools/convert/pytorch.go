package convert

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/models"
)

// PyTorchArchs lists the architectures FromPyTorch loads state_dicts into:
// torchvision's names, plus LeNet-5 and MobileNet v1 as models/ defines
// them.
func PyTorchArchs() []string { return models.Names() }

// FromPyTorch converts a PyTorch state_dict (torch.save of
// model.state_dict(), in the zip format of torch >= 1.6 or the legacy
// format, or a checkpoint dict holding it under "state_dict" or "model")
// into the graph of arch from package models at the given width
// multiplier (0 means 1). A .pth file holds weights but no graph, so the
// architecture must be named; its keys must then match the graph's tensor
// names exactly, which are torchvision's. The classifier's size is taken
// from the file, so a fine-tuned head of any size loads.
//
// Missing, unexpected and mis-shaped keys are reported together in one
// error naming each key with both shapes (batch norm's
// num_batches_tracked counters, and GoogLeNet's auxiliary classifiers,
// which only training uses, are ignored). Nothing is read or allocated for
// a tensor before its shape has been checked against the architecture.
// Errors name the file.
func FromPyTorch(path, arch string, width float64, opt Options) (*ir.Graph, error) {
	name := filepath.Base(path)
	g, err := fromPyTorch(path, arch, width, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return g, nil
}

func fromPyTorch(path, arch string, width float64, opt Options) (*ir.Graph, error) {
	if !slices.Contains(models.Names(), arch) {
		return nil, fmt.Errorf("unknown architecture %q; a .pth file needs one of: %s", arch, strings.Join(models.Names(), ", "))
	}
	// Check the options before the file, so a typo costs no reading.
	g, err := models.Build(arch, models.Options{Width: width})
	if err != nil {
		return nil, err
	}
	sd, err := openStateDict(path)
	if err != nil {
		return nil, err
	}
	defer sd.Close()
	if g, err = pyTorchGraph(arch, width, sd); err != nil {
		return nil, err
	}
	if err := matchKeys(g, sd, arch, width); err != nil {
		return nil, err
	}
	if err := loadStateDict(g, sd); err != nil {
		return nil, err
	}
	if opt.Source == "" {
		opt.Source = "pytorch:" + filepath.Base(path)
	}
	w := g.Meta.Width
	if err := finish(g, opt); err != nil {
		return nil, err
	}
	g.Meta.Width = w // the builder knows it; finish's guess is for Keras's rounding
	return g, nil
}

// pyTorchGraph builds arch at width with as many classes as the file's
// classifier has.
func pyTorchGraph(arch string, width float64, sd *stateDict) (*ir.Graph, error) {
	g, err := models.Build(arch, models.Options{Width: width})
	if err != nil {
		return nil, err
	}
	if n := classesOf(g, sd); n > 0 && n <= models.MaxClasses {
		return models.Build(arch, models.Options{Width: width, Classes: n})
	}
	return g, nil
}

// classesOf reads the classifier's size from the file: the length of the
// last dense layer's bias, or 0 when the file has no such vector.
func classesOf(g *ir.Graph, sd *stateDict) int {
	out := g.Producer(g.Outputs[0])
	if out == nil || out.Op != ir.Dense || len(out.Weights) < 2 {
		return 0
	}
	if t := sd.tensors[out.Weights[1]]; t != nil && len(t.size) == 1 {
		return int(min(t.size[0], int64(models.MaxClasses)+1))
	}
	return 0
}

// torchShape is the shape torch stores an IR tensor in: convolution
// kernels OIHW (the IR's are HWIO) and dense kernels [Out, In] (the IR's
// are [In, Out]).
func torchShape(g *ir.Graph, name string) []int {
	s := g.Tensors[name].Shape
	switch kernelOp(g, name) {
	case ir.Conv2D:
		return []int{s[3], s[2], s[0], s[1]}
	case ir.Dense:
		return []int{s[1], s[0]}
	}
	return s
}

// kernelOp says whether a tensor is the kernel of a Conv2D or a Dense node
// ("" otherwise).
func kernelOp(g *ir.Graph, name string) ir.Op {
	for _, n := range g.Nodes {
		if (n.Op == ir.Conv2D || n.Op == ir.Dense) && len(n.Weights) > 0 && n.Weights[0] == name {
			return n.Op
		}
	}
	return ""
}

// ignoredKey reports keys that hold no inference weights: batch norm's
// step counters, and GoogLeNet's auxiliary classifiers (torchvision's
// pretrained file keeps them; inference never runs them).
func ignoredKey(arch, key string) bool {
	return strings.HasSuffix(key, ".num_batches_tracked") ||
		(arch == "googlenet" && (strings.HasPrefix(key, "aux1.") || strings.HasPrefix(key, "aux2.")))
}

// matchKeys compares the file's keys and shapes with the graph's and
// reports every difference in one error.
func matchKeys(g *ir.Graph, sd *stateDict, arch string, width float64) error {
	var problems []string
	var missing, extra, shaped int
	for _, name := range tensorNames(g) {
		want := torchShape(g, name)
		t, ok := sd.tensors[name]
		switch {
		case !ok && sd.others[name] != "":
			problems = append(problems, fmt.Sprintf("%s holds %s, want a tensor %v", name, sd.others[name], want))
			shaped++
		case !ok:
			problems = append(problems, fmt.Sprintf("missing %s %v", name, want))
			missing++
		case !slices.Equal(t.shape(), want):
			problems = append(problems, fmt.Sprintf("%s is %v in the file, %v in %s", name, t.size, want, arch))
			shaped++
		}
	}
	for _, k := range sd.keys {
		if _, ok := g.Tensors[k]; ok || ignoredKey(arch, k) {
			continue
		}
		if t := sd.tensors[k]; t != nil {
			problems = append(problems, fmt.Sprintf("unexpected %s %v", k, t.size))
		} else {
			problems = append(problems, fmt.Sprintf("unexpected %s (%s)", k, sd.others[k]))
		}
		extra++
	}
	if len(problems) == 0 {
		return nil
	}
	desc := arch
	if width != 0 && width != 1 {
		desc = fmt.Sprintf("%s at width %v", arch, width)
	}
	msg := fmt.Sprintf("the state_dict does not fit %s (%d missing, %d unexpected, %d mis-shaped keys", desc, missing, extra, shaped)
	if hint := suggestArch(sd, arch, width); hint != "" {
		msg += "; " + hint
	}
	return fmt.Errorf("%s): %s", msg, strings.Join(problems, "; "))
}

// tensorNames lists the graph's tensors in the order the nodes use them.
func tensorNames(g *ir.Graph) []string {
	var names []string
	for _, n := range g.Nodes {
		for _, w := range n.Weights {
			if w != "" && !slices.Contains(names, w) {
				names = append(names, w)
			}
		}
	}
	return names
}

// suggestArch looks for an architecture and width whose keys and shapes
// fit the file exactly, to say what the file is when the one named is
// wrong. Widths are tried only for an architecture whose keys all match.
func suggestArch(sd *stateDict, arch string, width float64) string {
	build := func(a string, w float64) *ir.Graph {
		g, err := pyTorchGraph(a, w, sd)
		if err != nil {
			return nil
		}
		return g
	}
	for _, a := range models.Names() {
		g := build(a, 1)
		if g == nil || !fits(g, sd, a, false) {
			continue
		}
		widths := []float64{1}
		if strings.HasPrefix(a, "mobilenet") {
			// The width multipliers MobileNets are usually trained at.
			widths = []float64{1, 0.25, 0.35, 0.5, 0.75, 1.3, 1.4, 1.5, 2}
		}
		for _, w := range widths {
			if a == arch && (w == width || (width == 0 && w == 1)) {
				continue
			}
			if w != 1 {
				g = build(a, w)
			}
			if g == nil || !fits(g, sd, a, true) {
				continue
			}
			if w == 1 {
				return fmt.Sprintf("the file fits --arch %s", a)
			}
			return fmt.Sprintf("the file fits --arch %s --width %v", a, w)
		}
	}
	return ""
}

// fits reports whether the file's tensors are exactly the graph's, by
// name and, if shapes is set, by shape.
func fits(g *ir.Graph, sd *stateDict, arch string, shapes bool) bool {
	n := 0
	for _, k := range sd.keys {
		if ignoredKey(arch, k) {
			continue
		}
		t := sd.tensors[k]
		if t == nil || g.Tensors[k] == nil || (shapes && !slices.Equal(t.shape(), torchShape(g, k))) {
			return false
		}
		n++
	}
	return n == len(g.Tensors)
}

// loadStateDict reads every tensor, whose shape matchKeys has checked, into
// the graph in the IR's layout.
func loadStateDict(g *ir.Graph, sd *stateDict) error {
	shapes, err := g.Infer()
	if err != nil {
		return err
	}
	permuted := flattenedDense(g, shapes)
	for _, name := range tensorNames(g) {
		data, err := sd.read(name, sd.tensors[name])
		if err != nil {
			return err
		}
		t := g.Tensors[name]
		s := t.Shape
		switch kernelOp(g, name) {
		case ir.Conv2D:
			t.Data = ohwiToHWIO(data, s[3], s[2], s[0], s[1])
		case ir.Dense:
			if m, ok := permuted[name]; ok {
				t.Data = denseFromTorch(data, s[1], s[0], m)
			} else {
				t.Data = denseFromTorch(data, s[1], s[0], ir.Shape{1, 1, s[0]})
			}
		default:
			t.Data = data
		}
	}
	return nil
}

// flattenedDense finds the dense kernels that read a flattened map of
// several positions (AlexNet's classifier.1, VGG16's classifier.0,
// LeNet-5's fc1), with the shape of that map: torch flattens it C, H, W
// and the IR H, W, C, so their rows are reordered.
func flattenedDense(g *ir.Graph, shapes map[string]ir.Shape) map[string]ir.Shape {
	out := map[string]ir.Shape{}
	for _, n := range g.Nodes {
		if n.Op != ir.Dense {
			continue
		}
		p := g.Producer(n.Inputs[0])
		if p == nil || p.Op != ir.Flatten {
			continue
		}
		if m := shapes[p.Inputs[0]]; m[0]*m[1] > 1 {
			out[n.Weights[0]] = m
		}
	}
	return out
}

// ohwiToHWIO turns torch's [O, I, KH, KW] kernel into the IR's
// [KH, KW, I, O].
func ohwiToHWIO(w []float32, o, in, kh, kw int) []float32 {
	out := make([]float32, len(w))
	for oc := range o {
		for ic := range in {
			for y := range kh {
				for x := range kw {
					out[((y*kw+x)*in+ic)*o+oc] = w[((oc*in+ic)*kh+y)*kw+x]
				}
			}
		}
	}
	return out
}

// denseFromTorch turns torch's [Out, In] kernel into the IR's [In, Out],
// where the In inputs are a flattened map of shape m: torch's input index
// is c*H*W + h*W + w, the IR's (h*W + w)*C + c.
func denseFromTorch(w []float32, nout, nin int, m ir.Shape) []float32 {
	out := make([]float32, len(w))
	h, wd, c := m[0], m[1], m[2]
	for o := range nout {
		for ch := range c {
			for y := range h {
				for x := range wd {
					torchIn := (ch*h+y)*wd + x
					irIn := (y*wd+x)*c + ch
					out[irIn*nout+o] = w[o*nin+torchIn]
				}
			}
		}
	}
	return out
}
