package format

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/glimpse-ml/glimpse/core/ir"
)

// tanhGraph is smallGraph with LeNet-5's scaled tanh in place of the ReLU.
func tanhGraph() *ir.Graph {
	g := smallGraph()
	for _, n := range g.Nodes {
		if n.Op == ir.ReLU {
			n.Op = ir.Tanh
			n.Attrs = ir.Attrs{Alpha: 1.7159, Beta: 2.0 / 3}
		}
	}
	return g
}

// TestVersionFollowsTheOps checks that a file is written with the oldest
// version that holds its graph, so a version 1 reader reads everything
// without Tanh, and that Tanh and its scales survive the round trip.
func TestVersionFollowsTheOps(t *testing.T) {
	for _, c := range []struct {
		g    *ir.Graph
		want uint32
	}{{smallGraph(), 1}, {tanhGraph(), 2}} {
		b := encodeBytes(t, c.g, "f32")
		if got := binary.LittleEndian.Uint32(b[4:]); got != c.want {
			t.Errorf("written as version %d, want %d", got, c.want)
		}
		g, err := readBytes(b, "m.glimpse")
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range g.Nodes {
			if n.Op != c.g.Nodes[i].Op || n.Attrs != c.g.Nodes[i].Attrs {
				t.Errorf("node %d read back as %s %+v, written as %s %+v", i, n.Op, n.Attrs, c.g.Nodes[i].Op, c.g.Nodes[i].Attrs)
			}
		}
	}
}

// TestTanhInVersion1Refused: a file that claims version 1 but holds a
// Tanh (which a version 1 reader would refuse as unknown) is refused by
// name rather than read.
func TestTanhInVersion1Refused(t *testing.T) {
	g := tanhGraph()
	kvs, err := metadataOf(g, F32, DefaultAlignment)
	if err != nil {
		t.Fatal(err)
	}
	var tensors []encoded
	for _, name := range tensorOrder(g) {
		e, err := encodeTensorGrid(name, g.Tensors[name], F32, false)
		if err != nil {
			t.Fatal(err)
		}
		tensors = append(tensors, e)
	}
	header, data := assemble(kvs, tensors, DefaultAlignment, 1)
	b := append(bytes.Clone(header), data...)
	_, err = readBytes(b, "m.glimpse")
	if err == nil || !strings.Contains(err.Error(), "op of format version 2 in a version 1 file") {
		t.Fatalf("got %v, want a refusal of the version 2 op", err)
	}
}
