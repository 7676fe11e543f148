package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// kUnroll is the unroll factor of the main k loop; a remainder loop handles
// k mod kUnroll.
const kUnroll = 4

// sgemmForm is what a microkernel does besides the product: how it treats
// c, and what it reads or prefetches on the side.
type sgemmForm struct {
	// store sets the c tile to the product instead of adding it.
	store bool
	// packB reads the B sliver's k rows of nr floats from src, row stride
	// lds floats, and writes them to b packed: the first tile of a sliver
	// packs it while its FMAs run. (A pass of its own wrote the 2 MiB
	// panel of SGEMM 1024³ at the speed of the misses on its lines.)
	packB bool
	// prefetch touches the first rows rows of nr floats of pf, row stride
	// lds floats, one per unrolled k step: the next sliver's source, which
	// the next packB tile then finds in L2.
	prefetch bool
	// packA reads the A sliver's mr rows of k floats from src, row stride
	// lds floats, and writes them to a packed: the tiles of a block's
	// first B sliver pack A's slivers while their FMAs run.
	packA bool
	// packAT is packA for an A stored transposed: step p of the sliver is
	// the run of mr floats src[p*lds:], which it copies to a whole and
	// broadcasts from.
	packAT bool
	// rows, if set, limits an adding kernel to the tile's first rows rows
	// (a row edge): a block's last rows, fewer than mr, computed without
	// the FMAs of the rows past them or a detour through a scratch tile.
	// A's packed sliver is still mr floats a k step.
	rows int
}

// height is the number of rows of c a kernel of form f and tile height mr
// computes.
func (f sgemmForm) height(mr int) int {
	if f.rows > 0 {
		return f.rows
	}
	return mr
}

// gpRegs is the number of general-purpose registers a kernel of form f uses.
func (f sgemmForm) gpRegs() int {
	switch {
	case f.packA:
		return 10
	case f.packB || f.prefetch || f.packAT:
		return 9
	}
	return 6
}

func (f sgemmForm) signature() string {
	switch {
	case f.packA || f.packAT || f.packB:
		return "func(a, b, c []float32, k, ldc int, src []float32, lds int)"
	case f.prefetch:
		return "func(a, b, c []float32, k, ldc int, pf []float32, lds, rows int)"
	}
	return "func(a, b, c []float32, k, ldc int)"
}

// sgemmDoc is the reference loop a microkernel computes; it is the kernel's
// doc comment.
func sgemmDoc(name string, mr, nr int, f sgemmForm) []string {
	op := "+="
	if f.store {
		op = "="
	}
	h := f.height(mr)
	doc := []string{
		fmt.Sprintf("%s computes, for i < %d, j < %d: c[i*ldc+j] %s Σ_{p<k} a[p*%d+i]·b[p*%d+j]", name, h, nr, op, mr, nr),
		"",
		fmt.Sprintf("a is a packed A sliver (k steps of %d floats), b a packed B sliver (k steps", mr),
		fmt.Sprintf("of %d floats) and c is row-major with row stride ldc floats. The caller", nr),
		fmt.Sprintf("guarantees len(a) ≥ k*%d, len(b) ≥ k*%d and len(c) ≥ %d*ldc+%d; lengths are not checked.", mr, nr, h-1, nr),
	}
	switch {
	case f.packB:
		doc = append(doc, "",
			fmt.Sprintf("It first sets b[p*%d+j] = src[p*lds+j] for p < k, j < %d; the caller guarantees", nr, nr),
			fmt.Sprintf("len(src) ≥ (k-1)*lds+%d.", nr))
	case f.prefetch:
		doc = append(doc, "",
			fmt.Sprintf("It also prefetches pf[p*lds : p*lds+%d] for p < rows, rows ≤ k/%d.", nr, kUnroll))
	case f.packA:
		doc = append(doc, "",
			fmt.Sprintf("It first sets a[p*%d+i] = src[i*lds+p] for i < %d, p < k; the caller guarantees", mr, mr),
			fmt.Sprintf("len(src) ≥ %d*lds+k.", mr-1))
	case f.packAT:
		doc = append(doc, "",
			fmt.Sprintf("It first sets a[p*%d+i] = src[p*lds+i] for i < %d, p < k; the caller guarantees", mr, mr),
			fmt.Sprintf("len(src) ≥ (k-1)*lds+%d.", mr))
	}
	return doc
}

// sgemmArgs loads the kernel's arguments.
type sgemmArgs struct {
	a, b, c, k, ldc4 GPVirtual
}

func loadSgemmArgs() sgemmArgs {
	var r sgemmArgs
	r.a = Load(Param("a").Base(), GP64()).(GPVirtual)
	r.b = Load(Param("b").Base(), GP64()).(GPVirtual)
	r.c = Load(Param("c").Base(), GP64()).(GPVirtual)
	r.k = Load(Param("k"), GP64()).(GPVirtual)
	r.ldc4 = Load(Param("ldc"), GP64()).(GPVirtual)
	SHLQ(U8(2), r.ldc4) // row stride in bytes
	return r
}

// packBAhead is how many k steps ahead a packB kernel prefetches its
// source rows and the lines of b it writes.
const packBAhead = 32

// formArgs are the registers of a form's extra arguments.
type formArgs struct {
	src, lds4, ahead, rows GPVirtual
	// aRows are, for packA, the addresses of A's rows: rows 0-7 from
	// aBases src, src+3·lds and src+2·lds with index lds4.
	aRows  []aRow
	aBases []GPVirtual
}

// aRow addresses a row of A at base + scale·lds4 (scale 0: base alone).
type aRow struct {
	base  GPVirtual
	scale uint8
}

func loadFormArgs(f sgemmForm, mr int) formArgs {
	var x formArgs
	switch {
	case f.packA || f.packAT || f.packB:
		x.src = Load(Param("src").Base(), GP64()).(GPVirtual)
	case f.prefetch:
		x.src = Load(Param("pf").Base(), GP64()).(GPVirtual)
		x.rows = Load(Param("rows"), GP64()).(GPVirtual)
	default:
		return x
	}
	x.lds4 = Load(Param("lds"), GP64()).(GPVirtual)
	SHLQ(U8(2), x.lds4)
	if f.packB {
		x.ahead = GP64()
		IMUL3Q(U32(packBAhead), x.lds4, x.ahead)
	}
	if f.packA {
		if mr > 8 {
			panic("packA: at most 8 rows")
		}
		b2, b3 := GP64(), GP64()
		LEAQ(Mem{Base: x.src, Index: x.lds4, Scale: 2}, b2)
		LEAQ(Mem{Base: b2, Index: x.lds4, Scale: 1}, b3)
		rows := [8]aRow{{x.src, 0}, {x.src, 1}, {x.src, 2}, {b3, 0}, {x.src, 4}, {b3, 2}, {b2, 4}, {b3, 4}}
		x.aRows = rows[:mr]
		x.aBases = []GPVirtual{x.src, b3}
		if mr > 6 {
			x.aBases = append(x.aBases, b2)
		}
	}
	return x
}

// loadA emits the broadcast of a's value for row i at the current k step
// into a new vector: from the packed a, or for packA from src's row i,
// then stored to a packed.
func loadA(f sgemmForm, r sgemmArgs, x formArgs, u, mr, i int, vec func() VecVirtual) VecVirtual {
	t := vec()
	packed := Mem{Base: r.a, Disp: (u*mr + i) * 4}
	if f.packAT {
		VBROADCASTSS(Mem{Base: x.src, Disp: 4 * i}, t)
		return t
	}
	if !f.packA {
		VBROADCASTSS(packed, t)
		return t
	}
	row := x.aRows[i]
	m := Mem{Base: row.base}
	if row.scale > 0 {
		m = Mem{Base: row.base, Index: x.lds4, Scale: row.scale}
	}
	VBROADCASTSS(m, t)
	VMOVSS(t.AsX(), packed)
	return t
}

// advanceA emits, for packA, the step of its row pointers to the next k
// step, and for packAT the step of src to the next run.
func advanceA(f sgemmForm, x formArgs) {
	if f.packAT {
		ADDQ(x.lds4, x.src)
	}
	if !f.packA {
		return
	}
	for _, base := range x.aBases {
		ADDQ(U8(4), base)
	}
}

// copyAT emits, for packAT, the copy of k step u's run of mr floats from
// src to the packed a, in moves of 8, 4, 2 and 1 floats.
func copyAT(f sgemmForm, r sgemmArgs, x formArgs, u, mr int) {
	if !f.packAT {
		return
	}
	for at := 0; at < mr; {
		from, to := Mem{Base: x.src, Disp: 4 * at}, Mem{Base: r.a, Disp: (u*mr + at) * 4}
		switch n := mr - at; {
		case n >= 8:
			y := YMM()
			VMOVUPS(from, y)
			VMOVUPS(y, to)
			at += 8
		case n >= 4:
			v := XMM()
			VMOVUPS(from, v)
			VMOVUPS(v, to)
			at += 4
		case n >= 2:
			v := XMM()
			VMOVSD(from, v)
			VMOVSD(v, to)
			at += 2
		default:
			v := XMM()
			VMOVSS(from, v)
			VMOVSS(v, to)
			at++
		}
	}
}

// loadB emits the loads of k step u's nr floats of b into new vectors of
// width bytes; a packB kernel loads them from src instead, stores them to
// b and advances src by a row.
func loadB(f sgemmForm, r sgemmArgs, x formArgs, u, nr, width int, vec func() VecVirtual) []VecVirtual {
	bv := make([]VecVirtual, 4*nr/width)
	for v := range bv {
		bv[v] = vec()
		packed := Mem{Base: r.b, Disp: u*nr*4 + v*width}
		if !f.packB {
			VMOVUPS(packed, bv[v])
			continue
		}
		if v*width%64 == 0 {
			PREFETCHT0(Mem{Base: x.src, Index: x.ahead, Scale: 1, Disp: v * width})
			PREFETCHT0(packed.Offset(packBAhead * nr * 4))
		}
		VMOVUPS(Mem{Base: x.src, Disp: v * width}, bv[v])
		VMOVUPS(bv[v], packed)
	}
	if f.packB {
		ADDQ(x.lds4, x.src)
	}
	return bv
}

// prefetchSource emits, for a prefetch kernel at the first k step of an
// unrolled iteration, the prefetch of pf's next row while rows remain.
func prefetchSource(f sgemmForm, x formArgs, u, nr int) {
	if !f.prefetch || u != 0 {
		return
	}
	skip := fmt.Sprintf("nopf%d", sourcePrefetches)
	sourcePrefetches++
	TESTQ(x.rows, x.rows)
	JZ(LabelRef(skip))
	for off := 0; off < 4*nr; off += 64 {
		PREFETCHT0(Mem{Base: x.src, Disp: off})
	}
	ADDQ(x.lds4, x.src)
	DECQ(x.rows)
	Label(skip)
}

// sourcePrefetches numbers prefetchSource's labels within the file.
var sourcePrefetches int

// prefetchC touches the first and last byte of every row of the c tile so
// the final read-modify-write does not stall on a miss.
// c points at the tile, ldc4 holds its row stride in bytes.
func prefetchC(c, ldc4 GPVirtual, mr, nr int) { prefetchRows(c, ldc4, mr, nr, false) }

// prefetchTile touches every cache line of every row of the c tile.
func prefetchTile(c, ldc4 GPVirtual, mr, nr int) { prefetchRows(c, ldc4, mr, nr, true) }

// prefetchRows emits both: each row's first and last byte, and with every
// set each cache line between them.
func prefetchRows(c, ldc4 GPVirtual, mr, nr int, every bool) {
	step := 4 * nr // only the first byte before the last
	if every {
		Comment("prefetch every line of the c tile, shortly before the update")
		step = 64
	} else {
		Comment("prefetch the c tile for the final update")
	}
	row := GP64()
	MOVQ(c, row)
	for i := 0; i < mr; i++ {
		for off := 0; off < 4*nr; off += step {
			PREFETCHT0(Mem{Base: row, Disp: off})
		}
		PREFETCHT0(Mem{Base: row, Disp: 4*nr - 1})
		if i < mr-1 {
			ADDQ(ldc4, row)
		}
	}
}

// lateCycles is how long before the c update prefetchTile runs: more than
// an L3 hit takes. The early prefetchC brings the tile towards the core,
// but a long k loop streams enough a and b through L1 to evict it again.
const lateCycles = 400

// fmaLatency is the cycles of a dependent FMA on the cores of uarch.go:
// a k step of a tile with few accumulators takes at least that long.
const fmaLatency = 4

// kLoop emits the k loop: the body step(u) for one k step at offset u (in k
// steps) from the a and b pointers, unrolled kUnroll times, then a remainder
// loop. The pointers advance by mr resp. nr floats per step. The unrolled
// loop runs in two parts with prefetchTile of the tile's rows rows of c
// between them, the second at least lateCycles long at stepCycles per k
// step.
func kLoop(r sgemmArgs, mr, nr, rows, stepCycles int, step func(u int)) {
	late := (lateCycles/stepCycles + kUnroll) / kUnroll // unrolled iterations
	body := func(label string, n GPVirtual) {
		Label(label)
		for u := 0; u < kUnroll; u++ {
			step(u)
		}
		ADDQ(U32(kUnroll*mr*4), r.a)
		ADDQ(U32(kUnroll*nr*4), r.b)
		DECQ(n)
		JNZ(LabelRef(label))
	}
	n := GP64()
	MOVQ(r.k, n)
	SHRQ(U8(2), n)
	JZ(LabelRef("tail"))
	CMPQ(n, U32(late))
	JBE(LabelRef("last"))
	SUBQ(U32(late), n)
	body("loop4", n)
	prefetchTile(r.c, r.ldc4, rows, nr)
	MOVQ(U32(late), n)
	body("last", n)

	Label("tail")
	ANDQ(U8(kUnroll-1), r.k)
	JZ(LabelRef("update"))
	Label("loop1")
	step(0)
	ADDQ(U32(mr*4), r.a)
	ADDQ(U32(nr*4), r.b)
	DECQ(r.k)
	JNZ(LabelRef("loop1"))
	Label("update")
}

// updateC emits c[i*ldc+j] += acc[i][j/w] for the tile, w = vector width,
// or, if store is set, c[i*ldc+j] = acc[i][j/w].
func updateC(r sgemmArgs, acc [][]VecVirtual, width int, store bool) {
	if store {
		Comment("c = accumulators, one row at a time")
	} else {
		Comment("c += accumulators, one row at a time")
	}
	for i := range acc {
		for v := range acc[i] {
			m := Mem{Base: r.c, Disp: v * width}
			if !store {
				VADDPS(m, acc[i][v], acc[i][v])
			}
			VMOVUPS(acc[i][v], m)
		}
		if i < len(acc)-1 {
			ADDQ(r.ldc4, r.c)
		}
	}
}

func newAccumulators(mr, nv int, vec func() VecVirtual) [][]VecVirtual {
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nv)
		for v := range acc[i] {
			acc[i][v] = vec()
			zero(acc[i][v])
		}
	}
	return acc
}

// genSgemmAVX2 emits an mr×nr AVX2+FMA microkernel (nr a multiple of 8) of
// form f: per k step, nr/8 ymm loads of b, mr VBROADCASTSS of a, mr·nr/8
// FMAs.
func genSgemmAVX2(name string, mr, nr int, f sgemmForm) {
	if nr%8 != 0 {
		panic("genSgemmAVX2: nr must be a multiple of 8")
	}
	nv, h := nr/8, f.height(mr)
	nacc := h * nv
	if nacc+nv+1 > 16 {
		panic(fmt.Sprintf("genSgemmAVX2 %dx%d: needs %d ymm registers, only 16 exist", mr, nr, nacc+nv+1))
	}
	TEXT(name, NOSPLIT, f.signature())
	Doc(sgemmDoc(name, mr, nr, f)...)
	Commentf("register pressure: %d ymm accumulators + %d b vectors + 1 broadcast = %d of 16 ymm; %d of 14 GP",
		nacc, nv, nacc+nv+1, f.gpRegs())

	r := loadSgemmArgs()
	x := loadFormArgs(f, mr)
	prefetchC(r.c, r.ldc4, h, nr)
	acc := newAccumulators(h, nv, YMM)
	// The prefetch distance counts two ymm FMAs a cycle (two FMA pipes),
	// and a k step no shorter than an FMA's latency.
	kLoop(r, mr, nr, h, max(fmaLatency, nacc/2), func(u int) {
		prefetchSource(f, x, u, nr)
		bv := loadB(f, r, x, u, nr, 32, YMM)
		copyAT(f, r, x, u, mr)
		for i := 0; i < h; i++ {
			t := loadA(f, r, x, u, mr, i, YMM)
			for v := range bv {
				VFMADD231PS(bv[v], t, acc[i][v])
			}
		}
		advanceA(f, x)
	})
	updateC(r, acc, 32, f.store)
	VZEROUPPER()
	RET()
}

// genSgemmAVX512 emits an mr×nr AVX-512F microkernel (nr a multiple of 16)
// of form f: per k step, nr/16 zmm loads of b and mr·nr/16 FMAs. Where a
// row of a meets more than one b vector, its value is broadcast into a
// register once: an embedded {1to16} broadcast would load it again for
// every FMA, and those loads, beside b's, held the kernel below the FMA
// peak on cores with two 512-bit FMA pipes. A one-vector tile (and packAT,
// which reads a from the source) keeps the embedded broadcast.
func genSgemmAVX512(name string, mr, nr int, f sgemmForm) {
	if nr%16 != 0 {
		panic("genSgemmAVX512: nr must be a multiple of 16")
	}
	nv, h := nr/16, f.height(mr)
	nacc := h * nv
	regA := f.packA || nv > 1 && !f.packAT
	need := nacc + nv
	if regA || f.packAT {
		need++
	}
	if need > 32 {
		panic(fmt.Sprintf("genSgemmAVX512 %dx%d: needs %d zmm registers, only 32 exist", mr, nr, need))
	}
	TEXT(name, NOSPLIT, f.signature())
	Doc(sgemmDoc(name, mr, nr, f)...)
	aVia := "a via embedded broadcast"
	switch {
	case regA:
		aVia = "+ 1 broadcast of a"
	case f.packAT:
		aVia = "a via embedded broadcast, + 1 to copy it"
	}
	Commentf("register pressure: %d zmm accumulators + %d b vectors (%s) = %d of 32 zmm; %d of 14 GP",
		nacc, nv, aVia, need, f.gpRegs())

	r := loadSgemmArgs()
	x := loadFormArgs(f, mr)
	prefetchC(r.c, r.ldc4, h, nr)
	acc := newAccumulators(h, nv, ZMM)
	// The prefetch distance counts one zmm FMA a cycle, the rate of a
	// 256-bit datapath (Zen 4); cores with two 512-bit pipes run ahead of it.
	kLoop(r, mr, nr, h, max(fmaLatency, nacc), func(u int) {
		prefetchSource(f, x, u, nr)
		bv := loadB(f, r, x, u, nr, 64, ZMM)
		copyAT(f, r, x, u, mr)
		for i := 0; i < h; i++ {
			if f.packAT {
				for v := range bv {
					VFMADD231PS_BCST(Mem{Base: x.src, Disp: 4 * i}, bv[v], acc[i][v])
				}
				continue
			}
			if regA {
				t := loadA(f, r, x, u, mr, i, ZMM)
				for v := range bv {
					VFMADD231PS(bv[v], t, acc[i][v])
				}
				continue
			}
			for v := range bv {
				VFMADD231PS_BCST(Mem{Base: r.a, Disp: (u*mr + i) * 4}, bv[v], acc[i][v])
			}
		}
		advanceA(f, x)
	})
	updateC(r, acc, 64, f.store)
	VZEROUPPER()
	RET()
}
