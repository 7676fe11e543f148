package main

import "fmt"

// The strided-row kernels, as on amd64 (asm/amd64/strided.go): rows moved
// between a stride of 2 and a stride of 1. NEON has the structure loads
// and stores for it: LD2 deinterleaves 8 floats into their even and odd
// halves, ST2 interleaves two registers back. gather2 keeps LD2's even
// half; scatter2 loads dst's pairs with LD2, replaces the even half with
// src and stores the pairs back with ST2, so the odd floats are written
// with the values they held. A row moves 16 floats of its contiguous side
// a step while whole steps remain, then 4.

func gather2Doc(name string) string {
	return fmt.Sprintf(`%s sets, for n a multiple of 4,

	for r := 0; r < rows; r++ {
		for j := 0; j < n; j++ {
			dst[r*dstStride+j] = src[r*srcStride+2*j]
		}
	}

16 floats a step (four LD2 of 8 floats, one ST1 of their even halves),
then 4. It reads src[r*srcStride+i] for i < 2n, one float past the last it
needs, and writes dst[r*dstStride+j] for j < n only. The caller guarantees
that every touched element is in bounds; lengths are not checked.`, name)
}

func scatter2Doc(name string) string {
	return fmt.Sprintf(`%s sets, for n a multiple of 4,

	for r := 0; r < rows; r++ {
		for j := 0; j < n; j++ {
			dst[r*dstStride+2*j] = src[r*srcStride+j]
		}
	}

16 floats a step, then 4: LD2 reads dst's pairs, the even halves are
replaced by src, and ST2 writes the pairs back, so dst[r*dstStride+2*j+1]
is read and rewritten with the value it held. It touches
dst[r*dstStride+i] for i < 2n only. The caller guarantees that every
touched element is in bounds; lengths are not checked.`, name)
}

// stridedRegs are the registers of both kernels: R0 dst, R1 src, R2
// rows, R3 n·4 (bytes of the contiguous side), R4-R5 strides·4, R6-R7 the
// row's pointers, R8 bytes left, R9 scatter2's store pointer.
const (
	sdst, ssrc, srows, sn, sds, sss = "R0", "R1", "R2", "R3", "R4", "R5"
	sd, ss, sleft, sst              = "R6", "R7", "R8", "R9"
)

// genGather2NEON emits func name(dst, src []float32, rows, n, dstStride,
// srcStride int).
func genGather2NEON(e *emitter, name string) error {
	stridedHead(e, name, "V0-V4; R0 dst, R1 src, R2 rows, R3 n·4, R4-R5 strides·4,\n// R6-R8 the row's pointers and bytes left.")
	e.op("MOVD", sdst, sd)
	e.op("MOVD", ssrc, ss)
	stridedLoop(e, name, func() {
		// LD2 into overlapping pairs: each load's even half stays, its
		// odd half is overwritten by the next load's even half.
		for q := range 4 {
			e.op("VLD2.P", "32("+ss+")", vlist(q, 2))
		}
		e.op("VST1.P", vlist(0, 4), "64("+sd+")")
	}, func() {
		e.op("VLD2.P", "32("+ss+")", vlist(0, 2))
		e.op("VST1.P", vlist(0, 1), "16("+sd+")")
	})
	return nil
}

// genScatter2NEON emits func name(dst, src []float32, rows, n, dstStride,
// srcStride int).
func genScatter2NEON(e *emitter, name string) error {
	stridedHead(e, name, "V0-V7; R0 dst, R1 src, R2 rows, R3 n·4, R4-R5 strides·4,\n// R6-R8 the row's pointers and bytes left, R9 its store pointer.")
	e.op("MOVD", sdst, sd)
	e.op("MOVD", sdst, sst)
	e.op("MOVD", ssrc, ss)
	stridedLoop(e, name, func() {
		for q := range 4 {
			e.op("VLD2.P", "32("+sd+")", vlist(2*q, 2))
		}
		for q := range 4 {
			e.op("VLD1.P", "16("+ss+")", vlist(2*q, 1))
		}
		for q := range 4 {
			e.op("VST2.P", vlist(2*q, 2), "32("+sst+")")
		}
	}, func() {
		e.op("VLD2.P", "32("+sd+")", vlist(0, 2))
		e.op("VLD1.P", "16("+ss+")", vlist(0, 1))
		e.op("VST2.P", vlist(0, 2), "32("+sst+")")
	})
	return nil
}

// stridedHead emits the kernel's header and loads its arguments, scaled to
// bytes; the kernel returns at once unless rows and n are positive.
func stridedHead(e *emitter, name, regs string) {
	e.printf("// func %s(dst, src []float32, rows, n, dstStride, srcStride int)\n", name)
	e.printf("//\n")
	e.printf("// Register use: %s\n", regs)
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-80\n", name)
	e.op("MOVD", "dst_base+0(FP)", sdst)
	e.op("MOVD", "src_base+24(FP)", ssrc)
	e.op("MOVD", "rows+48(FP)", srows)
	e.op("MOVD", "n+56(FP)", sn)
	e.op("MOVD", "dstStride+64(FP)", sds)
	e.op("MOVD", "srcStride+72(FP)", sss)
	e.op("LSL", "$2", sn, sn)
	e.op("LSL", "$2", sds, sds)
	e.op("LSL", "$2", sss, sss)
	e.op("CMP", "$0", srows)
	e.op("BLE", name+"_done")
	e.op("CMP", "$0", sn)
	e.op("BLE", name+"_done")
	e.label(name + "_row")
}

// stridedLoop emits a row's loop, after the row's pointers are set: step16
// moves 16 floats of the contiguous side while whole steps remain, step4
// 4 for the rest; then the next row.
func stridedLoop(e *emitter, name string, step16, step4 func()) {
	e.op("SUBS", "$64", sn, sleft)
	e.op("BLT", name+"_tail")
	e.label(name + "_sixteen")
	step16()
	e.op("SUBS", "$64", sleft, sleft)
	e.op("BGE", name+"_sixteen")
	e.label(name + "_tail")
	e.op("ADDS", "$64", sleft, sleft) // the bytes left: 0, 16, 32 or 48
	e.op("BEQ", name+"_next")
	e.label(name + "_four")
	step4()
	e.op("SUBS", "$16", sleft, sleft)
	e.op("BNE", name+"_four")
	e.label(name + "_next")
	e.op("ADD", sds, sdst, sdst)
	e.op("ADD", sss, ssrc, ssrc)
	e.op("SUBS", "$1", srows, srows)
	e.op("BNE", name+"_row")
	e.label(name + "_done")
	e.op("RET")
	e.blank()
}
