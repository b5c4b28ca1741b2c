package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedModuleIsCurrent regenerates both variants in memory and
// compares them with the committed files, so a change to the generator
// that was not followed by `go run ./wasm/simd -o wasm/simd` fails here.
func TestCommittedModuleIsCurrent(t *testing.T) {
	for _, v := range variants {
		got, err := os.ReadFile(v.file)
		if err != nil {
			t.Fatalf("%s: %v (run: go run ./wasm/simd -o wasm/simd)", v.file, err)
		}
		if want := build(v.relaxed); !bytes.Equal(got, want) {
			t.Errorf("%s is stale: %d bytes committed, the generator gives %d; run: go run ./wasm/simd -o wasm/simd",
				v.file, len(got), len(want))
		}
	}
}

// TestBuildIsDeterministic guards the byte-for-byte reproducibility the
// staleness check relies on.
func TestBuildIsDeterministic(t *testing.T) {
	for _, v := range variants {
		if !bytes.Equal(build(v.relaxed), build(v.relaxed)) {
			t.Errorf("%s: two builds differ", v.file)
		}
	}
}

// TestVariantsDifferOnlyInMultiplyAdd checks that the relaxed variant
// uses f32x4.relaxed_madd (0xfd 0x85 0x02) and the plain one never does:
// an engine without relaxed SIMD must validate the plain module.
func TestVariantsDifferOnlyInMultiplyAdd(t *testing.T) {
	madd := []byte{0xfd, 0x85, 0x02}
	plain, relaxed := build(false), build(true)
	if bytes.Contains(plain, madd) {
		t.Error("kernels.wasm contains f32x4.relaxed_madd")
	}
	if n := bytes.Count(relaxed, madd); n < 8+9+1 { // 8 in the GEMM tile, 9 or more in the 3x3 row tiles, 1 general tap
		t.Errorf("kernels_relaxed.wasm has %d relaxed multiply-adds, want at least 18", n)
	}
}

// TestRelaxedDotOnlyInRelaxed checks that the relaxed module has the
// int8 GEMM on i32x4.relaxed_dot_i8x16_i7x16_add_s (0xfd 0x93 0x02) and the
// plain one, which engines without relaxed SIMD must validate, never does.
func TestRelaxedDotOnlyInRelaxed(t *testing.T) {
	dot := []byte{0xfd, 0x93, 0x02}
	if bytes.Contains(build(false), dot) {
		t.Error("kernels.wasm contains i32x4.relaxed_dot_i8x16_i7x16_add_s")
	}
	if n := bytes.Count(build(true), dot); n < 16 { // 16 in the 4x8 tile's block of four k
		t.Errorf("kernels_relaxed.wasm has %d relaxed dot products, want at least 16", n)
	}
}

// TestWriteFile runs the command's output path: the files it writes are
// the builds, and the write replaces an existing file.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kernels.wasm")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := build(false)
	if err := writeFile(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("written module differs from the build")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files left in the directory, want 1", len(entries))
	}
}

// TestLEB128 checks the integer encodings against values worked by hand
// from the WebAssembly specification's examples.
func TestLEB128(t *testing.T) {
	for _, c := range []struct {
		v    uint64
		want []byte
	}{{0, []byte{0}}, {127, []byte{0x7f}}, {128, []byte{0x80, 0x01}}, {0x105, []byte{0x85, 0x02}}, {624485, []byte{0xe5, 0x8e, 0x26}}} {
		var b bytes.Buffer
		uleb(&b, c.v)
		if !bytes.Equal(b.Bytes(), c.want) {
			t.Errorf("uleb(%d) = % x, want % x", c.v, b.Bytes(), c.want)
		}
	}
	for _, c := range []struct {
		v    int64
		want []byte
	}{{0, []byte{0}}, {-1, []byte{0x7f}}, {63, []byte{0x3f}}, {64, []byte{0xc0, 0x00}}, {-64, []byte{0x40}}, {-65, []byte{0xbf, 0x7f}}, {-123456, []byte{0xc0, 0xbb, 0x78}}} {
		var b bytes.Buffer
		sleb(&b, c.v)
		if !bytes.Equal(b.Bytes(), c.want) {
			t.Errorf("sleb(%d) = % x, want % x", c.v, b.Bytes(), c.want)
		}
	}
}
