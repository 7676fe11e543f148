package simdconv

// blocking is one ISA's register tile (mr × nr) and cache blocks: an mc×kc
// block of A stays in L2, a kc×nr sliver of B in L1, and a kc×nc panel of B
// in L3.
type blocking struct {
	mr, nr, mc, kc, nc int
	edges              []int // widths < nr, ascending, of the edge microkernels
	direct, directDot  tile  // the direct-A kernels' tiles; zero if there are none
	// wideKC, if set, is kc for products of more than mc rows, and bigKC
	// for those whose C has at least bigC floats too, with nc shrunk to
	// keep the B panel's size (see forProduct).
	wideKC, bigKC int
}

// cacheBlocks are each ISA's cache blocks; blockings adds the tiles of its
// kernels. A kc×nr B sliver stays in a 32 KiB L1d (16 KiB for AVX2's 16
// columns, 24 KiB for AVX-512's 48, 12 KiB for NEON's 12), an mc×kc A
// block (128–144 KiB) in L2, and a kc×nc B panel of 2–4 MiB in L3.
var cacheBlocks = [numISA]blocking{
	isaGeneric: {mc: 128, kc: 256, nc: 4096},
	isaAVX2:    {mc: 144, kc: 256, nc: 2048, bigKC: 512},
	isaAVX512:  {mc: 256, kc: 128, nc: 4096, wideKC: 256, bigKC: 512},
	isaNEON:    {mc: 128, kc: 256, nc: 4080},
}

// blockings is cacheBlocks with each ISA's tiles, from kernelSets.
var blockings = buildBlockings()

func buildBlockings() (bs [numISA]blocking) {
	for id := range bs {
		b, s := cacheBlocks[id], &kernelSets[id]
		b.mr, b.nr = genericMR, genericNR
		if s.main != noKernel {
			b.mr, b.nr = kernelTable[s.main].mr, kernelTable[s.main].nr
		}
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
	if m > b.mc && b.wideKC > 0 {
		kc = b.wideKC
	}
	if m > b.mc && b.bigKC > 0 && m*n >= bigC {
		kc = b.bigKC
	}
	b.kc, b.nc = kc, b.nc*b.kc/kc
	return b
}

// bigC is the size of C, in floats, from which products take bigKC: 4 MiB,
// four times L2. (A variable so that tests can lower it.)
var bigC = 1 << 20

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
// the floats that alignLine may skip.
func (b blocking) workspace(m, n, k int) int {
	size := b.blockWorkspace(m, n, k)
	if m > b.mc {
		size = max(size, b.forProduct(m, 1).blockWorkspace(m, n, k))
		size = max(size, b.forProduct(m, n).blockWorkspace(m, n, k))
	}
	return roundUp(size, lineFloats) + lineFloats - 1
}

// blockWorkspace is workspace for blocking b as it is.
func (b blocking) blockWorkspace(m, n, k int) int {
	mc := roundUp(min(b.mc, m), b.mr)
	nc := roundUp(min(b.nc, n), b.nr)
	kc := min(b.kc, k)
	// runSlivers holds rows·k ≤ wholeA floats of A for a block of rows ≤ mc.
	a := max(mc*kc, min(mc*k, wholeA))
	sliver := b.nr * min(k, max(kc, wholeB/b.nr))
	// runDirect holds a sliver of kc rows (the dot route's last column
	// apart, kc floats) and a tile.
	direct := max((kc+b.direct.mr)*b.direct.nr, (kc+b.directDot.mr)*b.directDot.nr)
	return max(roundUp(a+packSlack, lineFloats)+max(kc*nc, sliver)+b.mr*b.nr, direct)
}

// wholeB is the most floats of a packed B sliver that runSlivers packs for
// all k blocks at once: 512 KiB, half of L2, beside at most 256 KiB of A.
// The microkernels then read it from L2, which their 8 bytes per cycle of B
// allow.
const wholeB = 1 << 17

// wholeA is the most floats of packed A that run keeps for all k blocks at
// once (in L2), so that it can take the B slivers one by one through every
// k block.
const wholeA = 1 << 16

func roundUp(x, m int) int { return (x + m - 1) / m * m }
