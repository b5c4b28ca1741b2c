package project

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/glimpse-ml/glimpse/core/train"
)

// MaxHidden bounds a stored head's hidden layer.
const MaxHidden = 4096

// headMagic opens a stored head.
const headMagic = "GLHEAD01"

// headHeader is the JSON part of a stored head.
type headHeader struct {
	Labels     []string     `json:"labels"`
	In         int          `json:"in"`
	Hidden     int          `json:"hidden"`
	OutputBias bool         `json:"outputBias"`
	Config     train.Config `json:"config"`
}

// EncodeHead stores a trained head compactly: the project keeps the head
// alone (a few hundred KiB), not the backbone it sits on, which the app
// has already. Layout: "GLHEAD01", uint32 JSON length, the JSON
// {labels, in, hidden, outputBias, config}, then W1, B1, W2, B2 as
// little-endian float32 (W1 and B1 only with a hidden layer, B2 only with
// an output bias).
func EncodeHead(h *train.Head) ([]byte, error) {
	hj, err := json.Marshal(headHeader{Labels: h.Labels, In: h.In, Hidden: h.Hidden, OutputBias: h.B2 != nil, Config: h.Config})
	if err != nil {
		return nil, err
	}
	b := append([]byte(headMagic), binary.LittleEndian.AppendUint32(nil, uint32(len(hj)))...)
	b = append(b, hj...)
	for _, w := range [][]float32{h.W1, h.B1, h.W2, h.B2} {
		b = append(b, EncodeEmbedding(w)...)
	}
	return b, nil
}

// DecodeHead reads EncodeHead's bytes; name prefixes every error.
func DecodeHead(name string, b []byte) (*train.Head, error) {
	h, err := decodeHead(b)
	if err != nil {
		return nil, fmt.Errorf("%s: trained head: %w", name, err)
	}
	return h, nil
}

func decodeHead(b []byte) (*train.Head, error) {
	if len(b) < len(headMagic)+4 || string(b[:len(headMagic)]) != headMagic {
		return nil, errors.New("not a stored head")
	}
	r := reader{b: b[len(headMagic):]}
	n := r.u32()
	if n > MaxHeader {
		return nil, fmt.Errorf("header of %d bytes, at most %d", n, MaxHeader)
	}
	hj := r.bytes(int64(n))
	if r.err != nil {
		return nil, errors.New("truncated")
	}
	var hh headHeader
	if err := json.Unmarshal(hj, &hh); err != nil {
		return nil, fmt.Errorf("bad header: %v", err)
	}
	k := len(hh.Labels)
	switch {
	case k < 2 || k > MaxClasses:
		return nil, fmt.Errorf("%d classes: want 2 to %d", k, MaxClasses)
	case hh.In < 1 || hh.In > MaxEmbeddingSize:
		return nil, fmt.Errorf("input of %d values: want 1 to %d", hh.In, MaxEmbeddingSize)
	case hh.Hidden < 0 || hh.Hidden > MaxHidden:
		return nil, fmt.Errorf("hidden layer of %d: want 0 to %d", hh.Hidden, MaxHidden)
	}
	for _, l := range hh.Labels {
		if err := CheckName(l); err != nil {
			return nil, err
		}
	}
	h := &train.Head{Labels: hh.Labels, In: hh.In, Hidden: hh.Hidden, Config: hh.Config}
	in := hh.In
	if hh.Hidden > 0 {
		in = hh.Hidden
	}
	sizes := []int{0, 0, in * k, 0}
	if hh.Hidden > 0 {
		sizes[0], sizes[1] = hh.In*hh.Hidden, hh.Hidden
	}
	if hh.OutputBias {
		sizes[3] = k
	}
	total := int64(0)
	for _, s := range sizes {
		total += 4 * int64(s)
	}
	if total != r.left() {
		return nil, fmt.Errorf("weights take %d bytes, %d remain", total, r.left())
	}
	var ws [4][]float32
	for i, s := range sizes {
		if s == 0 {
			continue
		}
		ws[i], _ = DecodeEmbedding(r.bytes(4*int64(s)), s)
		for _, v := range ws[i] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, errors.New("the weights are not finite")
			}
		}
	}
	h.W1, h.B1, h.W2, h.B2 = ws[0], ws[1], ws[2], ws[3]
	return h, nil
}
