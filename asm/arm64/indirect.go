package main

import "fmt"

// Indirect, as on amd64 (asm/amd64/indirect.go): tiles of output
// positions × vectors of output channels, x read through a pointer per
// position plus an offset per (channel, tap) step. A step loads the
// offset, a vector of the filter per block vector (LD1, post-indexed, one
// pointer each) and one float of x per position (FMOVS into lane 0), and
// multiplies by element.

// The NEON tile: 6 positions × 4 vectors of 4 channels, 24 accumulators
// (V8-V31), 4 of the filter (V0-V3), 4 of x in turn (V4-V7). Outputs load
// and store a vector at a time, each position at its own place in y.
const (
	indirectMR = 6
	indirectNV = 4
)

func indirectDoc(name string) string {
	return fmt.Sprintf(`%s computes, for each tile of %d positions (len(pos) a multiple of %d),
j < %d, v < nv and lane l < 4:

	y[v*ldy + ypos[j]*4 + l] = s + Σ_{t<len(off)} a[v*lda + t*4 + l]·x[pos[j] + off[t]]

with s the old y if add, else bias[v*4 + l], by fused multiply-adds in tap
order, then max(·, 0) if relu. A tile does its vectors %d at a time.

The caller guarantees nv ≥ 1, len(off) ≥ 1, len(bias) ≥ nv·4, len(a) ≥ (nv−1)·lda +
len(off)·4, len(ypos) = len(pos), 0 ≤ ypos[j] and (ypos[j]+1)·4 ≤ ldy, len(y) ≥
(nv−1)·ldy + (ypos[j]+1)·4, and 0 ≤ pos[j] + off[t] < len(x); lengths are not checked.`, name, indirectMR, indirectMR, indirectMR, indirectNV)
}

// genIndirectNEON emits func name(y []float32, ldy int, ypos []int, x []float32, pos
// []int, a []float32, lda int, off []int, nv int, bias []float32, add,
// relu bool): the tile loop, and per tile the blocks of up to 4 vectors,
// a body per block size.
func genIndirectNEON(e *emitter, name string) error {
	const (
		ri, rv, rrem = "R13", "R14", "R9"
	)
	e.printf("// func %s(y []float32, ldy int, ypos []int, x []float32, pos []int, a []float32, lda int, off []int, nv int, bias []float32, add, relu bool)\n", name)
	e.printf("//\n")
	e.printf("// Register use: R13 the tile's first position, R14 the block's first\n")
	e.printf("// vector; in a block R4-R7 the filter's vectors, R8 off's end, R15 its\n")
	e.printf("// walk, R16 the step's offset, R19-R24 the positions in x (in y when\n")
	e.printf("// loading and storing), R9-R12 and R17 scratch; V0-V3 the filter, V4-V7\n")
	e.printf("// x, V8-V31 accumulators.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-194\n", name)
	e.op("MOVD", "ZR", ri)
	e.label(name + "_tile")
	e.op("MOVD", "pos_len+88(FP)", rrem)
	e.op("CMP", rrem, ri)
	e.op("BGE", name+"_done")
	e.op("MOVD", "ZR", rv)
	e.label(name + "_block")
	e.op("MOVD", "nv+160(FP)", rrem)
	e.op("SUB", rv, rrem, rrem)
	e.op("CMP", fmt.Sprintf("$%d", indirectNV), rrem)
	e.op("BGE", fmt.Sprintf("%s_nv%d", name, indirectNV))
	for n := indirectNV - 1; n >= 1; n-- {
		e.op("CMP", fmt.Sprintf("$%d", n), rrem)
		e.op("BEQ", fmt.Sprintf("%s_nv%d", name, n))
	}
	e.op("ADD", fmt.Sprintf("$%d", indirectMR), ri, ri)
	e.op("B", name+"_tile")
	for n := 1; n <= indirectNV; n++ {
		e.label(fmt.Sprintf("%s_nv%d", name, n))
		if err := indirectBodyNEON(e, name, n); err != nil {
			return err
		}
		e.op("ADD", fmt.Sprintf("$%d", n), rv, rv)
		e.op("B", name+"_block")
	}
	e.label(name + "_done")
	e.op("RET")
	e.blank()
	return nil
}

// indirectBodyNEON emits one tile's block of n vectors.
func indirectBodyNEON(e *emitter, name string, n int) error {
	const (
		ri, rv, rend, rop, ro = "R13", "R14", "R8", "R15", "R16"
		t0, t1, t2, t3        = "R9", "R10", "R11", "R12"
	)
	aReg := func(v int) string { return fmt.Sprintf("R%d", 4+v) }
	pReg := func(j int) string { return fmt.Sprintf("R%d", 19+j) }
	acc := func(j, v int) int { return 8 + v*indirectMR + j }
	label := func(s string) string { return fmt.Sprintf("%s_%s%d", name, s, n) }

	// yAt sets t3 to the block's outputs, y + 4·v0·ldy, t0 to ldy·4, and
	// the positions' registers to their outputs' offsets, 16·ypos[i + j].
	yAt := func() {
		e.op("MOVD", "ldy+24(FP)", t0)
		e.op("MUL", rv, t0, t1)
		e.op("MOVD", "y_base+0(FP)", t3)
		e.op("ADD", t1+"<<2", t3, t3)
		e.op("LSL", "$2", t0, t0)
		e.op("MOVD", "ypos_base+32(FP)", t1)
		e.op("ADD", ri+"<<3", t1, t1)
		for j := range indirectMR {
			e.op("MOVD", fmt.Sprintf("%d(%s)", 8*j, t1), pReg(j))
			e.op("LSL", "$4", pReg(j), pReg(j))
		}
	}
	// rows loads or stores each vector's accumulators at its positions.
	rows := func(load bool) {
		for v := range n {
			for j := range indirectMR {
				e.op("ADD", pReg(j), t3, t2)
				if load {
					e.op("VLD1", "("+t2+")", fmt.Sprintf("[V%d.S4]", acc(j, v)))
				} else {
					e.op("VST1", fmt.Sprintf("[V%d.S4]", acc(j, v)), "("+t2+")")
				}
			}
			if v < n-1 {
				e.op("ADD", t0, t3, t3)
			}
		}
	}

	e.op("MOVBU", "add+192(FP)", t0)
	e.op("CBNZ", t0, label("load"))
	e.op("MOVD", "bias_base+168(FP)", t0)
	e.op("ADD", rv+"<<4", t0, t0)
	for v := range n {
		e.op("VLD1.P", "16("+t0+")", fmt.Sprintf("[V%d.S4]", acc(0, v)))
		for j := 1; j < indirectMR; j++ {
			e.op("VMOV", fmt.Sprintf("V%d.B16", acc(0, v)), fmt.Sprintf("V%d.B16", acc(j, v)))
		}
	}
	e.op("B", label("start"))
	e.label(label("load"))
	yAt()
	rows(true)

	e.label(label("start"))
	// The positions' pointers: x + 4·pos[i + j].
	e.op("MOVD", "pos_base+80(FP)", t0)
	e.op("ADD", ri+"<<3", t0, t0)
	e.op("MOVD", "x_base+56(FP)", t1)
	for j := range indirectMR {
		e.op("MOVD", fmt.Sprintf("%d(%s)", 8*j, t0), t2)
		e.op("ADD", t2+"<<2", t1, pReg(j))
	}
	// The block's vectors of the filter: a + (v0 + v)·lda.
	e.op("MOVD", "lda+128(FP)", t0)
	e.op("LSL", "$2", t0, t0)
	e.op("MUL", rv, t0, t1)
	e.op("MOVD", "a_base+104(FP)", aReg(0))
	e.op("ADD", t1, aReg(0), aReg(0))
	for v := 1; v < n; v++ {
		e.op("ADD", t0, aReg(v-1), aReg(v))
	}
	e.op("MOVD", "off_base+136(FP)", rop)
	e.op("MOVD", "off_len+144(FP)", rend)
	e.op("ADD", rend+"<<3", rop, rend)

	e.label(label("taps"))
	e.op("MOVD.P", "8("+rop+")", ro)
	for v := range n {
		e.op("VLD1.P", "16("+aReg(v)+")", fmt.Sprintf("[V%d.S4]", v))
	}
	for j := range indirectMR {
		xr := 4 + j%4
		e.op("FMOVS", fmt.Sprintf("(%s)(%s<<2)", pReg(j), ro), fmt.Sprintf("F%d", xr))
		for v := range n {
			e.inst(fmlaElem(vreg(acc(j, v)), vreg(v), vreg(xr), s4, 0))
		}
	}
	e.op("CMP", rend, rop)
	e.op("BNE", label("taps"))

	e.op("MOVBU", "relu+193(FP)", t0)
	e.op("CBZ", t0, label("store"))
	e.op("VEOR", "V4.B16", "V4.B16", "V4.B16")
	for v := range n {
		for j := range indirectMR {
			e.inst(fmaxVec(vreg(acc(j, v)), vreg(acc(j, v)), 4, s4))
		}
	}
	e.label(label("store"))
	yAt()
	rows(false)
	return nil
}
