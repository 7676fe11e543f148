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

const strided2Signature = "func(dst, src []float32, rows, n, dstStride, srcStride int)"

// stridedISA is one ISA's code for a block of floats of a row: the block
// sizes, and the emitters of one block of f floats at contiguous offset j.
type stridedISA struct {
	suffix string
	big    int   // floats of the main loop's block
	pieces []int // the smaller blocks, largest first, down to 8
	// setup emits the kernel's constants before the row loop.
	setupGather, setupScatter func()
	gather, scatter           func(dst, src, j GPVirtual, f int)
}

// stridedAVX512 and stridedAVX2 build the ISAs' block emitters; the AVX-512
// one declares its index vector.
func stridedAVX512() stridedISA {
	index := GLOBL("gather2EvenAVX512", RODATA|NOPTR)
	for l := range 16 {
		DATA(4*l, U32(2*l))
	}
	var idx, idxY VecVirtual
	var even OpmaskVirtual
	s := stridedISA{suffix: "AVX512", big: 32, pieces: []int{16, 8}}
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
	s := stridedISA{suffix: "AVX2", big: 16, pieces: []int{8}, setupGather: func() {}, setupScatter: func() {}}
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
		fmt.Sprintf("%s sets dst[r*dstStride+j] = src[r*srcStride+2*j] for r < rows and j < n, n a", name),
		fmt.Sprintf("multiple of 8: blocks of %d floats, then %s as n's remainder needs.", s.big, s.piecesText()),
		"It reads src[r*srcStride+i] for i < 2n, one float past the last it needs, and",
		"writes dst[r*dstStride+j] for j < n only.",
		"",
		"The caller guarantees that every touched element is in bounds; lengths are not",
		"checked.",
	)
	Commentf("register pressure: 1–2 vectors + the index vectors; 8 GP")
	stridedRows(s, s.setupGather, s.gather)
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
		fmt.Sprintf("%s sets dst[r*dstStride+2*j] = src[r*srcStride+j] for r < rows and j < n, n a", name),
		fmt.Sprintf("multiple of 8: blocks of %d floats, then %s as n's remainder needs,", s.big, s.piecesText()),
		how+".",
		"It touches dst[r*dstStride+i] for i < 2n only, and the odd ones keep their values.",
		"",
		"The caller guarantees that every touched element is in bounds; lengths are not",
		"checked.",
	)
	Commentf("register pressure: 1–2 vectors + the store mask; 8 GP")
	stridedRows(s, s.setupScatter, s.scatter)
}

// stridedRows emits the row loop around block.
func stridedRows(s stridedISA, setup func(), block func(dst, src, j GPVirtual, f int)) {
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
	ADDQ(ds, dst)
	ADDQ(ss, src)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
