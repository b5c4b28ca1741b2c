package main

// The int8 kernels (core/kernels' Int8 under GOOS=js): XNNPACK's QS8
// scheme, bit for bit the same results as the pure-Go reference. Sums are
// exact in int32; the epilogue converts to float32, multiplies by the
// per-channel multiplier, clamps to the output's bounds (in float32, less
// the zero point), rounds half to even and adds the output's zero point
// (round4: one addition of 1.5·2^23, one of integers), then narrows to
// int8 (exact: the values are already within −128…127).
//
// The GEMM is where the two modules differ:
//
//   - kernels_relaxed.wasm multiplies with i32x4.relaxed_dot_i8x16_i7x16_add_s,
//     four int8 products summed into each int32 lane in one instruction
//     (AVX-VNNI's vpdpbusd in V8 on x86, sdot on ARM). Its result is
//     defined only when the second operand's bytes lie in 0…127, so the
//     weights go there split in two 7-bit halves, w = w⁺ − w⁻ with
//     w⁺ = max(w, 0) and w⁻ = max(−w, 0) (the weights are symmetric,
//     −127…127), and the activations a (full int8, the signed operand) meet
//     w⁺ as they are and w⁻ complemented: ~a = −a − 1 fits int8 for every
//     a, so dot(a, w⁺) + dot(~a, w⁻) = Σ a·w − Σ w⁻, and the constant
//     Σ w⁻ of each column is added back in the packed bias. Both products
//     go into one accumulator; every engine computes the same sums. (x86
//     without VNNI lowers the instruction to pmaddubsw, which saturates a
//     pair of products to int16: with |a| ≤ 128 and w± ≤ 127 a pair stays
//     within ±32,512, so nothing saturates there either.)
//   - kernels.wasm widens to int16 and uses i32x4.dot_i16x8_s, two products
//     into each int32 lane, over weights packed as int16 pairs; the relaxed
//     module has this GEMM too, for engines whose relaxed dot product is
//     wrong (core/kernels probes it).
//
// Both take the same blocks of four k at a time (64 bytes of packed
// weights per block of a panel of eight columns), so the loops and the
// epilogue are shared.

// qs8Funcs returns the int8 exports of one variant, in export order.
// Both export qs8_gemm_dot16; the relaxed module adds qs8_gemm_rdot,
// which core/kernels uses once a probe at load has found the engine's
// relaxed dot product exact (Node 20's V8 computes a wrong one).
func qs8Funcs(relaxed bool) []*function {
	fs := []*function{qs8GEMM(false)}
	if relaxed {
		fs = append(fs, qs8GEMM(true))
	}
	return append(fs,
		qs8DWConv3x3(),
		qs8Im2Col(),
		qs8Add(),
		qs8GAvgPool(),
		qs8Quantize(),
	)
}

// requant4 is the epilogue of four int32 sums: float32(acc)·mult, clamped
// to [vlo, vhi] (pmax and pmin: the sums are never NaN), then round4.
func (f *function) requant4(acc, mult, vlo, vhi, vz expr) expr {
	return f.round4(f.vpmin(f.vpmax(f.vmul(f.fconv4(acc), mult), vlo), vhi), vz)
}

// magicBits is the float32 1.5·2^23 (magic) as an integer.
const (
	magic     = 12582912.0
	magicBits = 0x4B400000
)

// round4 rounds four float32 values v, already clamped to within ±2^22,
// half to even to int32 and adds the zero point: vz holds the zero point
// less magicBits (magicZero). Adding 1.5·2^23 leaves v + 1.5·2^23 in the
// binade [2^23, 2^24), whose spacing is 1, so the addition itself rounds
// v half to even (the default rounding) and the sum's bits are
// magicBits + round(v). Two instructions where f32x4.nearest and
// i32x4.trunc_sat_f32x4_s take eight on x86 (V8 fixes up NaN and overflow
// lanes that clamped values never have).
func (f *function) round4(v, vz expr) expr {
	return f.i32add(f.vadd(v, f.splat(f.fc(magic))), vz)
}

// magicZero is the i32x4 splat of zero − magicBits, round4's vz.
func (f *function) magicZero(zero expr) expr {
	return f.i32splat(f.sub(zero, f.c(magicBits)))
}

// requant1 is requant4 for one sum, with f32 locals lo and hi and the i32
// zero point.
func (f *function) requant1(acc, mult expr, lo, hi, zero loc) expr {
	g := f.get
	return f.add(f.truncF(f.fnearest(f.fmin(f.fmax(f.fmul(f.fconv(acc), mult), g(lo)), g(hi)))), g(zero))
}

// outBounds sets the float32 clamp bounds (lo and hi, the int8 bounds less
// the zero point) as scalars and vectors, and round4's vz.
func (f *function) outBounds(zero, lo, hi, flo, fhi, vlo, vhi, vz loc) {
	g := f.get
	f.set(flo, f.fconv(f.sub(g(lo), g(zero))))
	f.set(fhi, f.fconv(f.sub(g(hi), g(zero))))
	f.set(vlo, f.splat(g(flo)))
	f.set(vhi, f.splat(g(fhi)))
	f.set(vz, f.magicZero(g(zero)))
}

// qs8GEMM is qs8_gemm_rdot (the relaxed dot product) or qs8_gemm_dot16
// (dot_i16x8), a 4x8 tile over blocks of four k (m, n, k, a, lda, w, bias,
// mult, c, ldc, zero, lo, hi): for
// i < m, j < n, c[i*ldc+j] = requant(Σ_p a[i*lda+p]·W[p][j] + bias[j])
// with W packed by core/kernels' Int8WasmSIMD in panels of eight columns,
// each ceil(k/4) blocks of 64 bytes, and bias and mult padded to whole
// panels. The register tile is four rows by eight columns (eight int32x4
// accumulators); a last tile of fewer rows re-reads its last real row and
// stores only the real ones; a last panel of fewer than eight columns
// stores byte by byte. A row's k%4 last values are gathered byte by byte,
// so nothing past a row's k bytes is read. Rows go in blocks of 64 KiB of
// A, which stay in L2 while every panel passes over them.
func qs8GEMM(relaxed bool) *function {
	f := &function{name: "qs8_gemm_dot16"}
	if relaxed {
		f.name = "qs8_gemm_rdot"
	}
	m, n, k, a, lda, w := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	bias, mult, c, ldc, zero, lo, hi := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	g := f.get
	block, i0, i1, q, panels, panelB, j0, cols, bp := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	i, rows, p, bptr, cr, kfull, rem, word := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	flo, fhi := f.local(tF32), f.local(tF32)
	var ap [4]loc
	for r := range ap {
		ap[r] = f.i32()
	}
	var vb [4]loc
	for j := range vb {
		vb[j] = f.v128()
	}
	va, x0, x1, bv0, bv1, mv0, mv1, vlo, vhi, vz, r0, r1 := f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128()
	var acc [8]loc
	for j := range acc {
		acc[j] = f.v128()
	}
	ones := f.v128()

	f.when(f.orB(f.le(g(m), f.c(0)), f.le(g(n), f.c(0))), func() { f.op(0x0f) })
	f.set(ones, f.i32splat(f.c(-1)))
	f.outBounds(zero, lo, hi, flo, fhi, vlo, vhi, vz)
	f.set(kfull, f.down4(g(k)))
	f.set(rem, f.andB(g(k), f.c(3)))
	f.set(panelB, f.mul(f.div(f.add(g(k), f.c(3)), f.c(4)), f.c(64)))
	f.set(block, f.down4(f.div(f.c(64<<10), f.sel(g(k), f.c(1), f.gt(g(k), f.c(1))))))
	f.set(block, f.sel(g(block), f.c(4), f.gt(g(block), f.c(4))))
	f.set(panels, f.div(f.add(g(n), f.c(7)), f.c(8)))

	// mac adds one block of four k of row r, whose activations va holds
	// in every 32-bit lane, times the weights in vb.
	mac := func(r int) {
		if relaxed {
			// Every operand of the dot product a local: V8's baseline
			// compiler (Liftoff, Node 20's at least) computes a wrong sum
			// when one is a value left on the stack by another instruction.
			f.set(x1, f.vxor(g(va), g(ones)))
			for h := range 2 {
				f.set(acc[2*r+h], f.rdot(g(va), g(vb[h]), g(acc[2*r+h])))
				f.set(acc[2*r+h], f.rdot(g(x1), g(vb[2+h]), g(acc[2*r+h])))
			}
			return
		}
		// Widened: a0..a3 as int16, then (a0, a1) and (a2, a3) in every
		// 32-bit lane against the pairs of k0, k1 and of k2, k3.
		f.set(va, f.ext16lo(g(va)))
		f.set(x0, f.shuffle(g(va), g(va), [16]byte{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}))
		f.set(x1, f.shuffle(g(va), g(va), [16]byte{4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7}))
		f.set(acc[2*r], f.i32add(f.i32add(g(acc[2*r]), f.dot16(g(x0), g(vb[0]))), f.dot16(g(x1), g(vb[2]))))
		f.set(acc[2*r+1], f.i32add(f.i32add(g(acc[2*r+1]), f.dot16(g(x0), g(vb[1]))), f.dot16(g(x1), g(vb[3]))))
	}
	loadB := func(off uint32) {
		for j := range vb {
			f.set(vb[j], f.vload(g(bptr), off+uint32(16*j)))
		}
	}

	f.forUp(i0, f.c(0), g(m), g(block), func() {
		f.set(i1, f.min(g(m), f.add(g(i0), g(block))))
		f.forUp(q, f.c(0), g(panels), f.c(1), func() {
			f.set(j0, f.mul(g(q), f.c(8)))
			f.set(cols, f.min(f.c(8), f.sub(g(n), g(j0))))
			f.set(bp, f.add(g(w), f.mul(g(q), g(panelB))))
			f.set(bv0, f.vload(f.add(g(bias), f.x4(g(j0))), 0))
			f.set(bv1, f.vload(f.add(g(bias), f.x4(g(j0))), 16))
			f.set(mv0, f.vload(f.add(g(mult), f.x4(g(j0))), 0))
			f.set(mv1, f.vload(f.add(g(mult), f.x4(g(j0))), 16))
			f.forUp(i, g(i0), g(i1), f.c(4), func() {
				f.set(rows, f.min(f.c(4), f.sub(g(i1), g(i))))
				f.set(ap[0], f.add(g(a), f.mul(g(i), g(lda))))
				for r := 1; r < 4; r++ {
					f.set(ap[r], f.sel(f.add(g(ap[r-1]), g(lda)), g(ap[r-1]), f.gt(g(rows), f.c(int32(r)))))
				}
				for j := range acc {
					f.set(acc[j], g([]loc{bv0, bv1}[j%2]))
				}
				f.set(bptr, g(bp))
				f.set(p, g(kfull))
				// Two blocks of four k an iteration, then one.
				f.block(func() {
					f.loop(func() {
						f.brIf(f.lt(g(p), f.c(8)), 1)
						for u := range uint32(2) {
							loadB(64 * u)
							for r := range 4 {
								f.set(va, f.load32Splat(g(ap[r]), 4*u))
								mac(r)
							}
						}
						for r := range 4 {
							f.set(ap[r], f.add(g(ap[r]), f.c(8)))
						}
						f.set(bptr, f.add(g(bptr), f.c(128)))
						f.set(p, f.sub(g(p), f.c(8)))
						f.br(0)
					})
				})
				f.when(g(p), func() {
					loadB(0)
					for r := range 4 {
						f.set(va, f.load32Splat(g(ap[r]), 0))
						mac(r)
						f.set(ap[r], f.add(g(ap[r]), f.c(4)))
					}
					f.set(bptr, f.add(g(bptr), f.c(64)))
				})
				// The k%4 last values, gathered a byte at a time (the
				// packed weights past k are zero).
				f.when(g(rem), func() {
					loadB(0)
					for r := range 4 {
						f.set(word, f.load8u(g(ap[r]), 0))
						f.when(f.gt(g(rem), f.c(1)), func() {
							f.set(word, f.orB(g(word), f.shl(f.load8u(g(ap[r]), 1), f.c(8))))
						})
						f.when(f.gt(g(rem), f.c(2)), func() {
							f.set(word, f.orB(g(word), f.shl(f.load8u(g(ap[r]), 2), f.c(16))))
						})
						f.set(va, f.i32splat(g(word)))
						mac(r)
					}
				})
				f.set(cr, f.add(f.add(g(c), f.mul(g(i), g(ldc))), g(j0)))
				for r := range 4 {
					f.when(f.gt(g(rows), f.c(int32(r))), func() {
						f.set(r0, f.requant4(g(acc[2*r]), g(mv0), g(vlo), g(vhi), g(vz)))
						f.set(r1, f.requant4(g(acc[2*r+1]), g(mv1), g(vlo), g(vhi), g(vz)))
						f.set(r0, f.narrow16(g(r0), g(r1)))
						f.set(r0, f.narrow8(g(r0), g(r0)))
						f.ifElse(f.eq(g(cols), f.c(8)), func() {
							f.vstoreLane64(g(cr), 0, g(r0), 0)
						}, func() {
							for l := range 7 {
								f.when(f.gt(g(cols), f.c(int32(l))), func() {
									f.vstoreLane8(g(cr), uint32(l), g(r0), byte(l))
								})
							}
						})
						f.set(cr, f.add(g(cr), g(ldc)))
					})
				}
			})
		})
	})
	return f
}

// qs8DWConv3x3 is qs8_dwconv_3x3__wasmsimd(shape, in, w16, w8, bias,
// wsum, mult, out, zbuf, adj, inZero, zero, lo, hi): a depthwise
// convolution with a 3x3 window (any stride, dilation and padding). The
// input's zero point is folded into the bias once a call (adj = bias −
// inZero·Σ taps, into the caller's scratch), so the taps multiply raw int8
// values, and padded taps read zbuf, which the kernel fills with inZero
// (C+16 bytes from the caller): they add inZero·w, which the folded bias
// takes back. Eight channels at a time (XNNPACK's mul16 scheme): each
// tap's product fits int16 (|x·w| ≤ 128·127), so two taps are multiplied
// and added in int16 (≤ 32,512) before widening to the int32 sums. The
// vector weights w16 are packed by core/kernels in groups of eight
// channels, [C/8][9][8] int16; channels past the last multiple of eight
// read w8 ([9][C] int8) one at a time.
func qs8DWConv3x3() *function {
	f := &function{name: "qs8_dwconv_3x3"}
	shape, in, w16, w8, bias, wsum, mult := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	out, zbuf, adj, inZero, zero, lo, hi := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	s := f.readShape(shape)
	g := f.get
	oy, ox, iy, ix, j, c8, wg, o, sum := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	flo, fhi := f.local(tF32), f.local(tF32)
	var tap, toff [9]loc
	for t := range tap {
		tap[t], toff[t] = f.i32(), f.i32()
	}
	y0, x0, rowIn, base := f.i32(), f.i32(), f.i32(), f.i32()
	vlo, vhi, vz, vzin, acc0, acc1, prod, r0 := f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128()
	f.outBounds(zero, lo, hi, flo, fhi, vlo, vhi, vz)
	c := s.inC

	// The padding buffer and the folded bias.
	f.set(vzin, f.i8splat(g(inZero)))
	f.forUp(j, f.c(0), f.add(g(c), f.c(1)), f.c(16), func() {
		f.vstore(f.add(g(zbuf), g(j)), 0, g(vzin))
	})
	f.forUp(j, f.c(0), g(c), f.c(1), func() {
		f.store(f.add(g(adj), f.x4(g(j))), 0, f.sub(f.load(f.add(g(bias), f.x4(g(j))), 0), f.mul(g(inZero), f.load(f.add(g(wsum), f.x4(g(j))), 0))))
	})
	f.set(c8, f.andB(g(c), f.c(-8)))
	for t := range toff {
		ky, kx := int32(t/3), int32(t%3)
		f.set(toff[t], f.mul(f.add(f.mul(f.mul(f.c(ky), g(s.dh)), g(s.inW)), f.mul(f.c(kx), g(s.dw))), g(c)))
	}

	f.set(o, g(out))
	f.forUp(oy, f.c(0), g(s.outH), f.c(1), func() {
		f.set(y0, f.sub(f.mul(g(oy), g(s.sh)), g(s.pt)))
		f.set(rowIn, f.andB(f.ge(g(y0), f.c(0)), f.lt(f.add(g(y0), f.mul(f.c(2), g(s.dh))), g(s.inH))))
		f.forUp(ox, f.c(0), g(s.outW), f.c(1), func() {
			f.set(x0, f.sub(f.mul(g(ox), g(s.sw)), g(s.pl)))
			// A window inside the input reads its taps at fixed offsets
			// from its corner; one that covers padding reads zbuf there.
			f.ifElse(f.andB(g(rowIn), f.andB(f.ge(g(x0), f.c(0)), f.lt(f.add(g(x0), f.mul(f.c(2), g(s.dw))), g(s.inW)))), func() {
				f.set(base, f.add(g(in), f.mul(f.add(f.mul(g(y0), g(s.inW)), g(x0)), g(c))))
				for t := range tap {
					f.set(tap[t], f.add(g(base), g(toff[t])))
				}
			}, func() {
				for t := range tap {
					ky, kx := int32(t/3), int32(t%3)
					f.set(iy, f.add(g(y0), f.mul(f.c(ky), g(s.dh))))
					f.set(ix, f.add(g(x0), f.mul(f.c(kx), g(s.dw))))
					inside := f.andB(f.andB(f.ge(g(iy), f.c(0)), f.lt(g(iy), g(s.inH))),
						f.andB(f.ge(g(ix), f.c(0)), f.lt(g(ix), g(s.inW))))
					f.set(tap[t], f.sel(f.add(g(in), f.mul(f.add(f.mul(g(iy), g(s.inW)), g(ix)), g(c))), g(zbuf), inside))
				}
			})
			f.set(wg, g(w16))
			f.forUp(j, f.c(0), g(c8), f.c(8), func() {
				f.set(acc0, f.vload(f.add(g(adj), f.x4(g(j))), 0))
				f.set(acc1, f.vload(f.add(g(adj), f.x4(g(j))), 16))
				for t := 0; t < 9; t += 2 {
					f.set(prod, f.i16mul(f.load8x8s(f.add(g(tap[t]), g(j)), 0), f.vload(g(wg), uint32(16*t))))
					if t+1 < 9 {
						f.set(prod, f.i16add(g(prod), f.i16mul(f.load8x8s(f.add(g(tap[t+1]), g(j)), 0), f.vload(g(wg), uint32(16*(t+1))))))
					}
					f.set(acc0, f.i32add(g(acc0), f.ext32lo(g(prod))))
					f.set(acc1, f.i32add(g(acc1), f.ext32hi(g(prod))))
				}
				mj := f.add(g(mult), f.x4(g(j)))
				f.set(acc0, f.requant4(g(acc0), f.vload(mj, 0), g(vlo), g(vhi), g(vz)))
				f.set(acc1, f.requant4(g(acc1), f.vload(mj, 16), g(vlo), g(vhi), g(vz)))
				f.set(r0, f.narrow16(g(acc0), g(acc1)))
				f.vstoreLane64(f.add(g(o), g(j)), 0, f.narrow8(g(r0), g(r0)), 0)
				f.set(wg, f.add(g(wg), f.c(9*16)))
			})
			f.forUp(j, g(c8), g(c), f.c(1), func() {
				f.set(sum, f.load(f.add(g(adj), f.x4(g(j))), 0))
				for t := range tap {
					f.set(sum, f.add(g(sum), f.mul(f.load8s(f.add(g(tap[t]), g(j)), 0),
						f.load8s(f.add(f.add(g(w8), g(j)), f.mul(f.c(int32(t)), g(c))), 0))))
				}
				f.store8(f.add(g(o), g(j)), 0, f.requant1(g(sum), f.fload(f.add(g(mult), f.x4(g(j))), 0), flo, fhi, zero))
			})
			f.set(o, f.add(g(o), g(c)))
		})
	})
	return f
}

// copyBytes copies n bytes from src to dst: sixteen, then eight, then one
// at a time.
func (f *function) copyBytes(dst, src, n expr, cc loc) {
	g := f.get
	f.set(cc, f.c(0))
	f.block(func() {
		f.loop(func() {
			f.brIf(f.gt(f.add(g(cc), f.c(16)), n), 1)
			f.vstore(f.add(dst, g(cc)), 0, f.vload(f.add(src, g(cc)), 0))
			f.set(cc, f.add(g(cc), f.c(16)))
			f.br(0)
		})
	})
	f.when(f.le(f.add(g(cc), f.c(8)), n), func() {
		f.i64copy(f.add(dst, g(cc)), f.add(src, g(cc)), 0)
		f.set(cc, f.add(g(cc), f.c(8)))
	})
	f.forUp(cc, g(cc), n, f.c(1), func() {
		f.store8(f.add(dst, g(cc)), 0, f.load8u(f.add(src, g(cc)), 0))
	})
}

// fillBytes sets n bytes at dst to the byte splatted in v (and in b).
func (f *function) fillBytes(dst, n expr, v, b, cc loc) {
	g := f.get
	f.set(cc, f.c(0))
	f.block(func() {
		f.loop(func() {
			f.brIf(f.gt(f.add(g(cc), f.c(16)), n), 1)
			f.vstore(f.add(dst, g(cc)), 0, g(v))
			f.set(cc, f.add(g(cc), f.c(16)))
			f.br(0)
		})
	})
	f.forUp(cc, g(cc), n, f.c(1), func() { f.store8(f.add(dst, g(cc)), 0, g(b)) })
}

// qs8Im2Col is qs8_im2col__wasmsimd(shape, in, zero, c0, cin, cols): for
// every output pixel the window's KH*KW runs of cin channels from c0, or
// the zero point where the window covers padding. A window row that reads
// every channel, undilated and inside the input, is KW*cin contiguous
// bytes (9 for a first convolution on RGB) and is copied at once.
func qs8Im2Col() *function {
	f := &function{name: "qs8_im2col"}
	shape, in, zero, c0, cin, cols := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	s := f.readShape(shape)
	g := f.get
	oy, ox, ky, kx, iy, ix, x0, fast, rowFast, span, cc := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	vzero := f.v128()
	f.set(vzero, f.i8splat(g(zero)))
	f.set(fast, f.andB(f.andB(f.eq(g(c0), f.c(0)), f.eq(g(cin), g(s.inC))), f.eq(g(s.dw), f.c(1))))
	f.set(span, f.mul(g(s.kw), g(cin)))
	f.forUp(oy, f.c(0), g(s.outH), f.c(1), func() {
		f.forUp(ox, f.c(0), g(s.outW), f.c(1), func() {
			f.set(x0, f.sub(f.mul(g(ox), g(s.sw)), g(s.pl)))
			f.set(rowFast, f.andB(g(fast), f.andB(f.ge(g(x0), f.c(0)), f.le(f.add(g(x0), g(s.kw)), g(s.inW)))))
			f.forUp(ky, f.c(0), g(s.kh), f.c(1), func() {
				f.set(iy, f.add(f.sub(f.mul(g(oy), g(s.sh)), g(s.pt)), f.mul(g(ky), g(s.dh))))
				f.ifElse(f.andB(g(rowFast), f.andB(f.ge(g(iy), f.c(0)), f.lt(g(iy), g(s.inH)))), func() {
					f.copyBytes(g(cols), f.add(g(in), f.mul(f.add(f.mul(g(iy), g(s.inW)), g(x0)), g(s.inC))), g(span), cc)
					f.set(cols, f.add(g(cols), g(span)))
				}, func() {
					f.forUp(kx, f.c(0), g(s.kw), f.c(1), func() {
						f.set(ix, f.add(g(x0), f.mul(g(kx), g(s.dw))))
						inside := f.andB(f.andB(f.ge(g(iy), f.c(0)), f.lt(g(iy), g(s.inH))),
							f.andB(f.ge(g(ix), f.c(0)), f.lt(g(ix), g(s.inW))))
						f.ifElse(inside, func() {
							f.copyBytes(g(cols), f.add(f.add(g(in), f.mul(f.add(f.mul(g(iy), g(s.inW)), g(ix)), g(s.inC))), g(c0)), g(cin), cc)
						}, func() {
							f.fillBytes(g(cols), g(cin), vzero, zero, cc)
						})
						f.set(cols, f.add(g(cols), g(cin)))
					})
				})
			})
		})
	})
	return f
}

// qs8Add is qs8_vadd__wasmsimd(n, x, y, out, xz, yz, xm, ym, zero, lo,
// hi): out = clamp(roundEven(float32(x−xz)·xm + float32(y−yz)·ym) + zero),
// sixteen values at a time (the zero points subtracted in int16, exact),
// then one at a time.
func qs8Add() *function {
	f := &function{name: "qs8_vadd"}
	n, x, y, out, xz, yz := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	xm, ym := f.param(tF32), f.param(tF32)
	zero, lo, hi := f.param(tI32), f.param(tI32), f.param(tI32)
	g := f.get
	i, n16 := f.i32(), f.i32()
	flo, fhi := f.local(tF32), f.local(tF32)
	vlo, vhi, vz, vxz, vyz, vxm, vym, xl, xh, yl, yh := f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128()
	var r [4]loc
	for q := range r {
		r[q] = f.v128()
	}
	f.outBounds(zero, lo, hi, flo, fhi, vlo, vhi, vz)
	f.set(vxz, f.vun(g(xz), 0x10)) // i16x8.splat
	f.set(vyz, f.vun(g(yz), 0x10))
	f.set(vxm, f.splat(g(xm)))
	f.set(vym, f.splat(g(ym)))
	f.set(n16, f.andB(g(n), f.c(-16)))
	f.forUp(i, f.c(0), g(n16), f.c(16), func() {
		f.set(xl, f.vload(f.add(g(x), g(i)), 0))
		f.set(yl, f.vload(f.add(g(y), g(i)), 0))
		f.set(xh, f.i16sub(f.ext16hi(g(xl)), g(vxz)))
		f.set(yh, f.i16sub(f.ext16hi(g(yl)), g(vyz)))
		f.set(xl, f.i16sub(f.ext16lo(g(xl)), g(vxz)))
		f.set(yl, f.i16sub(f.ext16lo(g(yl)), g(vyz)))
		for q, src := range [][2]loc{{xl, yl}, {xl, yl}, {xh, yh}, {xh, yh}} {
			ext := f.ext32lo
			if q%2 == 1 {
				ext = f.ext32hi
			}
			sum := f.vadd(f.vmul(f.fconv4(ext(g(src[0]))), g(vxm)), f.vmul(f.fconv4(ext(g(src[1]))), g(vym)))
			f.set(r[q], f.round4(f.vpmin(f.vpmax(sum, g(vlo)), g(vhi)), g(vz)))
		}
		f.vstore(f.add(g(out), g(i)), 0, f.narrow8(f.narrow16(g(r[0]), g(r[1])), f.narrow16(g(r[2]), g(r[3]))))
	})
	f.forUp(i, g(n16), g(n), f.c(1), func() {
		sum := f.fadd(f.fmul(f.fconv(f.sub(f.load8s(f.add(g(x), g(i)), 0), g(xz))), g(xm)),
			f.fmul(f.fconv(f.sub(f.load8s(f.add(g(y), g(i)), 0), g(yz))), g(ym)))
		f.store8(f.add(g(out), g(i)), 0, f.add(f.truncF(f.fnearest(f.fmin(f.fmax(sum, g(flo)), g(fhi)))), g(zero)))
	})
	return f
}

// qs8GAvgPool is qs8_gavgpool__wasmsimd(hw, c, in, out, inZero, mult,
// zero, lo, hi): out[ch] = requant(Σ_i in[i*c+ch] − hw·inZero, mult),
// sixteen channels at a time, then one at a time.
func qs8GAvgPool() *function {
	f := &function{name: "qs8_gavgpool"}
	hw, c, in, out, inZero := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	mult := f.param(tF32)
	zero, lo, hi := f.param(tI32), f.param(tI32), f.param(tI32)
	g := f.get
	j, i, p, c16, sum, start := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	flo, fhi := f.local(tF32), f.local(tF32)
	vlo, vhi, vz, vm, v, lo16, hi16 := f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128(), f.v128()
	var acc [4]loc
	for q := range acc {
		acc[q] = f.v128()
	}
	f.outBounds(zero, lo, hi, flo, fhi, vlo, vhi, vz)
	f.set(vm, f.splat(g(mult)))
	f.set(start, f.mul(f.sub(f.c(0), g(inZero)), g(hw)))
	f.set(c16, f.andB(g(c), f.c(-16)))
	f.forUp(j, f.c(0), g(c16), f.c(16), func() {
		for q := range acc {
			f.set(acc[q], f.i32splat(g(start)))
		}
		f.set(p, f.add(g(in), g(j)))
		f.forUp(i, f.c(0), g(hw), f.c(1), func() {
			f.set(v, f.vload(g(p), 0))
			f.set(lo16, f.ext16lo(g(v)))
			f.set(hi16, f.ext16hi(g(v)))
			f.set(acc[0], f.i32add(g(acc[0]), f.ext32lo(g(lo16))))
			f.set(acc[1], f.i32add(g(acc[1]), f.ext32hi(g(lo16))))
			f.set(acc[2], f.i32add(g(acc[2]), f.ext32lo(g(hi16))))
			f.set(acc[3], f.i32add(g(acc[3]), f.ext32hi(g(hi16))))
			f.set(p, f.add(g(p), g(c)))
		})
		for q := range acc {
			f.set(acc[q], f.requant4(g(acc[q]), g(vm), g(vlo), g(vhi), g(vz)))
		}
		f.vstore(f.add(g(out), g(j)), 0, f.narrow8(f.narrow16(g(acc[0]), g(acc[1])), f.narrow16(g(acc[2]), g(acc[3]))))
	})
	f.forUp(j, g(c16), g(c), f.c(1), func() {
		f.set(sum, g(start))
		f.forUp(i, f.c(0), g(hw), f.c(1), func() {
			f.set(sum, f.add(g(sum), f.load8s(f.add(g(in), f.add(f.mul(g(i), g(c)), g(j))), 0)))
		})
		f.store8(f.add(g(out), g(j)), 0, f.requant1(g(sum), g(mult), flo, fhi, zero))
	})
	return f
}

// qs8Quantize is qs8_quantize__wasmsimd(n, x, out, inv, zero): out =
// clamp(roundEven(x·inv) + zero) to −128…127, NaN to −128 (pmax(lo, v)
// takes lo when v is NaN, as the Go reference does).
func qs8Quantize() *function {
	f := &function{name: "qs8_quantize"}
	n, x, out := f.param(tI32), f.param(tI32), f.param(tI32)
	inv := f.param(tF32)
	zero := f.param(tI32)
	g := f.get
	i, n16 := f.i32(), f.i32()
	flo, fhi, v := f.local(tF32), f.local(tF32), f.local(tF32)
	vlo, vhi, vz, vinv := f.v128(), f.v128(), f.v128(), f.v128()
	var r [4]loc
	for q := range r {
		r[q] = f.v128()
	}
	f.set(flo, f.fconv(f.sub(f.c(-128), g(zero))))
	f.set(fhi, f.fconv(f.sub(f.c(127), g(zero))))
	f.set(vlo, f.splat(g(flo)))
	f.set(vhi, f.splat(g(fhi)))
	f.set(vz, f.magicZero(g(zero)))
	f.set(vinv, f.splat(g(inv)))
	f.set(n16, f.andB(g(n), f.c(-16)))
	f.forUp(i, f.c(0), g(n16), f.c(16), func() {
		for q := range r {
			val := f.vmul(f.vload(f.add(g(x), f.x4(g(i))), uint32(16*q)), g(vinv))
			f.set(r[q], f.round4(f.vpmin(f.vpmax(g(vlo), val), g(vhi)), g(vz)))
		}
		f.vstore(f.add(g(out), g(i)), 0, f.narrow8(f.narrow16(g(r[0]), g(r[1])), f.narrow16(g(r[2]), g(r[3]))))
	})
	f.forUp(i, g(n16), g(n), f.c(1), func() {
		f.set(v, f.fmul(f.fload(f.add(g(x), f.x4(g(i))), 0), g(inv)))
		f.set(v, f.sel(g(v), g(flo), f.fge(g(v), g(flo))))
		f.store8(f.add(g(out), g(i)), 0, f.add(f.truncF(f.fnearest(f.fmin(g(v), g(fhi)))), g(zero)))
	})
	return f
}
