package convert

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// This file reads Teachable Machine's image exports: a zip (or its
// unpacked folder) of model.json, weights.bin and metadata.json, as
// @teachablemachine/image 0.8.5 writes them. The model is a TF.js layers
// model nesting the truncated MobileNet (a functional model inside a
// Sequential with a global pooling) before a Sequential head; the nesting
// is undone by the layers front end. What the model file cannot say,
// metadata.json does: the class names and the picture size. How pixels
// reach the network is the library's code: utils/canvas.ts cropTo draws
// the centred square of the picture at imageSize pixels, utils/tf.ts
// capture feeds pixel/127 − 1.

// Bounds on a zip, checked against its directory before anything is
// read: the number of entries, and each entry's declared size, which may
// not exceed what its compressed bytes can hold (deflate expands at most
// 1032 to 1) nor maxZipEntry, so a hostile zip cannot make the reader
// allocate more than about a thousand times the zip's own size.
const (
	maxZipEntries  = 1000
	maxZipEntry    = 1 << 30
	maxDeflateGain = 1032
	maxMetadata    = 1 << 20
)

// openZip opens a zip and checks its directory against the bounds above.
func openZip(name string) (*zip.ReadCloser, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory, not a zip")
	}
	z, err := zip.OpenReader(name)
	if err != nil {
		return nil, fmt.Errorf("not a readable zip: %v", err)
	}
	if err := checkZip(&z.Reader, st.Size()); err != nil {
		z.Close()
		return nil, err
	}
	return z, nil
}

func checkZip(z *zip.Reader, size int64) error {
	if len(z.File) > maxZipEntries {
		return fmt.Errorf("the zip holds %d entries, more than the %d this reader accepts", len(z.File), maxZipEntries)
	}
	for _, f := range z.File {
		if f.CompressedSize64 > uint64(size) {
			return fmt.Errorf("zip entry %q: %d compressed bytes in a %d-byte zip", f.Name, f.CompressedSize64, size)
		}
		limit := f.CompressedSize64
		if f.Method != zip.Store {
			limit = f.CompressedSize64*maxDeflateGain + 1024
		}
		if f.UncompressedSize64 > limit || f.UncompressedSize64 > maxZipEntry {
			return fmt.Errorf("zip entry %q claims %d bytes, more than its %d compressed bytes can hold", f.Name, f.UncompressedSize64, f.CompressedSize64)
		}
	}
	return nil
}

// zipModelJSON finds the model.json of a zip: at its root, or else the
// only one in it (a zip of the export's folder).
func zipModelJSON(z *zip.Reader) (string, error) {
	var found []string
	for _, f := range z.File {
		if path.Base(f.Name) == "model.json" && fs.ValidPath(f.Name) {
			if f.Name == "model.json" {
				return f.Name, nil
			}
			found = append(found, f.Name)
		}
	}
	switch len(found) {
	case 0:
		return "", errors.New("the zip holds no model.json (a Teachable Machine export holds model.json, weights.bin and metadata.json)")
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("the zip holds %d model.json files (%s); unpack it and convert one", len(found), strings.Join(found, ", "))
}

// tmMetadata is metadata.json as Teachable Machine's libraries write it;
// the pose and audio fields are read only to refuse those projects.
type tmMetadata struct {
	PackageName string   `json:"packageName"`
	TMVersion   string   `json:"tmVersion"`
	Labels      []string `json:"labels"`
	ImageSize   int      `json:"imageSize"`
	Grayscale   bool     `json:"grayscale"`
	// Audio projects (speech-commands) name their classes wordLabels.
	WordLabels    []string        `json:"wordLabels"`
	SpeechVersion string          `json:"tfjsSpeechCommandsVersion"`
	ModelSettings json.RawMessage `json:"modelSettings"` // pose projects' PoseNet settings
}

const tmImagePackage = "@teachablemachine/image"

// readTeachable reads the metadata.json beside model.json: nil when there
// is none (an ordinary TF.js model) or it is not Teachable Machine's; an
// error for a Teachable Machine project that is not an image project, or
// one this converter cannot reproduce.
func readTeachable(fsys fs.FS, dir string) (*tmMetadata, error) {
	fh, err := fsys.Open(path.Join(dir, "metadata.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("metadata.json: %v", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("metadata.json: %v", err)
	}
	if st.Size() > maxMetadata {
		return nil, fmt.Errorf("metadata.json is %d bytes, more than the %d this reader accepts", st.Size(), maxMetadata)
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxMetadata+1))
	if err != nil {
		return nil, fmt.Errorf("metadata.json: %v", err)
	}
	var m tmMetadata
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("metadata.json: not Teachable Machine's metadata: %v", err)
	}
	pkg := m.PackageName
	switch {
	case m.WordLabels != nil || m.SpeechVersion != "" || strings.Contains(pkg, "audio") || strings.Contains(pkg, "speech-commands"):
		return nil, errors.New("metadata.json is a Teachable Machine audio project's: only image projects convert")
	case strings.Contains(pkg, "pose") || len(m.ModelSettings) > 0:
		return nil, errors.New("metadata.json is a Teachable Machine pose project's: only image projects convert")
	case pkg != "" && pkg != tmImagePackage:
		return nil, fmt.Errorf("metadata.json comes from %q: only Teachable Machine image projects (%s) convert", pkg, tmImagePackage)
	case pkg == "" && m.TMVersion == "" && m.Labels == nil:
		return nil, nil // some other tool's metadata
	case m.Grayscale:
		return nil, errors.New("metadata.json: grayscale Teachable Machine models are not supported (only RGB)")
	}
	if m.ImageSize == 0 {
		m.ImageSize = 224 // the library's default (custom-mobilenet.ts IMAGE_SIZE)
	}
	if m.ImageSize < 0 || m.ImageSize > maxInputSide {
		return nil, fmt.Errorf("metadata.json: bad imageSize %d", m.ImageSize)
	}
	return &m, nil
}

// apply gives a converted Teachable Machine model the preprocessing the
// library applies and the class names of its metadata (unless the user
// named the classes).
func (m *tmMetadata) apply(g *ir.Graph, opt *Options) error {
	in := g.InputShape
	if in != (ir.Shape{m.ImageSize, m.ImageSize, 3}) {
		return fmt.Errorf("metadata.json says the model sees %dx%d pictures, but its input is %v", m.ImageSize, m.ImageSize, in)
	}
	// The layers front end assumed TF.js's usual v/255 and folded any
	// Rescaling after it: pre = a·(v/255) + b per channel. Teachable
	// Machine feeds v/127 − 1 instead: a·(v/127 − 1) + b.
	p := &g.Meta.Preprocess
	for c := range 3 {
		a := float64(float32(float64(p.Scale[c]) * 255)) // 1 exactly without a Rescaling
		b := float64(p.Offset[c])
		p.Scale[c] = float32(a / 127)
		p.Offset[c] = float32(b - a)
	}
	p.Resize, p.ResizeTo, p.Crop, p.Channels = ir.ResizeShorter, m.ImageSize, "center", "RGB"
	if len(opt.Labels) == 0 && !opt.NoLabels {
		if len(m.Labels) == 0 {
			return errors.New("metadata.json names no classes (labels)")
		}
		opt.Labels, opt.LabelsFrom = m.Labels, "metadata.json"
	}
	return nil
}
