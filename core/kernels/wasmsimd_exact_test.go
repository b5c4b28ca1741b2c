//go:build js && wasm

package kernels

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// TestExactLoaded checks that Exact uses the module's exact GEMM whenever
// the runner loaded either variant, so the bitwise test below cannot
// silently compare Go with itself.
func TestExactLoaded(t *testing.T) {
	loaded, ok := os.LookupEnv("GLIMPSE_SIMD_LOADED")
	if !ok {
		t.Skip("not run by tools/js/go-wasm-exec: no SIMD module was loaded")
	}
	want := "wasmsimdexact"
	if loaded == "none" {
		want = "go"
	}
	if got := Exact().Name(); got != want {
		t.Fatalf("runner loaded %q, Exact is %q, want %q", loaded, got, want)
	}
}

// sequentialGEMM is the arithmetic Exact promises, written as plainly as
// possible: per output, a float32 sum from zero over k in order, each
// product rounded before it is added, then the bias, then the activation.
func sequentialGEMM(m, n, k int, a []float32, lda int, b []float32, bias []float32, c []float32, ldc int, act Act) {
	for i := range m {
		for j := range n {
			var s float32
			for p := range k {
				prod := a[i*lda+p] * b[p*n+j]
				s += prod
			}
			if bias != nil {
				s += bias[j]
			}
			c[i*ldc+j] = act.Apply(s)
		}
	}
}

// TestExactGEMMBitwise compares Exact's GEMM bit for bit with the
// sequential reference and with Go{} over random shapes (partial tiles and
// panels, row blocks, strided rows), with and without bias, under each
// activation. Values span several orders of magnitude so that any other
// order of additions, or a fused multiply-add, would round differently.
func TestExactGEMMBitwise(t *testing.T) {
	ex := Exact()
	if ex.Name() == "go" {
		t.Skip("no SIMD module loaded (run with -exec tools/js/go-wasm-exec)")
	}
	rng := rand.New(rand.NewPCG(5, 1))
	val := func() float32 {
		return float32(rng.NormFloat64() * math.Exp2(float64(rng.IntN(12)-6)))
	}
	shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {4, 8, 1280}, {200, 2, 1280}, {7, 129, 33}, {5, 1000, 17}}
	for range 24 {
		shapes = append(shapes, [3]int{1 + rng.IntN(300), 1 + rng.IntN(300), 1 + rng.IntN(400)})
	}
	differ := 0
	for _, sh := range shapes {
		m, n, k := sh[0], sh[1], sh[2]
		lda, ldc := k+rng.IntN(3), n+rng.IntN(3)
		a := make([]float32, (m-1)*lda+k)
		w := make([]float32, k*n)
		bias := make([]float32, n)
		for _, s := range [][]float32{a, w, bias} {
			for i := range s {
				s[i] = val()
			}
		}
		packed := Go{}.PackGEMMWeights(w, k, n)
		for _, bs := range [][]float32{nil, bias} {
			for _, act := range []Act{ActNone, ActReLU, ActReLU6, ActHardSwish, ActSigmoid} {
				want := make([]float32, (m-1)*ldc+n)
				gold := make([]float32, len(want))
				got := make([]float32, len(want))
				sequentialGEMM(m, n, k, a, lda, w, bs, want, ldc, act)
				Go{}.GEMM(m, n, k, a, lda, packed, bs, gold, ldc, act)
				ex.GEMM(m, n, k, a, lda, packed, bs, got, ldc, act)
				for i := range m {
					for j := range n {
						x := i*ldc + j
						if math.Float32bits(got[x]) != math.Float32bits(want[x]) || math.Float32bits(gold[x]) != math.Float32bits(want[x]) {
							if differ < 10 {
								t.Errorf("m=%d n=%d k=%d bias=%v act=%d: c[%d][%d] exact %g go %g sequential %g",
									m, n, k, bs != nil, act, i, j, got[x], gold[x], want[x])
							}
							differ++
						}
					}
				}
			}
		}
	}
	if differ > 0 {
		t.Errorf("%d outputs differ", differ)
	}
}
