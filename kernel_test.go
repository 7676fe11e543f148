package simdconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// Tests and benchmarks of every generated kernel, iterating kernelTable:
// each row is checked against its definition, on every build and
// architecture, wherever the CPU has the features the row names.

// forEachKernel runs f as a subtest for every row of kernelTable in fams
// whose features this CPU has; for famSgemm, the generic tile too.
func forEachKernel(t *testing.T, f func(t *testing.T, id kernelID, k kernelSpec), fams ...family) {
	for i, k := range tileKernels() {
		if !slices.Contains(fams, k.family) {
			continue
		}
		t.Run("kern="+k.name, func(t *testing.T) {
			if cpuFeatures()&k.needs != k.needs {
				t.Skipf("the CPU lacks features %#x of %s", k.needs&^cpuFeatures(), k.name)
			}
			f(t, kernelID(i), k)
		})
	}
}

// TestKernelSets checks that the driver's kernel sets are the table's:
// every available ISA but generic has its main tile, the sets hold rows of
// their ISA (or its fallback) and family, and the ISAs available are those
// whose kernels' features the CPU has.
func TestKernelSets(t *testing.T) {
	for id := range numISA {
		s, isa := &kernelSets[id], isaID(id)
		needs, any := isaNeeds(isa)
		fb := isaFallback[isa]
		wantAvail := isa == isaGeneric || any && cpuFeatures()&needs == needs && (fb == isaGeneric || available[fb])
		require.Equal(t, wantAvail, available[isa], "available[%s]", isaNames[isa])
		if !any {
			continue
		}
		require.NotEqual(t, noKernel, s.main, "%s has kernels but no main tile", isaNames[isa])
		b := tileOf(isa)
		require.Equal(t, kernelTable[s.main].mr, b.mr)
		require.Equal(t, kernelTable[s.main].nr, b.nr)
		check := func(kid kernelID, fam family, what string) {
			if kid == noKernel {
				return
			}
			k := kernelTable[kid]
			require.Equal(t, fam, k.family, "%s %s: %s", isaNames[isa], what, k.name)
			require.Contains(t, []isaID{isa, fb}, k.isa, "%s %s: %s", isaNames[isa], what, k.name)
			require.False(t, k.study, "%s %s: a study kernel is dispatched to", isaNames[isa], what)
		}
		check(s.main, famSgemm, "main")
		check(s.store, famSgemm, "store")
		for _, e := range s.edges {
			check(e, famSgemm, "edge")
			require.Less(t, kernelTable[e].nr, b.nr, "edge %s", kernelTable[e].name)
			require.Equal(t, b.mr, kernelTable[e].mr, "edge %s", kernelTable[e].name)
		}
		// Every height below the main tile's has its row edge, on every
		// ISA with kernels: the driver computes a block's last rows with it.
		// A storing form is optional: the driver clears the rows instead.
		require.Len(t, s.rowEdges, b.mr, "%s row edges", isaNames[isa])
		for rows, forms := range s.rowEdges[1:] {
			require.NotEqual(t, noKernel, forms[0], "%s: no adding row edge of %d rows", isaNames[isa], rows+1)
			for st, kid := range forms {
				if kid == noKernel {
					continue
				}
				check(kid, famSgemm, "row edge")
				k := kernelTable[kid]
				require.Equal(t, [3]int{b.mr, b.nr, rows + 1}, [3]int{k.mr, k.nr, k.rows}, "%s row edge %s", isaNames[isa], k.name)
				require.Equal(t, st == 1, k.store, "%s row edge %s", isaNames[isa], k.name)
				require.False(t, k.edge, "%s row edge %s", isaNames[isa], k.name)
			}
		}
		for p, forms := range s.pack {
			for st, kid := range forms {
				check(kid, famSgemmPack, "pack")
				if kid != noKernel {
					require.Equal(t, packing(p), kernelTable[kid].packs)
					require.Equal(t, st == 1, kernelTable[kid].store)
				}
			}
		}
		for st, kid := range s.prefetch {
			check(kid, famSgemmPrefetch, "prefetch")
			if kid != noKernel {
				require.Equal(t, st == 1, kernelTable[kid].store)
			}
		}
		check(s.direct, famDirect, "direct")
		check(s.dotRows, famDirectDotRows, "dotRows")
		check(s.dotCols, famDirectDotCols, "dotCols")
		check(s.packRows, famPackRows, "packRows")
		check(s.packSliver, famPackSliver, "packSliver")
		for _, kid := range s.packT {
			check(kid, famPackT, "packT")
		}
		check(s.packTOff, famPackTOff, "packTOff")
		check(s.stencil, famStencil, "stencil")
		check(s.dots, famDots, "dots")
		check(s.addRows, famAddRows, "addRows")
		if s.addRows != noKernel {
			nr := kernelTable[s.addRows].nr
			require.True(t, nr > 0 && nr&(nr-1) == 0, "addRows width %d is not a power of two", nr)
		}
		check(s.peak, famPeak, "peak")
		// Every ISA with kernels has its own Winograd band transforms, whose
		// vectors of tiles divide the band widths WinogradLanes rounds to.
		for _, w := range []struct {
			kid  kernelID
			fam  family
			what string
		}{{s.winogradIn, famWinogradIn, "winogradIn"}, {s.winogradOut, famWinogradOut, "winogradOut"}, {s.winogradGrad, famWinogradGrad, "winogradGrad"}} {
			require.NotEqual(t, noKernel, w.kid, "%s has no %s kernel", isaNames[isa], w.what)
			check(w.kid, w.fam, w.what)
			require.Equal(t, isa, kernelTable[w.kid].isa, "%s %s", isaNames[isa], w.what)
			nr := kernelTable[w.kid].nr
			require.True(t, nr > 0 && engine.Slack%nr == 0, "%s %s: %d tiles a vector", isaNames[isa], w.what, nr)
		}
		// And its own row kernels, whose vectors divide the rounding of n
		// and whose blocks of rows fit the driver's zero bias.
		for _, r := range []struct {
			kid  kernelID
			fam  family
			what string
		}{{s.stencilRows, famStencilRows, "stencilRows"}, {s.dotsRows, famDotsRows, "dotsRows"}} {
			require.NotEqual(t, noKernel, r.kid, "%s has no %s kernel", isaNames[isa], r.what)
			check(r.kid, r.fam, r.what)
			k := kernelTable[r.kid]
			require.Equal(t, isa, k.isa, "%s %s", isaNames[isa], r.what)
			require.True(t, k.nr > 0 && engine.Slack%k.nr == 0, "%s %s: %d lanes a vector", isaNames[isa], r.what, k.nr)
			require.True(t, k.mr >= 1 && k.mr <= maxRowsMR, "%s %s: %d rows a block", isaNames[isa], r.what, k.mr)
		}
		require.GreaterOrEqual(t, kernelTable[s.dotsRows].per, 1, "%s dotsRows taps a call", isaNames[isa])
		// And its own strided-row kernels, whose vectors are a power of two
		// (strided2Kernel rounds n down with a mask).
		for _, r := range []struct {
			kid  kernelID
			fam  family
			what string
		}{{s.gather2, famGather2, "gather2"}, {s.scatter2, famScatter2, "scatter2"}} {
			require.NotEqual(t, noKernel, r.kid, "%s has no %s kernel", isaNames[isa], r.what)
			check(r.kid, r.fam, r.what)
			k := kernelTable[r.kid]
			require.Equal(t, isa, k.isa, "%s %s", isaNames[isa], r.what)
			require.True(t, k.nr > 0 && k.nr&(k.nr-1) == 0, "%s %s: %d lanes is not a power of two", isaNames[isa], r.what, k.nr)
		}
		// And its own channel-interleaved depthwise kernels, all of one
		// width: a block of channels is one vector in each.
		for _, r := range []struct {
			kid  kernelID
			fam  family
			what string
		}{{s.dwcIn, famDwcIn, "dwcIn"}, {s.dwcOut, famDwcOut, "dwcOut"}, {s.dwcConv[0], famDwcConv1, "dwcConv1"}, {s.dwcConv[1], famDwcConv2, "dwcConv2"}, {s.dwcDots, famDwcDots, "dwcDots"}} {
			require.NotEqual(t, noKernel, r.kid, "%s has no %s kernel", isaNames[isa], r.what)
			check(r.kid, r.fam, r.what)
			require.Equal(t, isa, kernelTable[r.kid].isa, "%s %s", isaNames[isa], r.what)
			require.Equal(t, kernelTable[s.dwcConv[0]].nr, kernelTable[r.kid].nr, "%s %s: lanes", isaNames[isa], r.what)
		}
		require.GreaterOrEqual(t, kernelTable[s.dwcIn].mr, 1, "%s dwcIn: narrowest row", isaNames[isa])
		require.GreaterOrEqual(t, kernelTable[s.dwcDots].per, 1, "%s dwcDots taps a call", isaNames[isa])
	}
}

// TestKernelSgemm checks every tile kernel (main, store, edge, row edge
// and study forms) against its definition, for k on both sides of the point where
// the k loop splits to prefetch the c tile, with NaN guard bands around a,
// b and the c tile and in c's ldc gaps.
func TestKernelSgemm(t *testing.T) {
	forEachKernel(t, func(t *testing.T, id kernelID, kk kernelSpec) {
		mr, nr, h := kk.mr, kk.nr, kk.height()
		for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 16, 17, 20, 23, 24, 27, 64, 68, 71, 72, 75, 257} {
			for _, ldc := range []int{nr, nr + 3} {
				r := rand.New(rand.NewPCG(uint64(k), uint64(ldc)))
				// a and b sit between NaN bands too: a k step too many (or
				// too few floats per step) would pull a NaN into c.
				ga, gb := testutil.NewGuarded(k*mr, testutil.Rand(r, k*mr)), testutil.NewGuarded(k*nr, testutil.Rand(r, k*nr))
				gc := testutil.NewGuarded((h-1)*ldc+nr, nil)
				c := gc.Slice()
				for i := range c {
					c[i] = float32(math.NaN())
					if i%ldc < nr {
						c[i] = 2*r.Float32() - 1
					}
				}
				c0 := slices.Clone(c)
				runKernelTile(id, ga.Slice(), gb.Slice(), c, k, ldc)
				for _, g := range []*testutil.Guarded{ga, gb, gc} {
					g.Check(t)
				}
				for i, v := range c {
					if i%ldc >= nr {
						require.Truef(t, math.IsNaN(float64(v)), "k=%d ldc=%d: ldc gap c[%d] written", k, ldc, i)
					}
				}
				checkTileProduct(t, ga.Slice(), gb.Slice(), c0, c, k, ldc, mr, h, nr, kk.store)
			}
		}
		// Small integers sum without rounding: each (i, j) must be wired to
		// a[p*mr+i] and b[p*nr+j] exactly.
		const k = 6
		a, b := make([]float32, k*mr), make([]float32, k*nr)
		for i := range a {
			a[i] = float32(i%7 - 3)
		}
		for i := range b {
			b[i] = float32(i%5 - 2)
		}
		c := make([]float32, h*nr)
		runKernelTile(id, a, b, c, k, nr)
		for i := range h {
			for j := range nr {
				var want float32
				for p := range k {
					want += a[p*mr+i] * b[p*nr+j]
				}
				require.Equalf(t, want, c[i*nr+j], "exact: c[%d][%d]", i, j)
			}
		}
	}, famSgemm)
}

// checkTileProduct checks that the first h rows of c are c0 (or 0, if
// store) plus a·b for packed slivers a and b of k steps, with a tolerance
// that grows with k.
func checkTileProduct(t *testing.T, a, b, c0, c []float32, k, ldc, mr, h, nr int, store bool) {
	t.Helper()
	tol := 1e-6 * float64(k+1)
	for i := 0; i < h; i++ {
		for j := 0; j < nr; j++ {
			want := float64(c0[i*ldc+j])
			if store {
				want = 0
			}
			mag := math.Abs(want)
			for p := 0; p < k; p++ {
				prod := float64(a[p*mr+i]) * float64(b[p*nr+j])
				want += prod
				mag += math.Abs(prod)
			}
			got := float64(c[i*ldc+j])
			require.InDeltaf(t, want, got, tol*(mag+1), "k=%d ldc=%d: c[%d*ldc+%d]", k, ldc, i, j)
		}
	}
}

// TestKernelSgemmForms checks the tile kernels that pack their A or B
// sliver from its source (row stride lds, the gaps NaN) and those that
// prefetch rows on the side: the product, the packed sliver, and NaN guard
// bands around every operand.
func TestKernelSgemmForms(t *testing.T) {
	const ldc, lds = 61, 300
	forEachKernel(t, func(t *testing.T, id kernelID, kk kernelSpec) {
		mr, nr := kk.mr, kk.nr
		for _, k := range []int{0, 1, 4, 5, 23, 64, 75, 257} {
			r := rand.New(rand.NewPCG(uint64(k), 7))
			a, b := testutil.Rand(r, k*mr), testutil.Rand(r, k*nr) // packed slivers
			var src []float32                                      // the one a packing form reads
			switch kk.packs {
			case packingA:
				src = rowMajor(k, mr, lds, func(p, i int) float32 { return a[p*mr+i] })
			case packingAT:
				src = rowMajor(mr, k, lds, func(i, p int) float32 { return a[p*mr+i] })
			default:
				src = rowMajor(nr, k, lds, func(j, p int) float32 { return b[p*nr+j] })
			}
			ga, gb := testutil.NewGuarded(k*mr, a), testutil.NewGuarded(k*nr, b)
			gsrc := testutil.NewGuarded(len(src), src)
			gc := testutil.NewGuarded((mr-1)*ldc+nr, testutil.Rand(r, (mr-1)*ldc+nr))
			c := gc.Slice()
			c0 := slices.Clone(c)
			switch kk.packs {
			case packingA, packingAT:
				clear(ga.Slice())
			case packingB:
				clear(gb.Slice())
			}
			if kk.family == famSgemmPrefetch {
				callPrefetch(id, ga.Slice(), gb.Slice(), c, k, ldc, gsrc.Slice(), lds, min(k, 3))
			} else {
				callPack(id, ga.Slice(), gb.Slice(), c, k, ldc, gsrc.Slice(), lds)
			}
			require.Equal(t, a, ga.Slice(), "k=%d: the packed A sliver", k)
			require.Equal(t, b, gb.Slice(), "k=%d: the packed B sliver", k)
			checkTileProduct(t, a, b, c0, c, k, ldc, mr, mr, nr, kk.store)
			for i, v := range c {
				if i%ldc >= nr {
					require.Equalf(t, c0[i], v, "k=%d: c[%d], outside the tile, was written", k, i)
				}
			}
			for _, g := range []*testutil.Guarded{ga, gb, gsrc, gc} {
				g.Check(t)
			}
		}
	}, famSgemmPack, famSgemmPrefetch)
}

// rowMajor returns n rows of m floats, row stride ld, x[i*ld+j] = at(j, i),
// with NaN in the gaps between rows.
func rowMajor(m, n, ld int, at func(j, i int) float32) []float32 {
	if m == 0 || n == 0 {
		return nil
	}
	x := make([]float32, (n-1)*ld+m)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	for i := range n {
		for j := range m {
			x[i*ld+j] = at(j, i)
		}
	}
	return x
}

// TestPeakLoop checks what PeakLoop reports for every ISA: the flops of
// its kernel's table row per iteration, and none for n ≤ 0.
func TestPeakLoop(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		per := 16 // peakGeneric: 8 chains of a multiply and an add
		if kid := kernelSets[current].peak; kid != noKernel {
			per = kernelTable[kid].per
		}
		require.Equal(t, 1000*per, PeakLoop(1000))
		require.Equal(t, 0, PeakLoop(0))
	})
}

// BenchmarkMicrokernel times one call of each adding tile kernel on packed
// a and b slivers that stay in L1/L2 (k=256) and a c tile that stays in
// L1. Generate with -study (asm/amd64) to add the tile-study candidates.
func BenchmarkMicrokernel(b *testing.B) {
	const k = 256
	forEachKernelB(b, func(b *testing.B, id kernelID, kk kernelSpec) {
		r := rand.New(rand.NewPCG(1, 2))
		a, bb := testutil.Rand(r, k*kk.mr), testutil.Rand(r, k*kk.nr)
		c := make([]float32, kk.mr*kk.nr)
		for b.Loop() {
			runKernelTile(id, a, bb, c, k, kk.nr)
		}
		b.ReportMetric(2*float64(kk.height()*kk.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// BenchmarkMicrokernelL2 runs each adding tile kernel the way the GEMM
// macro-kernel does: one packed b sliver (k=256) stays in L1 while
// successive calls walk the packed a slivers of a ~192 KiB A block in L2,
// each updating its own c tile.
func BenchmarkMicrokernelL2(b *testing.B) {
	const k, aBytes = 256, 192 << 10
	forEachKernelB(b, func(b *testing.B, id kernelID, kk kernelSpec) {
		r := rand.New(rand.NewPCG(1, 2))
		slivers := aBytes / (4 * k * kk.mr)
		a, bb := testutil.Rand(r, slivers*k*kk.mr), testutil.Rand(r, k*kk.nr)
		c := make([]float32, slivers*kk.mr*kk.nr)
		for b.Loop() {
			for s := range slivers {
				runKernelTile(id, a[s*k*kk.mr:], bb, c[s*kk.mr*kk.nr:], k, kk.nr)
			}
		}
		b.ReportMetric(2*float64(slivers*kk.height()*kk.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// forEachKernelB runs f for every adding famSgemm kernel this CPU runs,
// the generic tile first; a row edge's tile reads "3of6x16".
func forEachKernelB(b *testing.B, f func(b *testing.B, id kernelID, k kernelSpec)) {
	for i, k := range tileKernels() {
		if k.family != famSgemm || k.store || cpuFeatures()&k.needs != k.needs {
			continue
		}
		name := fmt.Sprintf("isa=%s/tile=%dx%d", isaNames[k.isa], k.mr, k.nr)
		if k.rows > 0 {
			name = fmt.Sprintf("isa=%s/tile=%dof%dx%d", isaNames[k.isa], k.rows, k.mr, k.nr)
		}
		b.Run(name, func(b *testing.B) { f(b, kernelID(i), k) })
	}
}

// tileKernels is kernelTable with row 0, noKernel, standing for the generic
// tile, which runTile runs in its place.
func tileKernels() []kernelSpec {
	ks := slices.Clone(kernelTable[:])
	ks[noKernel] = kernelSpec{name: "sgemmGeneric", isa: isaGeneric, family: famSgemm, mr: genericMR, nr: genericNR}
	return ks
}

// runKernelTile runs kernel id, or the generic tile for noKernel.
func runKernelTile(id kernelID, a, b, c []float32, k, ldc int) {
	if id == noKernel {
		sgemmGeneric(a, b, c, k, ldc, genericMR)
		return
	}
	callTile(id, a, b, c, k, ldc)
}

// TestKernelRowEdges checks that each row edge computes its rows bitwise
// as its main tile (of the same form, adding or storing) does, and leaves
// c's rows past them alone: the driver takes either for a block's rows, as
// the split over threads falls.
func TestKernelRowEdges(t *testing.T) {
	for id := range numISA {
		s := &kernelSets[id]
		if !available[id] || s.rowEdges == nil {
			continue
		}
		main := kernelTable[s.main]
		mr, nr, ldc := main.mr, main.nr, main.nr+5
		for st, whole := range []kernelID{s.main, s.store} {
			if whole == noKernel {
				continue
			}
			for _, k := range []int{0, 1, 5, 17, 64, 67} {
				r := rand.New(rand.NewPCG(uint64(k), 12))
				a, b := testutil.Rand(r, k*mr), testutil.Rand(r, k*nr)
				c0 := testutil.Rand(r, mr*ldc)
				want := slices.Clone(c0)
				runTile(whole, a, b, want, k, ldc, mr)
				for rows := 1; rows < mr; rows++ {
					kid := s.rowEdges[rows][st]
					if kid == noKernel {
						continue
					}
					c := slices.Clone(c0)
					runTile(kid, a, b, c, k, ldc, rows)
					end, name := (rows-1)*ldc+nr, kernelTable[kid].name
					require.Equal(t, want[:end], c[:end], "%s k=%d", name, k)
					require.Equal(t, c0[end:], c[end:], "%s k=%d: c past its rows written", name, k)
				}
			}
		}
	}
}

// TestGenericRows checks that the generic kernel limited to its first rows
// rows computes them bitwise as the whole tile does, and leaves the others.
func TestGenericRows(t *testing.T) {
	const ldc = genericNR + 2
	for _, k := range []int{0, 1, 3, 4, 5, 17, 64, 67} {
		r := rand.New(rand.NewPCG(uint64(k), 11))
		a, b := testutil.Rand(r, k*genericMR), testutil.Rand(r, k*genericNR)
		c0 := testutil.Rand(r, genericMR*ldc)
		whole := slices.Clone(c0)
		sgemmGeneric(a, b, whole, k, ldc, genericMR)
		for rows := 1; rows <= genericMR; rows++ {
			c := slices.Clone(c0)
			sgemmGeneric(a, b, c, k, ldc, rows)
			require.Equal(t, whole[:rows*ldc], c[:rows*ldc], "k=%d rows=%d", k, rows)
			require.Equal(t, c0[rows*ldc:], c[rows*ldc:], "k=%d rows=%d: rows past rows written", k, rows)
		}
	}
}
