package format

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read and Inspect. Whatever the input,
// they must return (no panic, no hang), any error must name the file, and
// a file that Read accepts must be one Write can store again: the reader
// never hands out a graph the rest of Glimpse would choke on.
//
//	go test -fuzz=FuzzRead ./core/format
func FuzzRead(f *testing.F) {
	for _, dtype := range []string{"f32", "f16", "int8"} {
		b := encodeBytes(f, smallGraph(), dtype)
		f.Add(b)
		for _, n := range []int{0, 3, 8, 24, len(b) / 3, len(b) / 2, len(b) - 40, len(b) - 1} {
			f.Add(b[:n])
		}
	}
	f.Add(encodeBytes(f, everyOpGraph(), "int8"))
	f.Add(tinyFile())
	f.Fuzz(func(t *testing.T, b []byte) {
		const name = "fuzz.glimpse"
		info, ierr := Inspect(bytes.NewReader(b), int64(len(b)), name)
		g, err := Read(bytes.NewReader(b), int64(len(b)), name)
		for _, e := range []error{ierr, err} {
			if e != nil && !strings.HasPrefix(e.Error(), name+": ") {
				t.Fatalf("error %q does not name the file", e)
			}
		}
		if err != nil {
			return
		}
		if ierr != nil {
			t.Fatalf("Read accepted what Inspect refused: %v", ierr)
		}
		if len(info.Tensors) != len(g.Tensors) {
			t.Fatalf("Inspect lists %d tensors, Read returned %d", len(info.Tensors), len(g.Tensors))
		}
		// Weights read from a file may hold any float (the data checksum
		// only proves they are what was written), so store as f32, which
		// keeps NaN and infinities out of the writer's path only if the file
		// had none; skip those.
		for _, ti := range g.Tensors {
			for _, v := range ti.Data {
				if !finite(v) {
					return
				}
			}
		}
		if err := Write(&bytes.Buffer{}, g, Options{}); err != nil {
			t.Fatalf("Read accepted a graph that Write refuses: %v", err)
		}
	})
}

// FuzzGraph fuzzes what the checksums keep FuzzRead from reaching: the
// graph JSON, the outputs and the input shape of an otherwise valid file
// (every op's weights present, checksums right), so that the graph checks
// meet hostile structures: cycles, absurd attributes, shapes that overflow.
//
//	go test -fuzz=FuzzGraph ./core/format
func FuzzGraph(f *testing.F) {
	g := everyOpGraph()
	kvs, err := metadataOf(g, F32, DefaultAlignment)
	if err != nil {
		f.Fatal(err)
	}
	var tensors []encoded
	for _, name := range tensorOrder(g) {
		e, err := encodeTensor(name, g.Tensors[name], F32)
		if err != nil {
			f.Fatal(err)
		}
		tensors = append(tensors, e)
	}
	var graph string
	for _, kv := range kvs {
		if kv.Key == keyGraph {
			graph = kv.Value.(string)
		}
	}
	f.Add(graph, "prob,emb", uint32(9), uint32(9), uint32(3))
	f.Add(tinyGraphJSON, "p", uint32(1), uint32(1), uint32(2))
	f.Fuzz(func(t *testing.T, graph, outputs string, h, w, c uint32) {
		const name = "fuzz.glimpse"
		edited := slices.Clone(kvs)
		for i, kv := range edited {
			switch kv.Key {
			case keyGraph:
				edited[i].Value = graph
			case keyOutputs:
				edited[i].Value = strings.Split(outputs, ",")
			case keyInputShape:
				edited[i].Value = []uint32{h, w, c}
			}
		}
		header, data := assemble(edited, tensors, DefaultAlignment, Version)
		b := append(header, data...)
		g, err := Read(bytes.NewReader(b), int64(len(b)), name)
		if err != nil {
			if !strings.HasPrefix(err.Error(), name+": ") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if err := Write(&bytes.Buffer{}, g, Options{}); err != nil {
			t.Fatalf("Read accepted a graph that Write refuses: %v", err)
		}
	})
}
