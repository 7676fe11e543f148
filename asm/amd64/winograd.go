package main

import (
	"fmt"
	"math"
	"slices"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The Winograd F(4×4, 3×3) band transforms (winograd.go in package
// simdconv). A vector holds one point of lanes consecutive tiles, so each
// kernel works on a group of lanes tiles at a time. The input and gradient
// transforms first apply their matrix down the band's rows, where a tile's
// columns are contiguous, then deinterleave the stride-4 columns into one
// vector per column phase in natural tile order and apply the matrix
// across. The output transform reads its points as whole vectors, applies
// Aᵀ both ways and interleaves the 4 columns of each output row back. The
// vertical pass makes one output row ξ (or i) at a time, or with 32
// registers two that share sums, and the horizontal pass finishes them
// while their inputs are re-read from L1 for the next.

// winoBand is the signature of the input and gradient transforms.
const winoBand = "func(dst []float32, dstStride int, src []float32, ld, n int)"

// broadcastF32 returns a vector (from vec) of v in every lane.
func broadcastF32(v float32, vec func() VecVirtual) VecVirtual {
	r, x, c := GP32(), XMM(), vec()
	MOVL(U32(math.Float32bits(v)), r)
	VMOVD(r, x)
	VBROADCASTSS(x, c)
	return c
}

// rowPair addresses rows 0…5 of a strided set as two bases a row apart and
// the stride scaled by 2 and 4: row i is b[i%2] + (i/2)·2·stride.
type rowPair struct{ b0, b1, stride GPVirtual }

func (r rowPair) row(i, disp int) Mem {
	m := Mem{Base: r.b0, Disp: disp}
	if i%2 == 1 {
		m.Base = r.b1
	}
	if i >= 2 {
		m.Index, m.Scale = r.stride, uint8(i/2*2)
	}
	return m
}

// newRowPair loads base and stride (in floats) and sets up the pair.
func newRowPair(base, stride gotypes.Component) rowPair {
	r := rowPair{b0: Load(base, GP64()).(GPVirtual), b1: GP64(), stride: Load(stride, GP64()).(GPVirtual)}
	SHLQ(U8(2), r.stride)
	LEAQ(Mem{Base: r.b0, Index: r.stride, Scale: 1}, r.b1)
	return r
}

// pointRows addresses the 36 rows p = 6ξ+ν of a transformed band: a base
// for ξ, advanced 6 rows at a time, and ν's offsets from it.
type pointRows struct {
	base, stride, s3, s5 GPVirtual
}

// newPointRows loads the stride (in floats); each group sets the base.
func newPointRows(stride gotypes.Component) pointRows {
	p := pointRows{base: GP64(), stride: Load(stride, GP64()).(GPVirtual), s3: GP64(), s5: GP64()}
	SHLQ(U8(2), p.stride)
	LEAQ(Mem{Base: p.stride, Index: p.stride, Scale: 2}, p.s3)
	LEAQ(Mem{Base: p.stride, Index: p.stride, Scale: 4}, p.s5)
	return p
}

// point is row ν of the current ξ.
func (p pointRows) point(nu int) Mem {
	switch nu {
	case 0:
		return Mem{Base: p.base}
	case 3:
		return Mem{Base: p.base, Index: p.s3, Scale: 1}
	case 5:
		return Mem{Base: p.base, Index: p.s5, Scale: 1}
	}
	return Mem{Base: p.base, Index: p.stride, Scale: uint8(nu)}
}

// next moves to the next ξ, 6 rows on.
func (p pointRows) next() {
	ADDQ(p.s3, p.base)
	ADDQ(p.s3, p.base)
}

// winoConsts are the transforms' constants, broadcast.
type winoConsts struct{ c2, c4, c5, c8 Op }

// x returns the constants' xmm registers, for the 4 floats after a group.
func (c winoConsts) x() winoConsts {
	x := func(r Op) Op {
		if r == nil {
			return nil
		}
		return r.(Vec).AsX()
	}
	return winoConsts{x(c.c2), x(c.c4), x(c.c5), x(c.c8)}
}

// rows are a vertical transform's input rows: memory operands, or with
// regs each loaded once into a register, when the rows serve a pair of
// output rows.
type rows struct {
	row   func(i int) Mem
	vec   func() VecVirtual
	regs  bool
	cache map[int]VecVirtual
}

func newRows(row func(i int) Mem, vec func() VecVirtual, regs bool) *rows {
	return &rows{row, vec, regs, map[int]VecVirtual{}}
}

// reg is row i in a register, which the caller must not overwrite.
func (r *rows) reg(i int) VecVirtual {
	if v, ok := r.cache[i]; ok {
		return v
	}
	v := r.vec()
	VMOVUPS(r.row(i), v)
	r.cache[i] = v
	return v
}

// op is row i as an operand.
func (r *rows) op(i int) Op {
	if v, ok := r.cache[i]; ok {
		return v
	}
	if r.regs {
		return r.reg(i)
	}
	return r.row(i)
}

// rowSets are the sets of output rows that a vertical transform computes
// together: pairs that share their sums with 32 registers, single rows
// with 16.
func rowSets(pairs bool, sets [][]int) [][]int {
	if pairs {
		return sets
	}
	var single [][]int
	for _, s := range sets {
		for _, x := range s {
			single = append(single, []int{x})
		}
	}
	return single
}

func has(xs []int, x int) bool { return slices.Contains(xs, x) }

// verticalBT emits rows xs (0, 5, or a pair of {1, 2} or {3, 4}) of Bᵀ d
// for the 6 rows d of r, in the order of xs.
func verticalBT(xs []int, r *rows, k winoConsts) []VecVirtual {
	vec := r.vec
	switch xs[0] {
	case 0, 5: // 4d0 − 5d2 + d4, 4d1 − 5d3 + d5
		j, o := xs[0]/5, vec()
		VMULPS(r.op(j), k.c4, o)
		VADDPS(r.op(4+j), o, o)
		VFNMADD231PS(r.op(2+j), k.c5, o)
		return []VecVirtual{o}
	case 1, 2: // d3 + d4 − 4(d1 + d2), d4 − d3 + 4(d1 − d2)
		var out []VecVirtual
		if has(xs, 1) {
			a, o := vec(), vec()
			VADDPS(r.op(2), r.reg(1), a)
			VADDPS(r.op(4), r.reg(3), o)
			VFNMADD231PS(a, k.c4, o)
			out = append(out, o)
		}
		if has(xs, 2) {
			a, o := vec(), vec()
			VSUBPS(r.op(2), r.reg(1), a)
			VSUBPS(r.op(3), r.reg(4), o)
			VFMADD231PS(a, k.c4, o)
			out = append(out, o)
		}
		return out
	}
	// d4 − d2 ± 2(d3 − d1)
	g, f := vec(), vec()
	VSUBPS(r.op(1), r.reg(3), g)
	VSUBPS(r.op(2), r.reg(4), f)
	if len(xs) == 1 {
		if xs[0] == 3 {
			VFMADD231PS(g, k.c2, f)
		} else {
			VFNMADD231PS(g, k.c2, f)
		}
		return []VecVirtual{f}
	}
	o3 := vec()
	VMOVAPS(f, o3)
	VFMADD231PS(g, k.c2, o3)
	VFNMADD231PS(g, k.c2, f)
	return []VecVirtual{o3, f}
}

// horizontalBT emits Bᵀ q for the 6 column phases q and stores point ν
// with store(ν, v). q[4] and q[5] are overwritten.
func horizontalBT(q [6]VecVirtual, vec func() VecVirtual, k winoConsts, store func(nu int, v VecVirtual)) {
	a, o := vec(), vec()
	VADDPS(q[2], q[1], a) // d13
	VADDPS(q[4], q[3], o) // d24
	VFNMADD231PS(a, k.c4, o)
	store(1, o)
	VSUBPS(q[2], q[1], a) // e13
	VSUBPS(q[3], q[4], o) // e24
	VFMADD231PS(a, k.c4, o)
	store(2, o)
	o4 := vec()
	VSUBPS(q[1], q[3], a) // (d3 − d1)
	VSUBPS(q[2], q[4], o) // f42
	VSUBPS(q[2], q[4], o4)
	VFMADD231PS(a, k.c2, o)
	VFNMADD231PS(a, k.c2, o4)
	store(3, o)
	store(4, o4)
	VFNMADD231PS(q[2], k.c5, q[4])
	VFMADD231PS(q[0], k.c4, q[4])
	store(0, q[4])
	VFNMADD231PS(q[3], k.c5, q[5])
	VFMADD231PS(q[1], k.c4, q[5])
	store(5, q[5])
}

// verticalA emits rows xs (0, 5, or a pair of {1, 2} or {3, 4}) of A e
// for the 4 rows e of r, in the order of xs.
func verticalA(xs []int, r *rows, k winoConsts) []VecVirtual {
	vec := r.vec
	if xs[0] == 0 || xs[0] == 5 { // e0, e3
		o := vec()
		VMOVUPS(r.row(xs[0]*3/5), o)
		return []VecVirtual{o}
	}
	a, b := vec(), vec()
	if xs[0] <= 2 { // (e0 + e2) ± (e1 + e3)
		VADDPS(r.op(2), r.reg(0), a)
		VADDPS(r.op(3), r.reg(1), b)
	} else { // (e0 + 4e2) ± (2e1 + 8e3)
		VMULPS(r.op(2), k.c4, a)
		VADDPS(r.op(0), a, a)
		VMULPS(r.op(3), k.c8, b)
		VFMADD231PS(r.op(1), k.c2, b)
	}
	if len(xs) == 1 {
		if xs[0]%2 == 1 {
			VADDPS(b, a, a)
		} else {
			VSUBPS(b, a, a)
		}
		return []VecVirtual{a}
	}
	o := vec()
	VADDPS(b, a, o)
	VSUBPS(b, a, a)
	return []VecVirtual{o, a}
}

// horizontalA emits A q for the 4 column phases q (overwritten) and stores
// point ν with store(ν, v).
func horizontalA(q [4]VecVirtual, vec func() VecVirtual, k winoConsts, store func(nu int, v VecVirtual)) {
	store(0, q[0])
	store(5, q[3])
	a, b := vec(), vec()
	VADDPS(q[2], q[0], a) // e0 + e2
	VADDPS(q[3], q[1], b) // e1 + e3
	o := vec()
	VADDPS(b, a, o)
	store(1, o)
	VSUBPS(b, a, a)
	store(2, a)
	VFMADD213PS(q[0], k.c4, q[2]) // e0 + 4e2
	VMULPS(q[3], k.c8, b)
	VFMADD231PS(q[1], k.c2, b) // 2e1 + 8e3
	VADDPS(b, q[2], o)
	store(3, o)
	VSUBPS(b, q[2], q[2])
	store(4, q[2])
}

// verticalAT emits rows is ({0, 2}, {1, 3} or one of them) of Aᵀ m for
// the 6 rows m of r, in the order of is.
func verticalAT(is []int, r *rows, k winoConsts) []VecVirtual {
	vec := r.vec
	a, b := vec(), vec()
	var out []VecVirtual
	if is[0]%2 == 0 { // m0 + s12 + s34, s12 + 4s34
		VADDPS(r.op(2), r.reg(1), a)
		VADDPS(r.op(4), r.reg(3), b)
		if has(is, 0) {
			o := vec()
			VADDPS(r.op(0), b, o)
			VADDPS(a, o, o)
			out = append(out, o)
		}
		if has(is, 2) {
			VFMADD231PS(b, k.c4, a)
			out = append(out, a)
		}
		return out
	}
	// d12 + 2d34, d12 + 8d34 + m5
	VSUBPS(r.op(2), r.reg(1), a)
	VSUBPS(r.op(4), r.reg(3), b)
	var o3 VecVirtual
	if has(is, 3) {
		o3 = vec()
		VADDPS(r.op(5), a, o3)
		VFMADD231PS(b, k.c8, o3)
	}
	if has(is, 1) {
		VFMADD231PS(b, k.c2, a)
		out = append(out, a)
	}
	if o3 != nil {
		out = append(out, o3)
	}
	return out
}

// horizontalAT emits the 4 columns of Aᵀ w for the 6 points w (overwritten)
// and returns them.
func horizontalAT(w [6]VecVirtual, vec func() VecVirtual, k winoConsts) [4]VecVirtual {
	a, b := vec(), vec()
	VADDPS(w[2], w[1], a)    // s12
	VADDPS(w[4], w[3], b)    // s34
	VSUBPS(w[2], w[1], w[1]) // d12
	VSUBPS(w[4], w[3], w[3]) // d34
	VADDPS(a, w[0], w[0])
	VADDPS(b, w[0], w[0])
	VFMADD231PS(b, k.c4, a)
	VFMADD231PS(w[3], k.c8, w[5])
	VADDPS(w[1], w[5], w[5])
	VFMADD231PS(w[3], k.c2, w[1])
	return [4]VecVirtual{w[0], w[1], a, w[5]}
}

// deinterleave turns the vectors v of 4·lanes consecutive floats (lanes
// tiles of 4 columns) into the 4 column phases in natural tile order, and
// with next (an xmm holding the 4 floats after them) also the phases 4 and
// 5: columns 4t+4 and 4t+5, phases 0 and 1 of the tile after.
type deinterleave func(v [4]VecVirtual, next VecVirtual) [6]VecVirtual

// deinterleaveAVX512 does it with two levels of shuffles: vpermt2ps picks
// phases {0, 2} and {1, 3} of each pair of vectors, vshuff64x2 joins the
// halves; valignd shifts in the tile after. It loads the index vectors.
func deinterleaveAVX512(evenIdx, oddIdx Mem) func() deinterleave {
	return func() deinterleave {
		even, odd := ZMM(), ZMM()
		VMOVDQU32(evenIdx, even)
		VMOVDQU32(oddIdx, odd)
		return deinterleaveAVX512With(even, odd)
	}
}

func deinterleaveAVX512With(even, odd VecVirtual) deinterleave {
	return func(v [4]VecVirtual, next VecVirtual) (q [6]VecVirtual) {
		var e [2]VecVirtual
		for h := range e {
			e[h] = ZMM()
			VMOVAPS(v[2*h], e[h])
			VPERMT2PS(v[2*h+1], even, e[h])
			VPERMT2PS(v[2*h+1], odd, v[2*h])
		}
		for j, src := range [4][2]VecVirtual{{e[0], e[1]}, {v[0], v[2]}, {e[0], e[1]}, {v[0], v[2]}} {
			q[j] = ZMM()
			imm := U8(0x44) // low halves
			if j >= 2 {
				imm = U8(0xEE)
			}
			VSHUFF64X2(imm, src[1], src[0], q[j])
		}
		if next == nil {
			return q
		}
		n := next.AsZ()
		q[4], q[5] = ZMM(), ZMM()
		VALIGND(U8(1), q[0], n, q[4])
		VMOVSHDUP(n, n)
		VALIGND(U8(1), q[1], n, q[5])
		return q
	}
}

// deinterleaveAVX2 gathers tiles t and t+4 into one vector each
// (vperm2f128), so that the in-lane 4×4 transposes give natural order; the
// shifted phases transpose tiles 1…4 | 5…8 the same way.
func deinterleaveAVX2(v [4]VecVirtual, next VecVirtual) (q [6]VecVirtual) {
	var r [5]VecVirtual // tiles j | j+4
	for j := range 4 {
		r[j] = YMM()
		imm := U8(0x20) // low halves
		if j%2 == 1 {
			imm = U8(0x31)
		}
		VPERM2F128(imm, v[j/2+2], v[j/2], r[j])
	}
	transpose2 := func(a, b VecVirtual, hi bool) VecVirtual {
		u := YMM()
		if hi {
			VUNPCKHPS(b, a, u)
		} else {
			VUNPCKLPS(b, a, u)
		}
		return u
	}
	join := func(a, b VecVirtual, hi bool) VecVirtual {
		p := YMM()
		if hi {
			VUNPCKHPD(b, a, p)
		} else {
			VUNPCKLPD(b, a, p)
		}
		return p
	}
	u0, u1 := transpose2(r[0], r[1], false), transpose2(r[0], r[1], true)
	u2, u3 := transpose2(r[2], r[3], false), transpose2(r[2], r[3], true)
	q[0], q[1] = join(u0, u2, false), join(u0, u2, true)
	q[2], q[3] = join(u1, u3, false), join(u1, u3, true)
	if next == nil {
		return q
	}
	r[4] = YMM()
	VINSERTF128(U8(1), next, v[2], r[4])
	w0, w2 := transpose2(r[1], r[2], false), transpose2(r[3], r[4], false)
	q[4], q[5] = join(w0, w2, false), join(w0, w2, true)
	return q
}

// interleave stores the 4 column phases o (natural tile order) of an
// output row at row, 4·lanes consecutive floats.
type interleave func(o [4]VecVirtual, row func(disp int) Mem)

// interleaveAVX512 undoes deinterleaveAVX512's shuffles: vshuff64x2 pairs
// the halves of tiles 0–7 and 8–15, vpermt2ps interleaves the 4 columns of
// 4 tiles at a time. It loads the index vectors.
func interleaveAVX512(loIdx, hiIdx Mem) func() interleave {
	return func() interleave {
		lo, hi := ZMM(), ZMM()
		VMOVDQU32(loIdx, lo)
		VMOVDQU32(hiIdx, hi)
		return interleaveAVX512With(lo, hi)
	}
}

func interleaveAVX512With(lo, hi VecVirtual) interleave {
	return func(o [4]VecVirtual, row func(disp int) Mem) {
		var x, y [2]VecVirtual // phases {0, 2} and {1, 3} of tiles 0–7 (x), 8–15 (y)
		for j := range 2 {
			x[j], y[j] = ZMM(), ZMM()
			VSHUFF64X2(U8(0x44), o[j+2], o[j], x[j])
			VSHUFF64X2(U8(0xEE), o[j+2], o[j], y[j])
		}
		for h, s := range [2][2]VecVirtual{x, y} {
			t := ZMM()
			VMOVAPS(s[0], t)
			VPERMT2PS(s[1], lo, t)
			VPERMT2PS(s[1], hi, s[0])
			VMOVUPS(t, row(128*h))
			VMOVUPS(s[0], row(128*h+64))
		}
	}
}

// interleaveAVX2 transposes in lanes, which leaves tiles t and t+4 in one
// vector, and stores the halves apart.
func interleaveAVX2(o [4]VecVirtual, row func(disp int) Mem) {
	var u [4]VecVirtual
	for j := range u {
		u[j] = YMM()
		a, b := o[j/2*2], o[j/2*2+1]
		if j%2 == 0 {
			VUNPCKLPS(b, a, u[j])
		} else {
			VUNPCKHPS(b, a, u[j])
		}
	}
	for t := range 4 {
		r := YMM()
		a, b := u[t/2], u[t/2+2]
		if t%2 == 0 {
			VUNPCKLPD(b, a, r)
		} else {
			VUNPCKHPD(b, a, r)
		}
		VMOVUPS(r.AsX(), row(16*t))
		VEXTRACTF128(U8(1), r, row(16*t+64))
	}
}

// winoISA is what the three kernels need of an ISA.
type winoISA struct {
	lanes        int
	vec          func() VecVirtual
	isa          string
	pairs        bool                // 32 registers: rows that share sums are done together
	deinterleave func() deinterleave // at the kernel's start: loads its constants
	interleave   func() interleave
}

// pressure describes a kernel's vector registers: consts broadcast, the
// vectors of one row of the vertical transform, those of the horizontal.
func (w winoISA) pressure(consts, vertical, horizontal int) string {
	rows, shuffles := 1, 0
	if w.pairs {
		rows, shuffles = 2, 2
	}
	return fmt.Sprintf("%d constants + %d index vectors + %d row(s) of %d vectors down, then %d vectors across + temporaries (%s)",
		consts, shuffles, rows, vertical, horizontal, w.isa)
}

// winoAVX512 defines the index vectors of AVX-512's shuffles (once, before
// the first kernel) and returns its winoISA.
func winoAVX512() winoISA {
	index := func(name string, f func(l int) int) Mem {
		m := GLOBL(name, RODATA|NOPTR)
		for l := range 16 {
			DATA(4*l, U32(f(l)))
		}
		return m
	}
	// Level 1 of the deinterleave: lanes 0–7 phase 0 (1), 8–15 phase 2
	// (3) of 8 tiles of two vectors (index 16+ is the second).
	even := index("winogradEvenAVX512", func(l int) int { return 4*(l%8) + 2*(l/8) })
	odd := index("winogradOddAVX512", func(l int) int { return 4*(l%8) + 2*(l/8) + 1 })
	// The interleave's last level: lane 4t+j of tiles 0–3 (4–7) from x[0]
	// (phases 0, 2) and x[1] (phases 1, 3), 16 on.
	lo := index("winogradLoAVX512", func(l int) int { return l/4 + 16*(l%2) + 8*(l%4/2) })
	hi := index("winogradHiAVX512", func(l int) int { return l/4 + 4 + 16*(l%2) + 8*(l%4/2) })
	return winoISA{16, ZMM, "AVX-512", true, deinterleaveAVX512(even, odd), interleaveAVX512(lo, hi)}
}

var winoAVX2 = winoISA{8, YMM, "AVX2", false,
	func() deinterleave { return deinterleaveAVX2 },
	func() interleave { return interleaveAVX2 },
}

// bandLoop emits the loop over groups of w.lanes tiles: body, then src
// and dst advanced by a group.
func bandLoop(w winoISA, n GPVirtual, body func(), advance func()) {
	TESTQ(n, n)
	JLE(LabelRef("done"))
	alignLoop()
	Label("group")
	body()
	advance()
	SUBQ(U32(w.lanes), n)
	JG(LabelRef("group"))
	Label("done")
	VZEROUPPER()
	RET()
}

// genWinogradInput emits the input transform Bᵀ d B of n tiles.
func genWinogradInput(name string, w winoISA) {
	width := 4 * w.lanes
	TEXT(name, NOSPLIT, winoBand)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets dst[p*dstStride+t] = (Bᵀ d B)[p/6][p%%6] for t < n and the 6×6 tiles", name),
		"d[i][j] = src[i*ld+4*t+j] (Winograd F(4×4, 3×3)'s input transform),",
		fmt.Sprintf("%d tiles at a time (%s). n is a multiple of %d; the caller guarantees", w.lanes, w.isa, w.lanes),
		"len(src) ≥ 5*ld+4*n+4 and len(dst) ≥ 35*dstStride+n; lengths are not checked.",
	)
	Commentf("register pressure: %s", w.pressure(3, 5, 6))
	src := newRowPair(Param("src").Base(), Param("ld"))
	d := Load(Param("dst").Base(), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	k := winoConsts{c2: broadcastF32(2, w.vec), c4: broadcastF32(4, w.vec), c5: broadcastF32(5, w.vec)}
	deinterleave := w.deinterleave()
	pr := newPointRows(Param("dstStride"))
	bandLoop(w, n, func() {
		MOVQ(d, pr.base)
		for _, xs := range rowSets(w.pairs, [][]int{{0}, {1, 2}, {3, 4}, {5}}) {
			v := make([][4]VecVirtual, len(xs))
			for c := range 4 {
				r := newRows(func(i int) Mem { return src.row(i, width*c) }, w.vec, len(xs) > 1)
				for s, o := range verticalBT(xs, r, k) {
					v[s][c] = o
				}
			}
			x := verticalBT(xs, newRows(func(i int) Mem { return src.row(i, 4*width) }, XMM, len(xs) > 1), k.x())
			for s, xi := range xs {
				q := deinterleave(v[s], x[s])
				horizontalBT(q, w.vec, k, func(nu int, v VecVirtual) { VMOVUPS(v, pr.point(nu)) })
				if xi < 5 {
					pr.next()
				}
			}
		}
	}, func() {
		ADDQ(U32(4*width), src.b0)
		ADDQ(U32(4*width), src.b1)
		ADDQ(U32(width), d)
	})
}

// genWinogradGrad emits the gradient transform A e Aᵀ of n tiles.
func genWinogradGrad(name string, w winoISA) {
	width := 4 * w.lanes
	TEXT(name, NOSPLIT, winoBand)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets dst[p*dstStride+t] = (A e Aᵀ)[p/6][p%%6] for t < n and the 4×4 tiles", name),
		"e[i][j] = src[i*ld+4*t+j] (Winograd F(4×4, 3×3)'s output-gradient transform),",
		fmt.Sprintf("%d tiles at a time (%s). n is a multiple of %d; the caller guarantees", w.lanes, w.isa, w.lanes),
		"len(src) ≥ 3*ld+4*n and len(dst) ≥ 35*dstStride+n; lengths are not checked.",
	)
	Commentf("register pressure: %s", w.pressure(3, 4, 4))
	src := newRowPair(Param("src").Base(), Param("ld"))
	d := Load(Param("dst").Base(), GP64()).(GPVirtual)
	n := Load(Param("n"), GP64()).(GPVirtual)
	k := winoConsts{c2: broadcastF32(2, w.vec), c4: broadcastF32(4, w.vec), c8: broadcastF32(8, w.vec)}
	deinterleave := w.deinterleave()
	pr := newPointRows(Param("dstStride"))
	bandLoop(w, n, func() {
		MOVQ(d, pr.base)
		for _, xs := range rowSets(w.pairs, [][]int{{0}, {1, 2}, {3, 4}, {5}}) {
			v := make([][4]VecVirtual, len(xs))
			for c := range 4 {
				r := newRows(func(i int) Mem { return src.row(i, width*c) }, w.vec, len(xs) > 1)
				for s, o := range verticalA(xs, r, k) {
					v[s][c] = o
				}
			}
			for s, xi := range xs {
				q := deinterleave(v[s], nil)
				horizontalA([4]VecVirtual(q[:4]), w.vec, k, func(nu int, v VecVirtual) { VMOVUPS(v, pr.point(nu)) })
				if xi < 5 {
					pr.next()
				}
			}
		}
	}, func() {
		ADDQ(U32(4*width), src.b0)
		ADDQ(U32(4*width), src.b1)
		ADDQ(U32(width), d)
	})
}

// genWinogradOutput emits the output transform Aᵀ m A + bias (then ReLU)
// of n tiles.
func genWinogradOutput(name string, w winoISA) {
	width := 4 * w.lanes
	TEXT(name, NOSPLIT, "func(dst []float32, ld int, src []float32, srcStride, n int, bias float32, relu bool)")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets dst[i*ld+4*t+j] = (Aᵀ m A)[i][j] + bias for t < n, i, j < 4 and the", name),
		"6×6 tiles m[p/6][p%6] = src[p*srcStride+t], then max(·, 0) if relu (Winograd",
		fmt.Sprintf("F(4×4, 3×3)'s output transform), %d tiles at a time (%s). n is a multiple", w.lanes, w.isa),
		fmt.Sprintf("of %d; the caller guarantees len(src) ≥ 35*srcStride+n and len(dst) ≥ 3*ld+4*n;", w.lanes),
		"lengths are not checked.",
	)
	Commentf("register pressure: %s", w.pressure(5, 6, 4))
	// Rows 6ξ+ν of src: a base for ν, a row apart, and ξ's offsets of 0, 6,
	// 12, 18, 24 and 30 rows.
	s := Load(Param("src").Base(), GP64()).(GPVirtual)
	ss, s6, s18, s30 := Load(Param("srcStride"), GP64()).(GPVirtual), GP64(), GP64(), GP64()
	SHLQ(U8(2), ss)
	IMUL3Q(U8(6), ss, s6)
	LEAQ(Mem{Base: s6, Index: s6, Scale: 2}, s18)
	LEAQ(Mem{Base: s18, Index: s6, Scale: 2}, s30)
	sn := GP64()
	dst := Load(Param("dst").Base(), GP64()).(GPVirtual)
	ld := Load(Param("ld"), GP64()).(GPVirtual)
	SHLQ(U8(2), ld)
	n := Load(Param("n"), GP64()).(GPVirtual)
	k := winoConsts{c2: broadcastF32(2, w.vec), c4: broadcastF32(4, w.vec), c8: broadcastF32(8, w.vec)}
	bias := w.vec()
	VBROADCASTSS(Load(Param("bias"), XMM()), bias)
	// The floor is 0 with relu and −∞ without: max(floor, v) is then v,
	// NaN included (vmaxps returns its second operand on a NaN).
	fl, floor := Load(Param("relu"), GP32()).(GPVirtual), XMM()
	DECL(fl)
	ANDL(U32(math.Float32bits(float32(math.Inf(-1)))), fl)
	VMOVD(fl, floor)
	flv := w.vec()
	VBROADCASTSS(floor, flv)
	interleave := w.interleave()
	ld3 := GP64()
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	out := func(i, disp int) Mem { // output row i
		switch i {
		case 0:
			return Mem{Base: dst, Disp: disp}
		case 3:
			return Mem{Base: dst, Index: ld3, Scale: 1, Disp: disp}
		}
		return Mem{Base: dst, Index: ld, Scale: uint8(i), Disp: disp}
	}
	row := func(xi int) Mem {
		switch xi {
		case 0:
			return Mem{Base: sn}
		case 3:
			return Mem{Base: sn, Index: s18, Scale: 1}
		case 5:
			return Mem{Base: sn, Index: s30, Scale: 1}
		}
		return Mem{Base: sn, Index: s6, Scale: uint8(xi)}
	}
	bandLoop(w, n, func() {
		for _, is := range rowSets(w.pairs, [][]int{{0, 2}, {1, 3}}) {
			MOVQ(s, sn)
			p := make([][6]VecVirtual, len(is))
			for nu := range 6 {
				for r, o := range verticalAT(is, newRows(row, w.vec, len(is) > 1), k) {
					p[r][nu] = o
				}
				if nu < 5 {
					ADDQ(ss, sn)
				}
			}
			for r, i := range is {
				o := horizontalAT(p[r], w.vec, k)
				for j := range o {
					VADDPS(bias, o[j], o[j])
					VMAXPS(o[j], flv, o[j])
				}
				interleave(o, func(disp int) Mem { return out(i, disp) })
			}
		}
	}, func() {
		ADDQ(U32(width), s)
		ADDQ(U32(4*width), dst)
	})
}
