package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/simdconv/simdconv/asm/internal/table"
)

// StencilRows and DotsRows (stencil_rows.go in package simdconv) serve
// layers with few input channels: a block of output channels shares each
// shifted load of x.
//
//   - stencilRows is an outer product with B read straight from x: rows
//     channels × nv vectors of outputs in accumulators; per tap, rows
//     broadcast weights and nv loads of x feed rows·nv FMAs.
//   - dotsRows is its transpose: rows × taps accumulators, each a dot
//     product summed lane-wise along i; per vector step, rows loads of a and
//     taps loads of x feed rows·taps FMAs, and the lanes are added at the end.
//
// Each kernel does one block of rows ≤ mr (and of taps ≤ nt), with a body
// per count, so the driver loops over blocks and no count needs padding.

// rowsISA is an ISA's register budget and tiles for the row kernels.
type rowsISA struct {
	lanes int
	regs  int // vector registers
	mr    int // stencilRows: rows a call
	maxNV int // stencilRows: most vectors of outputs a pass
	dotMR int // dotsRows: rows a call, at most 3 (a's rows are one base and a stride)
	dotNT int // dotsRows: taps a call
}

// AVX-512: 8×3 zmm for 8 rows, 3×9 for the dots; AVX2: 4×3 and 2×6 ymm.
var (
	rowsAVX512 = rowsISA{lanes: 16, regs: 32, mr: 8, maxNV: 8, dotMR: 3, dotNT: 9}
	rowsAVX2   = rowsISA{lanes: 8, regs: 16, mr: 4, maxNV: 8, dotMR: 2, dotNT: 6}
)

// stencilNV is the vectors of outputs a pass of r rows holds: the most
// that fit r·nv accumulators, the min(r, nv) operands reused across the
// other dimension and one temporary.
func (ri rowsISA) stencilNV(r int) int {
	nv := ri.maxNV
	for nv > 1 && r*nv+min(r, nv)+1 > ri.regs {
		nv--
	}
	return nv
}

// genStencilRows emits y[k·ldy+j·ldyl+i] = bias[k] + Σ_t w[t·ldw+k]·x[off[t]+j·ldxl+i]
// for k < rows ≤ ri.mr, j < lines and i < n, n a multiple of 16.
func genStencilRows(name string, ri rowsISA) {
	vec, isa := vectors(ri.lanes)
	width := 4 * ri.lanes
	TEXT(name, NOSPLIT, "func("+table.StencilRows.Params+")")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets y[k*ldy+j*ldyl+i] = bias[k] + Σ_{t<len(off)} w[t*ldw+k]·x[off[t]+j*ldxl+i]", name),
		fmt.Sprintf("for k < rows ≤ %d, j < lines and i < n, n a multiple of 16 (%s), with fused", ri.mr, isa),
		"multiply-adds in tap order: an outer product of the rows' weights and vectors of x,",
		fmt.Sprintf("up to %d rows × %d vectors a pass over the taps. Lines go in order, each", ri.mr, ri.stencilNV(ri.mr)),
		"stored whole before the next, so a line's n may run into the next one's start.",
		"",
		"The caller guarantees lines ≥ 1, len(off) ≥ 1, len(bias) ≥ rows, len(w) ≥",
		"(len(off)−1)·ldw + rows, len(y) ≥ (rows−1)·ldy + (lines−1)·ldyl + n, and off[t] ≥ 0",
		"and off[t] + (lines−1)·ldxl + n ≤ len(x) for every t; lengths are not checked.",
	)
	Commentf("register pressure: rows·nv accumulators + min(rows, nv) operands + 1 (%d rows × %d vectors: %d of %d); 13 GP",
		ri.mr, ri.stencilNV(ri.mr), ri.mr*ri.stencilNV(ri.mr)+min(ri.mr, ri.stencilNV(ri.mr))+1, ri.regs)
	rows := Load(Param("rows"), GP64())
	for r := 1; r <= ri.mr; r++ {
		CMPQ(rows, U32(r))
		JE(LabelRef(fmt.Sprintf("rows%d", r)))
	}
	JMP(LabelRef("done"))
	for r := 1; r <= ri.mr; r++ {
		Label(fmt.Sprintf("rows%d", r))
		stencilRowsBody(r, ri, vec, width)
		JMP(LabelRef("done"))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// stencilRowsBody emits the line loop of r rows, and in it the column
// loop: passes of nv vectors, then at most one each of tailPasses for the
// rest.
func stencilRowsBody(r int, ri rowsISA, vec func() VecVirtual, width int) {
	y := Load(Param("y").Base(), GP64())
	ldy := Load(Param("ldy"), GP64())
	SHLQ(U8(2), ldy)
	x := Load(Param("x").Base(), GP64())
	w := Load(Param("w").Base(), GP64())
	ldw := Load(Param("ldw"), GP64())
	SHLQ(U8(2), ldw)
	off := Load(Param("off").Base(), GP64())
	offEnd := Load(Param("off").Len(), GP64())
	LEAQ(Mem{Base: off, Index: offEnd, Scale: 8}, offEnd)
	n := Load(Param("n"), GP64())
	bias := Load(Param("bias").Base(), GP64())
	lines := Load(Param("lines"), GP64())
	line, end := fmt.Sprintf("line%d", r), fmt.Sprintf("end%d", r)
	Label(line)

	// pass emits one pass over the taps for nv vectors of outputs at y, x.
	pass := func(label string, nv int) {
		acc := make([][]VecVirtual, r)
		for k := range acc {
			acc[k] = make([]VecVirtual, nv)
			for v := range acc[k] {
				acc[k][v] = vec()
				if v == 0 {
					VBROADCASTSS(Mem{Base: bias, Disp: 4 * k}, acc[k][0])
				} else {
					VMOVAPS(acc[k][0], acc[k][v])
				}
			}
		}
		op, wp, o := GP64(), GP64(), GP64()
		MOVQ(off, op)
		MOVQ(w, wp)
		alignLoop()
		Label(label)
		MOVQ(Mem{Base: op}, o)
		xv := func(v int) Mem { return Mem{Base: x, Index: o, Scale: 4, Disp: width * v} }
		if r <= nv {
			// The rows' weights in registers, each vector of x loaded once
			// for the rows' FMAs (one row: straight from memory).
			ws := make([]VecVirtual, r)
			for k := range ws {
				ws[k] = vec()
				VBROADCASTSS(Mem{Base: wp, Disp: 4 * k}, ws[k])
			}
			for v := range nv {
				var xr Op = xv(v)
				if r > 1 {
					t := vec()
					VMOVUPS(xv(v), t)
					xr = t
				}
				for k := range r {
					VFMADD231PS(xr, ws[k], acc[k][v])
				}
			}
		} else {
			// The vectors of x in registers, each weight broadcast once for
			// its row's FMAs.
			xs := make([]VecVirtual, nv)
			for v := range xs {
				xs[v] = vec()
				VMOVUPS(xv(v), xs[v])
			}
			for k := range r {
				wk := vec()
				VBROADCASTSS(Mem{Base: wp, Disp: 4 * k}, wk)
				for v := range nv {
					VFMADD231PS(xs[v], wk, acc[k][v])
				}
			}
		}
		ADDQ(ldw, wp)
		ADDQ(U8(8), op)
		CMPQ(op, offEnd)
		JNE(LabelRef(label))
		row := GP64()
		MOVQ(y, row)
		for k := range r {
			for v := range nv {
				VMOVUPS(acc[k][v], Mem{Base: row, Disp: width * v})
			}
			if k < r-1 {
				ADDQ(ldy, row)
			}
		}
		ADDQ(U32(width*nv), x)
		ADDQ(U32(width*nv), y)
	}

	nv := ri.stencilNV(r)
	block, tail, next := fmt.Sprintf("block%d", r), fmt.Sprintf("tail%d", r), fmt.Sprintf("next%d", r)
	Label(block)
	CMPQ(n, U32(ri.lanes*2*nv))
	JL(LabelRef(fmt.Sprintf("split%d", r)))
	pass(fmt.Sprintf("taps%dx%d", r, nv), nv)
	SUBQ(U32(ri.lanes*nv), n)
	JMP(LabelRef(block))
	Label(fmt.Sprintf("split%d", r))
	for _, sp := range splitPasses(nv) {
		skip := fmt.Sprintf("split%dv%d", r, sp[0]+sp[1])
		CMPQ(n, U32(ri.lanes*(sp[0]+sp[1])))
		JNE(LabelRef(skip))
		pass(fmt.Sprintf("taps%dv%da", r, sp[0]+sp[1]), sp[0])
		pass(fmt.Sprintf("taps%dv%db", r, sp[0]+sp[1]), sp[1])
		JMP(LabelRef(next))
		Label(skip)
	}
	CMPQ(n, U32(ri.lanes*nv))
	JL(LabelRef(tail))
	pass(fmt.Sprintf("taps%dx%dlast", r, nv), nv)
	JMP(LabelRef(next))
	Label(tail)
	for _, p := range tailPasses(nv, 16/ri.lanes) {
		skip := fmt.Sprintf("skip%dx%d", r, p)
		CMPQ(n, U32(ri.lanes*p))
		JL(LabelRef(skip))
		pass(fmt.Sprintf("taps%dx%d", r, p), p)
		SUBQ(U32(ri.lanes*p), n)
		Label(skip)
	}
	Label(next)
	// The next line: x and y have moved n floats along this one.
	DECQ(lines)
	JZ(LabelRef(end))
	Load(Param("n"), n)
	step := Load(Param("ldxl"), GP64())
	SUBQ(n, step)
	SHLQ(U8(2), step)
	ADDQ(step, x)
	Load(Param("ldyl"), step)
	SUBQ(n, step)
	SHLQ(U8(2), step)
	ADDQ(step, y)
	JMP(LabelRef(line))
	Label(end)
}

// genDotsRows emits d[k·ldd+t] = Σ_{j<lines} Σ_{i<n} a[k·lda+j·ldal+i]·x[off[t]+j·ldxl+i]
// for k < rows ≤ ri.dotMR and t < len(off) ≤ ri.dotNT.
func genDotsRows(name string, ri rowsISA) {
	vec, isa := vectors(ri.lanes)
	width := 4 * ri.lanes
	if ri.dotMR > 3 {
		panic("dotsRows: a's rows are addressed as base + 0, 1 or 2 strides")
	}
	// Not NOSPLIT: the frame is over the nosplit stack limit.
	TEXT(name, 0, "func("+table.DotsRows.Params+")")
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets d[k*ldd+t], for k < rows ≤ %d and t < len(off) ≤ %d, to the sum over", name, ri.dotMR, ri.dotNT),
		"lines j < lines of the dot products of a[k*lda+j*ldal:][:n] with x[off[t]+j*ldxl:][:n]",
		fmt.Sprintf("(%s): the products are summed in %d lanes and the lanes then added in a fixed", isa, ri.lanes),
		fmt.Sprintf("order. A line's last n mod %d floats are a vector ending at the line's end, whose", ri.lanes),
		"lanes before them mask zeroes: mask holds the vector's lanes, all bits clear or set.",
		"",
		fmt.Sprintf("The caller guarantees lines ≥ 1, n ≥ %d unless n is a multiple of %d, len(off) ≥ 1,", ri.lanes, ri.lanes),
		"len(d) ≥ (rows−1)·ldd + len(off), len(a) ≥ (rows−1)·lda + (lines−1)·ldal + n, and off[t] ≥ 0",
		"and off[t] + (lines−1)·ldxl + n ≤ len(x), and that x is finite where it meets a masked lane;",
		"lengths are not checked.",
	)
	Commentf("register pressure: rows·taps accumulators + rows of a + 1 of x (%d×%d: %d of %d); up to %d GP",
		ri.dotMR, ri.dotNT, ri.dotMR*ri.dotNT+ri.dotMR+1, ri.regs, 4+ri.dotNT)
	// The accumulators go through the stack to one reduction loop, rather
	// than each block shape having its own reductions.
	frame := AllocLocal(width*ri.dotMR*ri.dotNT + 24) // the accumulators, then lines left and a line's a and x
	rows := Load(Param("rows"), GP64())
	taps := Load(Param("off").Len(), GP64())
	for r := 1; r <= ri.dotMR; r++ {
		CMPQ(rows, U32(r))
		JE(LabelRef(fmt.Sprintf("rows%d", r)))
	}
	JMP(LabelRef("done"))
	for r := 1; r <= ri.dotMR; r++ {
		Label(fmt.Sprintf("rows%d", r))
		for nt := 1; nt <= ri.dotNT; nt++ {
			CMPQ(taps, U32(nt))
			JE(LabelRef(fmt.Sprintf("block%dx%d", r, nt)))
		}
		JMP(LabelRef("done"))
	}
	for r := 1; r <= ri.dotMR; r++ {
		for nt := 1; nt <= ri.dotNT; nt++ {
			Label(fmt.Sprintf("block%dx%d", r, nt))
			dotsRowsBlock(r, nt, vec, width, ri.lanes, frame)
			JMP(LabelRef("reduce"))
		}
	}

	Label("reduce")
	d := Load(Param("d").Base(), GP64())
	ldd := Load(Param("ldd"), GP64())
	SHLQ(U8(2), ldd)
	rows = Load(Param("rows"), GP64())
	i := GP64()
	XORQ(i, i)
	Label("row")
	dp, t := GP64(), Load(Param("off").Len(), GP64())
	MOVQ(d, dp)
	Label("tap")
	v := vec()
	VMOVUPS(frame.Idx(i, 1), v) // i counts bytes of the frame
	VMOVSS(hsum(v, false), Mem{Base: dp})
	ADDQ(U8(4), dp)
	ADDQ(U32(width), i)
	DECQ(t)
	JNZ(LabelRef("tap"))
	ADDQ(ldd, d)
	DECQ(rows)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// dotsRowsBlock emits the loop of r rows × nt taps over the lines, and
// stores the accumulators to frame, row-major. The frame's last 24 bytes
// hold the lines left and the current line's a and x: the loop takes 13
// GP registers.
func dotsRowsBlock(r, nt int, vec func() VecVirtual, width, lanes int, frame Mem) {
	accBytes := width * r * nt
	linesLeft, aLine, xLine := frame.Offset(accBytes), frame.Offset(accBytes+8), frame.Offset(accBytes+16)
	a := Load(Param("a").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	x := Load(Param("x").Base(), GP64())
	off := Load(Param("off").Base(), GP64())
	o := make([]GPVirtual, nt)
	for t := range o {
		o[t] = GP64()
		MOVQ(Mem{Base: off, Disp: 8 * t}, o[t])
	}
	lines := Load(Param("lines"), GP64())
	MOVQ(lines, linesLeft)
	acc := make([][]VecVirtual, r)
	for k := range acc {
		acc[k] = make([]VecVirtual, nt)
		for t := range acc[k] {
			acc[k][t] = vec()
			zero(acc[k][t])
		}
	}
	// step emits one vector of every row and tap at a and x; mask, if not
	// nil, points at the vector that zeroes a's lanes.
	step := func(mask Register) {
		av := make([]VecVirtual, r)
		for k := range av {
			av[k] = vec()
			m := Mem{Base: a}
			if k > 0 {
				m.Index, m.Scale = lda, uint8(k)
			}
			VMOVUPS(m, av[k])
			if mask != nil {
				if lanes == 16 {
					VPANDD(Mem{Base: mask}, av[k], av[k])
				} else {
					VANDPS(Mem{Base: mask}, av[k], av[k])
				}
			}
		}
		for t := range nt {
			var xr Op = Mem{Base: x, Index: o[t], Scale: 4}
			if r > 1 {
				xt := vec()
				VMOVUPS(xr, xt)
				xr = xt
			}
			for k := range r {
				VFMADD231PS(xr, av[k], acc[k][t])
			}
		}
	}
	line, loop, tail, next, end := fmt.Sprintf("line%dx%d", r, nt), fmt.Sprintf("loop%dx%d", r, nt),
		fmt.Sprintf("tail%dx%d", r, nt), fmt.Sprintf("next%dx%d", r, nt), fmt.Sprintf("stored%dx%d", r, nt)
	Label(line)
	MOVQ(a, aLine)
	MOVQ(x, xLine)
	n := Load(Param("n"), GP64())
	ANDQ(I32(-lanes), n)
	JZ(LabelRef(tail))
	alignLoop()
	Label(loop)
	step(nil)
	ADDQ(U32(width), a)
	ADDQ(U32(width), x)
	SUBQ(U32(lanes), n)
	JNZ(LabelRef(loop))
	// The rest, rem floats: the vector that ends with the line, a's lanes
	// before them masked off.
	Label(tail)
	back := Load(Param("n"), GP64())
	ANDQ(U32(lanes-1), back)
	JZ(LabelRef(next))
	SUBQ(U32(lanes), back)
	SHLQ(U8(2), back) // −4·(lanes − rem)
	ADDQ(back, a)
	ADDQ(back, x)
	mask := Load(Param("mask").Base(), GP64())
	step(mask)
	Label(next)
	DECQ(linesLeft)
	JZ(LabelRef(end))
	for _, mv := range []struct {
		ptr  Register
		base Mem
		ld   string
	}{{a, aLine, "ldal"}, {x, xLine, "ldxl"}} {
		Load(Param(mv.ld), mv.ptr)
		SHLQ(U8(2), mv.ptr)
		ADDQ(mv.base, mv.ptr)
	}
	JMP(LabelRef(line))
	Label(end)
	for k := range r {
		for t := range nt {
			VMOVUPS(acc[k][t], frame.Offset(width*(k*nt+t)))
		}
	}
}

// splitPasses is the pairs of passes that take the v vectors left at the
// end of a row, nv < v < 2·nv: two of about v/2 each, where a pass of nv
// would leave a narrow one, whose few FMAs a load are bound by the loads.
func splitPasses(nv int) [][2]int {
	var ps [][2]int
	for v := nv + 1; v < 2*nv; v++ {
		ps = append(ps, [2]int{(v + 1) / 2, v / 2})
	}
	return ps
}

// tailPasses is the passes, widest first, that finish a row's vectors
// after passes of nv: the powers of two in the binary digits of the
// remainders that vectors in multiples of step leave, so that no pass is
// emitted that no n reaches.
func tailPasses(nv, step int) []int {
	var digits int
	for v := 0; v < nv*step; v += step {
		digits |= v % nv
	}
	var ps []int
	for p := 1; p < nv; p <<= 1 {
		if digits&p != 0 {
			ps = append([]int{p}, ps...)
		}
	}
	return ps
}
