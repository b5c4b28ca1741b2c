package convert

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/x448/float16"
)

// maxModelJSON bounds the size of a model.json we are willing to read into
// memory: the largest real ones (Inception, EfficientNet) are a few MB.
const maxModelJSON = 256 << 20

// maxWeightValues bounds one weight tensor, so that a hostile shape cannot
// make the converter allocate without limit (the shards' sizes bound the
// total; this bounds the arithmetic).
const maxWeightValues = 1 << 30

// tfjsFile is a TF.js model.json, layers or graph model alike.
type tfjsFile struct {
	Format        string          `json:"format"`
	GeneratedBy   string          `json:"generatedBy"`
	ConvertedBy   string          `json:"convertedBy"`
	ModelTopology json.RawMessage `json:"modelTopology"`
	// WeightsManifest lists groups of weights; each group's weights lie
	// one after the other in the concatenation of the group's shards.
	WeightsManifest     []manifestGroup `json:"weightsManifest"`
	UserDefinedMetadata json.RawMessage `json:"userDefinedMetadata"`
	// Signature is where a graph model names its inputs and outputs
	// (inside userDefinedMetadata in newer files, at the top in older).
	Signature json.RawMessage `json:"signature"`
}

type manifestGroup struct {
	Paths   []string     `json:"paths"`
	Weights []weightSpec `json:"weights"`
}

type weightSpec struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	Dtype        string        `json:"dtype"`
	Quantization *quantization `json:"quantization"`
}

// quantization is TF.js's weight quantization: a stored integer q stands
// for q*Scale + Min (uint8, uint16), or a float16 stands for itself.
type quantization struct {
	Dtype string   `json:"dtype"`
	Min   *float64 `json:"min"`
	Scale *float64 `json:"scale"`
}

// weight is one decoded tensor of the manifest, as float32 whatever its
// stored type (int32 constants of a graph model included).
type weight struct {
	name  string
	shape []int
	data  []float32
}

func (w *weight) size() int {
	n := 1
	for _, d := range w.shape {
		n *= d
	}
	return n
}

// FromTFJS converts a TF.js model (model.json and the weight shards beside
// it, as tfjs-converter and tf.LayersModel.save write them, or a zip
// holding them) into an IR graph. Layers models (Keras layers, nested
// models included) and graph models (TensorFlow ops) are both read; the
// file's format field, or failing that the shape of its topology, says
// which.
//
// TF.js image models take pixels scaled to [0, 1] (v/255): that is what
// nsfwjs and the TF Hub image models are fed. The graph's Meta.Preprocess
// says so, with any scaling the model itself does first (a graph model's
// leading Mul/Sub, a Keras Rescaling layer) folded into it, so that the
// engine is fed exactly what the source framework's first real layer
// sees. A Teachable Machine image export (metadata.json beside
// model.json) is fed as Teachable Machine feeds it instead, and named by
// its metadata (see tfjs_teachable.go).
func FromTFJS(modelJSON string, opt Options) (*ir.Graph, error) {
	g, err := fromTFJS(modelJSON, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", modelJSON, err)
	}
	return g, nil
}

func fromTFJS(src string, opt Options) (*ir.Graph, error) {
	// The model's files are read through an fs.FS: the folder holding
	// model.json, or a zip holding it (a Teachable Machine export).
	var fsys fs.FS
	var modelJSON, name string
	if strings.EqualFold(filepath.Ext(src), ".zip") {
		z, err := openZip(src)
		if err != nil {
			return nil, err
		}
		defer z.Close()
		if modelJSON, err = zipModelJSON(&z.Reader); err != nil {
			return nil, err
		}
		fsys, name = &z.Reader, strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
	} else {
		fsys, modelJSON, name = os.DirFS(filepath.Dir(src)), filepath.Base(src), filepath.Base(filepath.Dir(src))
	}
	dir := path.Dir(modelJSON)
	f, err := readTFJS(fsys, modelJSON)
	if err != nil {
		return nil, err
	}
	kind, err := f.kind()
	if err != nil {
		return nil, err
	}
	tm, err := readTeachable(fsys, dir)
	if err != nil {
		return nil, err
	}
	if tm != nil && kind != "layers-model" {
		return nil, fmt.Errorf("metadata.json is a Teachable Machine image project's, but model.json is a %s, not a layers model", kind)
	}
	weights, err := loadWeights(fsys, dir, f.WeightsManifest)
	if err != nil {
		return nil, err
	}
	var g *ir.Graph
	switch kind {
	case "layers-model":
		g, err = convertLayers(f, weights)
	default:
		g, err = convertGraphModel(f, weights)
	}
	if err != nil {
		return nil, err
	}
	if g.Meta.Architecture == "" {
		g.Meta.Architecture = name
	}
	source := "tfjs-" + strings.TrimSuffix(kind, "-model") + " " + name
	if tm != nil {
		if err := tm.apply(g, &opt); err != nil {
			return nil, err
		}
		source = "teachable-machine " + name
	}
	if opt.Source == "" {
		opt.Source = source
	}
	return g, finish(g, opt)
}

func readTFJS(fsys fs.FS, name string) (*tfjsFile, error) {
	fh, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory, not a model.json")
	}
	if st.Size() > maxModelJSON {
		return nil, fmt.Errorf("model.json is %d bytes, more than the %d this reader accepts", st.Size(), maxModelJSON)
	}
	data, err := io.ReadAll(io.LimitReader(fh, maxModelJSON+1))
	if err != nil {
		return nil, err
	}
	var f tfjsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("not a TF.js model.json: %v", err)
	}
	if len(f.ModelTopology) == 0 || string(f.ModelTopology) == "null" {
		return nil, errors.New("not a TF.js model.json: no modelTopology")
	}
	return &f, nil
}

// kind tells a layers model from a graph model.
func (f *tfjsFile) kind() (string, error) {
	switch f.Format {
	case "layers-model", "graph-model":
		return f.Format, nil
	case "":
	default:
		return "", fmt.Errorf("unknown TF.js model format %q (want layers-model or graph-model)", f.Format)
	}
	var probe struct {
		Node        json.RawMessage `json:"node"`
		ModelConfig json.RawMessage `json:"model_config"`
		ClassName   json.RawMessage `json:"class_name"`
	}
	if err := json.Unmarshal(f.ModelTopology, &probe); err != nil {
		return "", fmt.Errorf("modelTopology: %v", err)
	}
	switch {
	case probe.Node != nil:
		return "graph-model", nil
	case probe.ModelConfig != nil || probe.ClassName != nil:
		return "layers-model", nil
	}
	return "", errors.New("modelTopology is neither a Keras model config nor a TensorFlow graph")
}

// dtypeSize is the stored size of one value.
func (s *weightSpec) storedType() (string, error) {
	if q := s.Quantization; q != nil {
		switch q.Dtype {
		case "uint8", "uint16":
			if q.Min == nil || q.Scale == nil {
				return "", fmt.Errorf("weight %q: %s quantization without min and scale", s.Name, q.Dtype)
			}
			if s.Dtype != "float32" && s.Dtype != "int32" {
				return "", fmt.Errorf("weight %q: %s quantization of a %q tensor", s.Name, q.Dtype, s.Dtype)
			}
		case "float16":
			if s.Dtype != "float32" {
				return "", fmt.Errorf("weight %q: float16 quantization of a %q tensor", s.Name, s.Dtype)
			}
		default:
			return "", fmt.Errorf("weight %q: unknown quantization dtype %q", s.Name, q.Dtype)
		}
		return q.Dtype, nil
	}
	switch s.Dtype {
	case "float32", "int32", "bool":
		return s.Dtype, nil
	}
	return "", fmt.Errorf("weight %q: unsupported dtype %q", s.Name, s.Dtype)
}

func storedSize(t string) int {
	switch t {
	case "uint8", "bool":
		return 1
	case "uint16", "float16":
		return 2
	}
	return 4
}

// loadWeights reads and dequantizes every tensor of the manifest. The
// shards' sizes on disk are checked against what the manifest says before
// anything is allocated, so a lying manifest cannot cause a huge allocation.
func loadWeights(fsys fs.FS, dir string, manifest []manifestGroup) (map[string]*weight, error) {
	out := map[string]*weight{}
	for gi, group := range manifest {
		types := make([]string, len(group.Weights))
		sizes := make([]int, len(group.Weights))
		need := 0
		for i := range group.Weights {
			s := &group.Weights[i]
			t, err := s.storedType()
			if err != nil {
				return nil, err
			}
			n := 1
			for _, d := range s.Shape {
				if d < 0 || (d > 0 && n > maxWeightValues/d) {
					return nil, fmt.Errorf("weight %q: bad shape %v", s.Name, s.Shape)
				}
				n *= d
			}
			types[i], sizes[i] = t, n
			need += n * storedSize(t)
			if need < 0 || need > math.MaxInt32*4 {
				return nil, fmt.Errorf("weights group %d: the manifest's weights are implausibly large", gi+1)
			}
		}
		if need > 0 && len(group.Paths) == 0 {
			return nil, fmt.Errorf("weights group %d lists weights but no shard files", gi+1)
		}
		have := int64(0)
		for _, p := range group.Paths {
			if !filepath.IsLocal(filepath.FromSlash(p)) || !fs.ValidPath(p) {
				return nil, fmt.Errorf("weight shard %q: path leaves the model's folder", p)
			}
			st, err := fs.Stat(fsys, path.Join(dir, p))
			if err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return nil, fmt.Errorf("weight shard %q is missing (looked for it beside model.json)", p)
				}
				return nil, fmt.Errorf("weight shard %q: %v", p, err)
			}
			if !st.Mode().IsRegular() {
				return nil, fmt.Errorf("weight shard %q is not a regular file", p)
			}
			have += st.Size()
		}
		if have < int64(need) {
			return nil, fmt.Errorf("weight shard %q is too short: the shards of group %d hold %d bytes, the manifest's weights need %d",
				group.Paths[len(group.Paths)-1], gi+1, have, need)
		}
		buf := make([]byte, need)
		off := 0
		for _, p := range group.Paths {
			if off == need {
				break
			}
			if err := readShard(fsys, path.Join(dir, p), buf[off:], &off); err != nil {
				return nil, fmt.Errorf("weight shard %q: %v", p, err)
			}
		}
		if off < need {
			return nil, fmt.Errorf("weight shard %q is too short: read %d bytes, the manifest's weights need %d", group.Paths[len(group.Paths)-1], off, need)
		}
		off = 0
		for i := range group.Weights {
			s := &group.Weights[i]
			if _, dup := out[s.Name]; dup {
				return nil, fmt.Errorf("weight %q is listed twice in the manifest", s.Name)
			}
			n := sizes[i] * storedSize(types[i])
			out[s.Name] = &weight{name: s.Name, shape: append([]int(nil), s.Shape...), data: decodeWeight(s, types[i], buf[off:off+n], sizes[i])}
			off += n
		}
	}
	return out, nil
}

// readShard reads as much of one shard as dst holds, advancing *off.
func readShard(fsys fs.FS, name string, dst []byte, off *int) error {
	fh, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer fh.Close()
	n, err := io.ReadFull(fh, dst)
	*off += n
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return nil // the shard is shorter than dst: the next shard continues
	}
	return err
}

// decodeWeight turns stored values into float32 exactly as TF.js's
// io.decodeWeights does: q*scale+min computed in double precision and
// rounded once to float32 (and to the nearest integer, halves up, for int32
// tensors).
func decodeWeight(s *weightSpec, stored string, b []byte, n int) []float32 {
	out := make([]float32, n)
	le := binary.LittleEndian
	switch stored {
	case "float32":
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case "int32":
		for i := range out {
			out[i] = float32(int32(le.Uint32(b[4*i:])))
		}
	case "bool":
		for i := range out {
			if b[i] != 0 {
				out[i] = 1
			}
		}
	case "float16":
		for i := range out {
			out[i] = float16.Frombits(le.Uint16(b[2*i:])).Float32()
		}
	case "uint8", "uint16":
		scale, min := *s.Quantization.Scale, *s.Quantization.Min
		for i := range out {
			var q float64
			if stored == "uint8" {
				q = float64(b[i])
			} else {
				q = float64(le.Uint16(b[2*i:]))
			}
			v := q*scale + min
			if s.Dtype == "int32" {
				v = math.Floor(v + 0.5)
			}
			out[i] = float32(v)
		}
	}
	return out
}

// jsonIs reports whether raw holds a JSON value of the given leading byte
// ('[' array, '{' object, '"' string).
func jsonIs(raw json.RawMessage, lead byte) bool {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	return len(raw) > 0 && raw[0] == lead
}
