package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/simdconv/simdconv/asm/internal/table"
)

// The channel-interleaved depthwise kernels (dwc.go in package simdconv).
// A block of L channels (the lanes of a vector) is laid out position by
// position, the L channels of a position in one vector: each filter tap
// is then one aligned vector per output position, with the tap's L weights
// in one register, whatever the plane's width, stride or padding. The
// planes are moved in and out of that layout by transposes of L×L blocks.
//
//   - dwcIn: L channel rows of a plane into a zero-padded interleaved row;
//   - dwcOut: interleaved positions back into L channel planes;
//   - dwcConv: y = bias + Σ_t w[t]·x[off[t]:] per output position, at a
//     column stride of 1 or 2, with ReLU as a floor.

// dwcBlock is dwcConv's output positions a pass over the taps: one
// accumulator each, beside the tap's weights, the bias and the floor.
func dwcBlock(lanes int) int {
	if lanes == 16 {
		return 12
	}
	return 8
}

// transpose returns the columns of the lanes×lanes block whose rows are r,
// in registers.
func transpose(r []VecVirtual) []VecVirtual {
	if len(r) == 8 {
		return transpose8(r)
	}
	return transpose16(r)
}

// transpose8 is transpose on 8 ymm rows: unpacks of floats, shuffles of
// pairs, then swaps of 128-bit halves.
func transpose8(r []VecVirtual) []VecVirtual {
	t := make([]VecVirtual, 8)
	for i := 0; i < 8; i += 2 {
		t[i], t[i+1] = YMM(), YMM()
		VUNPCKLPS(r[i+1], r[i], t[i])
		VUNPCKHPS(r[i+1], r[i], t[i+1])
	}
	s := make([]VecVirtual, 8)
	for _, g := range []int{0, 4} {
		for j, p := range [][2]int{{0, 2}, {0, 2}, {1, 3}, {1, 3}} {
			s[g+j] = YMM()
			imm := uint8(0x44)
			if j%2 == 1 {
				imm = 0xEE
			}
			VSHUFPS(U8(imm), t[g+p[1]], t[g+p[0]], s[g+j])
		}
	}
	c := make([]VecVirtual, 8)
	for i := range 4 {
		c[i], c[i+4] = YMM(), YMM()
		VPERM2F128(U8(0x20), s[i+4], s[i], c[i])
		VPERM2F128(U8(0x31), s[i+4], s[i], c[i+4])
	}
	return c
}

// transpose16 is transpose on 16 zmm rows: unpacks of floats and of pairs,
// then two rounds of 128-bit lane shuffles.
func transpose16(r []VecVirtual) []VecVirtual {
	t := make([]VecVirtual, 16)
	for i := 0; i < 16; i += 2 {
		t[i], t[i+1] = ZMM(), ZMM()
		VUNPCKLPS(r[i+1], r[i], t[i])
		VUNPCKHPS(r[i+1], r[i], t[i+1])
	}
	u := make([]VecVirtual, 16)
	for g := 0; g < 16; g += 4 {
		for j, p := range [][2]int{{0, 2}, {0, 2}, {1, 3}, {1, 3}} {
			u[g+j] = ZMM()
			if j%2 == 0 {
				VUNPCKLPD(t[g+p[1]], t[g+p[0]], u[g+j])
			} else {
				VUNPCKHPD(t[g+p[1]], t[g+p[0]], u[g+j])
			}
		}
	}
	// u[g+j] holds 4-float pieces of column j+4·lane of rows g..g+3; two
	// rounds of lane shuffles gather each column's four pieces.
	v := make([]VecVirtual, 16)
	for _, g := range []int{0, 8} {
		for j := range 4 {
			v[g+j], v[g+j+4] = ZMM(), ZMM()
			VSHUFF32X4(U8(0x88), u[g+4+j], u[g+j], v[g+j])
			VSHUFF32X4(U8(0xDD), u[g+4+j], u[g+j], v[g+j+4])
		}
	}
	c := make([]VecVirtual, 16)
	for j := range 8 {
		c[j], c[j+8] = ZMM(), ZMM()
		VSHUFF32X4(U8(0x88), v[8+j], v[j], c[j])
		VSHUFF32X4(U8(0xDD), v[8+j], v[j], c[j+8])
	}
	return c
}

// genDwcIn emits dwcIn: for r < rows, row r of dst (ldd floats apart) is
// left zero positions, then positions j < cols holding src[l*lds+r*ldr+j]
// in lane l, then right zero positions; a position is lanes floats.
func genDwcIn(name string, lanes int) {
	vec, isa := vectors(lanes)
	width := 4 * lanes
	TEXT(name, NOSPLIT, "func("+table.DwcIn.Params+")")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets, for r < rows, j < left+cols+right and l < %d (%s),", name, lanes, isa),
		"",
		fmt.Sprintf("\tdst[r*ldd+j*%d+l] = src[l*lds+r*ldr+j-left] for left ≤ j < left+cols, else 0:", lanes),
		"",
		fmt.Sprintf("rows of %d channel planes interleaved, a position a vector, zero-padded on", lanes),
		fmt.Sprintf("either side. A block of %d columns is loaded masked and transposed in registers.", lanes),
		"",
		"The caller guarantees that every touched element of dst and src is in bounds;",
		"lengths are not checked.",
	)
	Commentf("register pressure: %d rows + %d columns + 1 zero vector; 12 GP", lanes, lanes)
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	rows := Load(Param("rows"), GP64())
	cols := Load(Param("cols"), GP64())
	lds4 := Load(Param("lds"), GP64())
	SHLQ(U8(2), lds4)
	ldd4 := Load(Param("ldd"), GP64())
	SHLQ(U8(2), ldd4)
	zv := vec()
	zero(zv)
	var maskTab Mem
	if lanes == 16 {
		// Entry m, m ≤ 16, is the mask of lanes [0, m).
		maskTab = GLOBL(name+"Mask", RODATA|NOPTR)
		for m := range 17 {
			DATA(2*m, U16(1<<m-1))
		}
	} else {
		// Lanes [0, m) of the mask at maskTab + 4·(8−m) are set.
		maskTab = GLOBL(name+"Mask", RODATA|NOPTR)
		for i := range 16 {
			v := uint32(0)
			if i < 8 {
				v = 0xFFFFFFFF
			}
			DATA(4*i, U32(v))
		}
	}
	TESTQ(rows, rows)
	JLE(LabelRef("done"))
	d, j, m, p, n := GP64(), GP64(), GP64(), GP64(), GP64()
	Label("row")
	MOVQ(dst, d)
	// zeros stores n zero positions at d.
	zeros := func(label string, param string) {
		Load(Param(param), n)
		Label(label)
		TESTQ(n, n)
		JLE(LabelRef(label + "Done"))
		VMOVUPS(zv, Mem{Base: d})
		ADDQ(U32(width), d)
		DECQ(n)
		JMP(LabelRef(label))
		Label(label + "Done")
	}
	zeros("left", "left")
	XORQ(j, j)
	Label("block")
	CMPQ(j, cols)
	JGE(LabelRef("right"))
	MOVQ(cols, m)
	SUBQ(j, m)
	CMPQ(m, U32(lanes))
	JLE(LabelRef("masked"))
	MOVQ(U32(lanes), m)
	Label("masked")
	// Rows of the block: channel l's floats [j, j+m), zero past m.
	LEAQ(Mem{Base: src, Index: j, Scale: 4}, p)
	r := make([]VecVirtual, lanes)
	if lanes == 16 {
		k := K()
		LEAQ(maskTab, n)
		KMOVW(Mem{Base: n, Index: m, Scale: 2}, k)
		for l := range r {
			r[l] = vec()
			VMOVUPS_Z(Mem{Base: p}, k, r[l])
			if l < lanes-1 {
				ADDQ(lds4, p)
			}
		}
	} else {
		mask, off := vec(), GP64()
		MOVQ(U32(8), off)
		SUBQ(m, off)
		LEAQ(maskTab, n)
		VMOVDQU(Mem{Base: n, Index: off, Scale: 4}, mask)
		for l := range r {
			r[l] = vec()
			VMASKMOVPS(Mem{Base: p}, mask, r[l])
			if l < lanes-1 {
				ADDQ(lds4, p)
			}
		}
	}
	c := transpose(r)
	// Store the block's first m positions.
	for i := range c {
		if i > 0 {
			CMPQ(m, U32(i))
			JLE(LabelRef("stored"))
		}
		VMOVUPS(c[i], Mem{Base: d, Disp: width * i})
	}
	Label("stored")
	MOVQ(m, n)
	SHLQ(U8(2+log2(lanes)), n)
	ADDQ(n, d)
	ADDQ(m, j)
	JMP(LabelRef("block"))
	Label("right")
	zeros("rightZeros", "right")
	Load(Param("ldr"), n)
	LEAQ(Mem{Base: src, Index: n, Scale: 4}, src)
	ADDQ(ldd4, dst)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// log2 is the exponent of a power of two.
func log2(n int) int {
	k := 0
	for n > 1 {
		n >>= 1
		k++
	}
	return k
}

// genDwcOut emits dwcOut: dst[l*ldd+j] = src[j*lanes+l] for j < n and
// l < lanes, n ≥ lanes: interleaved positions back into channel planes, a
// block of lanes positions at a time, the last block overlapping the one
// before (it stores the same values again).
func genDwcOut(name string, lanes int) {
	vec, isa := vectors(lanes)
	width := 4 * lanes
	TEXT(name, NOSPLIT, "func("+table.DwcOut.Params+")")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets dst[l*ldd+j] = src[j*%d+l] for j < n and l < %d (%s): %d interleaved", name, lanes, lanes, isa, lanes),
		"channels back into planes, transposed in registers a block at a time.",
		"",
		fmt.Sprintf("The caller guarantees n ≥ %d and that every touched element of dst and src is", lanes),
		"in bounds; lengths are not checked.",
	)
	Commentf("register pressure: %d positions + %d channels; 7 GP", lanes, lanes)
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	n := Load(Param("n"), GP64())
	ldd4 := Load(Param("ldd"), GP64())
	SHLQ(U8(2), ldd4)
	j, p, q := GP64(), GP64(), GP64()
	XORQ(j, j)
	Label("block")
	MOVQ(n, q)
	SUBQ(U32(lanes), q) // the last block's start
	CMPQ(j, q)
	JLE(LabelRef("whole"))
	MOVQ(q, j)
	Label("whole")
	// Positions [j, j+lanes): lanes vectors of src from j·lanes on.
	MOVQ(j, p)
	SHLQ(U8(2+log2(lanes)), p)
	ADDQ(src, p)
	r := make([]VecVirtual, lanes)
	for i := range r {
		r[i] = vec()
		VMOVUPS(Mem{Base: p, Disp: width * i}, r[i])
	}
	c := transpose(r)
	LEAQ(Mem{Base: dst, Index: j, Scale: 4}, p)
	for l := range c {
		VMOVUPS(c[l], Mem{Base: p})
		if l < lanes-1 {
			ADDQ(ldd4, p)
		}
	}
	ADDQ(U32(lanes), j)
	CMPQ(j, n)
	JL(LabelRef("block"))
	VZEROUPPER()
	RET()
}

// genDwcConv emits dwcConv at column stride stride: for p < rows and
// q < cols, the output position y[p*ldy+q*ystep*lanes:] is max(floor, bias
// + Σ_t w[t*lanes:]·x[p*ldx+q*stride*lanes+off[t]:]), lane by lane. An
// ystep above 1 writes one phase of a strided layer's backward-data.
func genDwcConv(name string, lanes, stride int) {
	vec, isa := vectors(lanes)
	width := 4 * lanes
	block := dwcBlock(lanes)
	TEXT(name, NOSPLIT, "func("+table.DwcConv.Params+")")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets, for p < rows, q < cols and l < %d (%s), with i = p*ldy+q*ystep*%d+l,", name, lanes, isa, lanes),
		"",
		fmt.Sprintf("\ty[i] = bias[l] + Σ_{t<len(off)} w[t*%d+l]·x[p*ldx+q*%d+off[t]+l], then max(y[i], 0) if relu:", lanes, stride*lanes),
		"",
		fmt.Sprintf("a depthwise convolution of %d interleaved channels at column stride %d, with", lanes, stride),
		fmt.Sprintf("fused multiply-adds in tap order, %d output positions a pass over the taps, then 4", block),
		"(the last 4 of a row moved back over positions already written), then 1.",
		"",
		"The caller guarantees len(off) ≥ 1, ystep ≥ 1 and that every touched element of y,",
		"x, w and bias is in bounds; lengths are not checked.",
	)
	Commentf("register pressure: %d accumulators + weights + bias + floor; 12 GP", block)
	yrow := Load(Param("y").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	off := Load(Param("off").Base(), GP64())
	taps := Load(Param("off").Len(), GP64())
	rows := Load(Param("rows"), GP64())
	ystep := Load(Param("ystep"), GP64())
	SHLQ(U8(2+log2(lanes)), ystep) // bytes from one output position to the next
	bias, floor := vec(), vec()
	VMOVUPS(Mem{Base: Load(Param("bias").Base(), GP64())}, bias)
	// The floor is 0 with ReLU, else −∞; max(floor, y) keeps a NaN of y
	// (VMAXPS returns its second source when either is a NaN).
	relu := Load(Param("relu"), GP8())
	zero(floor)
	TESTB(relu, relu)
	JNZ(LabelRef("floorSet"))
	ninf := GP32()
	MOVL(U32(0xFF800000), ninf)
	VMOVD(ninf, floor.AsX())
	VBROADCASTSS(floor.AsX(), floor)
	Label("floorSet")
	q, xq, yq, t, o, wp := GP64(), GP64(), GP64(), GP64(), GP64(), GP64()

	// pass emits one pass over the taps for nb output positions at xq, yq.
	pass := func(label string, nb int) {
		acc := make([]VecVirtual, nb)
		for i := range acc {
			acc[i] = vec()
			VMOVAPS(bias, acc[i])
		}
		XORQ(t, t)
		Load(Param("w").Base(), wp)
		alignLoop()
		Label(label)
		MOVQ(Mem{Base: off, Index: t, Scale: 8}, o)
		LEAQ(Mem{Base: xq, Index: o, Scale: 4}, o)
		wt := vec()
		VMOVUPS(Mem{Base: wp}, wt)
		for i := range acc {
			VFMADD231PS(Mem{Base: o, Disp: width * stride * i}, wt, acc[i])
		}
		ADDQ(U32(width), wp)
		INCQ(t)
		CMPQ(t, taps)
		JNE(LabelRef(label))
		for i := range acc {
			VMAXPS(acc[i], floor, acc[i])
		}
		// Contiguous outputs (every pass but a strided backward-data's
		// phases) store at displacements from one pointer.
		CMPQ(ystep, U32(width))
		JNE(LabelRef(label + "Spread"))
		for i := range acc {
			VMOVUPS(acc[i], Mem{Base: yq, Disp: width * i})
		}
		ADDQ(U32(width*nb), yq)
		JMP(LabelRef(label + "Stored"))
		Label(label + "Spread")
		for i := range acc {
			VMOVUPS(acc[i], Mem{Base: yq})
			ADDQ(ystep, yq)
		}
		Label(label + "Stored")
		ADDQ(U32(width*stride*nb), xq)
	}

	TESTQ(rows, rows)
	JLE(LabelRef("done"))
	Label("row")
	Load(Param("cols"), q)
	MOVQ(x, xq)
	MOVQ(yrow, yq)
	Label("blocks")
	CMPQ(q, U32(block))
	JL(LabelRef("quads"))
	pass("tapsBlock", block)
	SUBQ(U32(block), q)
	JMP(LabelRef("blocks"))
	// The rest of the row in blocks of 4, the last one moved back over
	// positions already done (it writes the same values again), so that
	// no position goes alone unless the row is narrower than 4.
	Label("quads")
	TESTQ(q, q)
	JLE(LabelRef("next"))
	CMPQ(q, U32(4))
	JGE(LabelRef("quad"))
	Load(Param("cols"), o)
	CMPQ(o, U32(4))
	JL(LabelRef("singles"))
	MOVQ(U32(4), o)
	SUBQ(q, o) // positions to move back
	MOVQ(U32(4), q)
	MOVQ(o, t)
	IMULQ(ystep, t)
	SUBQ(t, yq)
	SHLQ(U8(2+log2(lanes)), o)
	for range stride {
		SUBQ(o, xq)
	}
	Label("quad")
	pass("tapsQuad", 4)
	SUBQ(U32(4), q)
	JMP(LabelRef("quads"))
	Label("singles")
	pass("tapsSingle", 1)
	DECQ(q)
	JNZ(LabelRef("singles"))
	Label("next")
	Load(Param("ldx"), o)
	LEAQ(Mem{Base: x, Index: o, Scale: 4}, x)
	Load(Param("ldy"), o)
	LEAQ(Mem{Base: yrow, Index: o, Scale: 4}, yrow)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// dwcDotsTaps is the most taps one dwcDots call takes: an accumulator each,
// beside a's vector.
func dwcDotsTaps(lanes int) int {
	if lanes == 16 {
		return 24
	}
	return 12
}

// dwcRegTaps is how many taps' offsets genDwcDots keeps in GP registers;
// the others are loaded again at each position.
const dwcRegTaps = 5

// genDwcDots emits dwcDots: for t < len(off) and l < lanes, d[t*lanes+l] +=
// Σ_{p<rows, q<cols} a[(p*cols+q)*lanes+l]·x[p*ldx+q*stride*lanes+off[t]+l]:
// a depthwise filter gradient of interleaved channels, one accumulator a
// tap, summed position by position in order. One loop per tap count, so
// that the accumulators stay in registers.
func genDwcDots(name string, lanes int) {
	vec, isa := vectors(lanes)
	width := 4 * lanes
	maxTaps := dwcDotsTaps(lanes)
	TEXT(name, 0, "func("+table.DwcDots.Params+")")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s adds, for t < len(off) ≤ %d and l < %d (%s),", name, maxTaps, lanes, isa),
		"",
		fmt.Sprintf("\tΣ_{p<rows, q<cols} a[(p*cols+q)*%d+l]·x[p*ldx+q*stride*%d+off[t]+l]", lanes, lanes),
		"",
		fmt.Sprintf("to d[t*%d+l], with fused multiply-adds position by position in order.", lanes),
		"",
		"The caller guarantees that every touched element of d, a and x is in bounds;",
		"lengths are not checked.",
	)
	Commentf("register pressure: up to %d tap accumulators (unrolled by tap count) + 1 a vector; up to %d GP", maxTaps, 9+dwcRegTaps)
	taps := Load(Param("off").Len(), GP64())
	for nt := 1; nt <= maxTaps; nt++ {
		CMPQ(taps, U32(nt))
		JE(LabelRef(fmt.Sprintf("taps%d", nt)))
	}
	JMP(LabelRef("done"))
	for nt := 1; nt <= maxTaps; nt++ {
		sfx := fmt.Sprint(nt)
		Label("taps" + sfx)
		a := Load(Param("a").Base(), GP64())
		xrow := Load(Param("x").Base(), GP64())
		off := Load(Param("off").Base(), GP64())
		rows := Load(Param("rows"), GP64())
		step := Load(Param("stride"), GP64())
		SHLQ(U8(2+log2(lanes)), step)
		acc := make([]VecVirtual, nt)
		for i := range acc {
			acc[i] = vec()
			zero(acc[i])
		}
		var o []GPVirtual
		for t := range min(nt, dwcRegTaps) {
			o = append(o, GP64())
			MOVQ(Mem{Base: off, Disp: 8 * t}, o[t])
		}
		xq, q, tmp := GP64(), GP64(), GP64()
		TESTQ(rows, rows)
		JLE(LabelRef("store" + sfx))
		Label("row" + sfx)
		MOVQ(xrow, xq)
		Load(Param("cols"), q)
		TESTQ(q, q)
		JLE(LabelRef("next" + sfx))
		alignLoop()
		Label("pos" + sfx)
		av := vec()
		VMOVUPS(Mem{Base: a}, av)
		for t := range acc {
			ot := tmp
			if t < len(o) {
				ot = o[t]
			} else {
				MOVQ(Mem{Base: off, Disp: 8 * t}, tmp)
			}
			VFMADD231PS(Mem{Base: xq, Index: ot, Scale: 4}, av, acc[t])
		}
		ADDQ(U32(width), a)
		ADDQ(step, xq)
		DECQ(q)
		JNZ(LabelRef("pos" + sfx))
		Label("next" + sfx)
		Load(Param("ldx"), tmp)
		LEAQ(Mem{Base: xrow, Index: tmp, Scale: 4}, xrow)
		DECQ(rows)
		JNZ(LabelRef("row" + sfx))
		Label("store" + sfx)
		d := Load(Param("d").Base(), GP64())
		for t := range acc {
			VADDPS(Mem{Base: d, Disp: width * t}, acc[t], acc[t])
			VMOVUPS(acc[t], Mem{Base: d, Disp: width * t})
		}
		JMP(LabelRef("done"))
	}
	Label("done")
	VZEROUPPER()
	RET()
}
