// Command simd generates Glimpse's WebAssembly SIMD kernel module, in two
// variants: kernels.wasm (WebAssembly SIMD, which every current browser
// and Node runs) and kernels_relaxed.wasm (the same code with relaxed-SIMD
// fused multiply-adds, f32x4.relaxed_madd, and the int8 GEMM on
// i32x4.relaxed_dot_i8x16_i7x16_add_s, for engines that have them). The
// module imports Go's own linear memory as env.mem and is called from
// core/kernels (the WasmSIMD kernels) with addresses into Go slices; see
// loader.mjs for how a page or Node instantiates it.
//
// The module is assembled by this program, with no external tool, so the
// committed files are a pure function of this source: run
//
//	go run ./wasm/simd -o wasm/simd
//
// to regenerate them; the package's test fails when they are stale.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// variants maps each file name to whether it uses relaxed SIMD.
var variants = []struct {
	file    string
	relaxed bool
}{
	{"kernels.wasm", false},
	{"kernels_relaxed.wasm", true},
}

// build returns the bytes of one variant of the module.
func build(relaxed bool) []byte {
	return module(append(kernelFuncs(relaxed), qs8Funcs(relaxed)...))
}

func main() {
	dir := flag.String("o", ".", "directory to write kernels.wasm and kernels_relaxed.wasm into")
	flag.Parse()
	for _, v := range variants {
		path := filepath.Join(*dir, v.file)
		if err := writeFile(path, build(v.relaxed)); err != nil {
			fmt.Fprintln(os.Stderr, "simd:", err)
			os.Exit(1)
		}
	}
}

// writeFile writes through a temporary file and a rename, so an
// interrupted run leaves the old module whole.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kernels-*.wasm")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
