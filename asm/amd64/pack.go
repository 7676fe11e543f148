package main

import (
	"fmt"

	"github.com/simdconv/simdconv/asm/internal/table"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Packing copies rows of an operand into a microkernel's sliver layout. One
// primitive serves every packing that reads contiguous source rows: B of a
// dense row-major matrix, and the implicit im2col of a stride-1 convolution,
// where each tap (r, s) of a column run reads the same window of every
// channel plane. The lane masks express the zero padding of a convolution
// and the zero fill past the matrix edge, so no row needs a scalar loop.

// packRowsSignature is the table's, which the Go side calls.
var packRowsSignature = "func(" + table.PackRows.Params + ")"

func packRowsDoc(name string, lanes int) []string {
	return []string{
		fmt.Sprintf("%s sets, for r < rows and j < n ≤ %d, where store holds the bits [0, n),", name, lanes),
		"",
		"\tdst[r*dstStride+j] = src[r*srcStride+j-lo] if load bit j is set, else 0.",
		"",
		"The load bits must lie in [lo, n). The caller guarantees that every touched",
		"element of dst and src is in bounds; lengths are not checked.",
	}
}

// packArgs loads the arguments; the strides are returned in bytes, and src
// is moved back by lo floats so that lane j reads src+4j.
type packArgs struct {
	dst, src, rows, dstStride, srcStride GPVirtual
}

func loadPackArgs() packArgs {
	var r packArgs
	r.dst = Load(Param("dst").Base(), GP64()).(GPVirtual)
	r.src = Load(Param("src").Base(), GP64()).(GPVirtual)
	r.rows = Load(Param("rows"), GP64()).(GPVirtual)
	lo := Load(Param("lo"), GP64())
	SHLQ(U8(2), lo)
	SUBQ(lo, r.src)
	r.dstStride = Load(Param("dstStride"), GP64()).(GPVirtual)
	SHLQ(U8(2), r.dstStride)
	r.srcStride = Load(Param("srcStride"), GP64()).(GPVirtual)
	SHLQ(U8(2), r.srcStride)
	return r
}

// rowLoop emits the loop over rows around body, which copies one row.
func rowLoop(r packArgs, label string, body func()) {
	TESTQ(r.rows, r.rows)
	JLE(LabelRef("done"))
	alignLoop()
	Label(label)
	body()
	ADDQ(r.srcStride, r.src)
	ADDQ(r.dstStride, r.dst)
	DECQ(r.rows)
	JNZ(LabelRef(label))
}

// genPackRowsAVX512 emits the AVX-512 packing primitive for rows of up to
// lanes floats (a multiple of 16). Zeroing-masked loads never touch a lane
// outside the load mask. A masked store can cost several cycles (it does on
// Zen 4), so a row stores whole vectors and masks only its last one, and
// there is one loop per count of vectors the row spans.
func genPackRowsAVX512(name string, lanes int) {
	nv := lanes / 16
	TEXT(name, NOSPLIT, packRowsSignature)
	Pragma("noescape")
	Doc(packRowsDoc(name, lanes)...)
	Commentf("register pressure: %d zmm + %d of 7 opmask registers; 8 GP", nv, nv+1)
	r := loadPackArgs()
	load := make([]OpmaskVirtual, nv)
	bits := Load(Param("load"), GP64()).(GPVirtual)
	for v := range nv {
		load[v] = K()
		KMOVW(bits.As32(), load[v])
		if v < nv-1 {
			SHRQ(U8(16), bits)
		}
	}
	// The store mask is [0, n): its bit length is n, its last vector's
	// mask what remains above the whole vectors.
	store := Load(Param("store"), GP64()).(GPVirtual)
	n := GP64()
	POPCNTQ(store, n)
	last := K()
	for used := 1; used <= nv; used++ {
		Label(fmt.Sprintf("try%d", used))
		CMPQ(n, U32(16*used))
		if used < nv {
			JA(LabelRef(fmt.Sprintf("try%d", used+1)))
		}
		if used > 1 {
			SHRQ(U8(16*(used-1)), store)
		}
		KMOVW(store.As32(), last)
		rowLoop(r, fmt.Sprintf("rows%d", used), func() {
			for v := range used {
				z := ZMM()
				VMOVUPS_Z(Mem{Base: r.src, Disp: 64 * v}, load[v], z)
				if v < used-1 {
					VMOVUPS(z, Mem{Base: r.dst, Disp: 64 * v})
				} else {
					VMOVUPS(z, last, Mem{Base: r.dst, Disp: 64 * v})
				}
			}
		})
		JMP(LabelRef("done"))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// genPackRowsAVX2 emits the AVX2 packing primitive for rows of up to lanes
// floats (a multiple of 8). Full rows, the common case, take plain moves.
// Other rows load through VMASKMOVPS, whose masked-off lanes are never read,
// but do not store through it: its masked store is microcoded and slow on
// AMD cores (BenchmarkPackRows measures it). Such rows
// store whole vectors and then the last m lanes as 4-, 2- and 1-lane
// pieces, in one loop per (vectors spanned, m).
func genPackRowsAVX2(name string, lanes int) {
	nv := lanes / 8
	laneBits := GLOBL(name+"LaneBits", RODATA|NOPTR)
	for i := range 8 {
		DATA(4*i, U32(1<<i))
	}
	TEXT(name, NOSPLIT, packRowsSignature)
	Pragma("noescape")
	Doc(packRowsDoc(name, lanes)...)
	Commentf("register pressure: %d ymm masks + %d data + 1 lane-bit constant + 1 piece of 16 ymm; 8 GP", nv, nv)
	r := loadPackArgs()
	load := Load(Param("load"), GP64()).(GPVirtual)
	store := Load(Param("store"), GP64()).(GPVirtual)
	full := GP64()
	MOVQ(U64(1<<lanes-1), full)
	CMPQ(load, full)
	JNE(LabelRef("masked"))
	CMPQ(store, full)
	JNE(LabelRef("masked"))
	rowLoop(r, "full", func() {
		for v := range nv {
			y := YMM()
			VMOVUPS(Mem{Base: r.src, Disp: 32 * v}, y)
			VMOVUPS(y, Mem{Base: r.dst, Disp: 32 * v})
		}
	})
	JMP(LabelRef("done"))

	// Load masks: broadcast each vector's 8 bits to every lane, keep lane
	// i's bit 1<<i and compare it with that bit.
	Label("masked")
	bitsY := YMM()
	VMOVDQU(laneBits, bitsY)
	loadM := make([]VecVirtual, nv)
	for v := range nv {
		loadM[v] = YMM()
		VMOVD(load.As32(), loadM[v].AsX())
		VPBROADCASTD(loadM[v].AsX(), loadM[v])
		VPAND(bitsY, loadM[v], loadM[v])
		VPCMPEQD(bitsY, loadM[v], loadM[v])
		if v < nv-1 {
			SHRQ(U8(8), load)
		}
	}
	n := GP64()
	POPCNTQ(store, n)
	for used := 1; used <= nv; used++ {
		for m := 1; m <= 8; m++ {
			label := fmt.Sprintf("v%dm%d", used, m)
			CMPQ(n, U32(8*(used-1)+m))
			JE(LabelRef(label))
		}
	}
	JMP(LabelRef("done")) // n = 0
	for used := 1; used <= nv; used++ {
		for m := 1; m <= 8; m++ {
			Label(fmt.Sprintf("v%dm%d", used, m))
			rowLoop(r, fmt.Sprintf("rows%dx%d", used, m), func() {
				for v := range used {
					y := YMM()
					VMASKMOVPS(Mem{Base: r.src, Disp: 32 * v}, loadM[v], y)
					storeLanes(y, Mem{Base: r.dst, Disp: 32 * v}, map[bool]int{true: m, false: 8}[v == used-1])
				}
			})
			JMP(LabelRef("done"))
		}
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// storeLanes stores lanes [0, m) of y at dst, m ≤ 8, with no masked store.
func storeLanes(y VecVirtual, dst Mem, m int) {
	if m == 8 {
		VMOVUPS(y, dst)
		return
	}
	x := y.AsX()
	at := 0
	if m >= 4 {
		VMOVUPS(x, dst)
		x = XMM()
		VEXTRACTF128(U8(1), y, x)
		at, m = 4, m-4
	}
	if m >= 2 {
		VMOVLPS(x, dst.Offset(4*at))
		VMOVHLPS(x, x, x)
		at, m = at+2, m-2
	}
	if m == 1 {
		VMOVSS(x, dst.Offset(4*at))
	}
}

const packSliverSignature = "func(dst, x []float32, tab []int32, kc, t0, taps, segs, c0, chanStride int)"

// genPackSliverAVX512 emits the implicit-im2col gather of a stride-1
// convolution for a whole B sliver of lanes columns: row kk (tap t, channel
// c) is assembled in registers from the sliver's segments (runs of columns
// that share an output row) by merge-masked loads, then stored whole, so the
// sliver is written in order with no masked store.
//
// tab holds, for tap t and segment i, entry e = t*segs+i of four int32: the
// offset of lane 0 from the channel plane's start, then the 64-bit lane
// mask of the segment's columns that read inside the plane.
func genPackSliverAVX512(name string, lanes int) {
	nv := lanes / 16
	TEXT(name, NOSPLIT, packSliverSignature)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets, for kk < kc, with t = (t0+kk) mod taps and c = c0 + (t0+kk)/taps,", name),
		"",
		fmt.Sprintf("\tdst[kk*%d+j] = x[c*chanStride + tab[4e] + j] for the one segment e = t*segs+i whose mask has bit j, else 0.", lanes),
		"",
		"The caller guarantees that every lane a mask selects lies inside x for every",
		"channel read, that len(dst) ≥ kc*lanes and len(tab) ≥ 4*taps*segs; lengths are not checked.",
	)
	Commentf("register pressure: %d zmm + %d opmask registers; 12 GP", nv, nv)
	dst := Load(Param("dst").Base(), GP64())
	x := Load(Param("x").Base(), GP64())
	tab := Load(Param("tab").Base(), GP64())
	kc := Load(Param("kc"), GP64())
	t := Load(Param("t0"), GP64())
	taps := Load(Param("taps"), GP64())
	segs := Load(Param("segs"), GP64())
	cs4 := Load(Param("chanStride"), GP64())
	SHLQ(U8(2), cs4)
	plane := Load(Param("c0"), GP64()) // plane = x + c*chanStride*4
	IMULQ(cs4, plane)
	ADDQ(x, plane)
	entryBytes := GP64() // bytes of one tap's row of the table
	MOVQ(segs, entryBytes)
	SHLQ(U8(4), entryBytes)
	row := GP64() // tab + t*entryBytes
	MOVQ(t, row)
	IMULQ(entryBytes, row)
	ADDQ(tab, row)
	e, i, off := GP64(), GP64(), GP64()
	k := make([]OpmaskVirtual, nv)
	for v := range k {
		k[v] = K()
	}

	TESTQ(kc, kc)
	JLE(LabelRef("done"))
	Label("row")
	z := make([]VecVirtual, nv)
	for v := range z {
		z[v] = ZMM()
		VPXORD(z[v], z[v], z[v])
	}
	MOVQ(row, e)
	MOVQ(segs, i)
	Label("seg")
	MOVLQSX(Mem{Base: e}, off)
	LEAQ(Mem{Base: plane, Index: off, Scale: 4}, off)
	for v := range nv {
		KMOVW(Mem{Base: e, Disp: 4 + 2*v}, k[v])
		VMOVUPS(Mem{Base: off, Disp: 64 * v}, k[v], z[v])
	}
	ADDQ(U8(16), e)
	DECQ(i)
	JNZ(LabelRef("seg"))
	for v := range nv {
		VMOVUPS(z[v], Mem{Base: dst, Disp: 64 * v})
	}
	ADDQ(U32(4*lanes), dst)
	ADDQ(entryBytes, row)
	INCQ(t)
	CMPQ(t, taps)
	JNE(LabelRef("next"))
	XORQ(t, t)
	MOVQ(tab, row)
	ADDQ(cs4, plane)
	Label("next")
	DECQ(kc)
	JNZ(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// prefetchAhead is how far ahead in a row the transposing pack prefetches:
// its rows lie far apart (a filter's rows), too many streams for the
// hardware prefetcher to follow.
const prefetchAhead = 512

const packTSignature = "func(dst, a []float32, lda, ldd, kc int, alpha float32)"

// genPackTAVX2 emits the transposing pack of rows (≤ 8) rows of a
// row-major matrix, dst[kk*ldd+i] = alpha·a[i*lda+kk]: an 8×8 register
// transpose per 8 k steps (8 unpacks, 8 shuffles, 8 lane permutes for 64
// floats). It packs A slivers (ldd = mr) and the B slivers of a transposed
// B, 8 columns at a time (ldd = nr). With rows < 8 the missing rows are
// zero, and each k step's 8-float store runs 8−rows floats past its row: into
// the next k step, which is written after it, and for the last one into
// slack the caller leaves.
func genPackTAVX2(name string, rows int) {
	TEXT(name, NOSPLIT, packTSignature)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets dst[kk*ldd+i] = alpha·a[i*lda+kk] for i < %d and kk < kc, kc a multiple of 8;", name, rows),
		"it may write dst[kk*ldd+i] for i < 8 before it writes the final value there.",
		"",
		fmt.Sprintf("The caller guarantees ldd ≥ %d, len(a) ≥ %d*lda+kc and len(dst) ≥ (kc-1)*ldd+8; lengths", rows, rows-1),
		"are not checked.",
	)
	Commentf("register pressure: 8 rows, 8 + 8 transpose temporaries (reused), alpha: ≤ 16 ymm; %d GP", rows+5)
	dst := Load(Param("dst").Base(), GP64()).(GPVirtual)
	a := Load(Param("a").Base(), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	ldd := Load(Param("ldd"), GP64()).(GPVirtual)
	SHLQ(U8(2), ldd)
	n := Load(Param("kc"), GP64()).(GPVirtual)
	SHRQ(U8(3), n)
	JZ(LabelRef("done"))
	alpha := YMM()
	VBROADCASTSS(Load(Param("alpha"), XMM()), alpha)
	ptrs := make([]GPVirtual, rows)
	for i := range ptrs {
		ptrs[i] = GP64()
		if i == 0 {
			MOVQ(a, ptrs[i])
		} else {
			LEAQ(Mem{Base: ptrs[i-1], Index: lda, Scale: 1}, ptrs[i])
		}
	}
	transposeLoop(dst, ldd, n, ptrs, nil, func(m Mem, y VecVirtual) { VMULPS(m, alpha, y) })
}

const packTOffSignature = "func(dst, a []float32, offs []int, at, ldd, kc, n int)"

// genPackTOffAVX2 is genPackTAVX2 for 8 rows that start anywhere in a:
// row i is a[offs[i]+at:]. It packs the B slivers of backward-filter, whose
// column (c, r, s) is a run of the zero-padded input starting at that tap's
// offset. Rows i ≥ n are stored as zeros, so a sliver's last, partial group
// of columns needs no Go loop (a 3×3 single-channel layer's 9 columns
// would otherwise be gathered and cleared in Go).
func genPackTOffAVX2(name string) {
	laneIndex := GLOBL(name+"LaneIndex", RODATA|NOPTR)
	for i := range 8 {
		DATA(4*i, U32(i))
	}
	TEXT(name, NOSPLIT, packTOffSignature)
	Pragma("noescape")
	Doc(
		fmt.Sprintf("%s sets dst[kk*ldd+i] = a[offs[i]+at+kk] for i < n, and 0 for n ≤ i < 8, for kk < kc,", name),
		"kc a multiple of 8.",
		"",
		"The caller guarantees ldd ≥ 8, len(offs) ≥ 8, 0 ≤ offs[i]+at and offs[i]+at+kc ≤ len(a) for",
		"every i < 8, and len(dst) ≥ (kc-1)*ldd+8; lengths are not checked.",
	)
	Commentf("register pressure: 8 rows, 8 + 8 transpose temporaries (reused), a lane mask: ≤ 16 ymm; 13 GP")
	dst := Load(Param("dst").Base(), GP64()).(GPVirtual)
	a := Load(Param("a").Base(), GP64())
	offs := Load(Param("offs").Base(), GP64())
	at := Load(Param("at"), GP64())
	LEAQ(Mem{Base: a, Index: at, Scale: 4}, a)
	ldd := Load(Param("ldd"), GP64()).(GPVirtual)
	SHLQ(U8(2), ldd)
	keep := YMM() // lane i all ones if i < n, else 0
	VMOVD(Load(Param("n"), GP64()).(GPVirtual).As32(), keep.AsX())
	VPBROADCASTD(keep.AsX(), keep)
	VPCMPGTD(laneIndex, keep, keep)
	n := Load(Param("kc"), GP64()).(GPVirtual)
	SHRQ(U8(3), n)
	JZ(LabelRef("done"))
	ptrs := make([]GPVirtual, 8)
	for i := range ptrs {
		ptrs[i] = GP64()
		MOVQ(Mem{Base: offs, Disp: 8 * i}, ptrs[i])
		LEAQ(Mem{Base: a, Index: ptrs[i], Scale: 4}, ptrs[i])
	}
	transposeLoop(dst, ldd, n, ptrs, keep, func(m Mem, y VecVirtual) { VMOVUPS(m, y) })
}

// transposeLoop emits n blocks of 8 k steps: load 8 floats of each row
// (rows past len(ptrs) are zero) through load, transpose the 8×8 block and
// store its rows at dst, dst+ldd, …, ANDed with keep unless it is nil; then
// returns.
func transposeLoop(dst, ldd, n GPVirtual, ptrs []GPVirtual, keep VecVirtual, load func(Mem, VecVirtual)) {
	k := GP64()
	XORQ(k, k)
	Label("block")
	y := make([]VecVirtual, 8)
	for i := range y {
		y[i] = YMM()
		if i < len(ptrs) {
			m := Mem{Base: ptrs[i], Index: k, Scale: 1}
			PREFETCHT0(m.Offset(prefetchAhead))
			load(m, y[i])
		} else {
			VXORPS(y[i], y[i], y[i])
		}
	}
	// t: pairs of rows interleaved; s: quads of rows, one k per 128-bit
	// lane; then the eight k steps, all rows.
	t := make([]VecVirtual, 8)
	for p := range 4 {
		t[2*p], t[2*p+1] = YMM(), YMM()
		VUNPCKLPS(y[2*p+1], y[2*p], t[2*p])
		VUNPCKHPS(y[2*p+1], y[2*p], t[2*p+1])
	}
	s := make([]VecVirtual, 8)
	for q := range 2 { // rows 4q..4q+3
		for h := range 2 { // from the low (h=0) or high (h=1) unpacks
			lo, hi := t[4*q+h], t[4*q+2+h]
			s[4*q+2*h], s[4*q+2*h+1] = YMM(), YMM()
			VSHUFPS(U8(0x44), hi, lo, s[4*q+2*h])
			VSHUFPS(U8(0xEE), hi, lo, s[4*q+2*h+1])
		}
	}
	for kk := range 8 {
		o := YMM()
		imm := U8(0x20)
		if kk >= 4 {
			imm = U8(0x31)
		}
		VPERM2F128(imm, s[4+kk%4], s[kk%4], o)
		if keep != nil {
			VANDPS(keep, o, o)
		}
		VMOVUPS(o, Mem{Base: dst})
		ADDQ(ldd, dst)
	}
	ADDQ(U8(32), k)
	DECQ(n)
	JNZ(LabelRef("block"))
	Label("done")
	VZEROUPPER()
	RET()
}
