package main

import "fmt"

// The depthwise kernels, as on amd64 (asm/amd64/stencil.go): over a
// zero-padded plane read at positions p·W'+q each filter tap is a shift,
// so forward and backward-data are a stencil, y = Σ_t w[t]·x[off[t]:],
// and backward-filter is one dot product per tap; col2im adds rows. LD1
// has no base+index form, so every stream has its own pointer, advanced
// by post-indexed loads.

// stencilAccs is the stencil main pass's accumulators: 64 outputs a pass
// over the taps, so that a tap's weight, broadcast once, serves 16 FMLAs.
const stencilAccs = 16

// dotsTaps is the most taps one dots call takes: two accumulators each
// (24 registers), beside two of a and six of x.
const dotsTaps = 12

// stencilDoc, dotsDoc and addRowsDoc are the kernels' reference loops.
func stencilDoc(name string) string {
	return fmt.Sprintf(`%s sets, for c < planes, y[c*ldy+i] = bias[c] + Σ_{t<len(off)}
w[c*ldw+t]·x[c*ldx+off[t]+i] for i < n, n a multiple of 16, in float32 with fused
multiply-adds in tap order: 64 outputs a pass over the taps, then 16. The planes
run in order, each written whole before the next.

The caller guarantees len(off) ≥ 1, planes ≥ 1, len(bias) ≥ planes, and that every
touched element of y, x and w is in bounds; lengths are not checked.`, name)
}

func dotsDoc(name string) string {
	return fmt.Sprintf(`%s sets d[t], for t < len(off) ≤ %d, to the dot product of a[:n]
with x[off[t]:off[t]+n], n a multiple of 8: the products are summed in 8
lanes, l taking the indices ≡ l mod 8, and the lanes are then added in a
fixed order.

The caller guarantees len(d) ≥ len(off), len(a) ≥ n, and off[t] ≥ 0 and
off[t] + n ≤ len(x); lengths are not checked.`, name, dotsTaps)
}

func addRowsDoc(name string) string {
	return fmt.Sprintf(`%s adds src[r*srcStride+j] to dst[r*dstStride+j] for r < rows and
j < n, n a multiple of 4. The caller guarantees that every touched element
is in bounds; lengths are not checked.`, name)
}

// genStencilNEON emits func name(y, x, w []float32, off []int, n, planes,
// ldy, ldx, ldw int, bias []float32): a stencil per plane, as genStencil
// in asm/amd64.
func genStencilNEON(e *emitter, name string) error {
	const (
		ry, rx, rw, roff, rtaps, rn = "R0", "R1", "R2", "R3", "R4", "R5"
		rt, ro, rp, rwp             = "R6", "R7", "R8", "R9" // taps left, off and x pointers, w pointer
		rplanes, rbias, rtmp        = "R10", "R11", "R12"
		bias, wt                    = 1, 2 // V1 bias, V2 the tap's weight
		acc                         = 32 - stencilAccs
	)
	e.printf("// func %s(y, x, w []float32, off []int, n, planes, ldy, ldx, ldw int, bias []float32)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V%d-V31 accumulators, V4-V11 x (two sets of four), V2 the\n", acc)
	e.printf("// tap's weight, V1 bias; R0 y, R1 x, R2 w, R3 off, R4 taps, R5 n, R6-R9 loop,\n")
	e.printf("// R10 planes, R11 bias, R12 scratch.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-160\n", name)
	e.op("MOVD", "y_base+0(FP)", ry)
	e.op("MOVD", "x_base+24(FP)", rx)
	e.op("MOVD", "w_base+48(FP)", rw)
	e.op("MOVD", "off_base+72(FP)", roff)
	e.op("MOVD", "off_len+80(FP)", rtaps)
	e.op("MOVD", "planes+104(FP)", rplanes)
	e.op("MOVD", "bias_base+136(FP)", rbias)

	// pass emits one pass over the taps for nacc vectors of outputs.
	pass := func(label string, nacc int) {
		for a := acc; a < acc+nacc; a++ {
			e.op("VMOV", fmt.Sprintf("V%d.B16", bias), fmt.Sprintf("V%d.B16", a))
		}
		e.op("MOVD", rtaps, rt)
		e.op("MOVD", roff, ro)
		e.op("MOVD", rw, rwp)
		e.label(name + "_" + label)
		e.op("MOVD.P", "8("+ro+")", rp)
		e.op("ADD", rp+"<<2", rx, rp)
		e.op("VLD1R.P", "4("+rwp+")", "["+v(wt)+"]")
		for q := 0; q < nacc/4; q++ {
			xs := 4 + 4*(q%2) // alternate sets, so a load need not wait for the FMLAs before
			e.op("VLD1.P", "64("+rp+")", vlist(xs, 4))
			for i := range 4 {
				e.op("VFMLA", v(wt), v(xs+i), v(acc+4*q+i)) // Vd += Vn * Vm
			}
		}
		e.op("SUBS", "$1", rt, rt)
		e.op("BNE", name+"_"+label)
		for q := 0; q < nacc/4; q++ {
			e.op("VST1.P", vlist(acc+4*q, 4), "64("+ry+")")
		}
		e.op("ADD", fmt.Sprintf("$%d", 16*nacc), rx, rx)
		e.op("SUB", fmt.Sprintf("$%d", 4*nacc), rn, rn)
	}

	e.label(name + "_plane")
	e.op("VLD1R.P", "4("+rbias+")", "["+v(bias)+"]")
	e.op("MOVD", "n+96(FP)", rn)
	e.label(name + "_blocks")
	e.op("CMP", fmt.Sprintf("$%d", 4*stencilAccs), rn)
	e.op("BLT", name+"_quads")
	pass("tapsBlock", stencilAccs)
	e.op("B", name+"_blocks")
	e.label(name + "_quads")
	e.op("CBZ", rn, name+"_next")
	pass("tapsQuad", 4)
	e.op("B", name+"_quads")
	// The next plane: y and x have moved on by n floats, w not.
	e.label(name + "_next")
	e.op("MOVD", "n+96(FP)", rn)
	e.op("MOVD", "ldy+112(FP)", rtmp)
	e.op("SUB", rn, rtmp, rtmp)
	e.op("ADD", rtmp+"<<2", ry, ry)
	e.op("MOVD", "ldx+120(FP)", rtmp)
	e.op("SUB", rn, rtmp, rtmp)
	e.op("ADD", rtmp+"<<2", rx, rx)
	e.op("MOVD", "ldw+128(FP)", rtmp)
	e.op("ADD", rtmp+"<<2", rw, rw)
	e.op("SUBS", "$1", rplanes, rplanes)
	e.op("BNE", name+"_plane")
	e.op("RET")
	e.blank()
	return nil
}

// genDotsNEON emits func name(d, a, x []float32, off []int, n int): one
// loop per tap count, so that each tap's two accumulators and its x
// pointer stay in registers.
func genDotsNEON(e *emitter, name string) error {
	const (
		rd, ra, rx, roff, rn, rtaps = "R0", "R1", "R2", "R3", "R4", "R5"
		acc                         = 32 - 2*dotsTaps // tap t: V(acc+2t), V(acc+2t+1)
	)
	ptr := func(t int) string { return fmt.Sprintf("R%d", 6+t) } // R6-R17
	e.printf("// func %s(d, a, x []float32, off []int, n int)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V%d-V31 two accumulators a tap, V0-V1 a, V2-V7 x (three\n", acc)
	e.printf("// pairs in turn); R0 d, R1 a, R2 x, R3 off, R4 n, R5 taps, R6-R17 x at each\n")
	e.printf("// tap's offset.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-104\n", name)
	e.op("MOVD", "d_base+0(FP)", rd)
	e.op("MOVD", "a_base+24(FP)", ra)
	e.op("MOVD", "x_base+48(FP)", rx)
	e.op("MOVD", "off_base+72(FP)", roff)
	e.op("MOVD", "off_len+80(FP)", rtaps)
	e.op("MOVD", "n+96(FP)", rn)
	for nt := 1; nt <= dotsTaps; nt++ {
		e.op("CMP", fmt.Sprintf("$%d", nt), rtaps)
		e.op("BEQ", fmt.Sprintf("%s_taps%d", name, nt))
	}
	e.op("RET")
	for nt := 1; nt <= dotsTaps; nt++ {
		loop := fmt.Sprintf("%s_loop%d", name, nt)
		reduce := fmt.Sprintf("%s_reduce%d", name, nt)
		e.label(fmt.Sprintf("%s_taps%d", name, nt))
		for t := range nt {
			e.op("MOVD", fmt.Sprintf("%d(%s)", 8*t, roff), ptr(t))
			e.op("ADD", ptr(t)+"<<2", rx, ptr(t))
			for h := range 2 {
				b := fmt.Sprintf("V%d.B16", acc+2*t+h)
				e.op("VEOR", b, b, b)
			}
		}
		e.op("CBZ", rn, reduce)
		e.label(loop)
		e.op("VLD1.P", "32("+ra+")", vlist(0, 2))
		for t := range nt {
			xs := 2 + 2*(t%3)
			e.op("VLD1.P", "32("+ptr(t)+")", vlist(xs, 2))
			e.op("VFMLA", v(0), v(xs), v(acc+2*t))
			e.op("VFMLA", v(1), v(xs+1), v(acc+2*t+1))
		}
		e.op("SUBS", "$8", rn, rn)
		e.op("BNE", loop)
		e.label(reduce)
		for t := range nt {
			lo, hi := vreg(acc+2*t), vreg(acc+2*t+1)
			e.inst(faddVec(lo, lo, hi, s4))
			e.inst(faddpVec(lo, lo, lo, s4))
			e.inst(faddpVec(lo, lo, lo, s2))
			e.op("FMOVS.P", fmt.Sprintf("F%d", lo), "4("+rd+")")
		}
		e.op("RET")
	}
	e.blank()
	return nil
}

// genAddRowsNEON emits func name(dst, src []float32, rows, n, dstStride,
// srcStride int): 16 floats at a time, then 4.
func genAddRowsNEON(e *emitter, name string) error {
	const (
		rdst, rsrc, rrows, rn, rds, rss = "R0", "R1", "R2", "R3", "R4", "R5"
		rd, rs, rleft                   = "R6", "R7", "R8"
	)
	e.printf("// func %s(dst, src []float32, rows, n, dstStride, srcStride int)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V0-V7; R0 dst, R1 src, R2 rows, R3 n·4, R4-R5 strides·4,\n")
	e.printf("// R6-R8 the row's pointers and bytes left.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-80\n", name)
	e.op("MOVD", "dst_base+0(FP)", rdst)
	e.op("MOVD", "src_base+24(FP)", rsrc)
	e.op("MOVD", "rows+48(FP)", rrows)
	e.op("MOVD", "n+56(FP)", rn)
	e.op("MOVD", "dstStride+64(FP)", rds)
	e.op("MOVD", "srcStride+72(FP)", rss)
	e.op("LSL", "$2", rn, rn)
	e.op("LSL", "$2", rds, rds)
	e.op("LSL", "$2", rss, rss)
	e.op("CMP", "$0", rrows)
	e.op("BLE", name+"_done")
	e.op("CBZ", rn, name+"_done")
	e.label(name + "_row")
	e.op("MOVD", rdst, rd)
	e.op("MOVD", rsrc, rs)
	e.op("MOVD", rn, rleft)
	e.label(name + "_sixteen")
	e.op("CMP", "$64", rleft)
	e.op("BLT", name+"_four")
	e.op("VLD1.P", "64("+rs+")", vlist(0, 4))
	e.op("VLD1", "("+rd+")", vlist(4, 4))
	for i := range 4 {
		e.inst(faddVec(vreg(4+i), vreg(4+i), vreg(i), s4))
	}
	e.op("VST1.P", vlist(4, 4), "64("+rd+")")
	e.op("SUB", "$64", rleft, rleft)
	e.op("B", name+"_sixteen")
	e.label(name + "_four")
	e.op("CBZ", rleft, name+"_next")
	e.op("VLD1.P", "16("+rs+")", vlist(0, 1))
	e.op("VLD1", "("+rd+")", vlist(4, 1))
	e.inst(faddVec(4, 4, 0, s4))
	e.op("VST1.P", vlist(4, 1), "16("+rd+")")
	e.op("SUB", "$16", rleft, rleft)
	e.op("B", name+"_four")
	e.label(name + "_next")
	e.op("ADD", rds, rdst, rdst)
	e.op("ADD", rss, rsrc, rsrc)
	e.op("SUBS", "$1", rrows, rrows)
	e.op("BNE", name+"_row")
	e.label(name + "_done")
	e.op("RET")
	e.blank()
	return nil
}
