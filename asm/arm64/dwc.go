package main

import "fmt"

// The channel-interleaved depthwise kernels, as on amd64 (asm/amd64/dwc.go):
// a block of 4 channels laid out position by position. ST4 interleaves
// four channel rows as it stores them and LD4 takes them apart again, so
// the transposes are a load and a store per block of 4 positions.

// dwcBlockNEON is dwcConv's output positions a pass over the taps.
const dwcBlockNEON = 8

func dwcInDoc(name string) string {
	return fmt.Sprintf(`%s sets, for r < rows, j < left+cols+right and l < 4,

	dst[r*ldd+j*4+l] = src[l*lds+r*ldr+j-left] for left ≤ j < left+cols, else 0:

rows of 4 channel planes interleaved, a position a vector, zero-padded on
either side; ST4 interleaves a block of 4 positions, the last block
overlapping the one before.

The caller guarantees cols ≥ 4 and that every touched element of dst and src
is in bounds; lengths are not checked.`, name)
}

func dwcOutDoc(name string) string {
	return fmt.Sprintf(`%s sets dst[l*ldd+j] = src[j*4+l] for j < n and l < 4: 4
interleaved channels back into planes, LD4 taking a block of 4 positions
apart, the last block overlapping the one before.

The caller guarantees n ≥ 4 and that every touched element of dst and src is
in bounds; lengths are not checked.`, name)
}

func dwcConvDoc(name string, stride int) string {
	return fmt.Sprintf(`%s sets, for p < rows, q < cols and l < 4, with i = p*ldy+q*ystep*4+l,

	y[i] = bias[l] + Σ_{t<len(off)} w[t*4+l]·x[p*ldx+q*%d+off[t]+l], then max(y[i], 0) if relu:

a depthwise convolution of 4 interleaved channels at column stride %d, with
fused multiply-adds in tap order, %d output positions a pass over the taps,
then 4 (the last 4 of a row moved back over positions already written), then 1.

The caller guarantees len(off) ≥ 1, ystep ≥ 1 and that every touched element
of y, x, w and bias is in bounds; lengths are not checked.`, name, 4*stride, stride, dwcBlockNEON)
}

// genDwcInNEON emits func name(dst, src []float32, rows, cols, ldr, lds,
// ldd, left, right int).
func genDwcInNEON(e *emitter, name string) error {
	const (
		rdst, rsrc, rrows, rcols, rlds, rldd = "R0", "R1", "R2", "R3", "R4", "R5"
		rd, rj, rp, rn, rjj, rt              = "R6", "R7", "R8", "R9", "R10", "R11"
	)
	e.printf("// func %s(dst, src []float32, rows, cols, ldr, lds, ldd, left, right int)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V0-V3 a block's channel rows, V4 zero; R0 dst, R1 src, R2 rows,\n")
	e.printf("// R3 cols, R4 lds·4, R5 ldd·4, R6-R11 the row's pointers and counts.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-104\n", name)
	e.op("MOVD", "dst_base+0(FP)", rdst)
	e.op("MOVD", "src_base+24(FP)", rsrc)
	e.op("MOVD", "rows+48(FP)", rrows)
	e.op("MOVD", "cols+56(FP)", rcols)
	e.op("MOVD", "lds+72(FP)", rlds)
	e.op("MOVD", "ldd+80(FP)", rldd)
	e.op("LSL", "$2", rlds, rlds)
	e.op("LSL", "$2", rldd, rldd)
	e.op("VEOR", "V4.B16", "V4.B16", "V4.B16")
	e.op("CMP", "$0", rrows)
	e.op("BLE", name+"_done")
	e.label(name + "_row")
	e.op("MOVD", rdst, rd)
	zeros := func(label, param string) {
		e.op("MOVD", param, rn)
		e.label(name + "_" + label)
		e.op("CBZ", rn, name+"_"+label+"Done")
		e.op("VST1.P", "[V4.S4]", "16("+rd+")")
		e.op("SUB", "$1", rn, rn)
		e.op("B", name+"_"+label)
		e.label(name + "_" + label + "Done")
	}
	zeros("left", "left+88(FP)")
	// Block j covers positions [jj, jj+4), jj = min(j, cols−4), written
	// from rd + jj·16.
	e.op("MOVD", "ZR", rj)
	e.label(name + "_block")
	e.op("CMP", rcols, rj)
	e.op("BGE", name+"_right")
	e.op("SUB", "$4", rcols, rjj)
	e.op("CMP", rjj, rj)
	e.op("CSEL", "LT", rj, rjj, rjj)
	e.op("ADD", rjj+"<<2", rsrc, rp)
	e.op("VLD1", "("+rp+")", "[V0.S4]")
	for l := 1; l < 4; l++ {
		e.op("ADD", rlds, rp, rp)
		e.op("VLD1", "("+rp+")", fmt.Sprintf("[V%d.S4]", l))
	}
	e.op("ADD", rjj+"<<4", rd, rt)
	e.op("VST4", "[V0.S4, V1.S4, V2.S4, V3.S4]", "("+rt+")")
	e.op("ADD", "$4", rj, rj)
	e.op("B", name+"_block")
	e.label(name + "_right")
	e.op("ADD", rcols+"<<4", rd, rd)
	zeros("rightZeros", "right+96(FP)")
	e.op("MOVD", "ldr+64(FP)", rt)
	e.op("ADD", rt+"<<2", rsrc, rsrc)
	e.op("ADD", rldd, rdst, rdst)
	e.op("SUBS", "$1", rrows, rrows)
	e.op("BNE", name+"_row")
	e.label(name + "_done")
	e.op("RET")
	e.blank()
	return nil
}

// genDwcOutNEON emits func name(dst, src []float32, n, ldd int).
func genDwcOutNEON(e *emitter, name string) error {
	const (
		rdst, rsrc, rn, rldd = "R0", "R1", "R2", "R3"
		rj, rjj, rp, rlast   = "R4", "R5", "R6", "R7"
	)
	e.printf("// func %s(dst, src []float32, n, ldd int)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V0-V3 a block's channels; R0 dst, R1 src, R2 n, R3 ldd·4,\n")
	e.printf("// R4-R7 the block's position, pointer and the last block's start.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-64\n", name)
	e.op("MOVD", "dst_base+0(FP)", rdst)
	e.op("MOVD", "src_base+24(FP)", rsrc)
	e.op("MOVD", "n+48(FP)", rn)
	e.op("MOVD", "ldd+56(FP)", rldd)
	e.op("LSL", "$2", rldd, rldd)
	e.op("SUB", "$4", rn, rlast)
	e.op("MOVD", "ZR", rj)
	e.label(name + "_block")
	e.op("CMP", rlast, rj)
	e.op("CSEL", "LT", rj, rlast, rjj)
	e.op("ADD", rjj+"<<4", rsrc, rp)
	e.op("VLD4", "("+rp+")", "[V0.S4, V1.S4, V2.S4, V3.S4]")
	e.op("ADD", rjj+"<<2", rdst, rp)
	for l := range 4 {
		e.op("VST1", fmt.Sprintf("[V%d.S4]", l), "("+rp+")")
		if l < 3 {
			e.op("ADD", rldd, rp, rp)
		}
	}
	e.op("ADD", "$4", rj, rj)
	e.op("CMP", rn, rj)
	e.op("BLT", name+"_block")
	e.op("RET")
	e.blank()
	return nil
}

// genDwcConvNEON emits func name(y, x, w []float32, off []int, rows, cols,
// ldx int, bias []float32, relu bool) at column stride stride.
func genDwcConvNEON(e *emitter, name string, stride int) error {
	const (
		ry, rx, roff, rtaps, rrows, rldx = "R0", "R1", "R2", "R3", "R4", "R5"
		rq, rxq, rt, ro, rp, rwp         = "R6", "R7", "R8", "R9", "R10", "R11"
		rtmp, rstep, ryq, rystep, rldy   = "R12", "R13", "R14", "R15", "R16"
		bias, wt, floor                  = 1, 2, 3
		acc                              = 16 // V16-V23
	)
	e.printf("// func %s(y, x, w []float32, off []int, rows, cols, ldx, ldy, ystep int, bias []float32, relu bool)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V16-V23 accumulators, V4-V11 x, V2 the tap's weights, V1 bias,\n")
	e.printf("// V3 the floor (0 with ReLU, else −∞); R0 y's row, R1 x's row, R2 off, R3 taps,\n")
	e.printf("// R4 rows, R5 ldx·4, R6-R12 loop, R13 a position's bytes in x, R14 y, R15 an\n")
	e.printf("// output position's bytes, R16 ldy·4.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-161\n", name)
	e.op("MOVD", "y_base+0(FP)", ry)
	e.op("MOVD", "x_base+24(FP)", rx)
	e.op("MOVD", "off_base+72(FP)", roff)
	e.op("MOVD", "off_len+80(FP)", rtaps)
	e.op("MOVD", "rows+96(FP)", rrows)
	e.op("MOVD", "ldx+112(FP)", rldx)
	e.op("LSL", "$2", rldx, rldx)
	e.op("MOVD", "ldy+120(FP)", rldy)
	e.op("LSL", "$2", rldy, rldy)
	e.op("MOVD", "ystep+128(FP)", rystep)
	e.op("LSL", "$4", rystep, rystep)
	e.op("MOVD", "bias_base+136(FP)", rtmp)
	e.op("VLD1", "("+rtmp+")", "["+v(bias)+"]")
	// The floor: FMAX keeps a NaN, so max(−∞, y) is y.
	e.op("VEOR", fmt.Sprintf("V%d.B16", floor), fmt.Sprintf("V%d.B16", floor), fmt.Sprintf("V%d.B16", floor))
	e.op("MOVBU", "relu+160(FP)", rtmp)
	e.op("CBNZ", rtmp, name+"_floorSet")
	e.op("MOVW", "$0xFF800000", rtmp)
	e.op("VDUP", rtmp, v(floor))
	e.label(name + "_floorSet")
	e.op("MOVD", fmt.Sprintf("$%d", 16*stride), rstep)

	pass := func(label string, nb int) {
		for a := acc; a < acc+nb; a++ {
			e.op("VMOV", fmt.Sprintf("V%d.B16", bias), fmt.Sprintf("V%d.B16", a))
		}
		e.op("MOVD", rtaps, rt)
		e.op("MOVD", roff, ro)
		e.op("MOVD", "w_base+48(FP)", rwp)
		e.label(name + "_" + label)
		e.op("MOVD.P", "8("+ro+")", rp)
		e.op("ADD", rp+"<<2", rxq, rp)
		e.op("VLD1.P", "16("+rwp+")", "["+v(wt)+"]")
		switch {
		case nb == 1:
			e.op("VLD1", "("+rp+")", vlist(4, 1))
		case stride == 1:
			for i := 0; i < nb; i += 4 {
				e.op("VLD1.P", "64("+rp+")", vlist(4+i, 4))
			}
		default: // a post-index other than the 16 bytes loaded is a register
			for i := range nb {
				e.op("VLD1.P", fmt.Sprintf("(%s)(%s)", rp, rstep), vlist(4+i, 1))
			}
		}
		for i := range nb {
			e.op("VFMLA", v(wt), v(4+i), v(acc+i))
		}
		e.op("SUBS", "$1", rt, rt)
		e.op("BNE", name+"_"+label)
		for i := range nb {
			e.inst(fmaxVec(vreg(acc+i), vreg(acc+i), floor, s4))
			e.op("VST1.P", vlist(acc+i, 1), fmt.Sprintf("(%s)(%s)", ryq, rystep))
		}
		e.op("ADD", fmt.Sprintf("$%d", 16*stride*nb), rxq, rxq)
	}

	e.op("CMP", "$0", rrows)
	e.op("BLE", name+"_done")
	e.label(name + "_row")
	e.op("MOVD", "cols+104(FP)", rq)
	e.op("MOVD", rx, rxq)
	e.op("MOVD", ry, ryq)
	e.label(name + "_blocks")
	e.op("CMP", fmt.Sprintf("$%d", dwcBlockNEON), rq)
	e.op("BLT", name+"_quads")
	pass("tapsBlock", dwcBlockNEON)
	e.op("SUB", fmt.Sprintf("$%d", dwcBlockNEON), rq, rq)
	e.op("B", name+"_blocks")
	// The rest of the row in blocks of 4, the last one moved back over
	// positions already done (it writes the same values again), so that
	// no position goes alone unless the row is narrower than 4.
	e.label(name + "_quads")
	e.op("CBZ", rq, name+"_next")
	e.op("CMP", "$4", rq)
	e.op("BGE", name+"_quad")
	e.op("MOVD", "cols+104(FP)", rtmp)
	e.op("CMP", "$4", rtmp)
	e.op("BLT", name+"_singles")
	e.op("MOVD", "$4", rtmp)
	e.op("SUB", rq, rtmp, rtmp) // positions to move back
	e.op("MOVD", "$4", rq)
	e.op("SUB", fmt.Sprintf("%s<<%d", rtmp, 3+stride), rxq, rxq)
	e.op("MUL", rystep, rtmp, rtmp)
	e.op("SUB", rtmp, ryq, ryq)
	e.label(name + "_quad")
	pass("tapsQuad", 4)
	e.op("SUB", "$4", rq, rq)
	e.op("B", name+"_quads")
	e.label(name + "_singles")
	pass("tapsSingle", 1)
	e.op("SUBS", "$1", rq, rq)
	e.op("BNE", name+"_singles")
	e.label(name + "_next")
	e.op("ADD", rldx, rx, rx)
	e.op("ADD", rldy, ry, ry)
	e.op("SUBS", "$1", rrows, rrows)
	e.op("BNE", name+"_row")
	e.label(name + "_done")
	e.op("RET")
	e.blank()
	return nil
}

// dwcDotsTapsNEON is the most taps one dwcDots call takes: an accumulator
// and an x pointer each.
const dwcDotsTapsNEON = 12

func dwcDotsDoc(name string) string {
	return fmt.Sprintf(`%s adds, for t < len(off) ≤ %d and l < 4,

	Σ_{p<rows, q<cols} a[(p*cols+q)*4+l]·x[p*ldx+q*stride*4+off[t]+l]

to d[t*4+l], with fused multiply-adds position by position in order.

The caller guarantees that every touched element of d, a and x is in bounds;
lengths are not checked.`, name, dwcDotsTapsNEON)
}

// genDwcDotsNEON emits func name(d, a, x []float32, off []int, rows, cols,
// ldx, stride int): one loop per tap count, each tap with its accumulator
// and its pointer into x, advanced by a post-indexed load.
func genDwcDotsNEON(e *emitter, name string) error {
	const (
		rd, ra, rx, roff, rrows, rstep = "R0", "R1", "R2", "R3", "R4", "R5"
		rq, rldx, rtaps                = "R19", "R20", "R21"
		acc                            = 32 - dwcDotsTapsNEON // tap t: V(acc+t)
	)
	ptr := func(t int) string { return fmt.Sprintf("R%d", 6+t) } // R6-R17
	e.printf("// func %s(d, a, x []float32, off []int, rows, cols, ldx, stride int)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V%d-V31 an accumulator a tap, V0 a, V1-V4 x in turn; R0 d,\n", acc)
	e.printf("// R1 a, R2 x's row, R3 off, R4 rows, R5 a position's bytes in x, R6-R17 x\n")
	e.printf("// at each tap's offset, R19 positions left, R20 ldx·4, R21 taps.\n")
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-128\n", name)
	e.op("MOVD", "d_base+0(FP)", rd)
	e.op("MOVD", "a_base+24(FP)", ra)
	e.op("MOVD", "x_base+48(FP)", rx)
	e.op("MOVD", "off_base+72(FP)", roff)
	e.op("MOVD", "off_len+80(FP)", rtaps)
	e.op("MOVD", "rows+96(FP)", rrows)
	e.op("MOVD", "ldx+112(FP)", rldx)
	e.op("LSL", "$2", rldx, rldx)
	e.op("MOVD", "stride+120(FP)", rstep)
	e.op("LSL", "$4", rstep, rstep)
	for nt := 1; nt <= dwcDotsTapsNEON; nt++ {
		e.op("CMP", fmt.Sprintf("$%d", nt), rtaps)
		e.op("BEQ", fmt.Sprintf("%s_taps%d", name, nt))
	}
	e.op("RET")
	for nt := 1; nt <= dwcDotsTapsNEON; nt++ {
		l := func(s string) string { return fmt.Sprintf("%s_%s%d", name, s, nt) }
		e.label(l("taps"))
		for t := range nt {
			b := fmt.Sprintf("V%d.B16", acc+t)
			e.op("VEOR", b, b, b)
		}
		e.op("CMP", "$0", rrows)
		e.op("BLE", l("store"))
		e.label(l("row"))
		for t := range nt {
			e.op("MOVD", fmt.Sprintf("%d(%s)", 8*t, roff), ptr(t))
			e.op("ADD", ptr(t)+"<<2", rx, ptr(t))
		}
		e.op("MOVD", "cols+104(FP)", rq)
		e.op("CBZ", rq, l("next"))
		e.label(l("pos"))
		e.op("VLD1.P", "16("+ra+")", vlist(0, 1))
		for t := range nt {
			xs := 1 + t%4
			e.op("VLD1.P", fmt.Sprintf("(%s)(%s)", ptr(t), rstep), vlist(xs, 1))
			e.op("VFMLA", v(0), v(xs), v(acc+t))
		}
		e.op("SUBS", "$1", rq, rq)
		e.op("BNE", l("pos"))
		e.label(l("next"))
		e.op("ADD", rldx, rx, rx)
		e.op("SUBS", "$1", rrows, rrows)
		e.op("BNE", l("row"))
		e.label(l("store"))
		for t := range nt {
			e.op("VLD1", "("+rd+")", vlist(1, 1))
			e.inst(faddVec(vreg(acc+t), vreg(acc+t), 1, s4))
			e.op("VST1.P", vlist(acc+t, 1), "16("+rd+")")
		}
		e.op("RET")
	}
	e.blank()
	return nil
}
