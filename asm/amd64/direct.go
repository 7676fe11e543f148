package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// directTile is the shape of the direct-A kernel: 3 rows of A by 7 ymm
// vectors. Its 56 columns hold the 49 positions of a 7×7 output (a
// ResNet's last stage) at 87.5%, where 8×48 + 8×16 tiles hold them at 77%.
var directTile = tile{3, 56}

const directSignature = "func(a []float32, rs, ks int, b, c []float32, k, ldc int, lanes uint64)"

// genSgemmDirectAVX512 emits an mr × nr kernel (nr a multiple of 8) that
// reads A in place instead of from a packed sliver: a(i, p) is
// a[i*rs + p*ks]. A product whose B is a single sliver uses each A element
// once, so packing A would only add a copy of it; the 9.4 MB filter of a
// 7×7×512 layer took 18% of its forward pass to pack.
//
// It works on ymm registers: AVX-512VL gives 32 of them, enough for
// mr·nr/8 accumulators, and lane masks for the last partial vector of C.
// Per k step: nr/8 loads of b, mr broadcasts of a, mr·nr/8 FMAs.
func genSgemmDirectAVX512(name string, mr, nr int) {
	nv := nr / 8
	if nr%8 != 0 || mr*nv+nv+1 > 32 || mr > 3 {
		panic(fmt.Sprintf("genSgemmDirectAVX512 %dx%d: unsupported shape", mr, nr))
	}
	TEXT(name, NOSPLIT, directSignature)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s computes, for i < %d and the columns j < %d whose bit is set in lanes:", name, mr, nr),
		fmt.Sprintf("c[i*ldc+j] += Σ_{p<k} a[i*rs+p*ks]·b[p*%d+j]", nr),
		"",
		fmt.Sprintf("a is read in place, b is a packed sliver (k steps of %d floats) and c is", nr),
		"row-major with row stride ldc. lanes is a prefix [0, n) of the columns.",
		"The caller guarantees that every a, b and c element named above is in",
		"bounds; lengths are not checked.",
	)
	Commentf("register pressure: %d ymm accumulators + %d b vectors + 1 broadcast = %d of 32 (AVX-512VL); %d opmasks; 9 GP",
		mr*nv, nv, mr*nv+nv+1, nv)

	a := Load(Param("a").Base(), GP64()).(GPVirtual)
	rs := Load(Param("rs"), GP64()).(GPVirtual)
	ks := Load(Param("ks"), GP64()).(GPVirtual)
	b := Load(Param("b").Base(), GP64()).(GPVirtual)
	c := Load(Param("c").Base(), GP64()).(GPVirtual)
	k := Load(Param("k"), GP64()).(GPVirtual)
	ldc := Load(Param("ldc"), GP64()).(GPVirtual)
	SHLQ(U8(2), rs)
	SHLQ(U8(2), ks)
	SHLQ(U8(2), ldc)

	Comment("prefetch the c tile for the final update")
	row := GP64()
	MOVQ(c, row)
	for i := range mr {
		PREFETCHT0(Mem{Base: row})
		PREFETCHT0(Mem{Base: row, Disp: 4*nr - 1})
		if i < mr-1 {
			ADDQ(ldc, row)
		}
	}

	// VPXORD, not VXORPS: accumulators in Y16–Y31 need an EVEX encoding,
	// which VXORPS has only with AVX-512DQ.
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nv)
		for v := range acc[i] {
			acc[i][v] = YMM()
			VPXORD(acc[i][v], acc[i][v], acc[i][v])
		}
	}
	// Row i of A is at a + i·rs: a base register and scaled indexes.
	aRow := func(i int) Mem {
		if i == 0 {
			return Mem{Base: a}
		}
		return Mem{Base: a, Index: rs, Scale: uint8(i)}
	}
	step := func(u int) {
		bv := make([]VecVirtual, nv)
		for v := range bv {
			bv[v] = YMM()
			VMOVUPS(Mem{Base: b, Disp: (u*nr + 8*v) * 4}, bv[v])
		}
		for i := range mr {
			t := YMM()
			VBROADCASTSS(aRow(i), t)
			for v := range bv {
				VFMADD231PS(bv[v], t, acc[i][v])
			}
		}
		ADDQ(ks, a)
	}
	n := GP64()
	MOVQ(k, n)
	SHRQ(U8(2), n)
	JZ(LabelRef("tail"))
	Label("loop4")
	for u := range kUnroll {
		step(u)
	}
	ADDQ(U32(kUnroll*nr*4), b)
	DECQ(n)
	JNZ(LabelRef("loop4"))
	Label("tail")
	ANDQ(U8(kUnroll-1), k)
	JZ(LabelRef("update"))
	Label("loop1")
	step(0)
	ADDQ(U32(nr*4), b)
	DECQ(k)
	JNZ(LabelRef("loop1"))

	// Masked stores cost several cycles each on Zen 4, so each vector of
	// columns is added whole, masked, or not at all, by its byte of lanes.
	Label("update")
	Comment("c += accumulators, one vector of columns at a time")
	lanes := Load(Param("lanes"), GP64()).(GPVirtual)
	mask := K()
	for v := range nv {
		whole, part, next := fmt.Sprintf("whole%d", v), fmt.Sprintf("part%d", v), fmt.Sprintf("next%d", v)
		CMPB(lanes.As8(), U8(0xff))
		JE(LabelRef(whole))
		TESTB(lanes.As8(), lanes.As8())
		JZ(LabelRef("done"))
		JMP(LabelRef(part))
		for _, masked := range []bool{false, true} {
			if masked {
				Label(part)
				KMOVW(lanes.As32(), mask)
			} else {
				Label(whole)
			}
			MOVQ(c, row)
			for i := range mr {
				m := Mem{Base: row, Disp: 32 * v}
				if masked {
					t := YMM()
					VMOVUPS_Z(m, mask, t)
					VADDPS(t, acc[i][v], acc[i][v])
					VMOVUPS(acc[i][v], mask, m)
				} else {
					VADDPS(m, acc[i][v], acc[i][v])
					VMOVUPS(acc[i][v], m)
				}
				if i < mr-1 {
					ADDQ(ldc, row)
				}
			}
			JMP(LabelRef(next))
		}
		Label(next)
		SHRQ(U8(8), lanes)
	}
	Label("done")
	VZEROUPPER()
	RET()
}
