package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// GatherRows and ScatterRows (strided_rows.go in package simdconv) move
// rows between a stride of 2 and a stride of 1. Both kernels are pure data
// movement, bound by loads and stores:
//
//   - gather2 deinterleaves: two vectors of the strided row give one vector
//     of its even floats (AVX-512: one VPERMT2PS; AVX2: VSHUFPS, which
//     picks the even floats of each 128-bit lane, then VPERMPD, which puts
//     the lanes' pairs in order).
//   - scatter2 interleaves: VPMOVZXDQ spreads a vector's floats to the even
//     lanes of a vector twice as wide. AVX-512 stores it through the mask
//     of even lanes, and never reads the odd floats; AVX2 blends the odd
//     floats of dst into it (VBLENDPS from memory) and stores it whole, for
//     VMASKMOVPS's store is microcoded on AMD cores.
//
// A row is counted in bytes of its contiguous side (the side of stride 1),
// j below; the strided side is addressed at 2j. Blocks of `big` floats
// run while whole ones remain, then one block of each smaller power of two
// down to 8 that the remainder n mod big holds: the same for every row.
// AVX-512 then does the last n mod 8 floats through masks, which read and
// write only the floats of the row; AVX2 leaves them to the caller.

const strided2Signature = "func(dst, src []float32, rows, n, dstStride, srcStride int)"

// stridedISA is one ISA's code for a block of floats of a row: the block
// sizes, and the emitters of one block of f floats at contiguous offset j.
type stridedISA struct {
	suffix string
	nr     int   // n is a multiple of nr: 8, or 1 where masks do the tail
	big    int   // floats of the main loop's block
	pieces []int // the smaller blocks, largest first, down to 8
	// setup emits the kernel's constants before the row loop.
	setupGather, setupScatter func()
	gather, scatter           func(dst, src, j GPVirtual, f int)
	// tailGather and tailScatter, where set, emit the last t = n mod 8
	// floats of a row through masks, which setupTail derives from t.
	setupTail               func(t GPVirtual)
	tailGather, tailScatter func(dst, src, j GPVirtual)
}

// stridedAVX512 and stridedAVX2 build the ISAs' block emitters; the AVX-512
// one declares its index vector.
func stridedAVX512() stridedISA {
	index := GLOBL("gather2EvenAVX512", RODATA|NOPTR)
	for l := range 16 {
		DATA(4*l, U32(2*l))
	}
	// Per t < 8: the masks of t floats, of 2t floats, and of the even
	// lanes among those 2t.
	tails := GLOBL("strided2TailAVX512", RODATA|NOPTR)
	for i, mask := range []func(t int) int{
		func(t int) int { return 1<<t - 1 },
		func(t int) int { return 1<<(2*t) - 1 },
		func(t int) int { return (1<<(2*t) - 1) & 0x5555 },
	} {
		for t := range 8 {
			DATA(16*i+2*t, U16(mask(t)))
		}
	}
	var idx, idxY VecVirtual
	var even, kt, k2t, kEven OpmaskVirtual
	s := stridedISA{suffix: "AVX512", nr: 1, big: 32, pieces: []int{16, 8}}
	s.setupTail = func(t GPVirtual) {
		kt, k2t, kEven = K(), K(), K()
		tab := GP64()
		LEAQ(tails, tab)
		KMOVW(Mem{Base: tab, Index: t, Scale: 2}, kt)
		KMOVW(Mem{Base: tab, Index: t, Scale: 2, Disp: 16}, k2t)
		KMOVW(Mem{Base: tab, Index: t, Scale: 2, Disp: 32}, kEven)
	}
	s.tailGather = func(dst, src, j GPVirtual) {
		z, e := ZMM(), ZMM()
		VMOVUPS_Z(Mem{Base: src, Index: j, Scale: 2}, k2t, z)
		VPERMPS(z, idx, e) // lanes 0–7 of the index are 0, 2, …, 14
		VMOVUPS(e.AsY(), kt, Mem{Base: dst, Index: j, Scale: 1})
	}
	s.tailScatter = func(dst, src, j GPVirtual) {
		y, z := YMM(), ZMM()
		VMOVUPS_Z(Mem{Base: src, Index: j, Scale: 1}, kt, y)
		VPMOVZXDQ(y, z)
		VMOVUPS(z, kEven, Mem{Base: dst, Index: j, Scale: 2})
	}
	s.setupGather = func() {
		// [0, 2, …, 30]: the even floats of two zmm; its first half those
		// of two ymm.
		idx, idxY = ZMM(), YMM()
		VMOVUPS(index, idx)
		VMOVUPS(index, idxY)
	}
	s.setupScatter = func() {
		even = K()
		m := GP32()
		MOVL(U32(0x5555), m)
		KMOVW(m, even)
	}
	s.gather = func(dst, src, j GPVirtual, f int) {
		for b := 0; b < f; b += 16 {
			if f-b >= 16 {
				z := ZMM()
				VMOVUPS(Mem{Base: src, Index: j, Scale: 2, Disp: 8 * b}, z)
				VPERMT2PS(Mem{Base: src, Index: j, Scale: 2, Disp: 8*b + 64}, idx, z)
				VMOVUPS(z, Mem{Base: dst, Index: j, Scale: 1, Disp: 4 * b})
				continue
			}
			y := YMM()
			VMOVUPS(Mem{Base: src, Index: j, Scale: 2, Disp: 8 * b}, y)
			VPERMT2PS(Mem{Base: src, Index: j, Scale: 2, Disp: 8*b + 32}, idxY, y)
			VMOVUPS(y, Mem{Base: dst, Index: j, Scale: 1, Disp: 4 * b})
		}
	}
	s.scatter = func(dst, src, j GPVirtual, f int) {
		for b := 0; b < f; b += 8 {
			z := ZMM()
			VPMOVZXDQ(Mem{Base: src, Index: j, Scale: 1, Disp: 4 * b}, z)
			VMOVUPS(z, even, Mem{Base: dst, Index: j, Scale: 2, Disp: 8 * b})
		}
	}
	return s
}

func stridedAVX2() stridedISA {
	s := stridedISA{suffix: "AVX2", nr: 8, big: 16, pieces: []int{8}, setupGather: func() {}, setupScatter: func() {}}
	s.gather = func(dst, src, j GPVirtual, f int) {
		for b := 0; b < f; b += 8 {
			y := YMM()
			VMOVUPS(Mem{Base: src, Index: j, Scale: 2, Disp: 8 * b}, y)
			// Lane by lane: a0 a2 b0 b2 | a4 a6 b4 b6, then its quarters 0, 2, 1, 3.
			VSHUFPS(U8(0x88), Mem{Base: src, Index: j, Scale: 2, Disp: 8*b + 32}, y, y)
			VPERMPD(U8(0xD8), y, y)
			VMOVUPS(y, Mem{Base: dst, Index: j, Scale: 1, Disp: 4 * b})
		}
	}
	s.scatter = func(dst, src, j GPVirtual, f int) {
		for b := 0; b < f; b += 4 {
			y := YMM()
			VPMOVZXDQ(Mem{Base: src, Index: j, Scale: 1, Disp: 4 * b}, y)
			// The odd floats of dst, even ones from src.
			VBLENDPS(U8(0xAA), Mem{Base: dst, Index: j, Scale: 2, Disp: 8 * b}, y, y)
			VMOVUPS(y, Mem{Base: dst, Index: j, Scale: 2, Disp: 8 * b})
		}
	}
	return s
}

// nText and tailText say in a doc comment which n the kernel takes, and
// how it does the last floats.
func (s stridedISA) nText() string {
	if s.nr == 1 {
		return "n ≥ 1"
	}
	return fmt.Sprintf("n a multiple of %d", s.nr)
}

func (s stridedISA) tailText() string {
	if s.tailGather == nil {
		return ""
	}
	return ", then the last n mod 8 through masks"
}

// piecesText names the smaller blocks for a doc comment.
func (s stridedISA) piecesText() string {
	if len(s.pieces) == 1 {
		return fmt.Sprintf("one of %d", s.pieces[0])
	}
	t := "one each of"
	for i, p := range s.pieces {
		switch {
		case i == 0:
			t += fmt.Sprintf(" %d", p)
		case i == len(s.pieces)-1:
			t += fmt.Sprintf(" and %d", p)
		default:
			t += fmt.Sprintf(", %d", p)
		}
	}
	return t
}

// genGather2 emits dst[r*dstStride+j] = src[r*srcStride+2j] for r < rows
// and j < n, n a multiple of 8.
func genGather2(name string, s stridedISA) {
	TEXT(name, NOSPLIT, strided2Signature)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets dst[r*dstStride+j] = src[r*srcStride+2*j] for r < rows and j < n, %s:", name, s.nText()),
		fmt.Sprintf("blocks of %d floats, then %s as n's remainder needs%s.", s.big, s.piecesText(), s.tailText()),
		"It reads src[r*srcStride+i] for i < 2n, at most one float past the last it needs,",
		"and writes dst[r*dstStride+j] for j < n only.",
		"",
		"The caller guarantees that every touched element is in bounds; lengths are not",
		"checked.",
	)
	Commentf("register pressure: 1–2 vectors + the index vectors; 8 GP")
	stridedRows(s, s.setupGather, s.gather, s.tailGather)
}

// genScatter2 emits dst[r*dstStride+2j] = src[r*srcStride+j] for r < rows
// and j < n, n a multiple of 8.
func genScatter2(name string, s stridedISA) {
	how := "storing through the mask of even lanes: the odd floats are never read"
	if s.suffix == "AVX2" {
		how = "blending dst's odd floats back in: a whole-vector store of what they held"
	}
	TEXT(name, NOSPLIT, strided2Signature)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets dst[r*dstStride+2*j] = src[r*srcStride+j] for r < rows and j < n, %s:", name, s.nText()),
		fmt.Sprintf("blocks of %d floats, then %s as n's remainder needs%s,", s.big, s.piecesText(), s.tailText()),
		how+".",
		"It touches dst[r*dstStride+i] for i < 2n only, and the odd ones keep their values.",
		"",
		"The caller guarantees that every touched element is in bounds; lengths are not",
		"checked.",
	)
	Commentf("register pressure: 1–2 vectors + the store mask; 8 GP")
	stridedRows(s, s.setupScatter, s.scatter, s.tailScatter)
}

// stridedRows emits the row loop around block, and tail if set.
func stridedRows(s stridedISA, setup func(), block func(dst, src, j GPVirtual, f int), tail func(dst, src, j GPVirtual)) {
	dst := Load(Param("dst").Base(), GP64()).(GPVirtual)
	src := Load(Param("src").Base(), GP64()).(GPVirtual)
	rows := Load(Param("rows"), GP64())
	n := Load(Param("n"), GP64())
	ds := Load(Param("dstStride"), GP64())
	SHLQ(U8(2), ds)
	ss := Load(Param("srcStride"), GP64())
	SHLQ(U8(2), ss)
	SHLQ(U8(2), n) // bytes of the contiguous side
	TESTQ(rows, rows)
	JLE(LabelRef("done"))
	TESTQ(n, n)
	JLE(LabelRef("done"))
	setup()
	// rem: the bytes after the whole big blocks, the same in every row.
	rem := GP64()
	MOVQ(n, rem)
	ANDQ(U32(4*s.big-1), rem)
	SUBQ(rem, n)
	var t GPVirtual // floats past the blocks of 8
	if tail != nil {
		t = GP64().(GPVirtual)
		MOVQ(rem, t)
		SHRQ(U8(2), t)
		ANDQ(U8(7), t)
		s.setupTail(t)
	}
	j := GP64().(GPVirtual)
	Label("row")
	XORQ(j, j)
	TESTQ(n, n)
	JZ(LabelRef("pieces"))
	alignLoop()
	Label("big")
	block(dst, src, j, s.big)
	ADDQ(U32(4*s.big), j)
	CMPQ(j, n)
	JL(LabelRef("big"))
	Label("pieces")
	for _, p := range s.pieces {
		skip := fmt.Sprintf("no%d", p)
		TESTQ(U32(4*p), rem)
		JZ(LabelRef(skip))
		block(dst, src, j, p)
		ADDQ(U32(4*p), j)
		Label(skip)
	}
	if tail != nil {
		TESTQ(t, t)
		JZ(LabelRef("notail"))
		tail(dst, src, j)
		Label("notail")
	}
	ADDQ(ds, dst)
	ADDQ(ss, src)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
