package main

// The gradient kernels of training (core/kernels grad.go): the weight
// gradient's transposed product and im2col's adjoint.

// gemmAtB is f32_gemm_atb_4x8__wasmsimd (or __wasmrelaxedsimd): one chunk
// of c += aᵀ·B for one panel of at most eight columns. a is read
// transposed, a[p*lda+i] (rows of a are the batch's rows); B is the chunk's
// kk rows of the panel, packed eight values a row and zero-padded by the
// Go side (core/kernels WasmSIMD.GEMMAtB), which also walks the chunks and
// panels. The tile is four rows of c by two vectors; a last tile of fewer
// rows re-reads its last real row and stores only the real ones. With
// first set the tile starts from zero, otherwise from c, so a sum runs over
// the chunks in order, as in the pure-Go kernel; the plain variant adds
// each product separately and so matches it bit for bit.
func gemmAtB(relaxed bool) *function {
	f := &function{name: "f32_gemm_atb_4x8", relaxed: relaxed}
	m, cols, kk := f.param(tI32), f.param(tI32), f.param(tI32)
	a, lda, b := f.param(tI32), f.param(tI32), f.param(tI32)
	c, ldc, first := f.param(tI32), f.param(tI32), f.param(tI32)
	i, rows, p, bptr, cr := f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	var ap [4]loc
	for r := range ap {
		ap[r] = f.i32()
	}
	vb0, vb1, va := f.v128(), f.v128(), f.v128()
	var acc [8]loc
	for j := range acc {
		acc[j] = f.v128()
	}
	g := f.get

	f.set(lda, f.x4(g(lda)))
	f.set(ldc, f.x4(g(ldc)))
	f.forUp(i, f.c(0), g(m), f.c(4), func() {
		f.set(rows, f.min(f.c(4), f.sub(g(m), g(i))))
		f.set(ap[0], f.add(g(a), f.x4(g(i))))
		for r := 1; r < 4; r++ {
			f.set(ap[r], f.sel(f.add(g(ap[r-1]), f.c(4)), g(ap[r-1]), f.gt(g(rows), f.c(int32(r)))))
		}
		f.set(cr, f.add(g(c), f.mul(g(i), g(ldc))))
		for j := range acc {
			f.set(acc[j], f.vzero())
		}
		f.when(f.eq(g(first), f.c(0)), func() {
			for r := range 4 {
				f.when(f.gt(g(rows), f.c(int32(r))), func() {
					f.ifElse(f.eq(g(cols), f.c(8)), func() {
						f.set(acc[2*r], f.vload(g(cr), 0))
						f.set(acc[2*r+1], f.vload(g(cr), 16))
					}, func() {
						for l := range 8 {
							dst := acc[2*r+l/4]
							f.when(f.gt(g(cols), f.c(int32(l))), func() {
								f.set(dst, f.loadLane(g(cr), uint32(4*l), g(dst), byte(l%4)))
							})
						}
					})
				})
				f.set(cr, f.add(g(cr), g(ldc)))
			}
			f.set(cr, f.add(g(c), f.mul(g(i), g(ldc))))
		})
		f.set(bptr, g(b))
		f.set(p, g(kk))
		f.block(func() {
			f.loop(func() {
				f.brIf(f.le(g(p), f.c(0)), 1)
				f.set(vb0, f.vload(g(bptr), 0))
				f.set(vb1, f.vload(g(bptr), 16))
				for r := range 4 {
					f.set(va, f.splatLoad(g(ap[r]), 0))
					f.set(acc[2*r], f.vmadd(g(va), g(vb0), g(acc[2*r])))
					f.set(acc[2*r+1], f.vmadd(g(va), g(vb1), g(acc[2*r+1])))
					f.set(ap[r], f.add(g(ap[r]), g(lda)))
				}
				f.set(bptr, f.add(g(bptr), f.c(32)))
				f.set(p, f.sub(g(p), f.c(1)))
				f.br(0)
			})
		})
		f.ifElse(f.eq(g(cols), f.c(8)), func() {
			for r := range 4 {
				f.when(f.gt(g(rows), f.c(int32(r))), func() {
					f.vstore(g(cr), 0, g(acc[2*r]))
					f.vstore(g(cr), 16, g(acc[2*r+1]))
				})
				f.set(cr, f.add(g(cr), g(ldc)))
			}
		}, func() {
			for r := range 4 {
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
	return f
}

// col2im is f32_col2im__wasmsimd: it clears channels [c0, c0+cin) of every
// input pixel of dx, then adds each window run of cols back where im2col
// read it from, in the pure-Go kernel's order (so with the same bits).
func col2im() *function {
	f := &function{name: "f32_col2im"}
	shape, cols, c0, cin, dx := f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32), f.param(tI32)
	s := f.readShape(shape)
	g := f.get
	px, oy, ox, ky, kx, iy, ix, dst, cc, end, vecEnd := f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32(), f.i32()
	accV, accS := f.v128(), f.local(tF32)
	f.chanBytes(g(cin), end, vecEnd)
	f.set(c0, f.x4(g(c0)))
	f.forUp(px, f.c(0), f.mul(g(s.inH), g(s.inW)), f.c(1), func() {
		f.set(dst, f.add(f.add(g(dx), f.mul(g(px), g(s.cb))), g(c0)))
		f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
			l.st(f.add(g(dst), g(cc)), l.k(0))
		})
	})
	f.forUp(oy, f.c(0), g(s.outH), f.c(1), func() {
		f.forUp(ox, f.c(0), g(s.outW), f.c(1), func() {
			f.forUp(ky, f.c(0), g(s.kh), f.c(1), func() {
				f.set(iy, f.add(f.sub(f.mul(g(oy), g(s.sh)), g(s.pt)), f.mul(g(ky), g(s.dh))))
				f.forUp(kx, f.c(0), g(s.kw), f.c(1), func() {
					f.set(ix, f.add(f.sub(f.mul(g(ox), g(s.sw)), g(s.pl)), f.mul(g(kx), g(s.dw))))
					inside := f.andB(f.andB(f.ge(g(iy), f.c(0)), f.lt(g(iy), g(s.inH))),
						f.andB(f.ge(g(ix), f.c(0)), f.lt(g(ix), g(s.inW))))
					f.when(inside, func() {
						f.set(dst, f.add(f.add(g(dx), f.mul(f.add(f.mul(g(iy), g(s.inW)), g(ix)), g(s.cb))), g(c0)))
						f.chanLoop(cc, vecEnd, end, accV, accS, func(l lane) {
							at := f.add(g(dst), g(cc))
							l.st(at, l.add(l.ld(at), l.ld(f.add(g(cols), g(cc)))))
						})
					})
					f.set(cols, f.add(g(cols), g(end)))
				})
			})
		})
	})
	return f
}
