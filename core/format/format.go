// Package format reads and writes Glimpse model files (extension .glimpse).
//
// A model file is self-describing in the manner of GGUF: a magic number and
// version, typed metadata under dotted keys (the graph, the preprocessing,
// the labels, where the weights came from), a tensor table, and an aligned
// data section, all little-endian, with CRC-32C checksums of the header and
// of the data. FORMAT.md beside this file is the specification; this
// package is one implementation of it.
//
// Every file carries a whole network (a trained head carries its backbone),
// so one file is all the browser, the CLI or a static site needs. Readers
// are written for hostile input: every count, length and offset is checked
// against the file size before anything is allocated, and every problem is
// an error naming the file.
package format

import (
	"fmt"
	"hash/crc32"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// Magic is the first four bytes of every model file.
const Magic = "GLMP"

// Version is the newest format version this package reads and writes.
// A file is written with the oldest version that can hold its graph
// (versionFor), so readers that predate a feature still read every file
// without it. See the version history in FORMAT.md.
const Version = 3

// versionFor is the oldest format version that holds g: 3 for a
// calibrated model (int8 activations), 2 for a graph with Tanh, 1
// otherwise.
func versionFor(g *ir.Graph) uint32 {
	if len(g.Meta.Quant) > 0 {
		return quantVersion
	}
	for _, n := range g.Nodes {
		if n.Op == ir.Tanh {
			return 2
		}
	}
	return 1
}

// DefaultAlignment is the alignment of the data section and of every
// tensor in it, recorded in the file as general.alignment. 32 bytes lets a
// reader map the data and hand it to 256-bit SIMD loads unchanged.
const DefaultAlignment = 32

// DType is how a tensor's elements are stored in the file. Whatever the
// storage, a reader hands out float32 weights: activations are always f32.
type DType uint32

// The storage types. Their numbers are part of the format.
const (
	F32  DType = 0 // IEEE 754 binary32
	F16  DType = 1 // IEEE 754 binary16
	Int8 DType = 2 // symmetric int8 with one float32 scale per output channel (the last axis)
	// U8 is 8 bits on a per-tensor affine grid, v = min + q*scale. Writers
	// asked for int8 use it, losslessly, for a tensor whose values already
	// lie on such a grid (TF.js's uint8-quantized weights do): rounding
	// those to int8's grid would quantize them a second time.
	U8 DType = 3
)

// String gives the name used by Options.DType and by inspect.
func (d DType) String() string {
	switch d {
	case F32:
		return "f32"
	case F16:
		return "f16"
	case Int8:
		return "int8"
	case U8:
		return "u8"
	}
	return fmt.Sprintf("dtype(%d)", uint32(d))
}

// MarshalText makes a DType read as its name in JSON (inspect --json).
func (d DType) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// size is the number of bytes one element takes, or 0 for an unknown type.
func (d DType) size() int64 {
	switch d {
	case F32:
		return 4
	case F16:
		return 2
	case Int8, U8:
		return 1
	}
	return 0
}

// ParseDType maps "f32", "f16" or "int8" to a DType; "" means f32.
func ParseDType(s string) (DType, error) {
	switch s {
	case "", "f32":
		return F32, nil
	case "f16":
		return F16, nil
	case "int8":
		return Int8, nil
	}
	return 0, fmt.Errorf("unknown dtype %q (want f32, f16 or int8)", s)
}

// Options controls how Write stores weights.
type Options struct {
	// DType is "f32" (the default when empty), "f16" or "int8". It applies
	// to tensors of two or more dimensions (convolution and dense kernels);
	// one-dimensional tensors (biases, batch-norm vectors) always stay f32,
	// since they are a tiny share of the bytes and quantizing them costs
	// accuracy for nothing.
	DType string
	// NoGrid turns off storing weights that already lie on an 8-bit grid
	// as u8 (section 7 of FORMAT.md), so f16 and int8 apply to every
	// kernel. Measuring what f16 or int8 would cost on weights that came
	// uint8-quantized (TF.js manifests) needs it; a file for use does not.
	NoGrid bool
}

// Error is a problem with a model file. File is the name the caller gave
// (usually the path), so every message says which file is at fault.
type Error struct {
	File string
	Msg  string
}

func (e *Error) Error() string { return e.File + ": " + e.Msg }

func errorf(file, format string, args ...any) error {
	return &Error{File: file, Msg: fmt.Sprintf(format, args...)}
}

// castagnoli returns the CRC-32C table. crc32 builds it once and caches it,
// so calling this per file costs nothing and keeps no state here.
func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }
