// qs8_gemm_4x16c2__avx2's inner loop, written by hand: four rows of A
// (widened to int16; each pair broadcast as one int32) times a 16-column panel of B
// (int16 pairs) with vpmaddwd, summed exactly in eight int32 vectors.
// Go's compiler spills archsimd accumulators in a loop this size, which
// made the same loop five times slower.

//go:build goexperiment.simd && amd64

#include "textflag.h"

// func qs8GEMM4x16c2AVX2(kp int, a *int16, lda int, b *int16, acc *[8][8]int32)
TEXT ·qs8GEMM4x16c2AVX2(SB), NOSPLIT, $0-40
	MOVQ kp+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), BX
	SHLQ $1, BX
	LEAQ (BX)(BX*2), DX
	MOVQ b+24(FP), SI
	MOVQ acc+32(FP), DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	TESTQ CX, CX
	JLE done

loop:
	VMOVDQU 0(SI), Y8
	VMOVDQU 32(SI), Y9
	VPBROADCASTD (AX), Y10
	VPMADDWD Y8, Y10, Y12
	VPADDD Y12, Y0, Y0
	VPMADDWD Y9, Y10, Y13
	VPADDD Y13, Y1, Y1
	VPBROADCASTD (AX)(BX*1), Y11
	VPMADDWD Y8, Y11, Y12
	VPADDD Y12, Y2, Y2
	VPMADDWD Y9, Y11, Y13
	VPADDD Y13, Y3, Y3
	VPBROADCASTD (AX)(BX*2), Y10
	VPMADDWD Y8, Y10, Y12
	VPADDD Y12, Y4, Y4
	VPMADDWD Y9, Y10, Y13
	VPADDD Y13, Y5, Y5
	VPBROADCASTD (AX)(DX*1), Y11
	VPMADDWD Y8, Y11, Y12
	VPADDD Y12, Y6, Y6
	VPMADDWD Y9, Y11, Y13
	VPADDD Y13, Y7, Y7
	ADDQ $64, SI
	ADDQ $4, AX
	DECQ CX
	JNZ loop

done:
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y1, 32(DI)
	VMOVDQU Y2, 64(DI)
	VMOVDQU Y3, 96(DI)
	VMOVDQU Y4, 128(DI)
	VMOVDQU Y5, 160(DI)
	VMOVDQU Y6, 192(DI)
	VMOVDQU Y7, 224(DI)
	VZEROUPPER
	RET
