// Package asmgen is what the kernels' assembly generators (avx2fmagen,
// avx512gen, avx512vnnigen, avxvnnigen) share around their own code: each
// generator turns its tiles into one Go assembly file and one Go file of
// declarations, written into core/kernels by `go run`, and its test fails
// when the committed pair differs from what it generates now.
package asmgen

import (
	"bytes"
	"flag"
	"log"
	"os"
	"path/filepath"
	"testing"
)

// Generator names a generator and its two output files.
type Generator struct {
	Tool     string // the generator's directory under core/kernels, e.g. "avx512gen"
	AsmFile  string // the assembly file it writes
	GoFile   string // the Go declarations it writes
	Generate func() (asm, src []byte, err error)
}

func (g Generator) files(asm, src []byte) map[string][]byte {
	return map[string][]byte{g.AsmFile: asm, g.GoFile: src}
}

// Main is a generator's main: flag -o names the core/kernels directory to
// write both files into.
func (g Generator) Main() {
	dir := flag.String("o", ".", "the core/kernels directory to write "+g.AsmFile+" and "+g.GoFile+" into")
	flag.Parse()
	asm, src, err := g.Generate()
	if err != nil {
		log.Fatal(err)
	}
	for name, data := range g.files(asm, src) {
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// TestCurrent regenerates both files in memory and compares them with the
// committed ones (in the generator's parent directory), so a change to the
// generator that was not followed by its `go run` fails (natively and in
// every build: generating needs none of the instructions generated); and
// it generates twice, guarding the byte-for-byte reproducibility that
// comparison relies on.
func (g Generator) TestCurrent(t *testing.T) {
	run := "go run ./core/kernels/" + g.Tool + " -o core/kernels"
	asm, src, err := g.Generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range g.files(asm, src) {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatalf("%v (run: %s)", err, run)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("core/kernels/%s is stale: %d bytes committed, the generator gives %d; run: %s", name, len(got), len(want), run)
		}
	}
	asm2, src2, err2 := g.Generate()
	if err2 != nil || !bytes.Equal(asm, asm2) || !bytes.Equal(src, src2) {
		t.Errorf("two runs differ (errors %v, %v)", err, err2)
	}
}
