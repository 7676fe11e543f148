package main

import (
	"fmt"
	"math"
)

// The Winograd F(4×4, 3×3) band transforms (winograd.go in package
// simdconv), 4 tiles a vector: lane t of a vector is tile t of a group of
// 4. LD4 deinterleaves a row of 4 tiles into the 4 column phases, and ST4
// interleaves them back, so the input and gradient transforms apply their
// matrix across each row first, straight from LD4, and then down the rows;
// the output transform applies Aᵀ down, then across into ST4's registers.

// winoK holds the transforms' constants 4, 5, 2 and 8 in lanes 0–3, for
// the by-element multiplies.
const winoK = 31

// The lanes of winoK.
const (
	k4 = iota
	k5
	k2
	k8
)

// The sizes of the argument frames of table.WinogradBand and table.WinogradOut.
const (
	winoBandArgBytes = 9 * 8
	winoOutArgBytes  = 77 // bias at 72, relu at 76
)

// winoOps emits AdvSIMD arithmetic on 4S registers by number.
type winoOps struct{ *emitter }

func (e winoOps) fadd(d, n, m int) { e.inst(faddVec(vreg(d), vreg(n), vreg(m), s4)) }
func (e winoOps) fsub(d, n, m int) { e.inst(fsubVec(vreg(d), vreg(n), vreg(m), s4)) }
func (e winoOps) fmax(d, n, m int) { e.inst(fmaxVec(vreg(d), vreg(n), vreg(m), s4)) }

// fmla is d += n·K[k], fmls d −= n·K[k], fmul d = n·K[k].
func (e winoOps) fmla(d, n, k int) { e.inst(fmlaElem(vreg(d), vreg(n), winoK, s4, k)) }
func (e winoOps) fmls(d, n, k int) { e.inst(fmlsElem(vreg(d), vreg(n), winoK, s4, k)) }
func (e winoOps) fmul(d, n, k int) { e.inst(fmulElem(vreg(d), vreg(n), winoK, s4, k)) }
func (e winoOps) mov(d, n int)     { e.op("VMOV", fmt.Sprintf("V%d.B16", n), fmt.Sprintf("V%d.B16", d)) }

// quad names V(r)…V(r+3).S4 as a list, for LD4 and ST4.
func quad(r int) string { return vlist(r, 4) }

// setK sets winoK to [4, 5, 2, 8], through scratch.
func (e winoOps) setK(scratch string) {
	bits := func(v float32) uint64 { return uint64(math.Float32bits(v)) }
	e.op("MOVD", fmt.Sprintf("$0x%016x", bits(4)|bits(5)<<32), scratch)
	e.op("VMOV", scratch, fmt.Sprintf("V%d.D[0]", winoK))
	e.op("MOVD", fmt.Sprintf("$0x%016x", bits(2)|bits(8)<<32), scratch)
	e.op("VMOV", scratch, fmt.Sprintf("V%d.D[1]", winoK))
}

// bt emits the 6 points of Bᵀ d for d[i] in register d[i] into registers
// o, with tmp a scratch register. Points 0 and 5 are computed in place of
// d[4] and d[5], which the others read first.
func (e winoOps) bt(d [6]int, o [6]int, tmp int) {
	e.fadd(tmp, d[1], d[2]) // d13
	e.fadd(o[1], d[3], d[4])
	e.fmls(o[1], tmp, k4)
	e.fsub(tmp, d[1], d[2]) // e13
	e.fsub(o[2], d[4], d[3])
	e.fmla(o[2], tmp, k4)
	e.fsub(tmp, d[3], d[1]) // (d3 − d1)
	e.fsub(o[3], d[4], d[2])
	e.fsub(o[4], d[4], d[2])
	e.fmla(o[3], tmp, k2)
	e.fmls(o[4], tmp, k2)
	if o[0] != d[4] || o[5] != d[5] {
		panic("bt: o[0] and o[5] are computed in place of d[4] and d[5]")
	}
	e.fmls(d[4], d[2], k5)
	e.fmla(d[4], d[0], k4)
	e.fmls(d[5], d[3], k5)
	e.fmla(d[5], d[1], k4)
}

func winoBandDoc(name, what, matrix string, rows int, extra string) string {
	return fmt.Sprintf(`%[1]s sets dst[p*dstStride+t] = (%[3]s)[p/6][p%%6] for t < n and
the %[4]dx%[4]d tiles %[2]s[i][j] = src[i*ld+4*t+j], 4 tiles at a time (NEON).
n is a multiple of 4; the caller guarantees len(src) >= %[5]d*ld+4*n%[6]s
and len(dst) >= 35*dstStride+n. Nothing else is read or written.`, name, what, matrix, rows, rows-1, extra)
}

func winoOutDoc(name string) string {
	return fmt.Sprintf(`%s sets dst[i*ld+4*t+j] = (Aᵀ m A)[i][j] + bias for t < n,
i, j < 4 and the 6x6 tiles m[p/6][p%%6] = src[p*srcStride+t], then
max(·, 0) if relu, 4 tiles at a time (NEON). n is a multiple of 4; the
caller guarantees len(src) >= 35*srcStride+n and len(dst) >= 3*ld+4*n.
Nothing else is read or written.`, name)
}

// bandHeader emits the TEXT line and loads table.WinogradBand's
// arguments: R0 dst, R1 dstStride·4, R2 src, R3 ld·4, R4 n; the group
// loop starts at label name_group unless n is 0.
func (e winoOps) bandHeader(name string) {
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-%d\n", name, winoBandArgBytes)
	e.op("MOVD", "dst_base+0(FP)", "R0")
	e.op("MOVD", "dstStride+24(FP)", "R1")
	e.op("LSL", "$2", "R1", "R1")
	e.op("MOVD", "src_base+32(FP)", "R2")
	e.op("MOVD", "ld+56(FP)", "R3")
	e.op("LSL", "$2", "R3", "R3")
	e.op("MOVD", "n+64(FP)", "R4")
	e.op("CBZ", "R4", name+"_done")
	e.setK("R7")
	e.comment("R6: 6 rows of dst, between the points ξ of one ν.")
	e.op("ADD", "R1<<1", "R1", "R6")
	e.op("LSL", "$1", "R6", "R6")
	e.label(name + "_group")
}

// bandFooter advances src by srcBytes and dst by 4 tiles, and loops.
func (e winoOps) bandFooter(name string, srcBytes int) {
	e.op("ADD", fmt.Sprintf("$%d", srcBytes), "R2", "R2")
	e.op("ADD", "$16", "R0", "R0")
	e.op("SUBS", "$4", "R4", "R4")
	e.op("BNE", name+"_group")
	e.label(name + "_done")
	e.op("RET")
	e.blank()
}

// storePoints stores registers r[ξ] to rows 6ξ+ν of dst: R8 points at row
// ν of this group and moves on to ν+1.
func (e winoOps) storePoints(r [6]int) {
	e.op("MOVD", "R8", "R7")
	for _, x := range r {
		e.op("VST1.P", vlist(x, 1), "(R7)(R6)")
	}
	e.op("ADD", "R1", "R8", "R8")
}

// genWinogradInputNEON emits the input transform Bᵀ d B. Per group of 4
// tiles it makes two passes over the 6 rows, for the points ν < 3 and
// ν ≥ 3 of each row's Bᵀ across (18 registers), reading each row with two
// LD4: at the group's columns and 4 on, whose phases 0 and 1 are the
// tiles' columns 4 and 5. Bᵀ down each ν then gives the 6 points ξ.
func genWinogradInputNEON(e *emitter, name string) error {
	w := winoOps{e}
	const (
		q  = 18 // q0…q3: LD4 of a row; q4, q5: phases 0, 1 of the LD4 4 on (22, 23)
		q4 = 22
		t0 = 26
	)
	e.printf("// func %s(dst []float32, dstStride int, src []float32, ld, n int)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V0-V17 row i's points ν (or ν−3) in V(3i+ν); V18-V25\n")
	e.printf("// the two LD4 of a row; V26-V30 temporaries; V31 the constants.\n")
	e.printf("// R0 dst, R1 dstStride*4, R2 src, R3 ld*4, R4 n, R5/R9 rows, R6 6 dst rows,\n")
	e.printf("// R7/R8 dst rows.\n")
	w.bandHeader(name)
	e.op("MOVD", "R0", "R8")
	for pass := range 2 {
		e.comment("ν = %d…%d of each row: Bᵀ across.", 3*pass, 3*pass+2)
		e.op("MOVD", "R2", "R5")
		e.op("ADD", "$16", "R2", "R9")
		for i := range 6 {
			e.op("VLD4.P", "(R5)(R3)", quad(q))
			e.op("VLD4.P", "(R9)(R3)", quad(q4))
			h := 3 * i
			if pass == 0 {
				w.fadd(t0, q+1, q+2) // d13
				w.fadd(h+1, q+3, q4)
				w.fmls(h+1, t0, k4)
				w.fsub(t0, q+1, q+2) // e13
				w.fsub(h+2, q4, q+3)
				w.fmla(h+2, t0, k4)
				w.fmul(h, q, k4)
				w.fadd(h, h, q4)
				w.fmls(h, q+2, k5)
			} else {
				w.fsub(t0, q+3, q+1) // (d3 − d1)
				w.fsub(h, q4, q+2)
				w.fsub(h+1, q4, q+2)
				w.fmla(h, t0, k2)
				w.fmls(h+1, t0, k2)
				w.fmul(h+2, q+1, k4)
				w.fadd(h+2, h+2, q4+1)
				w.fmls(h+2, q+3, k5)
			}
		}
		for c := range 3 {
			e.comment("ν = %d: Bᵀ down.", 3*pass+c)
			var d [6]int
			for i := range d {
				d[i] = 3*i + c
			}
			o := [6]int{d[4], t0 + 1, t0 + 2, t0 + 3, t0 + 4, d[5]}
			w.bt(d, o, t0)
			w.storePoints(o)
		}
	}
	w.bandFooter(name, 64)
	return e.err
}

// genWinogradGradNEON emits the gradient transform A e Aᵀ: per group of 4
// tiles, A across each of the 4 rows straight from its LD4 (24 registers),
// then A down each ν.
func genWinogradGradNEON(e *emitter, name string) error {
	w := winoOps{e}
	const t0 = 24
	e.printf("// func %s(dst []float32, dstStride int, src []float32, ld, n int)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V0-V23 row i's points in V(6i)…V(6i+5); V24-V27\n")
	e.printf("// temporaries; V31 the constants. R0 dst, R1 dstStride*4, R2 src,\n")
	e.printf("// R3 ld*4, R4 n, R5 rows, R6 6 dst rows, R7/R8 dst rows.\n")
	w.bandHeader(name)
	e.op("MOVD", "R2", "R5")
	// pt is the register of row i's point ν.
	pt := func(i, nu int) int { return 6*i + [6]int{0, 4, 5, 1, 2, 3}[nu] }
	for i := range 4 {
		e.comment("Row %d: A across.", i)
		r := 6 * i // e0…e3 from LD4, then ν 0, 3, 4, 5 in place, ν 1, 2 above
		e.op("VLD4.P", "(R5)(R3)", quad(r))
		w.fadd(t0, r, r+2)     // e0 + e2
		w.fadd(t0+1, r+1, r+3) // e1 + e3
		w.fadd(pt(i, 1), t0, t0+1)
		w.fsub(pt(i, 2), t0, t0+1)
		w.fmul(r+2, r+2, k4)
		w.fadd(r+2, r+2, r) // e0 + 4e2
		w.fmul(r+1, r+1, k2)
		w.fmla(r+1, r+3, k8) // 2e1 + 8e3
		w.fadd(t0, r+2, r+1)
		w.fsub(pt(i, 4), r+2, r+1)
		w.mov(pt(i, 3), t0)
	}
	e.op("MOVD", "R0", "R8")
	for nu := range 6 {
		e.comment("ν = %d: A down.", nu)
		h := [4]int{pt(0, nu), pt(1, nu), pt(2, nu), pt(3, nu)}
		w.fadd(t0, h[0], h[2])
		w.fadd(t0+1, h[1], h[3])
		w.fadd(t0+2, t0, t0+1)
		w.fsub(t0+3, t0, t0+1)
		w.fmul(h[2], h[2], k4)
		w.fadd(h[2], h[2], h[0])
		w.fmul(h[1], h[1], k2)
		w.fmla(h[1], h[3], k8)
		w.fadd(t0, h[2], h[1])
		w.fsub(h[2], h[2], h[1])
		w.storePoints([6]int{h[0], t0 + 2, t0 + 3, t0, h[2], h[3]})
	}
	w.bandFooter(name, 64)
	return e.err
}

// genWinogradOutputNEON emits the output transform Aᵀ m A + bias, then
// max with the floor (0 with relu, −∞ without). Per group of 4 tiles it
// takes the output rows in pairs that share their sums, {0, 2} and then
// {1, 3}: Aᵀ down each ν for both rows (12 registers), then Aᵀ across
// into 4 consecutive registers for ST4.
func genWinogradOutputNEON(e *emitter, name string) error {
	w := winoOps{e}
	const (
		ld    = 12 // m rows ξ (or ξ−1) of one ν: V12…V17
		t0    = 18
		out   = 20 // V20…V23: the 4 columns of an output row
		floor = 29
		bias  = 30
	)
	e.printf("// func %s(dst []float32, ld int, src []float32, srcStride, n int, bias float32, relu bool)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V0-V11 the pair's rows a of Aᵀ m in V(6a+ν); V12-V17 the\n")
	e.printf("// points of one ν; V18-V19 temporaries; V20-V23 an output row's columns;\n")
	e.printf("// V29 the floor, V30 bias, V31 the constants. R0 dst, R1 ld*4, R2 src,\n")
	e.printf("// R3 srcStride*4, R4 n, R5 src rows, R6 6 src rows, R7 dst row, R8 ν's row.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-%d\n", name, winoOutArgBytes)
	e.op("MOVD", "dst_base+0(FP)", "R0")
	e.op("MOVD", "ld+24(FP)", "R1")
	e.op("LSL", "$2", "R1", "R1")
	e.op("MOVD", "src_base+32(FP)", "R2")
	e.op("MOVD", "srcStride+56(FP)", "R3")
	e.op("LSL", "$2", "R3", "R3")
	e.op("MOVD", "n+64(FP)", "R4")
	e.op("CBZ", "R4", name+"_done")
	w.setK("R7")
	e.op("FMOVS", "bias+72(FP)", fmt.Sprintf("F%d", bias))
	e.op("VDUP", fmt.Sprintf("V%d.S[0]", bias), v(bias))
	e.comment("The floor: 0 if relu, else −∞ (FMAX keeps a NaN either way).")
	e.op("MOVBU", "relu+76(FP)", "R7")
	e.op("SUB", "$1", "R7", "R7")
	e.op("AND", fmt.Sprintf("$0x%08x", math.Float32bits(float32(math.Inf(-1)))), "R7", "R7")
	e.op("VDUP", "R7", v(floor))
	e.op("ADD", "R3<<1", "R3", "R6")
	e.op("LSL", "$1", "R6", "R6")
	e.label(name + "_group")
	for pair := range 2 {
		e.comment("Output rows %d and %d: Aᵀ down.", pair, pair+2)
		if pair == 0 {
			e.op("MOVD", "R2", "R8")
		} else {
			e.op("ADD", "R2", "R6", "R8") // ξ from 1
		}
		for nu := range 6 {
			e.op("MOVD", "R8", "R5")
			for x := range 5 {
				e.op("VLD1.P", "(R5)(R6)", vlist(ld+x, 1))
			}
			a, b := nu, 6+nu
			if pair == 0 { // m0…m4: m0 + s12 + s34, s12 + 4s34
				w.fadd(b, ld+1, ld+2)
				w.fadd(ld+3, ld+3, ld+4)
				w.fadd(a, ld, b)
				w.fadd(a, a, ld+3)
				w.fmla(b, ld+3, k4)
			} else { // m1…m5: d12 + 2d34, d12 + 8d34 + m5
				w.fsub(a, ld, ld+1)
				w.fsub(ld+2, ld+2, ld+3)
				w.fadd(b, a, ld+4)
				w.fmla(b, ld+2, k8)
				w.fmla(a, ld+2, k2)
			}
			if nu < 5 {
				e.op("ADD", "R3", "R8", "R8")
			}
		}
		for r := range 2 {
			row := pair + 2*r
			e.comment("Output row %d: Aᵀ across, bias, floor.", row)
			wr := 6 * r
			w.fadd(t0, wr+1, wr+2)   // s12
			w.fadd(t0+1, wr+3, wr+4) // s34
			w.fadd(out, wr, t0)
			w.fadd(out, out, t0+1)
			w.fmul(out+2, t0+1, k4)
			w.fadd(out+2, out+2, t0)
			w.fsub(t0, wr+1, wr+2)   // d12
			w.fsub(t0+1, wr+3, wr+4) // d34
			w.fmul(out+1, t0+1, k2)
			w.fadd(out+1, out+1, t0)
			w.fadd(out+3, wr+5, t0)
			w.fmla(out+3, t0+1, k8)
			for j := range 4 {
				w.fadd(out+j, out+j, bias)
				w.fmax(out+j, out+j, floor)
			}
			switch row {
			case 0:
				e.op("MOVD", "R0", "R7")
			case 1:
				e.op("ADD", "R1", "R0", "R7")
			default:
				e.op("ADD", "R1<<1", "R7", "R7")
			}
			e.op("VST4", quad(out), "(R7)")
		}
	}
	e.op("ADD", "$16", "R2", "R2")
	e.op("ADD", "$64", "R0", "R0")
	e.op("SUBS", "$4", "R4", "R4")
	e.op("BNE", name+"_group")
	e.label(name + "_done")
	e.op("RET")
	e.blank()
	return e.err
}
