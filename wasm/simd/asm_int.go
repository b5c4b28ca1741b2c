package main

// Integer instructions for the int8 kernels (qs8.go): byte and i64
// memory access, integer SIMD arithmetic, the narrowing and widening
// conversions, the two dot products and the float32 steps of the
// requantization. Opcodes are from the WebAssembly SIMD and relaxed-SIMD
// specifications' binary tables.

// SIMD opcodes (after the 0xfd prefix).
const (
	opV128Load8x8S        = 0x01 // i16x8 from eight sign-extended bytes
	opV128Load32Splat     = 0x09
	opI8x16Shuffle        = 0x0d
	opI8x16Splat          = 0x0f
	opI32x4Splat          = 0x11
	opV128Store8Lane      = 0x58
	opV128Store64Lane     = 0x5b
	opI8x16NarrowI16x8S   = 0x65
	opI16x8NarrowI32x4S   = 0x85
	opI16x8ExtendLowI8S   = 0x87
	opI16x8ExtendHighI8S  = 0x88
	opI16x8Add            = 0x8e
	opI16x8Sub            = 0x91
	opI16x8Mul            = 0x95
	opI32x4ExtendLowI16S  = 0xa7
	opI32x4ExtendHighI16S = 0xa8
	opI32x4Add            = 0xae
	opI32x4Sub            = 0xb1
	opI32x4Mul            = 0xb5
	opI32x4DotI16x8S      = 0xba
	opF32x4ConvertI32x4S  = 0xfa
	// i32x4.relaxed_dot_i8x16_i7x16_add_s: relaxed SIMD.
	opI32x4RelaxedDotI8I7AddS = 0x113
)

func (f *function) vun(a expr, code uint32) expr { return func() { a(); f.simd(code) } }

// vloadOp is a SIMD load with the given opcode and alignment hint.
func (f *function) vloadOp(addr expr, code, align, off uint32) expr {
	return func() { addr(); f.simd(code); f.memarg(align, off) }
}

// load8x8s reads eight bytes as eight sign-extended int16 lanes.
func (f *function) load8x8s(addr expr, off uint32) expr {
	return f.vloadOp(addr, opV128Load8x8S, 3, off)
}

// load32Splat reads four bytes into every 32-bit lane.
func (f *function) load32Splat(addr expr, off uint32) expr {
	return f.vloadOp(addr, opV128Load32Splat, 2, off)
}

// vstoreLane8 stores byte lane of v; vstoreLane64 the 64-bit lane.
func (f *function) vstoreLane8(addr expr, off uint32, v expr, lane byte) {
	addr()
	v()
	f.simd(opV128Store8Lane)
	f.memarg(0, off)
	f.op(lane)
}

func (f *function) vstoreLane64(addr expr, off uint32, v expr, lane byte) {
	addr()
	v()
	f.simd(opV128Store64Lane)
	f.memarg(3, off)
	f.op(lane)
}

// shuffle is i8x16.shuffle of a and b with constant lane indices.
func (f *function) shuffle(a, b expr, lanes [16]byte) expr {
	return func() { a(); b(); f.simd(opI8x16Shuffle); f.code.Write(lanes[:]) }
}

func (f *function) i8splat(a expr) expr  { return f.vun(a, opI8x16Splat) }
func (f *function) i32splat(a expr) expr { return f.vun(a, opI32x4Splat) }
func (f *function) vxor(a, b expr) expr  { return f.vbin(a, b, 0x51) }

func (f *function) i16add(a, b expr) expr { return f.vbin(a, b, opI16x8Add) }
func (f *function) i16sub(a, b expr) expr { return f.vbin(a, b, opI16x8Sub) }
func (f *function) i16mul(a, b expr) expr { return f.vbin(a, b, opI16x8Mul) }
func (f *function) i32add(a, b expr) expr { return f.vbin(a, b, opI32x4Add) }
func (f *function) i32sub(a, b expr) expr { return f.vbin(a, b, opI32x4Sub) }
func (f *function) i32mul(a, b expr) expr { return f.vbin(a, b, opI32x4Mul) }

func (f *function) ext16lo(a expr) expr { return f.vun(a, opI16x8ExtendLowI8S) }
func (f *function) ext16hi(a expr) expr { return f.vun(a, opI16x8ExtendHighI8S) }
func (f *function) ext32lo(a expr) expr { return f.vun(a, opI32x4ExtendLowI16S) }
func (f *function) ext32hi(a expr) expr { return f.vun(a, opI32x4ExtendHighI16S) }

// narrow16 and narrow8 are the saturating signed narrowings (exact for
// the requantized values, which are already within −128…127).
func (f *function) narrow16(a, b expr) expr { return f.vbin(a, b, opI16x8NarrowI32x4S) }
func (f *function) narrow8(a, b expr) expr  { return f.vbin(a, b, opI8x16NarrowI16x8S) }

// dot16 is i32x4.dot_i16x8_s: each int32 lane the sum of two adjacent
// int16 products (exact: no product pair reaches 2^31).
func (f *function) dot16(a, b expr) expr { return f.vbin(a, b, opI32x4DotI16x8S) }

// rdot is i32x4.relaxed_dot_i8x16_i7x16_add_s(a, b, acc): acc plus, in
// each int32 lane, the sum of four adjacent products of a's signed bytes
// and b's bytes. Its result is the same on every engine and CPU only when
// every byte of b lies in 0…127 (x86 reads b as unsigned and may saturate
// pairs to int16, ARM reads it as signed); the callers guarantee that.
func (f *function) rdot(a, b, acc expr) expr {
	return func() { a(); b(); acc(); f.simd(opI32x4RelaxedDotI8I7AddS) }
}

func (f *function) fconv4(a expr) expr { return f.vun(a, opF32x4ConvertI32x4S) }

// Scalar integer and float instructions.

func (f *function) load8s(addr expr, off uint32) expr {
	return func() { addr(); f.op(0x2c); f.memarg(0, off) }
}

func (f *function) load8u(addr expr, off uint32) expr {
	return func() { addr(); f.op(0x2d); f.memarg(0, off) }
}

func (f *function) load16s(addr expr, off uint32) expr {
	return func() { addr(); f.op(0x2e); f.memarg(1, off) }
}

func (f *function) store8(addr expr, off uint32, v expr) { addr(); v(); f.op(0x3a); f.memarg(0, off) }

// i64copy copies eight bytes (i64.load, i64.store).
func (f *function) i64copy(dst, src expr, off uint32) {
	dst()
	src()
	f.op(0x29)
	f.memarg(3, off)
	f.op(0x37)
	f.memarg(3, off)
}

// fnearest is f32.nearest (round half to even); truncF is i32.trunc_f32_s
// (exact for the clamped, already integral values it gets).
func (f *function) fnearest(a expr) expr { return func() { a(); f.op(0x90) } }
func (f *function) truncF(a expr) expr   { return func() { a(); f.op(0xa8) } }
func (f *function) fge(a, b expr) expr   { return f.bin(a, b, 0x60) }

// down4 rounds a non-negative i32 down to a multiple of four.
func (f *function) down4(a expr) expr { return f.andB(a, f.c(-4)) }
