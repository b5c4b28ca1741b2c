package engine

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glimpse-ml/glimpse/core/ir"
	"github.com/glimpse-ml/glimpse/core/kernels"
	"github.com/glimpse-ml/glimpse/models"
)

func benchEngine(b *testing.B, arch string, width float64, k kernels.Kernels) *Engine {
	g, err := models.Build(arch, models.Options{Width: width})
	if err != nil {
		b.Fatal(err)
	}
	models.FillRandom(g, 5)
	e, err := New(g, k)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

func benchmarkArch(b *testing.B, arch string, k kernels.Kernels) {
	e := benchEngine(b, arch, 0, k)
	in := make([]float32, e.InputShape().Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := e.Run(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMobileNetV2Go(b *testing.B)   { benchmarkArch(b, "mobilenet_v2", kernels.Go{}) }
func BenchmarkMobileNetV2Best(b *testing.B) { benchmarkArch(b, "mobilenet_v2", kernels.Best()) }
func BenchmarkMobileNetV3LargeBest(b *testing.B) {
	benchmarkArch(b, "mobilenet_v3_large", kernels.Best())
}

// BenchmarkMobileNetV2Layers profiles every step of MobileNetV2 1.0 and
// 1.4 on the fastest kernels and prints a per-layer table against the
// roofline: each layer's fastest time over b.N runs, its GFLOP/s, and the
// most the roofline allows it (the lesser of the GEMM's measured peak and
// the layer's arithmetic intensity times the measured memory bandwidth).
// The table goes to stdout (the testing package cuts a benchmark's log to
// ten lines), once b.N is past the framework's single probe run, so run
// it with -benchtime=Nx, N > 1. `make bench-wasm` runs it in Node with the
// SIMD module; natively it profiles the amd64 kernels.
func BenchmarkMobileNetV2Layers(b *testing.B) {
	if runtime.GOOS == "js" {
		// The loader picks the GEMM tile in the background for 1.5 s
		// after load, on this same thread: let it finish first.
		time.Sleep(2 * time.Second)
	}
	k := kernels.Best()
	name := k.Name()
	if t, ok := k.(interface{ GEMMTile() string }); ok {
		name += ", GEMM tile " + t.GEMMTile()
	}
	peak, bw := roofline(k)
	for _, width := range []float64{1, 1.4} {
		b.Run(fmt.Sprintf("width=%.1f", width), func(b *testing.B) {
			e := benchEngine(b, "mobilenet_v2", width, k)
			in := make([]float32, e.InputShape().Size())
			b.ResetTimer()
			prof, err := e.Profile(in, b.N)
			if err != nil {
				b.Fatal(err)
			}
			if b.N == 1 {
				return
			}
			var sb strings.Builder
			fmt.Fprintf(&sb, "\nkernels=%s mobilenet_v2 width %.1f: fastest of %d runs per layer\n", name, width, b.N)
			writeProfile(&sb, prof, peak, bw)
			fmt.Print(sb.String())
		})
	}
}

// BenchmarkMobileNetV2Int8Layers profiles every step of MobileNetV2 1.0
// computing in int8 (random weights, every value given the same scale, as
// a calibrated file would run; the numbers do not matter, the work does),
// with each int8 implementation this machine runs but the pure-Go one.
func BenchmarkMobileNetV2Int8Layers(b *testing.B) {
	k := kernels.Best()
	peak, bw := roofline(k)
	for _, qk := range kernels.AvailableInt8()[1:] {
		b.Run(qk.Name(), func(b *testing.B) {
			e := int8MobileNetV2(b, k, qk, 224)
			in := make([]float32, e.InputShape().Size())
			b.ResetTimer()
			prof, err := e.Profile(in, b.N)
			if err != nil {
				b.Fatal(err)
			}
			if b.N == 1 {
				return
			}
			var sb strings.Builder
			fmt.Fprintf(&sb, "\nkernels=%s int8=%s mobilenet_v2 width 1.0: fastest of %d runs per layer\n", k.Name(), e.Int8Kernels(), b.N)
			writeProfile(&sb, prof, peak, bw)
			fmt.Print(sb.String())
		})
	}
}

// int8MobileNetV2 is MobileNetV2 1.0 on side x side pictures with random
// weights, lowered and
// given the quantization a calibrated file carries (every value the same
// scale: the numbers do not matter here, the work and the buffers do).
func int8MobileNetV2(tb testing.TB, k kernels.Kernels, qk kernels.Int8, side int) *Engine {
	g, err := models.Build("mobilenet_v2", models.Options{Input: side})
	if err != nil {
		tb.Fatal(err)
	}
	models.FillRandom(g, 5)
	lg, err := Lower(g)
	if err != nil {
		tb.Fatal(err)
	}
	lg.Meta.Quant = map[string]ir.QParams{lg.Input: {Scale: 1.0 / 128}}
	for _, n := range lg.Nodes {
		if n.Op != ir.Softmax {
			lg.Meta.Quant[n.Output] = ir.QParams{Scale: 0.05}
		}
	}
	e, err := NewInt8(lg, k, qk)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// roofline measures the two roofs: the GEMM's peak in GFLOP/s (a shape
// whose operands stay in cache, MobileNetV2's 14x14 expansion) and the
// bandwidth in GB/s of an Add over operands larger than L2, where
// MobileNetV2's big activations live.
func roofline(k kernels.Kernels) (gflops, gbs float64) {
	const m, n, kk = 196, 384, 128
	a := make([]float32, m*kk)
	w := k.PackGEMMWeights(make([]float32, kk*n), kk, n)
	c := make([]float32, m*n)
	best := func(f func()) float64 {
		t := 1e9
		for range 100 {
			s := time.Now()
			f()
			t = min(t, time.Since(s).Seconds())
		}
		return t
	}
	gflops = 2 * m * n * kk / best(func() { k.GEMM(m, n, kk, a, kk, w, nil, c, n, kernels.ActNone) }) / 1e9
	const big = 1 << 20
	x, y, z := make([]float32, big), make([]float32, big), make([]float32, big)
	gbs = 3 * 4 * big / best(func() { k.Add(x, y, z, kernels.ActNone) }) / 1e9
	return gflops, gbs
}

// writeProfile writes one line per layer, then the time by kind of layer.
func writeProfile(sb *strings.Builder, prof []LayerProfile, peak, bw float64) {
	fmt.Fprintf(sb, "roofline: GEMM peak %.1f GFLOP/s, memory %.1f GB/s\n", peak, bw)
	fmt.Fprintf(sb, "%-28s %-12s %-12s %-12s %8s %8s %8s %8s %6s\n",
		"layer", "op", "in", "out", "MFLOP", "ms", "GFLOP/s", "roof", "%roof")
	type sum struct {
		op         string
		n          int
		sec, floor float64
		flops      int64
	}
	byOp := map[string]*sum{}
	var total sum
	for _, p := range prof {
		roof := min(peak, float64(p.FLOPs)/float64(p.Bytes)*bw)
		floor := float64(p.FLOPs) / roof / 1e9
		rate, share := "-", "-" // a step faster than the clock's tick
		if p.Seconds > 0 {
			rate = fmt.Sprintf("%.1f", float64(p.FLOPs)/p.Seconds/1e9)
			share = fmt.Sprintf("%.0f%%", 100*floor/p.Seconds)
		}
		fmt.Fprintf(sb, "%-28s %-12s %-12s %-12s %8.2f %8.3f %8s %8.1f %6s\n",
			p.Name, p.Op, p.In, p.Out, float64(p.FLOPs)/1e6, p.Seconds*1e3, rate, roof, share)
		s := byOp[p.Op]
		if s == nil {
			s = &sum{op: p.Op}
			byOp[p.Op] = s
		}
		for _, t := range []*sum{s, &total} {
			t.n++
			t.sec += p.Seconds
			t.floor += floor
			t.flops += p.FLOPs
		}
	}
	ops := make([]*sum, 0, len(byOp))
	for _, s := range byOp {
		ops = append(ops, s)
	}
	slices.SortFunc(ops, func(a, b *sum) int { return cmp.Compare(b.sec, a.sec) })
	fmt.Fprintf(sb, "\n%-14s %6s %8s %8s %8s %10s %6s\n", "op", "layers", "ms", "floor ms", "GFLOP/s", "ms over", "%roof")
	for _, s := range append(ops, &total) {
		name := s.op
		if s == &total {
			name = "total"
		}
		fmt.Fprintf(sb, "%-14s %6d %8.3f %8.3f %8.1f %10.3f %5.0f%%\n",
			name, s.n, s.sec*1e3, s.floor*1e3, float64(s.flops)/s.sec/1e9, (s.sec-s.floor)*1e3, 100*s.floor/s.sec)
	}
}
