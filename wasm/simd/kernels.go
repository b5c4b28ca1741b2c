package main

import (
	"fmt"
	"math"
)

// The kernels. Each export does a whole operation (a whole GEMM, a whole
// depthwise layer) per call, because a call from Go through syscall/js
// costs about a microsecond. Pointers are byte offsets into Go's linear
// memory; counts are elements. A ConvShape is read in place from Go memory:
// sixteen Go ints (8 bytes each, little-endian, of which the low 32 bits
// are read) in the order declared in core/kernels. Activation codes are
// core/kernels' Act values; the Go side applies Sigmoid itself.

// ConvShape field offsets, in bytes.
const (
	csInH = 8 * iota
	csInW
	csInC
	csOutH
	csOutW
	csOutC
	csKH
	csKW
	csSH
	csSW
	csDH
	csDW
	csPadTop
	csPadLeft
	csPadBottom
	csPadRight
)

// Activation codes (core/kernels.Act).
const (
	actReLU        = 1
	actReLU6       = 2
	actHardSwish   = 3
	actHardSigmoid = 4
)

// kernelFuncs returns every exported function of one variant, in export
// order.
func kernelFuncs(relaxed bool) []*function {
	return []*function{
		gemmTile(4, relaxed, false),
		dwconv(relaxed),
		maxpool(),
		avgpool(),
		gavgpool(),
		vadd(),
		vmulc(),
		vact(),
		im2col(),
		gemmTile(4, false, true),
		gemmAtB(relaxed),
		col2im(),
		gemmTile(6, relaxed, false),
	}
}

// lane abstracts over the two widths of the channel loops: four float32
// lanes at a time, then one at a time for the channels left over, with the
// same arithmetic.
type lane struct {
	f   *function
	vec bool
	acc loc // a v128 or f32 accumulator
}

// step is the byte stride of one iteration.
func (l lane) step() int32 {
	if l.vec {
		return 16
	}
	return 4
}

func (l lane) ld(addr expr) expr {
	if l.vec {
		return l.f.vload(addr, 0)
	}
	return l.f.fload(addr, 0)
}

func (l lane) st(addr expr, v expr) {
	if l.vec {
		l.f.vstore(addr, 0, v)
	} else {
		l.f.fstore(addr, 0, v)
	}
}

func (l lane) k(v float32) expr {
	if l.vec {
		return l.f.splat(l.f.fc(v))
	}
	return l.f.fc(v)
}

func (l lane) add(a, b expr) expr {
	if l.vec {
		return l.f.vadd(a, b)
	}
	return l.f.fadd(a, b)
}

func (l lane) mul(a, b expr) expr {
	if l.vec {
		return l.f.vmul(a, b)
	}
	return l.f.fmul(a, b)
}

func (l lane) div(a, b expr) expr {
	if l.vec {
		return l.f.vdiv(a, b)
	}
	return l.f.fdiv(a, b)
}

// madd is acc + a*b (fused in the relaxed module's vector loops).
func (l lane) madd(a, b, acc expr) expr {
	if l.vec {
		return l.f.vmadd(a, b, acc)
	}
	return l.f.fadd(acc, l.f.fmul(a, b))
}

// max is NaN-propagating, like Go's max.
func (l lane) max(a, b expr) expr {
	if l.vec {
		return l.f.vmax(a, b)
	}
	return l.f.fmax(a, b)
}

// clamp0 and clamp6 are max(x, 0) and min(x, 6) of the activations.
func (l lane) clamp0(a expr) expr {
	if l.vec {
		return l.f.vpmax(a, l.k(0))
	}
	return l.f.fmax(a, l.f.fc(0))
}

func (l lane) clamp6(a expr) expr {
	if l.vec {
		return l.f.vpmin(a, l.k(6))
	}
	return l.f.fmin(a, l.f.fc(6))
}

// act applies the activation coded in local code to the accumulator, with
// the same operations (and so the same rounding) as kernels.Act.Apply.
func (l lane) act(code loc) {
	f := l.f
	acc := f.get(l.acc)
	f.when(f.ne(f.get(code), f.c(0)), func() {
		f.ifElse(f.eq(f.get(code), f.c(actReLU)), func() {
			f.set(l.acc, l.clamp0(acc))
		}, func() {
			f.ifElse(f.eq(f.get(code), f.c(actReLU6)), func() {
				f.set(l.acc, l.clamp6(l.clamp0(acc)))
			}, func() {
				t := l.clamp6(l.clamp0(l.add(acc, l.k(3))))
				f.ifElse(f.eq(f.get(code), f.c(actHardSwish)), func() {
					f.set(l.acc, l.div(l.mul(acc, t), l.k(6)))
				}, func() {
					f.when(f.eq(f.get(code), f.c(actHardSigmoid)), func() {
						f.set(l.acc, l.div(t, l.k(6)))
					})
				})
			})
		})
	})
}

// clampBounds sets clamp when the activation coded in act is None, ReLU or
// ReLU6, which are one clamp of each lane to [vlo, vhi] (-Inf or 0, 6 or
// +Inf): f32x4.pmin(f32x4.pmax(x, vlo), vhi) gives the same bits as
// lane.act's clamp0 and clamp6, NaN included, with no branch per vector.
func (f *function) clampBounds(act, clamp, vlo, vhi loc) {
	g := f.get
	f.set(clamp, f.le(g(act), f.c(actReLU6)))
	f.set(vlo, f.splat(f.fc(float32(math.Inf(-1)))))
	f.when(f.ge(g(act), f.c(actReLU)), func() { f.set(vlo, f.vzero()) })
	f.set(vhi, f.splat(f.fc(float32(math.Inf(1)))))
	f.when(f.eq(g(act), f.c(actReLU6)), func() { f.set(vhi, f.splat(f.fc(6))) })
}

// chanLoop runs body over byte offsets cc in [0, end): whole vectors up to
// vecEnd, then single floats.
func (f *function) chanLoop(cc, vecEnd, end, accV, accS loc, body func(l lane)) {
	f.forUp(cc, f.c(0), f.get(vecEnd), f.c(16), func() { body(lane{f, true, accV}) })
	f.forUp(cc, f.get(vecEnd), f.get(end), f.c(4), func() { body(lane{f, false, accS}) })
}

// chanBytes sets end to n floats in bytes and vecEnd to the whole vectors
// among them.
func (f *function) chanBytes(n expr, end, vecEnd loc) {
	f.set(end, f.x4(n))
	f.set(vecEnd, f.andB(f.get(end), f.c(-16)))
}

// gemmTile is f32_gemm_4x8__wasmsimd or f32_gemm_6x8__wasmsimd (or
// __wasmrelaxedsimd): the whole of c = act(a*B + bias) over B packed in
// panels of eight columns (see core/kernels packGEMMPanels), with a
// register tile of mr rows by two vectors. The loops follow the pure-Go
// GEMM: rows in blocks that stay in L2, then panels, then tiles. A last
// tile of fewer than mr rows re-reads its last real row (as XNNPACK does)
// and stores only the real rows; a last panel of fewer than eight columns
// stores lane by lane.
//
// The 4x8 tile (eight accumulators, two B vectors and one broadcast: 11
// live vectors) is the x86 default; the 6x8 tile (twelve accumulators, 15
// live vectors, as many as V8 allocates on x86) is XNNPACK's choice for
// ARM's 32 registers, loading 0.67 values per multiply-add instead of 0.75
// with more sums in flight. Both give the same bits (each output sums the
// same products in the same order); the loader times them once and the Go
// side runs the faster (loader.mjs probeGEMMTile).
//
// With exact set it is f32_gemm_4x8_exact, which both modules export: the
// accumulators start at zero and the bias is added after the K loop, with a
// separate multiply and add per step, so every output is the same sequence
// of float32 operations as in the pure-Go GEMM and the results are the same
// bit for bit. Training relies on that to give the same head on every
// platform; the default entry point instead starts from the bias, which
// saves the adds but rounds differently.
func gemmTile(mr int, relaxed, exact bool) *function {
	name := fmt.Sprintf("f32_gemm_%dx8", mr)
	if exact {
		name, relaxed = name+"_exact", false
	}
	f := &function{name: name, relaxed: relaxed}
	m, n, k := f.param(tI32), f.param(tI32), f.param(tI32)
	a, lda, b := f.param(tI32), f.param(tI32), f.param(tI32)
	bias, c, ldc, act := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	block, i0, i1, q, panels, j0, cols, bp := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	i, rows, p, bptr, cr := f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	ap := make([]loc, mr)
	for r := range ap {
		ap[r] = f.i32()
	}
	bv0, bv1, vb0, vb1, va := f.v128(), f.v128(), f.v128(), f.v128(), f.v128()
	clamp, vlo, vhi := f.i32(), f.v128(), f.v128()
	acc := make([]loc, 2*mr)
	for j := range acc {
		acc[j] = f.v128()
	}
	g := f.get
	mr32 := int32(mr)

	f.when(f.orB(f.le(g(m), f.c(0)), f.le(g(n), f.c(0))), func() { f.op(0x0f) })
	f.set(lda, f.x4(g(lda)))
	f.set(ldc, f.x4(g(ldc)))
	f.clampBounds(act, clamp, vlo, vhi)
	// Rows per block: 16 Ki floats of A, whole tiles (gemmRowBlock).
	f.set(block, f.div(f.c(16<<10), f.sel(g(k), f.c(1), f.gt(g(k), f.c(1)))))
	f.set(block, f.mul(f.div(g(block), f.c(mr32)), f.c(mr32)))
	f.set(block, f.sel(g(block), f.c(mr32), f.gt(g(block), f.c(mr32))))
	f.set(panels, f.div(f.add(g(n), f.c(7)), f.c(8)))
	q0 := f.i32()
	f.set(q0, f.c(0))
	if !exact {
		q0 = gemv4Panels(f, m, n, k, a, b, bias, c, act, clamp, vlo, vhi, acc[:8])
	}
	f.forUp(i0, f.c(0), g(m), g(block), func() {
		f.set(i1, f.min(g(m), f.add(g(i0), g(block))))
		f.forUp(q, g(q0), g(panels), f.c(1), func() {
			f.set(j0, f.mul(g(q), f.c(8)))
			f.set(cols, f.min(f.c(8), f.sub(g(n), g(j0))))
			f.set(bp, f.add(g(b), f.mul(f.mul(g(q), g(k)), f.c(32))))
			f.set(bv0, f.vzero())
			f.set(bv1, f.vzero())
			f.when(f.ne(g(bias), f.c(0)), func() {
				bj := f.add(g(bias), f.x4(g(j0)))
				f.ifElse(f.eq(g(cols), f.c(8)), func() {
					f.set(bv0, f.vload(bj, 0))
					f.set(bv1, f.vload(bj, 16))
				}, func() {
					for l := range 8 {
						dst := []loc{bv0, bv1}[l/4]
						f.when(f.gt(g(cols), f.c(int32(l))), func() {
							f.set(dst, f.loadLane(bj, uint32(4*l), g(dst), byte(l%4)))
						})
					}
				})
			})
			f.forUp(i, g(i0), g(i1), f.c(mr32), func() {
				f.set(rows, f.min(f.c(mr32), f.sub(g(i1), g(i))))
				f.set(ap[0], f.add(g(a), f.mul(g(i), g(lda))))
				for r := 1; r < mr; r++ {
					f.set(ap[r], f.sel(f.add(g(ap[r-1]), g(lda)), g(ap[r-1]), f.gt(g(rows), f.c(int32(r)))))
				}
				for j := range acc {
					if exact {
						f.set(acc[j], f.vzero())
					} else {
						f.set(acc[j], g([]loc{bv0, bv1}[j%2]))
					}
				}
				f.set(bptr, g(bp))
				f.set(p, g(k))
				f.block(func() {
					f.loop(func() {
						f.brIf(f.le(g(p), f.c(0)), 1)
						f.set(vb0, f.vload(g(bptr), 0))
						f.set(vb1, f.vload(g(bptr), 16))
						for r := range mr {
							f.set(va, f.splatLoad(g(ap[r]), 0))
							f.set(acc[2*r], f.vmadd(g(va), g(vb0), g(acc[2*r])))
							f.set(acc[2*r+1], f.vmadd(g(va), g(vb1), g(acc[2*r+1])))
							f.set(ap[r], f.add(g(ap[r]), f.c(4)))
						}
						f.set(bptr, f.add(g(bptr), f.c(32)))
						f.set(p, f.sub(g(p), f.c(1)))
						f.br(0)
					})
				})
				if exact {
					for j := range acc {
						f.set(acc[j], f.vadd(g(acc[j]), g([]loc{bv0, bv1}[j%2])))
						lane{f, true, acc[j]}.act(act)
					}
				} else {
					// None, ReLU and ReLU6 are one clamp to [lo, hi]
					// (pmax and pmin, as the activations use, so the
					// same bits), with one branch a tile instead of the
					// activation's branches per accumulator.
					f.ifElse(g(clamp), func() {
						for j := range acc {
							f.set(acc[j], f.vpmin(f.vpmax(g(acc[j]), g(vlo)), g(vhi)))
						}
					}, func() {
						for j := range acc {
							lane{f, true, acc[j]}.act(act)
						}
					})
				}
				f.set(cr, f.add(f.add(g(c), f.mul(g(i), g(ldc))), f.x4(g(j0))))
				f.ifElse(f.eq(g(cols), f.c(8)), func() {
					for r := range mr {
						f.when(f.gt(g(rows), f.c(int32(r))), func() {
							f.vstore(g(cr), 0, g(acc[2*r]))
							f.vstore(g(cr), 16, g(acc[2*r+1]))
						})
						f.set(cr, f.add(g(cr), g(ldc)))
					}
				}, func() {
					for r := range mr {
						f.when(f.gt(g(rows), f.c(int32(r))), func() {
							for l := range 8 {
								f.when(f.gt(g(cols), f.c(int32(l))), func() {
									f.vstoreLane(g(cr), uint32(4*l), g(acc[2*r+l/4]), byte(l%4))
								})
							}
						})
						f.set(cr, f.add(g(cr), g(ldc)))
					}
				})
			})
		})
	})
	return f
}

// gemv4Panels is the GEMM's path for a single row (a dense layer on one
// picture): a tile of one row re-reads the row for every tile row, and its
// two sums a panel wait on each other's latency, so it runs at a quarter
// of the tile's speed or less. Instead it takes four whole panels at a
// time, 32 columns in eight independent sums, each still the bias plus
// the products in order of k, so the bits are the tile's. It returns a
// local holding the first panel it left to the tile loop (0 when m > 1).
func gemv4Panels(f *function, m, n, k, a, b, bias, c, act, clamp, vlo, vhi loc, acc []loc) loc {
	g := f.get
	q0, q, p, ap := f.i32(), f.i32(), f.i32(), f.i32()
	var pp [4]loc
	for j := range pp {
		pp[j] = f.i32()
	}
	va := f.v128()
	f.set(q0, f.c(0))
	f.when(f.eq(g(m), f.c(1)), func() {
		// Whole groups of four full panels.
		f.set(q0, f.mul(f.div(g(n), f.c(32)), f.c(4)))
		f.forUp(q, f.c(0), g(q0), f.c(4), func() {
			for j := range pp {
				f.set(pp[j], f.add(g(b), f.mul(f.mul(f.add(g(q), f.c(int32(j))), g(k)), f.c(32))))
			}
			for j := range acc {
				f.set(acc[j], f.vzero())
			}
			f.when(f.ne(g(bias), f.c(0)), func() {
				bq := f.add(g(bias), f.mul(g(q), f.c(32)))
				for j := range acc {
					f.set(acc[j], f.vload(bq, uint32(16*j)))
				}
			})
			f.set(ap, g(a))
			f.set(p, g(k))
			f.block(func() {
				f.loop(func() {
					f.brIf(f.le(g(p), f.c(0)), 1)
					f.set(va, f.splatLoad(g(ap), 0))
					for j := range pp {
						f.set(acc[2*j], f.vmadd(g(va), f.vload(g(pp[j]), 0), g(acc[2*j])))
						f.set(acc[2*j+1], f.vmadd(g(va), f.vload(g(pp[j]), 16), g(acc[2*j+1])))
						f.set(pp[j], f.add(g(pp[j]), f.c(32)))
					}
					f.set(ap, f.add(g(ap), f.c(4)))
					f.set(p, f.sub(g(p), f.c(1)))
					f.br(0)
				})
			})
			f.ifElse(g(clamp), func() {
				for j := range acc {
					f.set(acc[j], f.vpmin(f.vpmax(g(acc[j]), g(vlo)), g(vhi)))
				}
			}, func() {
				for j := range acc {
					lane{f, true, acc[j]}.act(act)
				}
			})
			cq := f.add(g(c), f.mul(g(q), f.c(32)))
			for j := range acc {
				f.vstore(cq, uint32(16*j), g(acc[j]))
			}
		})
	})
	return q0
}

// convLocals are a ConvShape's fields read into locals, and the byte
// sizes derived from them.
type convLocals struct {
	inH, inW, inC, outH, outW, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr loc
	cb                                                                loc // bytes per input pixel
}

func (f *function) readShape(shape loc) convLocals {
	var s convLocals
	for _, fd := range []struct {
		dst *loc
		off uint32
	}{
		{&s.inH, csInH}, {&s.inW, csInW}, {&s.inC, csInC}, {&s.outH, csOutH}, {&s.outW, csOutW},
		{&s.kh, csKH}, {&s.kw, csKW}, {&s.sh, csSH}, {&s.sw, csSW}, {&s.dh, csDH}, {&s.dw, csDW},
		{&s.pt, csPadTop}, {&s.pl, csPadLeft}, {&s.pb, csPadBottom}, {&s.pr, csPadRight},
	} {
		*fd.dst = f.i32()
		f.set(*fd.dst, f.load(f.get(shape), fd.off))
	}
	s.cb = f.i32()
	f.set(s.cb, f.x4(f.get(s.inC)))
	return s
}

// interior sets [lo, hi) to the output positions along one axis whose
// 3-tap window lies inside an input of size n (core/kernels interior).
func (f *function) interior(n, st, pad, out, lo, hi loc) {
	g := f.get
	last := f.i32()
	f.set(lo, f.div(f.sub(f.add(g(pad), g(st)), f.c(1)), g(st)))
	f.set(last, f.add(f.sub(g(n), f.c(3)), g(pad)))
	f.ifElse(f.lt(g(last), f.c(0)), func() { f.set(hi, g(lo)) }, func() {
		f.set(hi, f.min(g(out), f.add(f.div(g(last), g(st)), f.c(1))))
		f.set(hi, f.sel(g(lo), g(hi), f.gt(g(lo), g(hi))))
	})
}

// dwconv is f32_dwconv__wasmsimd(shape, in, w, bias, out, act, zero) with
// the f32_dwconv_3x3 fast path: a depthwise convolution with weights
// [KH*KW][C]. Interior pixels of a 3x3 window with dilation 1 (any stride)
// go a row run at a time, in segments whose three input rows fit in L1 (so
// that every channel block after the first finds them there: measured 12
// to 25% faster on MobileNetV2's 112x112 layers), each channel block with
// its nine weights and bias in locals and each pixel's taps summed in two
// chains. Border pixels of a 3x3 window read the zero buffer (C floats of
// zeros from the caller; 0 when it has none) at padded taps and sum in a
// register; every pixel of other windows, and the borders without a zero
// buffer, accumulate tap by tap into the output, skipping padded taps.
func dwconv(relaxed bool) *function {
	f := &function{name: "f32_dwconv", relaxed: relaxed}
	shape, in, w, bias, out, act := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	zero := f.param(tI32)
	s := f.readShape(shape)
	g := f.get
	yLo, yHi, xLo, xHi, oy, ox, o, cc, end, vecEnd := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	ky, kx, iy, ix, ip, wp, rowb := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	var r [3]loc
	for j := range r {
		r[j] = f.i32()
	}
	var tap [9]loc // byte offset of tap t's weights: t*cb
	for j := range tap {
		tap[j] = f.i32()
	}
	accV, accS := f.v128(), f.local(tF32)
	acc2V, acc2S := f.v128(), f.local(tF32)
	run, sb, op, j := f.i32(), f.i32(), f.i32(), f.i32()
	seg, s0, n := f.i32(), f.i32(), f.i32()
	clamp, vlo, vhi := f.i32(), f.v128(), f.v128()
	var p [3]loc // row pointers of the pixel in the interior run
	for j := range p {
		p[j] = f.i32()
	}
	var wV, wS [9]loc // one channel block's weights, per tap
	for t := range wV {
		wV[t], wS[t] = f.v128(), f.local(tF32)
	}
	bV, bS := f.v128(), f.local(tF32)

	f.chanBytes(g(s.inC), end, vecEnd)
	f.clampBounds(act, clamp, vlo, vhi)
	f.set(rowb, f.mul(g(s.inW), g(s.cb)))
	f.set(sb, f.mul(g(s.sw), g(s.cb)))
	// 16 KiB of input rows per segment: three rows of seg windows.
	f.set(seg, f.div(f.c(16<<10), f.mul(f.c(3), g(sb))))
	f.set(seg, f.sel(g(seg), f.c(16), f.gt(g(seg), f.c(16))))
	for j := range tap {
		f.set(tap[j], f.mul(g(s.cb), f.c(int32(j))))
	}
	f.set(yLo, f.c(0))
	f.set(yHi, f.c(0))
	f.set(xLo, f.c(0))
	f.set(xHi, f.c(0))
	fast := f.andB(f.andB(f.eq(g(s.kh), f.c(3)), f.eq(g(s.kw), f.c(3))),
		f.andB(f.eq(g(s.dh), f.c(1)), f.eq(g(s.dw), f.c(1))))
	f.when(fast, func() {
		f.interior(s.inH, s.sh, s.pt, s.outH, yLo, yHi)
		f.interior(s.inW, s.sw, s.pl, s.outW, xLo, xHi)
	})
	startAcc := func(l lane) {
		f.ifElse(f.ne(g(bias), f.c(0)), func() {
			f.set(l.acc, l.ld(f.add(g(bias), g(cc))))
		}, func() { f.set(l.acc, l.k(0)) })
	}
	var q [9]loc // a 3x3 border pixel's tap pointers
	for t := range q {
		q[t] = f.i32()
	}
	f.set(o, g(out))
	f.forUp(oy, f.c(0), g(s.outH), f.c(1), func() {
		f.forUp(ox, f.c(0), g(s.outW), f.c(1), func() {
			inside := f.andB(f.andB(f.ge(g(oy), g(yLo)), f.lt(g(oy), g(yHi))),
				f.andB(f.ge(g(ox), g(xLo)), f.lt(g(ox), g(xHi))))
			f.ifElse(inside, func() {
				// The first interior pixel of an interior row: walk the
				// row's interior run [ox, xHi) a channel block at a time,
				// with the block's nine weights and bias held in locals,
				// so that each pixel loads only its nine inputs.
				// r[j] is the window's row j at its left column.
				f.set(r[0], f.add(g(in), f.mul(f.add(f.mul(f.sub(f.mul(g(oy), g(s.sh)), g(s.pt)), g(s.inW)),
					f.sub(f.mul(g(ox), g(s.sw)), g(s.pl))), g(s.cb))))
				f.set(r[1], f.add(g(r[0]), g(rowb)))
				f.set(r[2], f.add(g(r[1]), g(rowb)))
				f.set(run, f.sub(g(xHi), g(ox)))
				// The run goes in segments of seg pixels whose three
				// input rows fit in L1, so that the channel blocks after
				// the first find them there.
				f.forUp(s0, f.c(0), g(run), g(seg), func() {
					f.set(n, f.min(g(seg), f.sub(g(run), g(s0))))
					f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
						wl, bl, acc2 := wS, bS, acc2S
						if l.vec {
							wl, bl, acc2 = wV, bV, acc2V
						}
						f.set(wp, f.add(g(w), g(cc)))
						for t := range 9 {
							f.set(wl[t], l.ld(f.add(g(wp), g(tap[t]))))
						}
						f.ifElse(f.ne(g(bias), f.c(0)), func() {
							f.set(bl, l.ld(f.add(g(bias), g(cc))))
						}, func() { f.set(bl, l.k(0)) })
						for j := range p {
							f.set(p[j], f.add(f.add(g(r[j]), f.mul(g(s0), g(sb))), g(cc)))
						}
						f.set(op, f.add(f.add(g(o), f.mul(g(s0), g(s.cb))), g(cc)))
						pixels := func(epilogue func()) {
							f.forUp(j, f.c(0), g(n), f.c(1), func() {
								x := func(t int) expr { return l.ld(f.add(g(p[t/3]), g(tap[t%3]))) }
								f.set(l.acc, l.madd(x(0), g(wl[0]), g(bl)))
								f.set(acc2, l.mul(x(1), g(wl[1])))
								for t := 2; t < 9; t++ {
									a := l.acc
									if t%2 == 1 {
										a = acc2
									}
									f.set(a, l.madd(x(t), g(wl[t]), g(a)))
								}
								f.set(l.acc, l.add(g(l.acc), g(acc2)))
								epilogue()
								l.st(g(op), g(l.acc))
								f.set(op, f.add(g(op), g(s.cb)))
								for j := range p {
									f.set(p[j], f.add(g(p[j]), g(sb)))
								}
							})
						}
						if !l.vec {
							pixels(func() { l.act(act) })
							return
						}
						// The vector loop comes twice: None, ReLU and
						// ReLU6 as one clamp (the same pmax and pmin the
						// activations use), with no branch a pixel.
						f.ifElse(g(clamp), func() {
							pixels(func() { f.set(l.acc, f.vpmin(f.vpmax(g(l.acc), g(vlo)), g(vhi))) })
						}, func() {
							pixels(func() { l.act(act) })
						})
					})
				})
				// Skip to the run's last pixel; the loop steps past it.
				f.set(o, f.add(g(o), f.mul(f.sub(g(run), f.c(1)), g(s.cb))))
				f.set(ox, f.sub(g(xHi), f.c(1)))
			}, func() {
				f.ifElse(f.andB(f.andB(f.eq(g(s.kh), f.c(3)), f.eq(g(s.kw), f.c(3))), f.ne(g(zero), f.c(0))), func() {
					border3x3(f, s, in, w, bias, zero, act, oy, ox, o, cc, vecEnd, end, accV, accS, tap, q)
				}, func() {
					f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
						startAcc(l)
						l.st(f.add(g(o), g(cc)), g(l.acc))
					})
					f.forUp(ky, f.c(0), g(s.kh), f.c(1), func() {
						f.set(iy, f.add(f.sub(f.mul(g(oy), g(s.sh)), g(s.pt)), f.mul(g(ky), g(s.dh))))
						f.when(f.andB(f.ge(g(iy), f.c(0)), f.lt(g(iy), g(s.inH))), func() {
							f.forUp(kx, f.c(0), g(s.kw), f.c(1), func() {
								f.set(ix, f.add(f.sub(f.mul(g(ox), g(s.sw)), g(s.pl)), f.mul(g(kx), g(s.dw))))
								f.when(f.andB(f.ge(g(ix), f.c(0)), f.lt(g(ix), g(s.inW))), func() {
									f.set(ip, f.add(g(in), f.mul(f.add(f.mul(g(iy), g(s.inW)), g(ix)), g(s.cb))))
									f.set(wp, f.add(g(w), f.mul(f.add(f.mul(g(ky), g(s.kw)), g(kx)), g(s.cb))))
									f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
										oc := f.add(g(o), g(cc))
										l.st(oc, l.madd(l.ld(f.add(g(ip), g(cc))), l.ld(f.add(g(wp), g(cc))), l.ld(oc)))
									})
								})
							})
						})
					})
					f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
						oc := f.add(g(o), g(cc))
						f.set(l.acc, l.ld(oc))
						l.act(act)
						l.st(oc, g(l.acc))
					})
				})
			})
			f.set(o, f.add(g(o), g(s.cb)))
		})
	})
	return f
}

// border3x3 computes one border pixel of a 3x3 window (any stride and
// dilation): each tap's input pointer is its pixel, or the zero buffer
// (at least C floats of zeros, passed by the caller) where the tap lies in
// the padding, so every channel block sums its nine taps in a register
// and stores once, with no branch per tap.
func border3x3(f *function, s convLocals, in, w, bias, zero, act, oy, ox, o, cc, vecEnd, end, accV, accS loc, tap, q [9]loc) {
	g := f.get
	for t := range q {
		iy := f.add(f.sub(f.mul(g(oy), g(s.sh)), g(s.pt)), f.mul(f.c(int32(t/3)), g(s.dh)))
		ix := f.add(f.sub(f.mul(g(ox), g(s.sw)), g(s.pl)), f.mul(f.c(int32(t%3)), g(s.dw)))
		f.set(q[t], g(zero))
		f.when(f.andB(f.andB(f.ge(iy, f.c(0)), f.lt(iy, g(s.inH))), f.andB(f.ge(ix, f.c(0)), f.lt(ix, g(s.inW)))), func() {
			f.set(q[t], f.add(g(in), f.mul(f.add(f.mul(iy, g(s.inW)), ix), g(s.cb))))
		})
	}
	f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
		f.ifElse(f.ne(g(bias), f.c(0)), func() {
			f.set(l.acc, l.ld(f.add(g(bias), g(cc))))
		}, func() { f.set(l.acc, l.k(0)) })
		for t := range q {
			f.set(l.acc, l.madd(l.ld(f.add(g(q[t]), g(cc))), l.ld(f.add(f.add(g(w), g(tap[t])), g(cc))), g(l.acc)))
		}
		l.act(act)
		l.st(f.add(g(o), g(cc)), g(l.acc))
	})
}

// window sets [lo, hi) to the window of output position o along one
// axis clipped to [0, n) (core/kernels windowRange).
func (f *function) window(o, st, pad, k expr, n expr, lo, hi loc) {
	start := f.i32()
	f.set(start, f.sub(f.mul(o, st), pad))
	f.set(lo, f.sel(f.get(start), f.c(0), f.gt(f.get(start), f.c(0))))
	f.set(hi, f.min(f.add(f.get(start), k), n))
}

// pool is the shared frame of the max and average pools: for each output
// pixel it clips the window to the input and hands the channel loops to
// body, or writes zeros when the window holds no input cell.
func pool(name string, extra bool, body func(f *function, s convLocals, in, o, cc, vecEnd, end, accV, accS, y0, y1, x0, x1, oy, ox, countPad loc)) *function {
	f := &function{name: name}
	shape, in, out := f.param(tI32), f.param(tI32), f.param(tI32)
	countPad := loc(0)
	if extra {
		countPad = f.param(tI32)
	}
	s := f.readShape(shape)
	g := f.get
	oy, ox, o, cc, end, vecEnd, y0, y1, x0, x1 := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	accV, accS := f.v128(), f.local(tF32)
	f.chanBytes(g(s.inC), end, vecEnd)
	f.set(o, g(out))
	f.forUp(oy, f.c(0), g(s.outH), f.c(1), func() {
		f.window(g(oy), g(s.sh), g(s.pt), g(s.kh), g(s.inH), y0, y1)
		f.forUp(ox, f.c(0), g(s.outW), f.c(1), func() {
			f.window(g(ox), g(s.sw), g(s.pl), g(s.kw), g(s.inW), x0, x1)
			f.ifElse(f.orB(f.ge(g(y0), g(y1)), f.ge(g(x0), g(x1))), func() {
				f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) { l.st(f.add(g(o), g(cc)), l.k(0)) })
			}, func() {
				body(f, s, in, o, cc, vecEnd, end, accV, accS, y0, y1, x0, x1, oy, ox, countPad)
			})
			f.set(o, f.add(g(o), g(s.cb)))
		})
	})
	return f
}

// windowPixels runs op over every input pixel of the clipped window.
func (f *function) windowPixels(s convLocals, in, y0, y1, x0, x1 loc, op func(px expr)) {
	iy, ix := f.i32(), f.i32()
	g := f.get
	f.forUp(iy, g(y0), g(y1), f.c(1), func() {
		f.forUp(ix, g(x0), g(x1), f.c(1), func() {
			op(f.add(g(in), f.mul(f.add(f.mul(g(iy), g(s.inW)), g(ix)), g(s.cb))))
		})
	})
}

// maxpool is f32_maxpool__wasmsimd (padded cells never take part).
func maxpool() *function {
	return pool("f32_maxpool", false, func(f *function, s convLocals, in, o, cc, vecEnd, end, accV, accS, y0, y1, x0, x1, _, _, _ loc) {
		g := f.get
		f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
			f.set(l.acc, l.k(float32(math.Inf(-1))))
			f.windowPixels(s, in, y0, y1, x0, x1, func(px expr) {
				f.set(l.acc, l.max(g(l.acc), l.ld(f.add(px, g(cc)))))
			})
			l.st(f.add(g(o), g(cc)), g(l.acc))
		})
	})
}

// avgpool is f32_avgpool__wasmsimd: the sum over the clipped window times
// the reciprocal of its divisor, which with countPad is the window clipped
// to the padded input (core/kernels f32AvgPoolGo).
func avgpool() *function {
	return pool("f32_avgpool", true, func(f *function, s convLocals, in, o, cc, vecEnd, end, accV, accS, y0, y1, x0, x1, oy, ox, countPad loc) {
		g := f.get
		cnt, py0, py1, px0, px1 := f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
		inv := f.local(tF32)
		f.set(cnt, f.mul(f.sub(g(y1), g(y0)), f.sub(g(x1), g(x0))))
		f.when(f.ne(g(countPad), f.c(0)), func() {
			f.window(g(oy), g(s.sh), f.c(0), g(s.kh), f.add(f.add(g(s.inH), g(s.pt)), g(s.pb)), py0, py1)
			f.window(g(ox), g(s.sw), f.c(0), g(s.kw), f.add(f.add(g(s.inW), g(s.pl)), g(s.pr)), px0, px1)
			f.set(cnt, f.mul(f.sub(g(py1), g(py0)), f.sub(g(px1), g(px0))))
		})
		f.set(inv, f.fdiv(f.fc(1), f.fconv(g(cnt))))
		f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
			f.set(l.acc, l.k(0))
			f.windowPixels(s, in, y0, y1, x0, x1, func(px expr) {
				f.set(l.acc, l.add(g(l.acc), l.ld(f.add(px, g(cc)))))
			})
			scale := g(inv)
			if l.vec {
				scale = f.splat(g(inv))
			}
			l.st(f.add(g(o), g(cc)), l.mul(g(l.acc), scale))
		})
	})
}

// gavgpool is f32_gavgpool__wasmsimd(hw, c, in, out), for hw > 0: each
// channel's sum over the hw pixels, times 1/hw.
func gavgpool() *function {
	f := &function{name: "f32_gavgpool"}
	hw, c, in, out := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	g := f.get
	cc, end, vecEnd, i, p := f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	accV, accS, inv := f.v128(), f.local(tF32), f.local(tF32)
	f.chanBytes(g(c), end, vecEnd)
	f.set(inv, f.fdiv(f.fc(1), f.fconv(g(hw))))
	f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
		f.set(l.acc, l.k(0))
		f.set(p, f.add(g(in), g(cc)))
		f.forUp(i, f.c(0), g(hw), f.c(1), func() {
			f.set(l.acc, l.add(g(l.acc), l.ld(g(p))))
			f.set(p, f.add(g(p), g(end)))
		})
		scale := g(inv)
		if l.vec {
			scale = f.splat(g(inv))
		}
		l.st(f.add(g(out), g(cc)), l.mul(g(l.acc), scale))
	})
	return f
}

// vadd is f32_vadd__wasmsimd(n, x, y, out, act): out = act(x + y).
func vadd() *function {
	f := &function{name: "f32_vadd"}
	n, x, y, out, act := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	g := f.get
	cc, end, vecEnd := f.i32(), f.i32(), f.i32()
	accV, accS := f.v128(), f.local(tF32)
	f.chanBytes(g(n), end, vecEnd)
	f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
		f.set(l.acc, l.add(l.ld(f.add(g(x), g(cc))), l.ld(f.add(g(y), g(cc)))))
		l.act(act)
		l.st(f.add(g(out), g(cc)), g(l.acc))
	})
	return f
}

// vmulc is f32_vmulc__wasmsimd(hw, c, x, scale, out): each of hw pixels'
// c channels times scale.
func vmulc() *function {
	f := &function{name: "f32_vmulc"}
	hw, c, x, scale, out := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	g := f.get
	i, cc, end, vecEnd := f.i32(), f.i32(), f.i32(), f.i32()
	accV, accS := f.v128(), f.local(tF32)
	f.chanBytes(g(c), end, vecEnd)
	f.forUp(i, f.c(0), g(hw), f.c(1), func() {
		f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
			l.st(f.add(g(out), g(cc)), l.mul(l.ld(f.add(g(x), g(cc))), l.ld(f.add(g(scale), g(cc)))))
		})
		f.set(x, f.add(g(x), g(end)))
		f.set(out, f.add(g(out), g(end)))
	})
	return f
}

// vact is f32_vact__wasmsimd(n, x, act): the activation in place.
func vact() *function {
	f := &function{name: "f32_vact"}
	n, x, act := f.param(tI32), f.param(tI32), f.param(tI32)
	g := f.get
	cc, end, vecEnd := f.i32(), f.i32(), f.i32()
	accV, accS := f.v128(), f.local(tF32)
	f.chanBytes(g(n), end, vecEnd)
	f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
		f.set(l.acc, l.ld(f.add(g(x), g(cc))))
		l.act(act)
		l.st(f.add(g(x), g(cc)), g(l.acc))
	})
	return f
}

// im2col is f32_im2col__wasmsimd(shape, in, c0, cin, cols): for every
// output pixel the window's KH*KW runs of cin channels starting at c0, or
// zeros where the window covers padding. Where the window reads every
// channel with no dilation and lies inside the input horizontally, each of
// its rows is KW*cin contiguous floats (9 for a first convolution on
// RGB), copied in whole vectors rather than tap by tap; a last partial
// vector is copied whole when that stays inside cols and the input (the
// values past the row are rewritten by the windows after it), lane by
// lane otherwise.
func im2col() *function {
	f := &function{name: "f32_im2col"}
	shape, in, c0, cin, cols := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	s := f.readShape(shape)
	g := f.get
	oy, ox, ky, kx, iy, ix, src, cc, end, vecEnd := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	x0, rowFast, fast, spanB, colsEnd, inEnd := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	accV, accS := f.v128(), f.local(tF32)
	f.chanBytes(g(cin), end, vecEnd)
	f.set(fast, f.andB(f.andB(f.eq(g(c0), f.c(0)), f.eq(g(cin), g(s.inC))), f.eq(g(s.dw), f.c(1))))
	f.set(spanB, f.mul(g(s.kw), g(end)))
	f.set(colsEnd, f.add(g(cols), f.mul(f.mul(f.mul(g(s.outH), g(s.outW)), g(s.kh)), g(spanB))))
	f.set(inEnd, f.add(g(in), f.mul(f.mul(g(s.inH), g(s.inW)), g(s.cb))))
	f.set(c0, f.x4(g(c0)))
	f.forUp(oy, f.c(0), g(s.outH), f.c(1), func() {
		f.forUp(ox, f.c(0), g(s.outW), f.c(1), func() {
			f.set(x0, f.sub(f.mul(g(ox), g(s.sw)), g(s.pl)))
			f.set(rowFast, f.andB(g(fast), f.andB(f.ge(g(x0), f.c(0)), f.le(f.add(g(x0), g(s.kw)), g(s.inW)))))
			f.forUp(ky, f.c(0), g(s.kh), f.c(1), func() {
				f.set(iy, f.add(f.sub(f.mul(g(oy), g(s.sh)), g(s.pt)), f.mul(g(ky), g(s.dh))))
				f.ifElse(f.andB(g(rowFast), f.andB(f.ge(g(iy), f.c(0)), f.lt(g(iy), g(s.inH)))), func() {
					f.set(src, f.add(g(in), f.mul(f.add(f.mul(g(iy), g(s.inW)), g(x0)), g(s.cb))))
					f.set(cc, f.c(0))
					f.block(func() {
						f.loop(func() {
							f.brIf(f.gt(f.add(g(cc), f.c(16)), g(spanB)), 1)
							f.vstore(f.add(g(cols), g(cc)), 0, f.vload(f.add(g(src), g(cc)), 0))
							f.set(cc, f.add(g(cc), f.c(16)))
							f.br(0)
						})
					})
					f.when(f.lt(g(cc), g(spanB)), func() {
						room := f.andB(f.le(f.add(f.add(g(cols), g(cc)), f.c(16)), g(colsEnd)),
							f.le(f.add(f.add(g(src), g(cc)), f.c(16)), g(inEnd)))
						f.ifElse(room, func() {
							f.vstore(f.add(g(cols), g(cc)), 0, f.vload(f.add(g(src), g(cc)), 0))
						}, func() {
							f.forUp(cc, g(cc), g(spanB), f.c(4), func() {
								f.fstore(f.add(g(cols), g(cc)), 0, f.fload(f.add(g(src), g(cc)), 0))
							})
						})
					})
					f.set(cols, f.add(g(cols), g(spanB)))
				}, func() {
					f.forUp(kx, f.c(0), g(s.kw), f.c(1), func() {
						f.set(ix, f.add(g(x0), f.mul(g(kx), g(s.dw))))
						inside := f.andB(f.andB(f.ge(g(iy), f.c(0)), f.lt(g(iy), g(s.inH))),
							f.andB(f.ge(g(ix), f.c(0)), f.lt(g(ix), g(s.inW))))
						f.ifElse(inside, func() {
							f.set(src, f.add(f.add(g(in), f.mul(f.add(f.mul(g(iy), g(s.inW)), g(ix)), g(s.cb))), g(c0)))
							f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
								l.st(f.add(g(cols), g(cc)), l.ld(f.add(g(src), g(cc))))
							})
						}, func() {
							f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
								l.st(f.add(g(cols), g(cc)), l.k(0))
							})
						})
						f.set(cols, f.add(g(cols), g(end)))
					})
				})
			})
		})
	})
	return f
}
