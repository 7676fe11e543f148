package main

import (
	"fmt"

	"github.com/simdconv/simdconv/asm/internal/table"
)

// StencilRows and DotsRows, as on amd64 (asm/amd64/stencil_rows.go): a
// block of output channels shares each shifted load of x. stencilRows is
// an outer product, rows channels × nv vectors of outputs, whose weights
// of four channels sit in one register (LD1) for FMLA by element;
// dotsRows keeps rows × taps dot products, summed lane-wise and added
// pairwise (FADDP) at the end.

// The NEON row kernels' blocks: 8 rows × 3 vectors (24 accumulators, 3 x,
// 2 weights) and 3 rows × 8 taps (24 accumulators, 3 a, 2 x).
const (
	rowsMR    = 8
	rowsMaxNV = 8
	dotsRowMR = 3
	dotsRowNT = 8
)

func stencilRowsDoc(name string) string {
	return fmt.Sprintf(`%s sets y[k*ldy+j*ldyl+i] = bias[k] + Σ_{t<len(off)} w[t*ldw+k]·x[off[t]+j*ldxl+i]
for k < rows ≤ %d, j < lines and i < n, n a multiple of 16, with fused
multiply-adds in tap order: an outer product of the rows' weights and vectors
of x, up to %d rows × %d vectors a pass over the taps. Lines go in order, each
stored whole before the next, so a line's n may run into the next one's start.

The caller guarantees lines ≥ 1, len(off) ≥ 1, len(bias) ≥ rows, len(w) ≥
(len(off)−1)·ldw + rows, len(y) ≥ (rows−1)·ldy + (lines−1)·ldyl + n, and off[t]
≥ 0 and off[t] + (lines−1)·ldxl + n ≤ len(x) for every t; lengths are not
checked.`, name, rowsMR, rowsMR, stencilRowsNV(rowsMR))
}

func dotsRowsDoc(name string) string {
	return fmt.Sprintf(`%s sets d[k*ldd+t], for k < rows ≤ %d and t < len(off) ≤ %d, to
the sum over lines j < lines of the dot products of a[k*lda+j*ldal:][:n] with
x[off[t]+j*ldxl:][:n]: the products are summed in 4 lanes and the lanes then
added pairwise, (l0+l1) + (l2+l3). A line's last n mod 4 floats are a vector
ending at the line's end, whose lanes before them mask zeroes: mask holds the
vector's lanes, all bits clear or set.

The caller guarantees lines ≥ 1, n ≥ 4 unless n is a multiple of 4, len(off) ≥
1, len(d) ≥ (rows−1)·ldd + len(off), len(a) ≥ (rows−1)·lda + (lines−1)·ldal + n,
off[t] ≥ 0 and off[t] + (lines−1)·ldxl + n ≤ len(x), and that x is finite where
it meets a masked lane; lengths are not checked.`, name, dotsRowMR, dotsRowNT)
}

// weightRegs is the registers r rows' weights of one tap take: one per
// four channels (LD1), and one per channel left (LD1R), so that no load
// reads past the block's weights.
func weightRegs(r int) int { return r/4 + r%4 }

// stencilRowsNV is the vectors of outputs a pass of r rows holds: the
// most that fit r·nv accumulators, nv of x and the weights.
func stencilRowsNV(r int) int {
	nv := rowsMaxNV
	for nv > 1 && r*nv+nv+weightRegs(r) > 32 {
		nv--
	}
	return nv
}

// ld1 loads count registers from first at ptr, 4 an instruction, and
// leaves ptr after them.
func ld1(e *emitter, ptr string, first, count int) {
	for g := 0; g < count; g += 4 {
		c := min(4, count-g)
		e.op("VLD1.P", fmt.Sprintf("%d(%s)", 16*c, ptr), vlist(first+g, c))
	}
}

// st1 stores count registers from first at ptr, as ld1 loads them.
func st1(e *emitter, ptr string, first, count int) {
	for g := 0; g < count; g += 4 {
		c := min(4, count-g)
		e.op("VST1.P", vlist(first+g, c), fmt.Sprintf("%d(%s)", 16*c, ptr))
	}
}

// genStencilRowsNEON emits func name(y []float32, ldy int, x, w []float32,
// ldw int, off []int, n, rows int, bias []float32, lines, ldxl, ldyl int):
// a body per row count.
func genStencilRowsNEON(e *emitter, name string) error {
	const rrows = "R9"
	e.printf("// func %s(%s)\n", name, table.StencilRows.Params)
	e.printf("//\n")
	e.printf("// Register use, for r rows of nv vectors: V0… the weights, then nv of x,\n")
	e.printf("// V(32−r·nv)-V31 accumulators; R0 y, R1 ldy·4, R2 x, R3 w, R4 ldw·4 less the\n")
	e.printf("// weights' bytes, R5 off, R6 its end, R7 n, R8 bias, R9-R13 loops, R14 lines\n")
	e.printf("// left, R15 and R16 the steps from a line's end in x and y to the next's start.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-176\n", name)
	e.op("MOVD", "rows+120(FP)", rrows)
	for r := 1; r <= rowsMR; r++ {
		e.op("CMP", fmt.Sprintf("$%d", r), rrows)
		e.op("BEQ", fmt.Sprintf("%s_rows%d", name, r))
	}
	e.op("RET")
	for r := 1; r <= rowsMR; r++ {
		e.label(fmt.Sprintf("%s_rows%d", name, r))
		stencilRowsBodyNEON(e, name, r)
		e.op("RET")
	}
	e.blank()
	return nil
}

func stencilRowsBodyNEON(e *emitter, name string, r int) {
	const (
		ry, rldy, rx, rw, rstep, roff, rend, rn, rbias = "R0", "R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8"
		rop, rwp, rxp, rrow, rp                        = "R9", "R10", "R11", "R12", "R13"
		rlines, rxstep, rystep                         = "R14", "R15", "R16"
	)
	e.op("MOVD", "y_base+0(FP)", ry)
	e.op("MOVD", "ldy+24(FP)", rldy)
	e.op("LSL", "$2", rldy, rldy)
	e.op("MOVD", "x_base+32(FP)", rx)
	e.op("MOVD", "w_base+56(FP)", rw)
	e.op("MOVD", "ldw+80(FP)", rstep)
	e.op("LSL", "$2", rstep, rstep)
	e.op("SUB", fmt.Sprintf("$%d", 4*r), rstep, rstep) // the weight loads advance 4·r bytes
	e.op("MOVD", "off_base+88(FP)", roff)
	e.op("MOVD", "off_len+96(FP)", rend)
	e.op("ADD", rend+"<<3", roff, rend)
	e.op("MOVD", "n+112(FP)", rn)
	e.op("MOVD", "bias_base+128(FP)", rbias)
	e.op("MOVD", "lines+152(FP)", rlines)
	for _, st := range [][2]string{{"ldxl+160(FP)", rxstep}, {"ldyl+168(FP)", rystep}} {
		e.op("MOVD", st[0], st[1])
		e.op("SUB", rn, st[1], st[1])
		e.op("LSL", "$2", st[1], st[1])
	}
	line, end := fmt.Sprintf("%s_line%d", name, r), fmt.Sprintf("%s_end%d", name, r)
	e.label(line)

	quads := r / 4
	wregs := weightRegs(r)
	pass := func(label string, nv int) {
		xs, acc := wregs, 32-r*nv
		accReg := func(k, v int) int { return acc + k*nv + v }
		e.op("MOVD", rbias, rp)
		for k := range r {
			e.op("VLD1R.P", "4("+rp+")", "["+v(accReg(k, 0))+"]")
			for j := 1; j < nv; j++ {
				e.op("VMOV", fmt.Sprintf("V%d.B16", accReg(k, 0)), fmt.Sprintf("V%d.B16", accReg(k, j)))
			}
		}
		e.op("MOVD", roff, rop)
		e.op("MOVD", rw, rwp)
		e.label(label)
		e.op("MOVD.P", "8("+rop+")", rxp)
		e.op("ADD", rxp+"<<2", rx, rxp)
		ld1(e, rwp, 0, quads)
		for j := quads; j < wregs; j++ {
			e.op("VLD1R.P", "4("+rwp+")", "["+v(j)+"]")
		}
		e.op("ADD", rstep, rwp, rwp)
		ld1(e, rxp, xs, nv)
		for k := range r {
			for j := range nv {
				if k < 4*quads {
					e.inst(fmlaElem(vreg(accReg(k, j)), vreg(xs+j), vreg(k/4), s4, k%4))
				} else {
					e.op("VFMLA", v(quads+k-4*quads), v(xs+j), v(accReg(k, j)))
				}
			}
		}
		e.op("CMP", rend, rop)
		e.op("BNE", label)
		e.op("MOVD", ry, rrow)
		for k := range r {
			e.op("MOVD", rrow, rp)
			st1(e, rp, accReg(k, 0), nv)
			if k < r-1 {
				e.op("ADD", rldy, rrow, rrow)
			}
		}
		e.op("ADD", fmt.Sprintf("$%d", 16*nv), rx, rx)
		e.op("ADD", fmt.Sprintf("$%d", 16*nv), ry, ry)
		e.op("SUB", fmt.Sprintf("$%d", 4*nv), rn, rn)
	}

	nv := stencilRowsNV(r)
	block, tail := fmt.Sprintf("%s_block%d", name, r), fmt.Sprintf("%s_tail%d", name, r)
	split, next := fmt.Sprintf("%s_split%d", name, r), fmt.Sprintf("%s_next%d", name, r)
	e.label(block)
	e.op("CMP", fmt.Sprintf("$%d", 4*2*nv), rn)
	e.op("BLT", split)
	pass(fmt.Sprintf("%s_taps%dx%d", name, r, nv), nv)
	e.op("B", block)
	e.label(split)
	for _, sp := range splitPasses(nv) {
		v := sp[0] + sp[1]
		skip := fmt.Sprintf("%s_split%dv%d", name, r, v)
		e.op("CMP", fmt.Sprintf("$%d", 4*v), rn)
		e.op("BNE", skip)
		pass(fmt.Sprintf("%s_taps%dv%da", name, r, v), sp[0])
		pass(fmt.Sprintf("%s_taps%dv%db", name, r, v), sp[1])
		e.op("B", next)
		e.label(skip)
	}
	e.op("CMP", fmt.Sprintf("$%d", 4*nv), rn)
	e.op("BLT", tail)
	pass(fmt.Sprintf("%s_taps%dx%dlast", name, r, nv), nv)
	e.op("B", next)
	e.label(tail)
	for _, p := range tailPasses(nv, 4) {
		skip := fmt.Sprintf("%s_skip%dx%d", name, r, p)
		e.op("CMP", fmt.Sprintf("$%d", 4*p), rn)
		e.op("BLT", skip)
		pass(fmt.Sprintf("%s_taps%dx%d", name, r, p), p)
		e.label(skip)
	}
	e.label(next)
	// The next line: x and y have moved n floats along this one.
	e.op("SUBS", "$1", rlines, rlines)
	e.op("BEQ", end)
	e.op("MOVD", "n+112(FP)", rn)
	e.op("ADD", rxstep, rx, rx)
	e.op("ADD", rystep, ry, ry)
	e.op("B", line)
	e.label(end)
}

// genDotsRowsNEON emits func name(d []float32, ldd int, a []float32, lda
// int, x []float32, off []int, n, rows int): a body per block shape, each
// with its accumulators, a pointers and x pointers in registers.
func genDotsRowsNEON(e *emitter, name string) error {
	const rrows, rtaps = "R0", "R1"
	e.printf("// func %s(%s)\n", name, table.DotsRows.Params)
	e.printf("//\n")
	e.printf("// Register use, for r rows × nt taps: V0… a, then two of x in turn,\n")
	e.printf("// V(32−r·nt)-V31 accumulators; R2 x, R3 off, R4 n then ldd·4, R5 lda then\n")
	e.printf("// d, R6-R8 a's rows, R9-R16 x at each tap's offset, R17 a row of d; V(r+2)\n")
	e.printf("// the tail's mask, R0 the tail's step back, R1 n mod 4, R19 and R20 the steps\n")
	e.printf("// from a line's end in a and x to the next's start, R21 lines left, R22 the\n")
	e.printf("// mask's address, R23 a line's floats in whole vectors.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-176\n", name)
	e.op("MOVD", "rows+120(FP)", rrows)
	e.op("MOVD", "off_len+96(FP)", rtaps)
	for r := 1; r <= dotsRowMR; r++ {
		e.op("CMP", fmt.Sprintf("$%d", r), rrows)
		e.op("BEQ", fmt.Sprintf("%s_rows%d", name, r))
	}
	e.op("RET")
	for r := 1; r <= dotsRowMR; r++ {
		e.label(fmt.Sprintf("%s_rows%d", name, r))
		for nt := 1; nt <= dotsRowNT; nt++ {
			e.op("CMP", fmt.Sprintf("$%d", nt), rtaps)
			e.op("BEQ", fmt.Sprintf("%s_block%dx%d", name, r, nt))
		}
		e.op("RET")
	}
	for r := 1; r <= dotsRowMR; r++ {
		for nt := 1; nt <= dotsRowNT; nt++ {
			e.label(fmt.Sprintf("%s_block%dx%d", name, r, nt))
			dotsRowsBlockNEON(e, name, r, nt)
			e.op("RET")
		}
	}
	e.blank()
	return nil
}

func dotsRowsBlockNEON(e *emitter, name string, r, nt int) {
	const rx, roff, rn, rd, rdp = "R2", "R3", "R4", "R5", "R17"
	const rback, rrem, rastep, rxstep, rlines, rmask, rfull = "R0", "R1", "R19", "R20", "R21", "R22", "R23"
	aPtr := func(k int) string { return fmt.Sprintf("R%d", 6+k) }
	xPtr := func(t int) string { return fmt.Sprintf("R%d", 9+t) }
	acc := 32 - r*nt
	accReg := func(k, t int) int { return acc + k*nt + t }
	mask := r + 2
	e.op("MOVD", "x_base+64(FP)", rx)
	e.op("MOVD", "off_base+88(FP)", roff)
	e.op("MOVD", "n+112(FP)", rn)
	e.op("MOVD", "a_base+32(FP)", aPtr(0))
	e.op("MOVD", "lda+56(FP)", rd)
	for k := 1; k < r; k++ {
		e.op("ADD", rd+"<<2", aPtr(k-1), aPtr(k))
	}
	for t := range nt {
		e.op("MOVD", fmt.Sprintf("%d(%s)", 8*t, roff), xPtr(t))
		e.op("ADD", xPtr(t)+"<<2", rx, xPtr(t))
	}
	// Per line: whole vectors, then if n mod 4 ≠ 0 the vector ending the
	// line, 16 − 4·(n mod 4) bytes back, its first lanes masked off. Each
	// pointer then stands at its line's start + 4·n.
	e.op("AND", "$3", rn, rrem)
	e.op("AND", "$-4", rn, rfull)
	e.op("MOVD", "$16", rback)
	e.op("SUB", rrem+"<<2", rback, rback)
	for _, st := range [][2]string{{"ldal+136(FP)", rastep}, {"ldxl+144(FP)", rxstep}} {
		e.op("MOVD", st[0], st[1])
		e.op("SUB", rn, st[1], st[1])
		e.op("LSL", "$2", st[1], st[1])
	}
	e.op("MOVD", "lines+128(FP)", rlines)
	e.op("MOVD", "mask_base+152(FP)", rmask)
	e.op("VLD1", "("+rmask+")", vlist(mask, 1))
	for k := range r {
		for t := range nt {
			b := fmt.Sprintf("V%d.B16", accReg(k, t))
			e.op("VEOR", b, b, b)
		}
	}
	label := func(s string) string { return fmt.Sprintf("%s_%s%dx%d", name, s, r, nt) }
	step := func(masked bool) {
		for k := range r {
			e.op("VLD1.P", "16("+aPtr(k)+")", vlist(k, 1))
			if masked {
				e.op("VAND", fmt.Sprintf("V%d.B16", mask), fmt.Sprintf("V%d.B16", k), fmt.Sprintf("V%d.B16", k))
			}
		}
		for t := range nt {
			xr := r + t%2 // alternate, so a load need not wait for the FMLAs before
			e.op("VLD1.P", "16("+xPtr(t)+")", vlist(xr, 1))
			for k := range r {
				e.op("VFMLA", v(k), v(xr), v(accReg(k, t)))
			}
		}
	}
	e.label(label("line"))
	e.op("MOVD", rfull, rn)
	e.op("CBZ", rn, label("tail"))
	e.label(label("loop"))
	step(false)
	e.op("SUBS", "$4", rn, rn)
	e.op("BNE", label("loop"))
	e.label(label("tail"))
	e.op("CBZ", rrem, label("next"))
	for k := range r {
		e.op("SUB", rback, aPtr(k), aPtr(k))
	}
	for t := range nt {
		e.op("SUB", rback, xPtr(t), xPtr(t))
	}
	step(true)
	e.label(label("next"))
	e.op("SUBS", "$1", rlines, rlines)
	e.op("BEQ", label("end"))
	for k := range r {
		e.op("ADD", rastep, aPtr(k), aPtr(k))
	}
	for t := range nt {
		e.op("ADD", rxstep, xPtr(t), xPtr(t))
	}
	e.op("B", label("line"))
	e.label(label("end"))

	// Four taps' sums at a time: pairs of lanes of two taps, then of the
	// pairs; a single tap's the same way with itself.
	e.op("MOVD", "ldd+24(FP)", rn)
	e.op("LSL", "$2", rn, rn)
	e.op("MOVD", "d_base+0(FP)", rd)
	for k := range r {
		e.op("MOVD", rd, rdp)
		t := 0
		for ; t+4 <= nt; t += 4 {
			e.inst(faddpVec(0, vreg(accReg(k, t)), vreg(accReg(k, t+1)), s4))
			e.inst(faddpVec(1, vreg(accReg(k, t+2)), vreg(accReg(k, t+3)), s4))
			e.inst(faddpVec(0, 0, 1, s4))
			e.op("VST1.P", vlist(0, 1), "16("+rdp+")")
		}
		for ; t < nt; t++ {
			a := vreg(accReg(k, t))
			e.inst(faddpVec(a, a, a, s4))
			e.inst(faddpVec(a, a, a, s2))
			e.op("FMOVS.P", fmt.Sprintf("F%d", a), "4("+rdp+")")
		}
		if k < r-1 {
			e.op("ADD", rn, rd, rd)
		}
	}
}

// splitPasses is the pairs of passes that take the v vectors left at the
// end of a row, nv < v < 2·nv: two of about v/2 each, where a pass of nv
// would leave a narrow one, as on amd64.
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
