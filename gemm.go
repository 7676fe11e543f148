package simdconv

import (
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/parallel"
)

// gemm is an engine.Gemm with the driver's methods.
type gemm engine.Gemm

// TileFit returns the share of the register tiles of an m×n product, on
// the selected ISA, that holds real rows and columns of C: 1 when the tiles
// divide m and n, less where edge tiles are partly empty. Callers that can
// compute a product either way round use it to pick one. It is for an A
// that is packed; DenseTileFit is for a Dense A.
func tileFit(m, n int) float64 {
	b := tileOf(current)
	cols := n / b.nr * b.nr
	if rest := n - cols; rest > 0 {
		cols += b.sliverWidth(rest)
	}
	return float64(m) * float64(n) / (float64(roundUp(m, b.mr)) * float64(cols))
}

// DenseTileFit is TileFit for a product whose A is a Dense matrix and
// whose alpha is 1, which takes the direct-A tiles where they apply (49 to
// 56 columns on AVX-512).
func denseTileFit(m, n int) float64 {
	b := tileOf(current)
	g := gemm{M: m, N: n, Alpha: 1, A: &engine.Dense{}}
	if t, ok := b.directTile(g.directRoute(b, n)); ok {
		return float64(m) * float64(n) / (float64(roundUp(m, t.mr)) * float64(t.nr))
	}
	return tileFit(m, n)
}

// runBlock computes rows [i0, i1) and columns [j0, j1) of C on the
// selected ISA, on the calling goroutine.
func (g *gemm) runBlock(ws []float32, i0, i1, j0, j1 int) {
	id := current
	g.run(id, tileOf(id).forProduct(g.M, g.N), ws, i0, i1, j0, j1)
}

// runner computes one product at a time on several threads.
type runner struct {
	group parallel.Group
	job   gemmJob
}

type gemmJob struct {
	g      *gemm
	id     isaID
	b      blocking
	ws     [][]float32
	step   int  // rows or columns per part, a multiple of mr or nr
	splitM bool // parts split the rows, else the columns
}

// Run computes g on len(ws) threads, each with its own workspace of
// gemmWorkspace(M, N, K) floats. The threads compute disjoint blocks of C
// with the same reduction order, so the result does not depend on their
// number.
func (e *runner) Run(eg *engine.Gemm, ws [][]float32) {
	g := (*gemm)(eg)
	id := current
	b := tileOf(id).forProduct(g.M, g.N)
	tm, tn := ceilDiv(g.M, b.mr), ceilDiv(g.N, b.nr)
	// Rows, for a product that takes the direct-A route, so that each
	// thread's block takes it too (a column split would leave it a sliver
	// of a few columns, or, on the dot route, the whole tile to compute).
	splitM := tm > tn || g.directRoute(b, g.N) != noDirect
	tiles, unit := tn, b.nr
	if splitM {
		tiles, unit = tm, b.mr
	}
	parts := min(len(ws), tiles, max(1, 2*g.M*g.N*g.K/minParallelFlops))
	if parts <= 1 {
		g.run(id, b, ws[0], 0, g.M, 0, g.N)
		return
	}
	e.job = gemmJob{g: g, id: id, b: b, ws: ws, step: ceilDiv(tiles, parts) * unit, splitM: splitM}
	e.group.Run(ceilDiv(tiles*unit, e.job.step), &e.job)
	e.job = gemmJob{}
}

// minParallelFlops is the smallest share of a multiply worth a thread.
const minParallelFlops = 1 << 20

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func (j *gemmJob) Do(part int) {
	g, ws, lo := j.g, j.ws[part], part*j.step
	if j.splitM {
		g.run(j.id, j.b, ws, lo, min(lo+j.step, g.M), 0, g.N)
	} else {
		g.run(j.id, j.b, ws, 0, g.M, lo, min(lo+j.step, g.N))
	}
}

// run computes rows [i0, i1) and columns [j0, j1) of C, BLIS loop order:
// column panels of B, then k blocks, then row blocks of A, then register
// tiles.
func (g *gemm) run(id isaID, b blocking, ws []float32, i0, i1, j0, j1 int) {
	if i0 >= i1 || j0 >= j1 {
		return
	}
	direct := g.directRoute(b, j1-j0) != noDirect
	// store: C's old values do not count, and the first k block sets it.
	store := g.Beta == 0 && g.Bias == nil && g.K > 0 && g.Alpha != 0 && !direct && hasStoreKernel(id)
	if !store {
		g.initC(i0, i1, j0, j1)
	}
	ws = engine.AlignLine(ws)
	switch rows := roundUp(i1-i0, b.mr); {
	case g.K == 0 || g.Alpha == 0:
	case direct:
		g.runDirect(id, b, ws, i0, i1, j0, j1)
	case i1-i0 <= b.mc && g.K >= 64 && rows*g.K <= b.wholeA:
		g.runSlivers(id, b, ws, i0, i1, j0, j1, store)
	default:
		g.runBlocks(id, b, ws, i0, i1, j0, j1, store)
	}
	if g.ReLU {
		for i := i0; i < i1; i++ {
			row := g.C[i*g.Ldc+j0 : i*g.Ldc+j1]
			for j, v := range row {
				row[j] = max(v, 0)
			}
		}
	}
}

// kstep is the length of the k blocks: near-equal ones, 147 = 80 + 67
// rather than 128 + 19, whose short block would pay a whole C tile update
// per 19 steps. It is a multiple of 8 (kc is), so that the transposing
// packs, 8 rows at a time, leave no rows to Go loops but the last block's.
func (g *gemm) kstep(b blocking) int {
	return min(roundUp(ceilDiv(g.K, ceilDiv(g.K, b.kc)), 8), b.kc)
}

// runSlivers is run for a small A (one row block, ≤ wholeA floats packed):
// it packs all of A once, then takes each B sliver through every k block.
// A sliver of up to wholeB floats is packed whole, in one call (for an
// im2col, one gather table instead of one per k block); a longer one is
// packed a k block at a time, just before its microkernels read it, while
// it is in L1. The k blocks reach each element of C in the same order as
// in runBlocks.
func (g *gemm) runSlivers(id isaID, b blocking, ws []float32, i0, i1, j0, j1 int, store bool) {
	rows, ks := roundUp(i1-i0, b.mr), g.kstep(b)
	bRows := min(b.kc, g.K)
	if g.K*b.nr <= b.wholeB {
		bRows = g.K
	}
	aBuf := ws[:engine.Lines(rows*g.K+packSlack)]
	bBuf := ws[len(aBuf) : len(aBuf)+bRows*b.nr]
	tmp := ws[len(aBuf)+len(bBuf) : len(aBuf)+len(bBuf)+b.mr*b.nr]
	for pc := 0; pc < g.K; pc += ks {
		packA(g.A, id, aBuf[rows*pc:], g.Alpha, i0, i1-i0, pc, min(ks, g.K-pc), b.mr)
	}
	for jr := j0; jr < j1; jr += b.nr {
		cols := min(b.nr, j1-jr)
		w := b.sliverWidth(cols)
		// A full sliver of a row-major B is packed by its first tile, whose
		// FMAs hide the misses of reading it.
		fly := g.onTheFly(id, b, 0, jr, cols, i1-i0)
		if bRows == g.K && fly.b == nil {
			packB(g.B, id, bBuf, 0, g.K, jr, cols, w)
		}
		for pc := 0; pc < g.K; pc += ks {
			kc := min(ks, g.K-pc)
			bs := bBuf
			if bRows == g.K {
				bs = bBuf[pc*w:]
			} else if fly.b == nil {
				packB(g.B, id, bs, pc, kc, jr, cols, w)
			}
			f := onTheFly{}
			if fly.b != nil {
				f.b, f.ldb = fly.b[pc*fly.ldb:], fly.ldb
			}
			g.block(id, b, aBuf[rows*pc:], bs, tmp, i0, i1-i0, jr, cols, kc, store && pc == 0, f)
		}
	}
}

// runBlocks is run in BLIS loop order.
func (g *gemm) runBlocks(id isaID, b blocking, ws []float32, i0, i1, j0, j1 int, store bool) {
	mr, nr := b.mr, b.nr
	kcMax := min(b.kc, g.K)
	mcMax := roundUp(min(b.mc, i1-i0), mr)
	aBuf := ws[:engine.Lines(mcMax*kcMax+packSlack)]
	panel := b.panelWidth(j1 - j0)
	bBuf := ws[len(aBuf) : len(aBuf)+kcMax*panel]
	tmp := ws[len(aBuf)+len(bBuf) : len(aBuf)+len(bBuf)+mr*nr]
	for jc := j0; jc < j1; jc += panel {
		nc := min(panel, j1-jc)
		kstep := g.kstep(b)
		for pc := 0; pc < g.K; pc += kstep {
			kc := min(kstep, g.K-pc)
			if i1-i0 <= b.mc && kc >= 64 {
				// One block of A: pack each B sliver just before its
				// microkernels read it, while it is still in L1. (With
				// a short k, a call per sliver costs more than it saves.)
				packA(g.A, id, aBuf, g.Alpha, i0, i1-i0, pc, kc, mr)
				for jr := 0; jr < nc; jr += nr {
					cols := min(nr, nc-jr)
					packB(g.B, id, bBuf, pc, kc, jc+jr, cols, b.sliverWidth(cols))
					g.block(id, b, aBuf, bBuf, tmp, i0, i1-i0, jc+jr, cols, kc, store && pc == 0, onTheFly{})
				}
				continue
			}
			fly := g.onTheFly(id, b, pc, jc, nc, min(b.mc, i1-i0))
			full := nc / nr * nr
			switch {
			case fly.b == nil && full > 0:
				packB(g.B, id, bBuf, pc, kc, jc, full, nr)
			case fly.a != nil:
				packB(g.B, id, bBuf, pc, kc, jc, nr, nr) // its tiles pack A
			}
			if rest := nc - full; rest > 0 {
				packB(g.B, id, bBuf[full*kc:], pc, kc, jc+full, rest, b.sliverWidth(rest))
			}
			for ic := i0; ic < i1; ic += b.mc {
				mc := min(b.mc, i1-ic)
				f := fly
				if f.a == nil {
					packA(g.A, id, aBuf, g.Alpha, ic, mc, pc, kc, mr)
				} else {
					f.a = f.rows(ic)
					if whole := mc / mr * mr; whole < mc {
						packA(g.A, id, aBuf[whole*kc:], g.Alpha, ic+whole, mc-whole, pc, kc, mr)
					}
				}
				g.block(id, b, aBuf, bBuf, tmp, ic, mc, jc, nc, kc, store && pc == 0, f)
				fly.b = nil
			}
		}
	}
}

// onTheFly is what block packs as its tiles compute, rather than in a
// pass of its own: a row-major B's full slivers, b[p*ldb+j] being the
// panel's element (p, j), and A's whole slivers, a[i*lda+p] (or, with
// aTrans, a[p*lda+i]) being element (i, p) of the A block (with alpha 1). Packing SGEMM
// 1024³'s 2 MiB B panel in a pass of its own spent its time on the misses
// of writing it, and packing A on those of reading A; inside the kernels
// the misses overlap the FMAs.
type onTheFly struct {
	a, b     []float32
	lda, ldb int
	aTrans   bool // a[p*lda+i] is element (i, p) instead
}

// onTheFly is the packing that a k block pc of the panel at jc, nc wide,
// leaves to block, in row blocks of mc rows; a is relative to row 0.
func (g *gemm) onTheFly(id isaID, b blocking, pc, jc, nc, mc int) onTheFly {
	var f onTheFly
	if !hasPackingKernels(id) || mc < b.mr || nc < b.nr {
		return f
	}
	if d, ok := g.B.(*engine.Dense); ok && !d.Trans {
		f.b, f.ldb = d.Data[pc*d.Stride+jc:], d.Stride
	}
	if d, ok := g.A.(*engine.Dense); ok && g.Alpha == 1 {
		f.a, f.lda, f.aTrans = d.Data[pc:], d.Stride, d.Trans
		if d.Trans {
			f.a = d.Data[pc*d.Stride:]
		}
	}
	return f
}

// rows is f.a from row i on.
func (f onTheFly) rows(i int) []float32 {
	if f.aTrans {
		return f.a[i:]
	}
	return f.a[i*f.lda:]
}

// block multiplies a packed mc×kc block of A by a packed kc×nc panel of B
// into C[ic:, jc:], one register tile at a time; the panel's last sliver
// may be an edge kernel's narrower one. A block's last rows, fewer than a
// tile, take a row edge kernel where the ISA has one for the sliver's
// width; other tiles cut by the edge of C go through tmp, so the
// microkernel never writes outside C's block. With store set it sets C to
// the product instead of adding to it: the ISA's storing kernel where it
// has one for the tile, else C cleared first, which costs a product with
// one k block a pass over C.
//
// With f set it packs as it goes (onTheFly). With f.a, the tiles of the
// first sliver pack A's whole slivers, and the caller packs that sliver
// and A's partial one. With f.b, the first tile of each full sliver (but
// that first one, with f.a) packs it, and the sliver's other tiles
// prefetch the next one's source, a share of its rows each. f.b needs
// mc ≥ mr, f.a nc ≥ nr.
func (g *gemm) block(id isaID, b blocking, aBuf, bBuf, tmp []float32, ic, mc, jc, nc, kc int, store bool, f onTheFly) {
	mr := b.mr
	// The tiles after a row's first prefetch the next sliver of B, per k
	// rows each; computed once, not with three divisions a tile.
	per := 0
	if tiles := ceilDiv(mc, mr); tiles > 1 {
		per = ceilDiv(kc, tiles-1)
	}
	for jr := 0; jr < nc; jr += b.nr {
		cols := min(b.nr, nc-jr)
		w := b.sliverWidth(cols)
		bs := bBuf[jr*kc : (jr+w)*kc]
		packA := f.a != nil && jr == 0
		packB := f.b != nil && cols == b.nr && !packA
		add, set := widthKernel(id, w), noKernel
		if store {
			set = storeWidthKernel(id, w)
		}
		var pf kernelID
		if packB {
			pf = kernelSets[id].prefetch[b2i(store)]
		}
		for ir, p0 := 0, -per; ir < mc; ir, p0 = ir+mr, p0+per {
			as := aBuf[ir*kc : (ir+mr)*kc]
			rows := min(mr, mc-ir)
			off := (ic+ir)*g.Ldc + jc + jr
			if rows == mr && cols == w {
				c := g.C[off : off+(mr-1)*g.Ldc+w]
				switch {
				case packA:
					form := packingA
					if f.aTrans {
						form = packingAT
					}
					packKernel(id, form, as, bs, c, kc, g.Ldc, f.rows(ir), f.lda, store)
					continue
				case packB && ir == 0:
					packKernel(id, packingB, as, bs, c, kc, g.Ldc, f.b[jr:], f.ldb, store)
					continue
				case packB && nc-jr >= 2*b.nr:
					n := max(0, min(per, kc-p0))
					next := f.b[min(p0, kc-1)*f.ldb+jr+b.nr:]
					prefetchTile(pf, as, bs, c, kc, g.Ldc, next, f.ldb, n)
					continue
				}
				if set != noKernel {
					runTile(set, as, bs, c, kc, g.Ldc, mr)
					continue
				}
				if store {
					for i := range mr {
						clear(c[i*g.Ldc : i*g.Ldc+w])
					}
				}
				runTile(add, as, bs, c, kc, g.Ldc, mr)
				continue
			}
			if re, clearFirst := rowEdge(id, rows, w, store); re != noKernel && cols == w {
				c := g.C[off : off+(rows-1)*g.Ldc+w]
				if clearFirst {
					for i := range rows {
						clear(c[i*g.Ldc : i*g.Ldc+w])
					}
				}
				runTile(re, as, bs, c, kc, g.Ldc, rows)
				continue
			}
			t := tmp[:mr*w]
			clear(t)
			runTile(add, as, bs, t, kc, w, rows)
			for i := 0; i < rows; i++ {
				dst := g.C[off+i*g.Ldc : off+i*g.Ldc+cols]
				if store {
					copy(dst, t[i*w:])
					continue
				}
				for j, v := range t[i*w : i*w+cols] {
					dst[j] += v
				}
			}
		}
	}
}

// initC applies Beta and Bias to the block before the product accumulates.
func (g *gemm) initC(i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		row := g.C[i*g.Ldc+j0 : i*g.Ldc+j1]
		bias := float32(0)
		if g.Bias != nil {
			bias = g.Bias[i]
		}
		switch {
		case g.Beta == 0 && bias == 0:
			clear(row)
		case g.Beta == 0:
			for j := range row {
				row[j] = bias
			}
		case g.Beta != 1 || bias != 0:
			for j, v := range row {
				row[j] = g.Beta*v + bias
			}
		}
	}
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, where
// op(X) is X or Xᵀ; op(A) is m×k, op(B) k×n and C m×n. It has the semantics
// of BLAS sgemm (and of gonum's blas32.Implementation().Sgemm on row-major
// data) and, like gonum, panics with a message on inconsistent arguments.
// It uses GOMAXPROCS threads for products large enough to profit. While
// SIMDCONV_ISA names an ISA that cannot run here, it panics with that error
// until SetISA succeeds (see the package doc).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if isaErr != nil {
		panic(isaErr.Error())
	}
	checkMatrix("a", transA, m, k, a, lda)
	checkMatrix("b", transB, k, n, b, ldb)
	checkMatrix("c", false, m, n, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	s := sgemmPool.Get().(*sgemmState)
	s.a, s.b = engine.Dense{Data: a, Stride: lda, Trans: transA}, engine.Dense{Data: b, Stride: ldb, Trans: transB}
	s.g = engine.Gemm{M: m, N: n, K: k, Alpha: alpha, A: &s.a, B: &s.b, Beta: beta, C: c, Ldc: ldc}
	s.runner.Run(&s.g, s.workspace(parallel.Threads(0), gemmWorkspace(m, n, k)))
	s.g, s.a, s.b = engine.Gemm{}, engine.Dense{}, engine.Dense{}
	sgemmPool.Put(s)
}

// sgemmState is the reusable part of an Sgemm call, kept in a pool so that
// steady-state calls do not allocate.
type sgemmState struct {
	g      engine.Gemm
	a, b   engine.Dense
	runner runner
	buf    []float32
	slabs  [][]float32
}

func (s *sgemmState) workspace(threads, per int) [][]float32 {
	if cap(s.buf) < threads*per {
		s.buf = make([]float32, threads*per)
	}
	s.slabs = s.slabs[:0]
	for t := 0; t < threads; t++ {
		s.slabs = append(s.slabs, s.buf[t*per:(t+1)*per])
	}
	return s.slabs
}

var sgemmPool = sync.Pool{New: func() any { return new(sgemmState) }}

// checkMatrix panics unless x holds a rows×cols matrix (transposed: stored
// as cols×rows) with leading dimension ld.
func checkMatrix(name string, trans bool, rows, cols int, x []float32, ld int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("simdconv: Sgemm: negative dimension for %s: %d×%d", name, rows, cols))
	}
	if trans {
		rows, cols = cols, rows
	}
	if ld < max(1, cols) {
		panic(fmt.Sprintf("simdconv: Sgemm: ld%s = %d, want ≥ %d", name, ld, max(1, cols)))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if !fits(len(x), rows, ld, cols) {
		need := fmt.Sprintf("%d·%d + %d, more than an int holds", rows-1, ld, cols)
		if fits(math.MaxInt, rows, ld, cols) {
			need = strconv.Itoa((rows-1)*ld + cols)
		}
		panic(fmt.Sprintf("simdconv: Sgemm: len(%s) = %d, want ≥ %s", name, len(x), need))
	}
}
