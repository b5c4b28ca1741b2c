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

// dwconv is f32_dwconv__wasmsimd(shape, in, w, bias, out, act): a
// depthwise convolution with weights [KH*KW][C].
//
// A 3x3 window with dilation 1, a column stride of 1 or 2 and at most one
// padded column on each side (every MobileNet's) takes the row-tile path:
// each output row goes in segments of pixels, each segment a channel block
// (four channels) at a time, in tiles of up to eight pixels along the row.
// A tile keeps one accumulator per pixel and walks the window's rows one
// at a time: the row's three weights are loaded, then its input columns
// once each (ten for eight pixels at stride 1), each column adding into
// every pixel whose window it falls in. So no more than twelve vectors are
// live (eight sums, three weights, one input) and x86's sixteen registers
// hold them: the earlier kernel kept a block's nine weights in locals
// across a whole run and V8 spilled them, reloading weights and inputs
// from the stack (44 to 68% of the GEMM's rate). Padded rows are skipped
// and a padded first or last column is never loaded, so borders run the
// same vector code as the interior. Every output sums its taps in window
// order after the bias, as the pure-Go reference does.
//
// Every other window runs tap by tap into the output, skipping padded taps.
func dwconv(relaxed bool) *function {
	f := &function{name: "f32_dwconv", relaxed: relaxed}
	shape, in, w, bias, out, act := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	s := f.readShape(shape)
	g := f.get
	oy, ox, o, cc, end, vecEnd := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	ky, kx, iy, ix, ip, wp := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	accV, accS := f.v128(), f.local(tF32)
	clamp, vlo, vhi := f.i32(), f.v128(), f.v128()

	f.chanBytes(g(s.inC), end, vecEnd)
	f.clampBounds(act, clamp, vlo, vhi)
	// last is the input column the last output's window ends on.
	last := f.i32()
	f.set(last, f.add(f.sub(f.mul(f.sub(g(s.outW), f.c(1)), g(s.sw)), g(s.pl)), f.c(2)))
	fast := f.andB(f.andB(f.andB(f.eq(g(s.kh), f.c(3)), f.eq(g(s.kw), f.c(3))),
		f.andB(f.eq(g(s.dh), f.c(1)), f.eq(g(s.dw), f.c(1)))),
		f.andB(f.andB(f.ge(g(s.sw), f.c(1)), f.le(g(s.sw), f.c(2))),
			f.andB(f.andB(f.ge(g(s.pl), f.c(0)), f.le(g(s.pl), f.c(1))), f.le(g(last), g(s.inW)))))
	f.ifElse(fast, func() {
		dwRowTiles(f, s, in, w, bias, out, act, clamp, vlo, vhi, end, vecEnd, last)
	}, func() {
		f.set(o, g(out))
		f.forUp(oy, f.c(0), g(s.outH), f.c(1), func() {
			f.forUp(ox, f.c(0), g(s.outW), f.c(1), func() {
				f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
					f.ifElse(f.ne(g(bias), f.c(0)), func() {
						f.set(l.acc, l.ld(f.add(g(bias), g(cc))))
					}, func() { f.set(l.acc, l.k(0)) })
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
				f.set(o, f.add(g(o), g(s.cb)))
			})
		})
	})
	return f
}

// dwTile is the widest row tile of the 3x3 depthwise kernel, in pixels.
const dwTile = 8

// dwRowTiles is dwconv's row-tile path (see dwconv). last is the input
// column the row's last window ends on: when it is inW, that column is
// the right padding.
func dwRowTiles(f *function, s convLocals, in, w, bias, out, act, clamp, vlo, vhi, end, vecEnd, last loc) {
	const maxT = dwTile
	g := f.get
	oy, iy0, ky0, ky1, rowb, sb, cb2 := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	seg, x0, n, x, cc, p, o, orow, q, wq, lpad, rpad := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	tl, tr := f.i32(), f.i32()
	nt, tw, wide, i, j := f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	acc := make([]loc, maxT)
	for j := range acc {
		acc[j] = f.v128()
	}
	accS := f.local(tF32)
	var wv [3]loc
	var ws [3]loc
	for j := range wv {
		wv[j], ws[j] = f.v128(), f.local(tF32)
	}
	xv, xs := f.v128(), f.local(tF32)

	f.set(rowb, f.mul(g(s.inW), g(s.cb)))
	f.set(sb, f.mul(g(s.sw), g(s.cb)))
	f.set(cb2, f.add(g(s.cb), g(s.cb)))
	f.set(lpad, f.eq(g(s.pl), f.c(1)))
	f.set(rpad, f.eq(g(last), g(s.inW)))
	// Segments of whole tiles whose three input rows take about 16 KiB,
	// so that a segment's later channel blocks find its rows in L1.
	f.set(seg, f.andB(f.div(f.c(16<<10), f.mul(f.c(3), g(sb))), f.c(-dwTile)))
	f.set(seg, f.sel(f.c(dwTile), g(seg), f.lt(g(seg), f.c(dwTile))))
	f.set(seg, f.min(g(seg), f.c(4*dwTile)))

	f.forUp(oy, f.c(0), g(s.outH), f.c(1), func() {
		// The window's rows ky in [ky0, ky1) lie inside the input.
		f.set(iy0, f.sub(f.mul(g(oy), g(s.sh)), g(s.pt)))
		f.set(ky0, f.sel(f.sub(f.c(0), g(iy0)), f.c(0), f.lt(g(iy0), f.c(0))))
		f.set(ky1, f.min(f.c(3), f.sub(g(s.inH), g(iy0))))
		f.set(orow, f.add(g(out), f.mul(f.mul(g(oy), g(s.outW)), g(s.cb))))
		f.forUp(x0, f.c(0), g(s.outW), g(seg), func() {
			f.set(n, f.min(g(seg), f.sub(g(s.outW), g(x0))))
			// tile runs one tile of t pixels at x for the channel block at
			// cc (l's lanes); stride is the column stride.
			tile := func(l lane, t int, stride int) {
				span := (t-1)*stride + 3 // input columns the tile reads
				accs := acc[:t]
				wl, xl := wv, xv
				if !l.vec {
					accs, wl, xl = []loc{accS}, ws, xs
				}
				f.set(tl, f.andB(g(lpad), f.eq(g(x), f.c(0))))
				f.set(tr, f.andB(g(rpad), f.eq(f.add(g(x), f.c(int32(t))), g(s.outW))))
				f.ifElse(f.ne(g(bias), f.c(0)), func() {
					f.set(accs[0], l.ld(f.add(g(bias), g(cc))))
				}, func() { f.set(accs[0], l.k(0)) })
				for j := 1; j < t; j++ {
					f.set(accs[j], g(accs[0]))
				}
				// p is the tile's first input column in row iy0.
				f.set(p, f.add(f.add(f.add(g(in), f.mul(g(iy0), g(rowb))),
					f.mul(f.sub(f.mul(g(x), g(s.sw)), g(s.pl)), g(s.cb))), g(cc)))
				for r := range 3 {
					f.when(f.andB(f.ge(f.c(int32(r)), g(ky0)), f.lt(f.c(int32(r)), g(ky1))), func() {
						f.set(wq, f.add(f.add(g(w), g(cc)), f.mul(f.c(int32(3*r)), g(s.cb))))
						f.set(wl[0], l.ld(g(wq)))
						f.set(wl[1], l.ld(f.add(g(wq), g(s.cb))))
						f.set(wl[2], l.ld(f.add(g(wq), g(cb2))))
						f.set(q, f.add(g(p), f.mul(f.c(int32(r)), g(rowb))))
						for k := range span {
							column := func() {
								f.set(xl, l.ld(g(q)))
								for j := range t {
									if d := k - j*stride; d >= 0 && d < 3 {
										a := accs[j]
										f.set(a, l.madd(g(xl), g(wl[d]), g(a)))
									}
								}
							}
							switch k {
							case 0:
								f.when(f.eq(g(tl), f.c(0)), column)
							case span - 1:
								f.when(f.eq(g(tr), f.c(0)), column)
							default:
								column()
							}
							if k < span-1 {
								f.set(q, f.add(g(q), g(s.cb)))
							}
						}
					})
				}
				f.set(o, f.add(f.add(g(orow), f.mul(g(x), g(s.cb))), g(cc)))
				// None, ReLU and ReLU6 are one clamp of each sum in
				// registers; the other activations go over the stored
				// tile afterwards, one pixel at a time (they are rare, and
				// inlining them for each sum of each tile width would
				// double the module).
				if l.vec {
					f.when(g(clamp), func() {
						for _, a := range accs {
							f.set(a, f.vpmin(f.vpmax(g(a), g(vlo)), g(vhi)))
						}
					})
				} else {
					lane{f, false, accs[0]}.act(act)
				}
				for j := range t {
					dst := g(o)
					if j > 0 {
						dst = f.add(g(o), f.mul(f.c(int32(j)), g(s.cb)))
					}
					l.st(dst, g(accs[j]))
				}
				if l.vec {
					f.when(f.eq(g(clamp), f.c(0)), func() {
						f.forUp(j, f.c(0), f.c(int32(t)), f.c(1), func() {
							f.set(q, f.add(g(o), f.mul(g(j), g(s.cb))))
							f.set(accs[0], l.ld(g(q)))
							lane{f, true, accs[0]}.act(act)
							l.st(g(q), g(accs[0]))
						})
					})
				}
				f.set(x, f.add(g(x), f.c(int32(t))))
			}
			// tiles runs the segment's tiles for one channel block: as few
			// as hold at most maxT pixels, as even as they can be (a row
			// of 7 or 14 goes in tiles of 7, one of 28 in four), so that no
			// tile is left with only a few independent sums.
			tiles := func(l lane, stride int) {
				f.set(x, g(x0))
				if !l.vec {
					f.forUp(i, f.c(0), g(n), f.c(1), func() { tile(l, 1, stride) })
					return
				}
				f.set(nt, f.div(f.add(g(n), f.c(int32(maxT-1))), f.c(int32(maxT))))
				f.set(tw, f.div(g(n), g(nt)))
				f.set(wide, f.sub(g(n), f.mul(g(tw), g(nt))))
				f.forUp(i, f.c(0), g(nt), f.c(1), func() {
					// Tiles [0, wide) take one pixel more.
					f.cases(f.sub(f.add(g(tw), f.lt(g(i), g(wide))), f.c(1)), maxT, func(k int) {
						tile(l, k+1, stride)
					})
				})
			}
			f.forUp(cc, f.c(0), g(vecEnd), f.c(16), func() {
				f.ifElse(f.eq(g(s.sw), f.c(1)), func() {
					tiles(lane{f, true, acc[0]}, 1)
				}, func() {
					tiles(lane{f, true, acc[0]}, 2)
				})
			})
			f.forUp(cc, g(vecEnd), g(end), f.c(4), func() {
				tiles(lane{f, false, accS}, 1) // one pixel a tile: the stride is in p
			})
		})
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
