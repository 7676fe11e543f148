package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Depthwise convolution has one input and one output channel per filter, so
// it is no matrix product. Over a zero-padded plane with positions p·W'+q
// each tap is a shift, and the passes become:
//
//   - forward and backward-data: y = Σ_t w[t]·x[off[t]:], a stencil;
//   - backward-filter: dw[t] = Σ_i a[i]·x[off[t]+i], one dot product per tap.
//
// Both stream x once per tap from L1, with the outputs (stencil) or the taps
// (dots) held in registers.

// stencilAccs is the number of vector accumulators of the stencil's main
// loop: 8 vectors of outputs per pass over the taps, so that each tap's
// broadcast weight serves 8 FMAs.
const stencilAccs = 8

// genStencil emits, for c < planes, y[c·ldy+i] = bias[c] + Σ_{t<len(off)}
// w[c·ldw+t]·x[c·ldx+off[t]+i] for i below n, a multiple of lanes (8 for
// AVX2, ymm; 16 for AVX-512, zmm): one stencil per plane of a block of
// depthwise channels, so that a call serves many small planes.
func genStencil(name string, lanes int) {
	vec, isa := vectors(lanes)
	width := 4 * lanes
	TEXT(name, NOSPLIT, "func(y, x, w []float32, off []int, n, planes, ldy, ldx, ldw int, bias []float32)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets, for c < planes, y[c*ldy+i] = bias[c] + Σ_{t<len(off)} w[c*ldw+t]·x[c*ldx+off[t]+i]", name),
		fmt.Sprintf("for i < n, n a multiple of %d (%s): %d vectors at a time, then 4, then one. The", lanes, isa, stencilAccs),
		"planes run in order, each written whole before the next.",
		"",
		"The caller guarantees len(off) ≥ 1, planes ≥ 1, len(bias) ≥ planes, and that every",
		"touched element of y, x and w is in bounds; lengths are not checked.",
	)
	Commentf("register pressure: %d accumulators + 1 weight + 1 bias = %d vector registers; 10 GP", stencilAccs, stencilAccs+2)
	y := Load(Param("y").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	w := Load(Param("w").Base(), GP64())
	off := Load(Param("off").Base(), GP64())
	taps := Load(Param("off").Len(), GP64())
	planes := Load(Param("planes"), GP64())
	bias := Load(Param("bias").Base(), GP64())
	n, t, o := GP64(), GP64(), GP64()
	b := vec()

	// pass emits one pass over the taps for nv vectors of outputs at y, x.
	pass := func(label string, nv int) {
		acc := make([]VecVirtual, nv)
		for v := range acc {
			acc[v] = vec()
			VMOVAPS(b, acc[v])
		}
		XORQ(t, t)
		alignLoop()
		Label(label)
		MOVQ(Mem{Base: off, Index: t, Scale: 8}, o)
		wt := vec()
		VBROADCASTSS(Mem{Base: w, Index: t, Scale: 4}, wt)
		for v := range acc {
			VFMADD231PS(Mem{Base: x, Index: o, Scale: 4, Disp: width * v}, wt, acc[v])
		}
		INCQ(t)
		CMPQ(t, taps)
		JNE(LabelRef(label))
		for v := range acc {
			VMOVUPS(acc[v], Mem{Base: y, Disp: width * v})
		}
		ADDQ(U32(width*nv), x)
		ADDQ(U32(width*nv), y)
	}

	Label("plane")
	VBROADCASTSS(Mem{Base: bias}, b)
	Load(Param("n"), n)

	Label("blocks")
	CMPQ(n, U32(lanes*stencilAccs))
	JL(LabelRef("quads"))
	pass("tapsBlock", stencilAccs)
	SUBQ(U32(lanes*stencilAccs), n)
	JMP(LabelRef("blocks"))

	// The tail: 4 vectors at a time, for 4 independent FMA chains, then 1.
	Label("quads")
	CMPQ(n, U32(lanes*4))
	JL(LabelRef("vectors"))
	pass("tapsQuad", 4)
	SUBQ(U32(lanes*4), n)
	JMP(LabelRef("quads"))

	Label("vectors")
	TESTQ(n, n)
	JLE(LabelRef("next"))
	pass("tapsVector", 1)
	SUBQ(U32(lanes), n)
	JMP(LabelRef("vectors"))

	// The next plane: y and x have moved on by n floats, w and bias not.
	Label("next")
	ADDQ(U8(4), bias)
	Load(Param("n"), n)
	Load(Param("ldy"), t)
	SUBQ(n, t)
	SHLQ(U8(2), t)
	ADDQ(t, y)
	Load(Param("ldx"), t)
	SUBQ(n, t)
	SHLQ(U8(2), t)
	ADDQ(t, x)
	Load(Param("ldw"), t)
	SHLQ(U8(2), t)
	ADDQ(t, w)
	DECQ(planes)
	JNZ(LabelRef("plane"))

	VZEROUPPER()
	RET()
}

// maxDotTaps bounds the taps of one dots call: one accumulator each, plus
// the a vector, within the 16 (AVX2) or 32 (AVX-512) vector registers.
func maxDotTaps(lanes int) int {
	if lanes == 16 {
		return 30
	}
	return 14
}

// dotRegTaps is the most taps whose offsets genDots keeps in GP registers
// (beside a, x and n); with more it reloads them every step, which costs a
// load per tap and left a depthwise 3×3 layer load-bound.
const dotRegTaps = 10

// genDots emits d[t] = Σ_j Σ_l a[j*lanes+l]·x[off[t]+j*lanes+l] for
// t < len(off) ≤ maxDotTaps and j*lanes < n: per tap, a dot product of a
// with x shifted, summed lane-wise and then across the lanes.
func genDots(name string, lanes int) {
	vec, isa := vectors(lanes)
	width := 4 * lanes
	maxTaps := maxDotTaps(lanes)
	// Not NOSPLIT: the frame is over the nosplit stack limit.
	TEXT(name, 0, "func(d, a, x []float32, off []int, n int)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets d[t], for t < len(off) ≤ %d, to the dot product of a[:n] with", name, maxTaps),
		fmt.Sprintf("x[off[t]:off[t]+n] (%s): the products are summed in %d lanes, l taking", isa, lanes),
		fmt.Sprintf("the indices ≡ l mod %d, and the lanes are then added in a fixed order.", lanes),
		"",
		fmt.Sprintf("The caller guarantees len(d) ≥ len(off), n a multiple of %d, len(a) ≥ n,", lanes),
		"and off[t] ≥ 0 and off[t] + n ≤ len(x); lengths are not checked.",
	)
	Commentf("register pressure: up to %d tap accumulators (unrolled by tap count) + 1 a vector; up to %d GP",
		maxTaps, 3+dotRegTaps)
	// The accumulators go through the stack to one reduction loop, rather
	// than each tap count having its own reductions.
	frame := AllocLocal(width * maxTaps)
	taps := Load(Param("off").Len(), GP64())

	// One loop per tap count, so that the accumulators stay in registers.
	for nt := 1; nt <= maxTaps; nt++ {
		CMPQ(taps, U32(nt))
		JE(LabelRef(fmt.Sprintf("taps%d", nt)))
	}
	JMP(LabelRef("done"))
	for nt := 1; nt <= maxTaps; nt++ {
		Label(fmt.Sprintf("taps%d", nt))
		a := Load(Param("a").Base(), GP64())
		x := Load(Param("x").Base(), GP64())
		n := Load(Param("n"), GP64())
		off := Load(Param("off").Base(), GP64())
		acc := make([]VecVirtual, nt)
		for i := range acc {
			acc[i] = vec()
			zero(acc[i])
		}
		// The tap offsets, in registers where they fit.
		var o []GPVirtual
		if nt <= dotRegTaps {
			for t := range nt {
				o = append(o, GP64())
				MOVQ(Mem{Base: off, Disp: 8 * t}, o[t])
			}
		}
		alignLoop()
		Label(fmt.Sprintf("loop%d", nt))
		TESTQ(n, n)
		JLE(LabelRef(fmt.Sprintf("store%d", nt)))
		av := vec()
		VMOVUPS(Mem{Base: a}, av)
		for t := range acc {
			ot := GP64()
			if o != nil {
				ot = o[t]
			} else {
				MOVQ(Mem{Base: off, Disp: 8 * t}, ot)
			}
			VFMADD231PS(Mem{Base: x, Index: ot, Scale: 4}, av, acc[t])
		}
		ADDQ(U32(width), a)
		ADDQ(U32(width), x)
		SUBQ(U32(lanes), n)
		JMP(LabelRef(fmt.Sprintf("loop%d", nt)))
		Label(fmt.Sprintf("store%d", nt))
		for t := range acc {
			VMOVUPS(acc[t], frame.Offset(width*t))
		}
		JMP(LabelRef("reduce"))
	}

	Label("reduce")
	d := Load(Param("d").Base(), GP64())
	t := GP64()
	XORQ(t, t)
	Label("tap")
	v := vec()
	VMOVUPS(frame.Idx(t, 1), v) // t counts bytes of the frame
	VMOVSS(hsum(v, false), Mem{Base: d})
	ADDQ(U8(4), d)
	ADDQ(U32(width), t)
	DECQ(taps)
	JNZ(LabelRef("tap"))
	Label("done")
	VZEROUPPER()
	RET()
}

// genAddRows emits dst[r*dstStride+j] += src[r*srcStride+j] for r < rows
// and j < n, n a multiple of lanes (8: AVX2, 16: AVX-512): the
// accumulation of col2im, one vector at a time.
func genAddRows(name string, lanes int) {
	vec, isa := vectors(lanes)
	width := 4 * lanes
	TEXT(name, NOSPLIT, "func(dst, src []float32, rows, n, dstStride, srcStride int)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s adds src[r*srcStride+j] to dst[r*dstStride+j] for r < rows and j < n, n a", name),
		fmt.Sprintf("multiple of %d (%s). The caller guarantees that every touched element is in", lanes, isa),
		"bounds; lengths are not checked.",
	)
	Commentf("register pressure: 1 vector; 8 GP")
	dst := Load(Param("dst").Base(), GP64())
	src := Load(Param("src").Base(), GP64())
	rows := Load(Param("rows"), GP64())
	n := Load(Param("n"), GP64())
	ds := Load(Param("dstStride"), GP64())
	SHLQ(U8(2), ds)
	ss := Load(Param("srcStride"), GP64())
	SHLQ(U8(2), ss)
	SHLQ(U8(2), n) // bytes per row
	j := GP64()
	TESTQ(rows, rows)
	JLE(LabelRef("done"))
	TESTQ(n, n)
	JLE(LabelRef("done"))
	Label("row")
	XORQ(j, j)
	alignLoop()
	Label("vector")
	v := vec()
	VMOVUPS(Mem{Base: src, Index: j, Scale: 1}, v)
	VADDPS(Mem{Base: dst, Index: j, Scale: 1}, v, v)
	VMOVUPS(v, Mem{Base: dst, Index: j, Scale: 1})
	ADDQ(U32(width), j)
	CMPQ(j, n)
	JL(LabelRef("vector"))
	ADDQ(ds, dst)
	ADDQ(ss, src)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
