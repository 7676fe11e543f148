package simdconv

import "github.com/simdconv/simdconv/internal/engine"

// blocking is one ISA's register tile (mr × nr) and cache blocks: an mc×kc
// block of A stays in L2, a kc×nr sliver of B in L1, and a kc×nc panel of B
// in L3.
type blocking struct {
	mr, nr, mc, kc, nc int
	edges              []int // widths < nr, ascending, of the edge microkernels
	direct, directDot  tile  // the direct-A kernels' tiles; zero if there are none
	// wideKC is kc for products of more than mc rows, and bigKC for
	// those whose C has at least bigC floats too, with nc shrunk to keep
	// the B panel's size (see forProduct).
	wideKC, bigKC int
	// wholeA is the most floats of packed A that run keeps for all k
	// blocks at once (in L2), so that it can take the B slivers one by one
	// through every k block; wholeB the most floats of a B sliver that
	// runSlivers packs for all k blocks at once, which the microkernels
	// then read from L2 (a quarter and half of it).
	wholeA, wholeB int
}

// cacheBlocks derives the cache blocks of an mr×nr tile from the caches c
// (sane) and the core's row u. The model is BLIS's (Low et al., "Analytical
// modeling is enough for high-performance BLIS", 2016):
//   - kc: a kc×nr B sliver stays in L1d while the mr×kc A slivers of a
//     block stream past it. Under LRU, A's sliver takes a whole number of
//     the W ways (at least one) and B's, nr/mr times larger, at most the
//     rest but one, through which C's tile and the next A sliver pass. The
//     paper gives A ⌊(W−1)·mr/(mr+nr)⌋ ways; we take the split of ways
//     that allows the longest kc. They differ where the floor starves A:
//     a 6×16 tile in a 32 KiB 8-way L1d gets one way and kc 168 from the
//     floor, two and kc 320 from the best split, which also holds a
//     256-channel reduction in one block
//     (results/2026-12-02-amd64-amd-epyc-f25-m17-ab.md).
//   - wideKC: past one row block each B sliver is read from L2 anyway, by
//     every A sliver of the block, so L1 no longer bounds kc, and twice kc
//     halves the passes over C. bigKC, twice that again, is for a C larger
//     than the core's L3 share, whose passes go to memory.
//   - mc: an mc×bigKC A block takes 1/u.l2Part of L2, so the block stays
//     there whatever kc a product takes.
//   - nc: a kc×nc B panel takes 1/u.l3Part of the core's L3 share.
//   - wholeA, wholeB: a quarter and a half of L2, beside each other.
//
// kc stays a multiple of 8 (kstep) in [minKC, maxKC], mc a multiple of mr
// and nc of nr, at least one tile each.
func cacheBlocks(c caches, u *uarch, mr, nr int) blocking {
	ways, way := c.l1d.ways, c.l1d.size/c.l1d.ways
	kc := 0
	for aWays := 1; aWays == 1 || aWays < ways-1; aWays++ {
		bWays := max(1, ways-1-aWays)
		kc = max(kc, min(aWays*way/(4*mr), bWays*way/(4*nr)))
	}
	kc = clampKC(kc)
	b := blocking{mr: mr, nr: nr, kc: kc, wideKC: clampKC(2 * kc), bigKC: clampKC(4 * kc)}
	b.mc = max(mr, c.l2.size/u.l2Part/(4*b.bigKC)/mr*mr)
	b.wholeA, b.wholeB = c.l2.size/16, c.l2.size/8
	b.nc = max(nr, c.l3Share()/u.l3Part/(4*kc)/nr*nr)
	return b
}

// Bounds of kc: below 64 steps the C tile's update costs more than a
// tenth of the FMAs; past 512 it costs under 1/256 and the A block at
// bigKC would crowd mc down.
const minKC, maxKC = 64, 512

func clampKC(kc int) int { return min(max(kc/8*8, minKC), maxKC) }

// thisCaches are the caches the blocking is derived from: this CPU's, with
// defaults for what it did not report.
var thisCaches = thisCPU.caches.sane()

// blockings is each ISA's blocking: its kernels' tiles (kernelSets) and the
// cache blocks derived for them from this CPU's caches.
var blockings = buildBlockings(thisCaches, thisUarch)

func buildBlockings(c caches, u *uarch) (bs [numISA]blocking) {
	for id := range bs {
		s := &kernelSets[id]
		mr, nr := genericMR, genericNR
		if s.main != noKernel {
			mr, nr = kernelTable[s.main].mr, kernelTable[s.main].nr
		}
		b := cacheBlocks(c, u, mr, nr)
		for _, e := range s.edges {
			b.edges = append(b.edges, kernelTable[e].nr)
		}
		if s.direct != noKernel {
			b.direct = tile{kernelTable[s.direct].mr, kernelTable[s.direct].nr}
		}
		if s.dotRows != noKernel {
			b.directDot = tile{kernelTable[s.dotRows].mr, kernelTable[s.dotRows].nr}
		}
		bs[id] = b
	}
	return bs
}

func tileOf(id isaID) blocking { return blockings[id] }

// forProduct is the blocking for an m×n product. Past one row block the
// driver runs in BLIS order, each B sliver read from L2 by every A sliver
// of a block, and a longer kc cuts the passes over C; a C that streams from
// memory gains from the longest. A product of one row block packs each B
// sliver just before use and wants it in L1, so it keeps kc. The blocking
// depends on the whole product's shape, never on a block of it, so every
// split over threads sums in the same k blocks.
func (b blocking) forProduct(m, n int) blocking {
	kc := b.kc
	if m > b.mc {
		kc = b.wideKC
		if m*n >= bigC {
			kc = b.bigKC
		}
	}
	b.kc, b.nc = kc, max(b.nr, b.nc*b.kc/kc/b.nr*b.nr)
	return b
}

// panelWidth is the width of the panels that n columns of B split into:
// near-equal, whole slivers, each at most a sliver over nc. Panels of nc
// would leave 1024 columns a last panel of 16 at nc = 1008, too narrow for
// its tiles to pack A as they compute, so A would be packed in a pass of
// its own for a sliver's worth of FMAs. (Panels do not change the order
// of any sum, so a block of C may split its own columns.)
func (b blocking) panelWidth(n int) int {
	return roundUp(ceilDiv(n, ceilDiv(n, b.nc+b.nr)), b.nr)
}

// bigC is the size of C, in floats, from which products take bigKC: the
// core's L3 share, past which its passes go to memory. (A variable so
// that tests can lower it.)
var bigC = thisCaches.l3Share() / 4

// tile is a microkernel's register tile: mr rows by nr columns.
type tile struct{ mr, nr int }

// sliverWidth is the width of the sliver that holds a panel's last cols ≤ nr
// columns: the narrowest edge kernel that covers them, else nr.
func (b blocking) sliverWidth(cols int) int {
	for _, w := range b.edges {
		if cols <= w {
			return w
		}
	}
	return b.nr
}

// gemmWorkspace returns the number of float32s of workspace that a product
// of the given size needs on each thread, for whichever ISA is selected.
func gemmWorkspace(m, n, k int) int {
	size := 0
	for id := range available {
		if available[id] {
			size = max(size, tileOf(isaID(id)).workspace(m, n, k))
		}
	}
	return size
}

// workspace covers every blocking that a product of up to m×n takes, and
// the floats that engine.AlignLine may skip: a whole number of cache lines.
func (b blocking) workspace(m, n, k int) int {
	size := b.blockWorkspace(m, n, k)
	if m > b.mc {
		size = max(size, b.forProduct(m, 1).blockWorkspace(m, n, k))
		size = max(size, b.forProduct(m, n).blockWorkspace(m, n, k))
	}
	return engine.Lines(size) + engine.Line
}

// blockWorkspace is workspace for blocking b as it is.
func (b blocking) blockWorkspace(m, n, k int) int {
	mc := roundUp(min(b.mc, m), b.mr)
	nc := min(b.nc+b.nr, roundUp(n, b.nr)) // panelWidth of up to n columns
	kc := min(b.kc, k)
	// runSlivers holds rows·k ≤ wholeA floats of A for a block of rows ≤ mc.
	a := max(mc*kc, min(mc*k, b.wholeA))
	sliver := b.nr * min(k, max(kc, b.wholeB/b.nr))
	// runDirect holds a sliver of kc rows (the dot route's last column
	// apart, kc floats) and a tile.
	direct := max((kc+b.direct.mr)*b.direct.nr, (kc+b.directDot.mr)*b.directDot.nr)
	return max(engine.Lines(a+packSlack)+max(kc*nc, sliver)+b.mr*b.nr, direct)
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }
