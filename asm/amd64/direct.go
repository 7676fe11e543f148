package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// directTile is the shape of the direct-A kernel: 3 rows of A by 4 zmm
// vectors. Its 64 columns hold 50 to 64 columns of C with less waste than
// an 8×48 tile and an 8×16 edge.
var directTile = tile{3, 64}

// directDotTile is the shape of the direct-A kernels with a dot column: 3
// rows of A by 3 zmm vectors and one more column. The 49 positions of a 7×7
// output (a ResNet's last stage) fill it.
var directDotTile = tile{3, 49}

const (
	directSignature    = "func(a []float32, rs, ks int, b, c []float32, k, ldc int, lanes uint64)"
	directDotSignature = "func(a []float32, rs, ks int, b, d, c []float32, k, ldc int, lanes uint64)"
)

// directMode is how a direct-A kernel computes its last column.
type directMode int

const (
	// plain: the last column is a lane of the last vector, like the others.
	plain directMode = iota
	// dotRows: ks = 1. The last column is mr dot products of A's rows
	// with the column d, 8 k steps per FMA, reduced at the end: mr FMAs per
	// 8 k steps where a vector of columns would cost 8·mr. It sums in
	// another order than the other columns.
	dotRows
	// dotCols: rs = 1. A's mr rows at a k step are contiguous: one masked
	// xmm load and one FMA with d[p] broadcast per k step, each lane a row
	// summing in the same order as the other columns.
	dotCols
)

// genSgemmDirectAVX512 emits an mr × nr kernel that reads A in place
// instead of from a packed sliver: a(i, p) is a[i*rs + p*ks]. A product
// whose B is a single sliver uses each A element once, so packing A would
// only add a copy of it; the 9.4 MB filter of a 7×7×512 layer took 18% of
// its forward pass to pack.
//
// It works on zmm registers, with lane masks for partial vectors of C
// (on ymm it ran at most at half the FMA peak of a core with 512-bit
// pipes). Per k step: nr/16 loads of b, mr broadcasts of a, mr·nr/16 FMAs.
// In a dot mode nr is 16·v + 1 and the last column comes from d (see
// directMode), whose dot products stay on ymm and xmm registers.
func genSgemmDirectAVX512(name string, mr, nr int, mode directMode) {
	nv := nr / 16
	regs := mr*nv + nv + 1
	switch mode {
	case dotRows:
		regs += mr + 1
	case dotCols:
		regs += 2
	}
	if (nr%16 != 0) != (mode != plain) || regs > 32 || mr > 3 {
		panic(fmt.Sprintf("genSgemmDirectAVX512 %dx%d: unsupported shape", mr, nr))
	}
	doc := []string{
		fmt.Sprintf("%s computes, for i < %d and the columns j < %d whose bit is set in lanes:", name, mr, nr),
		"c[i*ldc+j] += Σ_{p<k} a(i, p)·b(p, j)",
		"",
		fmt.Sprintf("A is read in place: a(i, p) = a[i*rs+p*ks]. b(p, j) = b[p*%d+j] is a packed sliver", 16*nv),
	}
	switch mode {
	case plain:
		TEXT(name, NOSPLIT, directSignature)
		Commentf("register pressure: %d zmm accumulators + %d b vectors + 1 broadcast = %d of 32; 1 opmask; 9 GP",
			mr*nv, nv, regs)
	case dotRows:
		TEXT(name, NOSPLIT, directDotSignature)
		doc = append(doc, fmt.Sprintf("for j < %d, and b(p, %d) = d[p] its last column. ks must be 1.", 16*nv, 16*nv))
		Commentf("register pressure: %d zmm accumulators + %d b vectors + 1 broadcast + %d ymm dot accumulators + 1 d vector = %d of 32; 2 opmasks; 10 GP",
			mr*nv, nv, mr, regs)
	case dotCols:
		TEXT(name, NOSPLIT, directDotSignature)
		doc = append(doc, fmt.Sprintf("for j < %d, and b(p, %d) = d[p] its last column. rs must be 1.", 16*nv, 16*nv))
		Commentf("register pressure: %d zmm accumulators + %d b vectors + 1 broadcast + 1 dot accumulator + 1 a vector = %d of 32; 2 opmasks; 10 GP",
			mr*nv, nv, regs)
	}
	Pragma("noescape")
	Doc(append(doc,
		"c is row-major with row stride ldc. The caller guarantees that every a, b,",
		"d and c element named above is in bounds; lengths are not checked.")...)

	a := Load(Param("a").Base(), GP64()).(GPVirtual)
	rs := Load(Param("rs"), GP64()).(GPVirtual)
	ks := Load(Param("ks"), GP64()).(GPVirtual)
	var d GPVirtual
	if mode != plain {
		d = Load(Param("d").Base(), GP64()).(GPVirtual)
	}
	b := Load(Param("b").Base(), GP64()).(GPVirtual)
	c := Load(Param("c").Base(), GP64()).(GPVirtual)
	k := Load(Param("k"), GP64()).(GPVirtual)
	ldc := Load(Param("ldc"), GP64()).(GPVirtual)
	SHLQ(U8(2), rs)
	SHLQ(U8(2), ks)
	SHLQ(U8(2), ldc)

	prefetchC(c, ldc, mr, nr)

	// VPXORD, not VXORPS: registers 16–31 need an EVEX encoding, which
	// VXORPS has only with AVX-512DQ.
	zeroed := func(vec func() VecVirtual) VecVirtual {
		y := vec()
		VPXORD(y, y, y)
		return y
	}
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nv)
		for v := range acc[i] {
			acc[i][v] = zeroed(ZMM)
		}
	}
	var dacc []VecVirtual // dotRows: one per row; dotCols: one, a lane per row
	var rowsMask, lane0 OpmaskVirtual
	switch mode {
	case dotRows:
		for range mr {
			dacc = append(dacc, zeroed(YMM))
		}
		// Tail steps add into lane 0 only: a·0 in the other lanes would
		// be NaN for an infinite a.
		lane0 = K()
		m := GP32()
		MOVL(U32(1), m)
		KMOVW(m, lane0)
	case dotCols:
		dacc = append(dacc, zeroed(YMM))
		rowsMask = K()
		m := GP32()
		MOVL(U32(1<<mr-1), m)
		KMOVW(m, rowsMask)
	}
	// Row i of A is at a + i·rs: a base register and scaled indexes.
	aRow := func(i int) Mem {
		if i == 0 {
			return Mem{Base: a}
		}
		return Mem{Base: a, Index: rs, Scale: uint8(i)}
	}
	// step is k step u of an unrolled iteration. In dotRows, tail steps
	// also add a(i, p)·d[p] into lane 0 of the dot accumulators.
	step := func(u int, tail bool) {
		bv := make([]VecVirtual, nv)
		for v := range bv {
			bv[v] = ZMM()
			VMOVUPS(Mem{Base: b, Disp: (u*16*nv + 16*v) * 4}, bv[v])
		}
		var dv VecVirtual
		if mode == dotRows && tail {
			dv = YMM()
			VMOVSS(Mem{Base: d}, dv.AsX())
		}
		if mode == dotCols {
			x := XMM()
			VMOVUPS_Z(Mem{Base: a}, rowsMask, x) // a(0..mr-1, p); lanes ≥ mr not read
			VFMADD231PS_BCST(Mem{Base: d, Disp: 4 * u}, x, dacc[0].AsX())
			// A's k steps are ks apart (kilobytes, for a filter read
			// transposed), so every step is a line of its own that the
			// hardware does not prefetch, and a tile 3 rows on reads it
			// again. Fetch the line two on into L2 for the tiles to come.
			PREFETCHT1(Mem{Base: a, Disp: 128})
		}
		for i := range mr {
			t := ZMM()
			VBROADCASTSS(aRow(i), t)
			for v := range bv {
				VFMADD231PS(bv[v], t, acc[i][v])
			}
			if mode == dotRows && tail {
				VFMADD231PS(dv, t.AsY(), lane0, dacc[i])
			}
		}
		ADDQ(ks, a)
	}
	unroll := kUnroll
	if mode == dotRows {
		unroll = 8
	}
	n := GP64()
	MOVQ(k, n)
	SHRQ(U8(bits(unroll)), n)
	JZ(LabelRef("tail"))
	Label("loop")
	if mode == dotRows {
		// a still points at this iteration's first k step.
		dv := YMM()
		VMOVUPS(Mem{Base: d}, dv)
		for i := range mr {
			VFMADD231PS(aRow(i), dv, dacc[i])
		}
	}
	for u := range unroll {
		step(u, false)
	}
	ADDQ(U32(unroll*16*nv*4), b)
	if mode != plain {
		ADDQ(U8(4*unroll), d)
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("tail")
	ANDQ(U8(unroll-1), k)
	JZ(LabelRef("update"))
	Label("loop1")
	step(0, true)
	ADDQ(U32(16*nv*4), b)
	if mode != plain {
		ADDQ(U8(4), d)
	}
	DECQ(k)
	JNZ(LabelRef("loop1"))

	// A masked store can cost several cycles (it does on Zen 4), so each vector of
	// columns is added whole, masked, or not at all, by its 16 bits of lanes.
	Label("update")
	Comment("c += accumulators, one vector of columns at a time")
	lanes := Load(Param("lanes"), GP64()).(GPVirtual)
	row := GP64()
	mask := K()
	for v := range nv {
		whole, part, next := fmt.Sprintf("whole%d", v), fmt.Sprintf("part%d", v), fmt.Sprintf("next%d", v)
		CMPW(lanes.As16(), U16(0xffff))
		JE(LabelRef(whole))
		TESTW(lanes.As16(), lanes.As16())
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
				m := Mem{Base: row, Disp: 64 * v}
				if masked {
					t := ZMM()
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
		SHRQ(U8(16), lanes)
	}
	if mode != plain {
		Comment("the dot column, if its bit is set")
		TESTB(U8(1), lanes.As8())
		JZ(LabelRef("done"))
		MOVQ(c, row)
		for i := range mr {
			var x VecVirtual
			if mode == dotRows {
				x = hsum(dacc[i], true)
			} else {
				// Move row i's lane to lane 0.
				x = XMM()
				switch i {
				case 0:
					VMOVAPS(dacc[0].AsX(), x)
				case 1:
					VMOVSHDUP(dacc[0].AsX(), x)
				case 2:
					VMOVHLPS(dacc[0].AsX(), dacc[0].AsX(), x)
				}
			}
			m := Mem{Base: row, Disp: 4 * 16 * nv}
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
