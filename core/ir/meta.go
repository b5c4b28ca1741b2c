package ir

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
