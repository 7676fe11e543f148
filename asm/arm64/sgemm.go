package main

import (
	"fmt"
	"strings"

	"github.com/simdconv/simdconv/asm/internal/table"
)

// sgemmUnroll is how many k steps one pass of the main loop computes.
const sgemmUnroll = 4

// sgemmArgBytes is the frame of table.Tile's arguments: three slices and
// two ints.
const sgemmArgBytes = 3*24 + 2*8

// v names V<r>.S4.
func v(r int) string { return fmt.Sprintf("V%d.S4", r) }

// vlist names count consecutive registers from first as a VLD1/VST1 list.
func vlist(first, count int) string {
	regs := make([]string, count)
	for i := range regs {
		regs[i] = v(first + i)
	}
	return "[" + strings.Join(regs, ", ") + "]"
}

// sgemmRegs is the register plan of an mr×nr tile.
type sgemmRegs struct {
	a, b, acc int // first V register of A (mr/4), B (nr/4), accumulators
	nA, nB    int
	tmp       [2]int // epilogue temporaries, nB each; alternate rows
}

func planSgemm(mr, nr int) (sgemmRegs, error) {
	var p sgemmRegs
	if mr%4 != 0 || nr%4 != 0 || mr <= 0 || nr <= 0 {
		return p, fmt.Errorf("sgemm tile %dx%d: mr and nr must be positive multiples of 4", mr, nr)
	}
	p.nA, p.nB = mr/4, nr/4
	if p.nA > 4 || p.nB > 4 {
		return p, fmt.Errorf("sgemm tile %dx%d: VLD1 loads at most 4 registers", mr, nr)
	}
	nAcc := mr * nr / 4
	p.a, p.b, p.acc = 0, p.nA, 32-nAcc
	if p.b+p.nB > p.acc {
		return p, fmt.Errorf("sgemm tile %dx%d: needs %d accumulators + %d A + %d B > 32 V registers",
			mr, nr, nAcc, p.nA, p.nB)
	}
	// The epilogue reuses V0.. as temporaries: two sets if they fit.
	p.tmp = [2]int{0, 0}
	if 2*p.nB <= p.acc {
		p.tmp[1] = p.nB
	}
	return p, nil
}

// accReg is the accumulator for rows i, columns 4j..4j+3 of the tile.
func (p sgemmRegs) accReg(i, j int) vreg { return vreg(p.acc + i*p.nB + j) }

// genSgemmNEON emits func name(a, b, c []float32, k, ldc int), which adds
// the product of a packed mr-wide A sliver and a packed nr-wide B sliver
// (k steps each) to the rows×nr block of row-major c with row stride ldc:
// rows is mr for the tile, less for a row edge, which computes only the
// tile's first rows rows (a block's last ones).
func genSgemmNEON(e *emitter, name string, mr, nr, rows int) error {
	p, err := planSgemm(mr, nr)
	if err != nil {
		return err
	}
	if rows < 1 || rows > mr {
		return fmt.Errorf("sgemm tile %dx%d: %d rows", mr, nr, rows)
	}
	const (
		ra   = "R0" // a, advanced by VLD1.P
		rb   = "R1" // b, advanced by VLD1.P
		rc   = "R2" // c
		rk   = "R3" // k, then k mod unroll
		rldc = "R4" // ldc in bytes
		rn   = "R5" // unrolled iterations left
		rld  = "R6" // c row being loaded (and prefetched)
		rst  = "R7" // c row being stored
	)
	aBytes, bBytes := mr*4, nr*4

	e.printf("// func %s(%s)\n", name, table.Tile.Params)
	e.printf("//\n")
	e.printf("// Tile %dx%d, rows 0-%d, k unrolled by %d. Register use:\n", mr, nr, rows-1, sgemmUnroll)
	e.printf("//   V%d-V%d  accumulators (%d): row i, columns 4j..4j+3 in V(%d+%d*i+j)\n",
		p.acc, 31, mr*nr/4, p.acc, p.nB)
	e.printf("//   V%d-V%d   A, %d floats of one k step (lane i%%4 of V%d+i/4)\n", p.a, p.a+p.nA-1, mr, p.a)
	e.printf("//   V%d-V%d   B, %d floats of one k step\n", p.b, p.b+p.nB-1, nr)
	if free := p.acc - (p.b + p.nB); free > 0 {
		e.printf("//   V%d-V%d   unused in the loop (%d)\n", p.b+p.nB, p.acc-1, free)
	}
	e.printf("//   V%d-V%d   epilogue: c rows loaded, summed and stored\n", 0, p.tmp[1]+p.nB-1)
	e.printf("//   R0 a, R1 b, R2 c, R3 k (then k%%%d), R4 ldc*4, R5 k/%d, R6/R7 c load/store row\n",
		sgemmUnroll, sgemmUnroll)
	e.printf("//   %d of 32 V registers live in the loop; no R18, R26-R30.\n", p.acc0Live())
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-%d\n", name, sgemmArgBytes)
	e.op("MOVD", "a_base+0(FP)", ra)
	e.op("MOVD", "b_base+24(FP)", rb)
	e.op("MOVD", "c_base+48(FP)", rc)
	e.op("MOVD", "k+72(FP)", rk)
	e.op("MOVD", "ldc+80(FP)", rldc)
	e.op("LSL", "$2", rldc, rldc)

	e.comment("Prefetch the %d rows of c for writing.", rows)
	e.op("MOVD", rc, rld)
	for i := 0; i < rows; i++ {
		e.op("PRFM", "("+rld+")", "PSTL1KEEP")
		e.op("PRFM", fmt.Sprintf("%d(%s)", (nr-1)*4/8*8, rld), "PSTL1KEEP")
		if i < rows-1 {
			e.op("ADD", rldc, rld, rld)
		}
	}

	e.comment("Zero the accumulators.")
	for r := p.acc; r < int(p.accReg(rows, 0)); r++ {
		b := fmt.Sprintf("V%d.B16", r)
		e.op("VEOR", b, b, b)
	}

	step := func() {
		e.op("VLD1.P", fmt.Sprintf("%d(%s)", aBytes, ra), vlist(p.a, p.nA))
		e.op("VLD1.P", fmt.Sprintf("%d(%s)", bBytes, rb), vlist(p.b, p.nB))
		// Column block outermost: consecutive FMLAs reuse one B register
		// and write different accumulators.
		for j := 0; j < p.nB; j++ {
			for i := 0; i < rows; i++ {
				e.inst(fmlaElem(p.accReg(i, j), vreg(p.b+j), vreg(p.a+i/4), s4, i%4))
			}
		}
	}

	e.op("LSR", fmt.Sprintf("$%d", log2(sgemmUnroll)), rk, rn)
	e.op("AND", fmt.Sprintf("$%d", sgemmUnroll-1), rk, rk)
	e.op("CBZ", rn, name+"_tail")
	e.blank()
	e.label(name + "_loop")
	e.comment("%d k steps: %d FMLA, %d loads.", sgemmUnroll, sgemmUnroll*rows*p.nB, sgemmUnroll*2)
	// One pass reads sgemmUnroll*aBytes of a and *bBytes of b; prefetch the
	// lines of the pass after next. PRFM never faults, even past the end.
	for off := 0; off < sgemmUnroll*aBytes; off += 64 {
		e.op("PRFM", fmt.Sprintf("%d(%s)", 2*sgemmUnroll*aBytes+off, ra), "PLDL1KEEP")
	}
	for off := 0; off < sgemmUnroll*bBytes; off += 64 {
		e.op("PRFM", fmt.Sprintf("%d(%s)", 2*sgemmUnroll*bBytes+off, rb), "PLDL1KEEP")
	}
	for u := 0; u < sgemmUnroll; u++ {
		step()
	}
	e.op("SUBS", "$1", rn, rn)
	e.op("BNE", name+"_loop")
	e.blank()
	e.label(name + "_tail")
	e.op("CBZ", rk, name+"_store")
	e.label(name + "_tailloop")
	e.comment("One k step.")
	step()
	e.op("SUBS", "$1", rk, rk)
	e.op("BNE", name+"_tailloop")
	e.blank()
	e.label(name + "_store")
	e.comment("c row i += accumulators of row i.")
	e.op("MOVD", rc, rld)
	e.op("MOVD", rc, rst)
	for i := 0; i < rows; i++ {
		t := p.tmp[i%2]
		e.op("VLD1.P", fmt.Sprintf("(%s)(%s)", rld, rldc), vlist(t, p.nB))
		for j := 0; j < p.nB; j++ {
			e.inst(faddVec(vreg(t+j), vreg(t+j), p.accReg(i, j), s4))
		}
		e.op("VST1.P", vlist(t, p.nB), fmt.Sprintf("(%s)(%s)", rst, rldc))
	}
	e.op("RET")
	e.blank()
	return nil
}

// acc0Live counts the V registers used in the k loop.
func (p sgemmRegs) acc0Live() int { return p.nA + p.nB + (32 - p.acc) }

func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
