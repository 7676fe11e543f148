package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// directTile is the shape of the direct-A kernel: 3 rows of A by 7 ymm
// vectors. Its 56 columns hold 50 to 56 columns of C at 89–100%, where
// 8×48 + 8×16 tiles hold them at 78–88%.
var directTile = tile{3, 56}

// directDotTile is the shape of the direct-A kernel with a dot column: 3
// rows of A by 6 ymm vectors and one more column. The 49 positions of a 7×7
// output (a ResNet's last stage) fill it.
var directDotTile = tile{3, 49}

const (
	directSignature    = "func(a []float32, rs, ks int, b, c []float32, k, ldc int, lanes uint64)"
	directDotSignature = "func(a []float32, rs int, b, d, c []float32, k, ldc int, lanes uint64)"
)

// genSgemmDirectAVX512 emits an mr × nr kernel that reads A in place
// instead of from a packed sliver: a(i, p) is a[i*rs + p*ks]. A product
// whose B is a single sliver uses each A element once, so packing A would
// only add a copy of it; the 9.4 MB filter of a 7×7×512 layer took 18% of
// its forward pass to pack.
//
// It works on ymm registers: AVX-512VL gives 32 of them, enough for
// mr·nr/8 accumulators, and lane masks for partial vectors of C. Per k
// step: nr/8 loads of b, mr broadcasts of a, mr·nr/8 FMAs.
//
// With dot, nr is 8·v + 1 and ks is 1: the last column is computed as mr
// dot products of A's rows (contiguous) with the column d, 8 lanes at a
// time, reduced at the end. It costs mr FMAs per 8 k steps where a whole
// vector of columns would cost 8·mr.
func genSgemmDirectAVX512(name string, mr, nr int, dot bool) {
	nv := nr / 8
	regs := mr*nv + nv + 1
	if dot {
		regs += mr + 1
	}
	if (nr%8 != 0) != dot || regs > 32 || mr > 3 {
		panic(fmt.Sprintf("genSgemmDirectAVX512 %dx%d: unsupported shape", mr, nr))
	}
	doc := []string{
		fmt.Sprintf("%s computes, for i < %d and the columns j < %d whose bit is set in lanes:", name, mr, nr),
		"c[i*ldc+j] += Σ_{p<k} a(i, p)·b(p, j)",
		"",
		fmt.Sprintf("A is read in place: a(i, p) = a[i*rs+p*ks]. b(p, j) = b[p*%d+j] is a packed sliver", 8*nv),
	}
	unroll := kUnroll
	if dot {
		unroll = 8
		TEXT(name, NOSPLIT, directDotSignature)
		doc[3] = fmt.Sprintf("A is read in place: a(i, p) = a[i*rs+p]. b(p, j) = b[p*%d+j] is a packed sliver", 8*nv)
		doc = append(doc, fmt.Sprintf("for j < %d, and b(p, %d) = d[p] its last column.", 8*nv, 8*nv))
		Commentf("register pressure: %d ymm accumulators + %d b vectors + 1 broadcast + %d dot accumulators + 1 d vector = %d of 32 (AVX-512VL); 1 opmask; 9 GP",
			mr*nv, nv, mr, regs)
	} else {
		TEXT(name, NOSPLIT, directSignature)
		Commentf("register pressure: %d ymm accumulators + %d b vectors + 1 broadcast = %d of 32 (AVX-512VL); 1 opmask; 9 GP",
			mr*nv, nv, regs)
	}
	Pragma("noescape")
	Doc(append(doc,
		"c is row-major with row stride ldc. The caller guarantees that every a, b,",
		"d and c element named above is in bounds; lengths are not checked.")...)

	a := Load(Param("a").Base(), GP64()).(GPVirtual)
	rs := Load(Param("rs"), GP64()).(GPVirtual)
	ks := GP64()
	var d GPVirtual
	if dot {
		MOVQ(U32(1), ks)
		d = Load(Param("d").Base(), GP64()).(GPVirtual)
	} else {
		Load(Param("ks"), ks)
	}
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

	// VPXORD, not VXORPS: registers Y16–Y31 need an EVEX encoding, which
	// VXORPS has only with AVX-512DQ.
	ymm := func() VecVirtual {
		y := YMM()
		VPXORD(y, y, y)
		return y
	}
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nv)
		for v := range acc[i] {
			acc[i][v] = ymm()
		}
	}
	var dacc []VecVirtual
	if dot {
		for range mr {
			dacc = append(dacc, ymm())
		}
	}
	// Row i of A is at a + i·rs: a base register and scaled indexes.
	aRow := func(i int) Mem {
		if i == 0 {
			return Mem{Base: a}
		}
		return Mem{Base: a, Index: rs, Scale: uint8(i)}
	}
	// step is k step u of an unrolled iteration; tail also adds
	// a(i, p)·d[p] into lane 0 of the dot accumulators.
	step := func(u int, tail bool) {
		bv := make([]VecVirtual, nv)
		for v := range bv {
			bv[v] = YMM()
			VMOVUPS(Mem{Base: b, Disp: (u*8*nv + 8*v) * 4}, bv[v])
		}
		var dv VecVirtual
		if tail {
			dv = YMM()
			VMOVSS(Mem{Base: d}, dv.AsX()) // lanes 1–7 zeroed
		}
		for i := range mr {
			t := YMM()
			VBROADCASTSS(aRow(i), t)
			for v := range bv {
				VFMADD231PS(bv[v], t, acc[i][v])
			}
			if tail {
				VFMADD231PS(dv, t, dacc[i])
			}
		}
		ADDQ(ks, a)
	}
	n := GP64()
	MOVQ(k, n)
	SHRQ(U8(bits(unroll)), n)
	JZ(LabelRef("tail"))
	Label("loop")
	if dot {
		// a still points at this iteration's first k step.
		dv := YMM()
		VMOVUPS(Mem{Base: d}, dv)
		for i := range mr {
			VFMADD231PS(aRow(i), dv, dacc[i])
		}
		ADDQ(U8(32), d)
	}
	for u := range unroll {
		step(u, false)
	}
	ADDQ(U32(unroll*8*nv*4), b)
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("tail")
	ANDQ(U8(unroll-1), k)
	JZ(LabelRef("update"))
	Label("loop1")
	step(0, dot)
	ADDQ(U32(8*nv*4), b)
	if dot {
		ADDQ(U8(4), d)
	}
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
		JZ(LabelRef(next))
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
			if !masked {
				JMP(LabelRef(next))
			}
		}
		Label(next)
		SHRQ(U8(8), lanes)
	}
	if dot {
		Comment("the dot column, if its bit is set: reduce each row's lanes, in a fixed order")
		TESTB(U8(1), lanes.As8())
		JZ(LabelRef("done"))
		MOVQ(c, row)
		for i := range mr {
			hi, x := XMM(), dacc[i].AsX()
			VEXTRACTF32X4(U8(1), dacc[i], hi)
			VADDPS(hi, x, x) // lanes l + l+4
			VMOVHLPS(x, x, hi)
			VADDPS(hi, x, x) // lanes 0+2, 1+3
			VMOVSHDUP(x, hi)
			VADDSS(hi, x, x)
			m := Mem{Base: row, Disp: 4 * 8 * nv}
			VADDSS(m, x, x)
			VMOVSS(x, m)
			if i < mr-1 {
				ADDQ(ldc, row)
			}
		}
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// bits is log2 of a power of two.
func bits(n int) int {
	b := 0
	for 1<<b < n {
		b++
	}
	return b
}
