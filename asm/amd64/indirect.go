package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Indirect (indirect.go in package simdconv) is a GEMM whose B is never
// packed: a tile of output positions × output channels, the channels in
// the vectors' lanes, each position a pointer into x and each reduction
// step an offset added to all of them. A step broadcasts one float of x
// per position and loads nv vectors of A, each from its own run of the
// filter (a vector of channels a step), for positions·nv FMAs. Strides,
// dilations and padding live in the offsets, so small planes, whose GEMMs
// spend a large share packing B, run at the FMA rate.

// indirectISA is an ISA's tile for Indirect: mr positions by up to nv
// vectors of lanes channels.
type indirectISA struct {
	lanes, mr, nv int
}

// AVX-512: 6 positions × 4 zmm, 24 accumulators + 4 of A + 1 broadcast of
// 32; AVX2: 6 × 2 ymm, 12 + 2 + 1 of 16. Six positions take six of the GP
// registers, beside A's and the offsets' pointers.
var (
	indirectAVX512 = indirectISA{lanes: 16, mr: 6, nv: 4}
	indirectAVX2   = indirectISA{lanes: 8, mr: 6, nv: 2}
)

const indirectSignature = "func(y []float32, ldy int, ypos []int, x []float32, pos []int, a []float32, lda int, off []int, nv int, bias []float32, add, relu bool)"

// genIndirect emits, for each tile of mr positions (len(pos) a multiple
// of mr), j < mr, v < nv and lane l:
//
//	y[v·ldy + ypos[j]·L + l] = (add ? y[…] : bias[v·L + l]) + Σ_t a[v·lda + t·L + l]·x[pos[j] + off[t]]
//
// then max(·, 0) if relu. A tile computes all nv vectors, ii.nv at a time,
// before the next tile: its positions' lines of x stay in L1 for them.
func genIndirect(name string, ii indirectISA) {
	vec, isa := vectors(ii.lanes)
	TEXT(name, NOSPLIT, indirectSignature)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s computes, for each tile of %d positions (len(pos) a multiple of %d),", name, ii.mr, ii.mr),
		fmt.Sprintf("j < %d, v < nv and lane l < %d (%s):", ii.mr, ii.lanes, isa),
		"",
		fmt.Sprintf("\ty[v*ldy + ypos[j]*%d + l] = s + Σ_{t<len(off)} a[v*lda + t*%d + l]·x[pos[j] + off[t]]", ii.lanes, ii.lanes),
		"",
		fmt.Sprintf("with s the old y if add, else bias[v*%d + l], by fused multiply-adds in tap", ii.lanes),
		fmt.Sprintf("order, then max(·, 0) if relu. A tile does its vectors %d at a time.", ii.nv),
		"",
		"The caller guarantees nv ≥ 1, len(off) ≥ 1, len(bias) ≥ nv·L, len(a) ≥ (nv−1)·lda +",
		"len(off)·L, len(ypos) = len(pos), 0 ≤ ypos[j] and (ypos[j]+1)·L ≤ ldy, len(y) ≥",
		"(nv−1)·ldy + (ypos[j]+1)·L, and 0 ≤ pos[j] + off[t] < len(x); lengths are not checked.",
	)
	Commentf("register pressure: %d·n accumulators + n of A + 1 broadcast (n = %d: %d vectors); %d positions + 5 GP",
		ii.mr, ii.nv, ii.mr*ii.nv+ii.nv+1, ii.mr)
	// The tile's first position, the block's first vector and off's end
	// live on the stack, so that the tap loop has the GP registers; so
	// does ReLU's zero, which a broadcast defines (a register zeroed by
	// XOR counts as read first, live through every block).
	frame := AllocLocal(32)
	tileAt, vecAt, offEnd, zero := frame, frame.Offset(8), frame.Offset(16), frame.Offset(24)
	MOVL(U32(0), zero)
	z := GP64()
	XORQ(z, z)
	MOVQ(z, tileAt)
	Label("tile")
	i := GP64()
	MOVQ(tileAt, i)
	CMPQ(i, Load(Param("pos").Len(), GP64()))
	JGE(LabelRef("done"))
	z = GP64()
	XORQ(z, z)
	MOVQ(z, vecAt)
	Label("block")
	rem := Load(Param("nv"), GP64())
	SUBQ(vecAt, rem)
	CMPQ(rem, U32(ii.nv))
	JGE(LabelRef(fmt.Sprintf("nv%d", ii.nv)))
	for n := ii.nv - 1; n >= 1; n-- {
		CMPQ(rem, U32(n))
		JE(LabelRef(fmt.Sprintf("nv%d", n)))
	}
	next := GP64()
	MOVQ(tileAt, next)
	ADDQ(U8(ii.mr), next)
	MOVQ(next, tileAt)
	JMP(LabelRef("tile"))
	for n := 1; n <= ii.nv; n++ {
		Label(fmt.Sprintf("nv%d", n))
		indirectBody(n, ii, vec, tileAt, vecAt, offEnd, zero)
		v := GP64()
		MOVQ(vecAt, v)
		ADDQ(U8(n), v)
		MOVQ(v, vecAt)
		JMP(LabelRef("block"))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// indirectBody emits one tile's block of nv vectors, those from vecAt on,
// for the tile at tileAt.
func indirectBody(nv int, ii indirectISA, vec func() VecVirtual, tileAt, vecAt, offEnd, zero Mem) {
	width := 4 * ii.lanes
	acc := make([][]VecVirtual, ii.mr)
	for j := range acc {
		acc[j] = make([]VecVirtual, nv)
		for v := range acc[j] {
			acc[j][v] = vec()
		}
	}
	// The block's outputs: vector v of position j at y + v·ldy +
	// ypos[i + j]·L floats; yAt returns y + v0·ldy, ldy and the positions'
	// ypos[i + j]·L.
	// entries loads the tile's mr entries of the []int parameter param.
	entries := func(param string) []GPVirtual {
		base, i := Load(Param(param).Base(), GP64()), GP64()
		MOVQ(tileAt, i)
		LEAQ(Mem{Base: base, Index: i, Scale: 8}, base)
		e := make([]GPVirtual, ii.mr)
		for j := range e {
			e[j] = GP64()
			MOVQ(Mem{Base: base, Disp: 8 * j}, e[j])
		}
		return e
	}
	yAt := func() (Register, Register, []GPVirtual) {
		y, ldy := Load(Param("y").Base(), GP64()), Load(Param("ldy"), GP64())
		v := GP64()
		MOVQ(vecAt, v)
		IMULQ(ldy, v)
		LEAQ(Mem{Base: y, Index: v, Scale: 4}, y)
		SHLQ(U8(2), ldy)
		at := entries("ypos")
		for _, r := range at {
			SHLQ(U8(laneShift(ii.lanes)), r)
		}
		return y, ldy, at
	}
	add := Load(Param("add"), GP8())
	TESTB(add, add)
	JNZ(LabelRef(fmt.Sprintf("load%d", nv)))
	bias, v := Load(Param("bias").Base(), GP64()), GP64()
	MOVQ(vecAt, v)
	SHLQ(U8(laneShift(ii.lanes)), v)
	LEAQ(Mem{Base: bias, Index: v, Scale: 4}, bias)
	for v := range nv {
		VMOVUPS(Mem{Base: bias, Disp: width * v}, acc[0][v])
		for j := 1; j < ii.mr; j++ {
			VMOVAPS(acc[0][v], acc[j][v])
		}
	}
	JMP(LabelRef(fmt.Sprintf("taps%d", nv)))
	Label(fmt.Sprintf("load%d", nv))
	{
		y, ldy, at := yAt()
		for v := range nv {
			for j := range ii.mr {
				VMOVUPS(Mem{Base: y, Index: at[j], Scale: 4}, acc[j][v])
			}
			if v < nv-1 {
				ADDQ(ldy, y)
			}
		}
	}
	Label(fmt.Sprintf("taps%d", nv))
	// Vector v of the filter streams from a + v·lda: a and a + lda, and
	// a2 = a + 2·lda and a2 + lda.
	a, lda := Load(Param("a").Base(), GP64()), Load(Param("lda"), GP64())
	va := GP64()
	MOVQ(vecAt, va)
	IMULQ(lda, va)
	LEAQ(Mem{Base: a, Index: va, Scale: 4}, a)
	SHLQ(U8(2), lda)
	a2 := GP64()
	LEAQ(Mem{Base: a, Index: lda, Scale: 2}, a2)
	aMem := func(v int) Mem {
		base := a
		if v >= 2 {
			base = a2
		}
		if v%2 == 1 {
			return Mem{Base: base, Index: lda, Scale: 1}
		}
		return Mem{Base: base}
	}
	// op walks off up to its end, which the loop compares in memory.
	op, n := Load(Param("off").Base(), GP64()), Load(Param("off").Len(), GP64())
	end := GP64()
	LEAQ(Mem{Base: op, Index: n, Scale: 8}, end)
	MOVQ(end, offEnd)
	// The positions' pointers: p_j = x + 4·pos[i + j].
	p, x := entries("pos"), Load(Param("x").Base(), GP64())
	for _, r := range p {
		LEAQ(Mem{Base: x, Index: r, Scale: 4}, r)
	}
	// step emits the reduction step t + u.
	step := func(u int) {
		o := GP64()
		MOVQ(Mem{Base: op, Disp: 8 * u}, o)
		av := make([]VecVirtual, nv)
		for v := range av {
			av[v] = vec()
			VMOVUPS(aMem(v), av[v])
		}
		for j := range ii.mr {
			b := vec()
			VBROADCASTSS(Mem{Base: p[j], Index: o, Scale: 4}, b)
			for v := range nv {
				VFMADD231PS(av[v], b, acc[j][v])
			}
		}
		ADDQ(U32(width), a)
		if nv > 2 {
			ADDQ(U32(width), a2)
		}
	}
	// Two steps an iteration (the loop's own instructions cost AVX2 a
	// tenth of its rate at one); an odd count starts with one.
	pairs := fmt.Sprintf("pairs%d", nv)
	TESTQ(U32(1), Load(Param("off").Len(), GP64()))
	JZ(LabelRef(pairs))
	step(0)
	ADDQ(U8(8), op)
	CMPQ(op, offEnd)
	JE(LabelRef(fmt.Sprintf("relu%d", nv)))
	Label(pairs)
	Label(fmt.Sprintf("tap%d", nv))
	step(0)
	step(1)
	ADDQ(U8(16), op)
	CMPQ(op, offEnd)
	JNE(LabelRef(fmt.Sprintf("tap%d", nv)))

	Label(fmt.Sprintf("relu%d", nv))

	relu := Load(Param("relu"), GP8())
	TESTB(relu, relu)
	JZ(LabelRef(fmt.Sprintf("store%d", nv)))
	z := vec()
	VBROADCASTSS(zero, z)
	for j := range acc {
		for v := range acc[j] {
			VMAXPS(z, acc[j][v], acc[j][v])
		}
	}
	Label(fmt.Sprintf("store%d", nv))
	y, ldy, at := yAt()
	for v := range nv {
		for j := range ii.mr {
			VMOVUPS(acc[j][v], Mem{Base: y, Index: at[j], Scale: 4})
		}
		if v < nv-1 {
			ADDQ(ldy, y)
		}
	}
}

// laneShift is log2 of lanes, 8 or 16.
func laneShift(lanes int) int {
	if lanes == 16 {
		return 4
	}
	return 3
}
