// Package project is the Glimpse app's project: the user's classes, each
// sample's embedding and thumbnail, the trained head and the training
// settings, and the one-file format that "Export project" writes and
// "Import project" reads back.
//
// The app keeps embeddings, not frames, so that thousands of samples fit
// in a browser tab: a MobileNetV2 embedding is 1,280 float32s (5 KiB) and a
// thumbnail a small JPEG of a few KiB.
//
// # Project file (.glimpseproj)
//
// Little-endian throughout:
//
//	magic        8 bytes  "GLIMPSEP"
//	version      uint32   2 (1 is read too)
//	headerLen    uint32   at most 1 MiB
//	header       JSON     {"backbone", "backboneHash", "preprocess",
//	                       "embeddingSize", "settings",
//	                       "classes": [{"name", "samples"}], "headLen"}
//	per class, per sample, in header order:
//	  embedding  embeddingSize × float32
//	  thumbLen   uint32   at most 1 MiB
//	  thumb      thumbLen bytes (a JPEG)
//	  views      uint32   at most MaxViews
//	  view       views × embeddingSize × float32 (augmented views' embeddings)
//	head         headLen bytes (the trained model's Glimpse file, or none)
//	crc          uint32   CRC-32 (IEEE) of every byte before it
//
// "backboneHash" names the model file the embeddings were made with (its
// format.Info.Hash) and "preprocess" the rule its pictures were prepared
// with (an ir.Preprocess spec): embeddings from another backbone or
// another crop are other numbers, and an app that finds them different
// from its own model's says so instead of mixing them.
//
// Every count is checked against the bytes that remain before anything is
// allocated, so a corrupt or hostile file gives an error naming it, never a
// panic or an outsized allocation.
//
// Version history: 1, the first; 2 adds "backboneHash" and "preprocess"
// (a version 1 file reads with both empty: made with an unknown backbone).
//
// # Browser storage
//
// The app autosaves to IndexedDB (database "glimpse", version 1; see
// web/app/store.js): store "meta" holds the key "project" (the classes'
// ids and names, the settings and the next sample id) and the key "head"
// (the head's bytes); store "samples" holds one record per sample, {id,
// classId, embedding, thumb}, with the embedding as EncodeEmbedding's bytes
// and the thumbnail as a JPEG data URL. Samples are written one capture
// at a time, so saving never rewrites the whole project.
package project

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"unicode/utf8"

	"github.com/glimpse-ml/glimpse/core/train"
)

// Magic opens every project file.
const Magic = "GLIMPSEP"

// Version is the format version this package writes; it reads it and
// every earlier one.
const Version = 2

// Limits of the format: generous for any real project, small enough that a
// hostile file cannot make the reader allocate without bound.
const (
	MaxClasses       = 20
	MaxNameLen       = 60 // characters
	MaxHeader        = 1 << 20
	MaxThumb         = 1 << 20
	MaxEmbeddingSize = 1 << 16
	MaxViews         = 16
)

// Settings are the training options the user chose, kept with the project.
type Settings struct {
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batchSize"`
	LearningRate float64 `json:"learningRate"`
	Augment      bool    `json:"augment"`
	// CaptureRate is the frames per second "Hold to record" keeps.
	CaptureRate int `json:"captureRate"`
}

// DefaultSettings are the default head's (train.DefaultHead: 200 epochs,
// batch 32, Adam at 0.001) and 10 captures a second.
func DefaultSettings() Settings {
	cfg, err := train.Preset(train.DefaultHead)
	if err != nil {
		panic(err) // the default names a preset
	}
	return Settings{Epochs: cfg.Epochs, BatchSize: cfg.BatchSize, LearningRate: cfg.LearningRate, CaptureRate: 10}
}

// Check tells what is wrong with s, if anything.
func (s Settings) Check() error {
	switch {
	case s.Epochs < 1 || s.Epochs > 1000:
		return fmt.Errorf("epochs %d: want 1 to 1000", s.Epochs)
	case s.BatchSize < 1 || s.BatchSize > 1024:
		return fmt.Errorf("batch size %d: want 1 to 1024", s.BatchSize)
	case !(s.LearningRate > 0 && s.LearningRate <= 1):
		return fmt.Errorf("learning rate %g: want more than 0, at most 1", s.LearningRate)
	case s.CaptureRate < 1 || s.CaptureRate > 30:
		return fmt.Errorf("capture rate %d: want 1 to 30 per second", s.CaptureRate)
	}
	return nil
}

// Project is everything the app saves.
type Project struct {
	Backbone      string // the model file the embeddings came from
	BackboneHash  string // its format.Info.Hash; "" when unknown (a version 1 file)
	Preprocess    string // the rule its pictures were prepared with (ir.Preprocess.String); "" when unknown
	EmbeddingSize int
	Settings      Settings
	Classes       []Class
	Head          []byte // the trained model's Glimpse file; nil before training
}

// Class is one of the user's classes.
type Class struct {
	Name    string
	Samples []Sample
}

// Sample is one example: the backbone's embedding of the picture, a
// small JPEG thumbnail to show it by, and the embeddings of augmented
// views of the picture (made when it was captured with "Augment" on: the
// frame itself is not kept, so they cannot be made later).
type Sample struct {
	Embedding []float32
	Thumb     []byte
	Views     [][]float32
}

// CheckName tells whether name can name a class.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("a class needs a name")
	case !utf8.ValidString(name):
		return errors.New("the class name is not valid text (UTF-8)")
	case utf8.RuneCountInString(name) > MaxNameLen:
		return fmt.Errorf("class names are at most %d characters", MaxNameLen)
	}
	return nil
}

// Check tells what is wrong with p, if anything: what Encode refuses to
// write and Decode to read.
func (p *Project) Check() error {
	if len(p.Classes) < 1 || len(p.Classes) > MaxClasses {
		return fmt.Errorf("%d classes: want 1 to %d", len(p.Classes), MaxClasses)
	}
	if p.EmbeddingSize < 1 || p.EmbeddingSize > MaxEmbeddingSize {
		return fmt.Errorf("embedding size %d: want 1 to %d", p.EmbeddingSize, MaxEmbeddingSize)
	}
	if err := p.Settings.Check(); err != nil {
		return err
	}
	for i, c := range p.Classes {
		if err := CheckName(c.Name); err != nil {
			return fmt.Errorf("class %d: %w", i+1, err)
		}
		for j, s := range c.Samples {
			if len(s.Thumb) > MaxThumb {
				return fmt.Errorf("class %q sample %d: thumbnail of %d bytes, at most %d", c.Name, j+1, len(s.Thumb), MaxThumb)
			}
			if len(s.Views) > MaxViews {
				return fmt.Errorf("class %q sample %d: %d augmented views, at most %d", c.Name, j+1, len(s.Views), MaxViews)
			}
			for _, e := range append([][]float32{s.Embedding}, s.Views...) {
				if len(e) != p.EmbeddingSize {
					return fmt.Errorf("class %q sample %d: embedding of %d values, want %d", c.Name, j+1, len(e), p.EmbeddingSize)
				}
				for _, v := range e {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						return fmt.Errorf("class %q sample %d: the embedding is not finite", c.Name, j+1)
					}
				}
			}
		}
	}
	return nil
}

// header is the JSON part of the file.
type header struct {
	Backbone      string        `json:"backbone"`
	BackboneHash  string        `json:"backboneHash,omitempty"`
	Preprocess    string        `json:"preprocess,omitempty"`
	EmbeddingSize int           `json:"embeddingSize"`
	Settings      Settings      `json:"settings"`
	Classes       []classHeader `json:"classes"`
	HeadLen       int64         `json:"headLen"`
}

type classHeader struct {
	Name    string `json:"name"`
	Samples int64  `json:"samples"`
}

// Encode writes p as a project file.
func (p *Project) Encode() ([]byte, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	h := header{Backbone: p.Backbone, BackboneHash: p.BackboneHash, Preprocess: p.Preprocess,
		EmbeddingSize: p.EmbeddingSize, Settings: p.Settings, HeadLen: int64(len(p.Head))}
	n := 0
	for _, c := range p.Classes {
		h.Classes = append(h.Classes, classHeader{Name: c.Name, Samples: int64(len(c.Samples))})
		for _, s := range c.Samples {
			n += 4*p.EmbeddingSize*(1+len(s.Views)) + 8 + len(s.Thumb)
		}
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	if len(hj) > MaxHeader {
		return nil, fmt.Errorf("the project header is %d bytes, at most %d", len(hj), MaxHeader)
	}
	var b bytes.Buffer
	b.Grow(len(Magic) + 8 + len(hj) + n + len(p.Head) + 4)
	b.WriteString(Magic)
	b.Write(binary.LittleEndian.AppendUint32(nil, Version))
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(hj))))
	b.Write(hj)
	for _, c := range p.Classes {
		for _, s := range c.Samples {
			b.Write(EncodeEmbedding(s.Embedding))
			b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s.Thumb))))
			b.Write(s.Thumb)
			b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s.Views))))
			for _, v := range s.Views {
				b.Write(EncodeEmbedding(v))
			}
		}
	}
	b.Write(p.Head)
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(b.Bytes())))
	return b.Bytes(), nil
}

// Decode reads a project file; name (the file's name) prefixes every error.
func Decode(name string, data []byte) (*Project, error) {
	p, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

func decode(data []byte) (*Project, error) {
	if len(data) < len(Magic) || string(data[:len(Magic)]) != Magic {
		return nil, errors.New("not a Glimpse project file (wrong magic)")
	}
	if len(data) < len(Magic)+12 {
		return nil, errors.New("the file is truncated")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	r := reader{b: body[len(Magic):]}
	if v := r.u32(); v < 1 || v > Version {
		return nil, fmt.Errorf("format version %d; this app reads versions 1 to %d", v, Version)
	}
	hl := r.u32()
	if hl > MaxHeader {
		return nil, fmt.Errorf("header of %d bytes, at most %d", hl, MaxHeader)
	}
	hj := r.bytes(int64(hl))
	if r.err != nil {
		return nil, errors.New("the file is truncated")
	}
	if crc32.ChecksumIEEE(body) != sum {
		return nil, errors.New("checksum mismatch: the file is corrupt or truncated")
	}
	var h header
	if err := json.Unmarshal(hj, &h); err != nil {
		return nil, fmt.Errorf("bad header: %v", err)
	}
	p := &Project{Backbone: h.Backbone, BackboneHash: h.BackboneHash, Preprocess: h.Preprocess,
		EmbeddingSize: h.EmbeddingSize, Settings: h.Settings}
	if len(h.Classes) < 1 || len(h.Classes) > MaxClasses {
		return nil, fmt.Errorf("%d classes: want 1 to %d", len(h.Classes), MaxClasses)
	}
	if h.EmbeddingSize < 1 || h.EmbeddingSize > MaxEmbeddingSize {
		return nil, fmt.Errorf("embedding size %d: want 1 to %d", h.EmbeddingSize, MaxEmbeddingSize)
	}
	// Each sample takes at least its embedding and a thumbnail length, so
	// the counts are bounded by the bytes left before anything is made.
	perSample := int64(4*h.EmbeddingSize + 8)
	var total int64
	for _, c := range h.Classes {
		if c.Samples < 0 || c.Samples > r.left()/perSample {
			return nil, fmt.Errorf("class %q claims %d samples, more than the file holds", c.Name, c.Samples)
		}
		total += c.Samples
	}
	if total > r.left()/perSample {
		return nil, fmt.Errorf("%d samples, more than the file holds", total)
	}
	for _, ch := range h.Classes {
		c := Class{Name: ch.Name, Samples: make([]Sample, ch.Samples)}
		for i := range c.Samples {
			emb, _ := DecodeEmbedding(r.bytes(int64(4*h.EmbeddingSize)), h.EmbeddingSize)
			tl := r.u32()
			if tl > MaxThumb {
				return nil, fmt.Errorf("class %q sample %d: thumbnail of %d bytes, at most %d", ch.Name, i+1, tl, MaxThumb)
			}
			thumb := r.bytes(int64(tl))
			nv := r.u32()
			if nv > MaxViews {
				return nil, fmt.Errorf("class %q sample %d: %d augmented views, at most %d", ch.Name, i+1, nv, MaxViews)
			}
			if r.err != nil || int64(nv)*int64(4*h.EmbeddingSize) > r.left() {
				return nil, errors.New("the samples run past the end of the file")
			}
			s := Sample{Embedding: emb, Thumb: append([]byte(nil), thumb...)}
			for range nv {
				v, _ := DecodeEmbedding(r.bytes(int64(4*h.EmbeddingSize)), h.EmbeddingSize)
				s.Views = append(s.Views, v)
			}
			c.Samples[i] = s
		}
		p.Classes = append(p.Classes, c)
	}
	if h.HeadLen < 0 || h.HeadLen != r.left() {
		return nil, fmt.Errorf("the head should take %d bytes, %d remain", h.HeadLen, r.left())
	}
	if h.HeadLen > 0 {
		p.Head = append([]byte(nil), r.bytes(h.HeadLen)...)
	}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return p, nil
}

// reader reads the body front to back, remembering the first overrun.
type reader struct {
	b   []byte
	err error
}

func (r *reader) left() int64 { return int64(len(r.b)) }

func (r *reader) bytes(n int64) []byte {
	if r.err != nil || n < 0 || n > int64(len(r.b)) {
		r.err = errors.New("truncated")
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) u32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// EncodeEmbedding gives v as little-endian float32 bytes (the file's and
// IndexedDB's form).
func EncodeEmbedding(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// DecodeEmbedding reads EncodeEmbedding's bytes, which must hold exactly
// size values.
func DecodeEmbedding(b []byte, size int) ([]float32, error) {
	if len(b) != 4*size {
		return nil, fmt.Errorf("embedding of %d bytes, want %d (%d float32s)", len(b), 4*size, size)
	}
	v := make([]float32, size)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}
