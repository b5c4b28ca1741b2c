package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedKernelsAreCurrent regenerates both files in memory and
// compares them with the committed ones, so a change to the generator that
// was not followed by `go run ./core/kernels/avxvnnigen -o core/kernels`
// fails here (natively and in every build: generating needs no AVX-512).
func TestCommittedKernelsAreCurrent(t *testing.T) {
	asm, src, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{asmFile: asm, goFile: src} {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatalf("%v (run: go run ./core/kernels/avxvnnigen -o core/kernels)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("core/kernels/%s is stale: %d bytes committed, the generator gives %d; run: go run ./core/kernels/avxvnnigen -o core/kernels",
				name, len(got), len(want))
		}
	}
}

// TestGenerateIsDeterministic guards the byte-for-byte reproducibility the
// staleness check relies on.
func TestGenerateIsDeterministic(t *testing.T) {
	a1, s1, err1 := generate()
	a2, s2, err2 := generate()
	if err1 != nil || err2 != nil || !bytes.Equal(a1, a2) || !bytes.Equal(s1, s2) {
		t.Errorf("two runs differ (errors %v, %v)", err1, err2)
	}
}
