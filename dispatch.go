package simdconv

import "math/bits"

// The driver calls kernels through these functions: each looks up the
// ISA's kernel in kernelSets, checks that every element it reads or
// writes is inside its operands (the assembly has no bounds checks), and
// calls it through the table's call function, or runs the generic Go code
// where the ISA has no kernel.

// microkernel runs id's nr-wide kernel: the main tile or an edge one.
func microkernel(id isaID, nr int, a, b, c []float32, k, ldc int) {
	runTile(widthKernel(id, nr), a, b, c, k, ldc, genericMR)
}

// widthKernel is id's nr-wide kernel, the main tile or an edge one, or
// noKernel where id has no kernels (generic). The driver resolves it once a
// sliver, not once a tile: a tile of a short product takes a few hundred
// cycles, and looking its kernel up each time cost such products 5–10 %.
func widthKernel(id isaID, nr int) kernelID {
	s := &kernelSets[id]
	if s.main == noKernel || nr == kernelTable[s.main].nr {
		return s.main
	}
	for _, e := range s.edges {
		if kernelTable[e].nr == nr {
			return e
		}
	}
	panic("simdconv: no kernel of that width")
}

// rowEdge is id's kernel for the first rows rows of an nr-wide tile, or
// noKernel if it has none: only the main tile has row edges. With store,
// the kernel sets the rows if the ISA has a storing form, else it adds to
// them and clearFirst says so.
func rowEdge(id isaID, rows, nr int, store bool) (kid kernelID, clearFirst bool) {
	s := &kernelSets[id]
	if rows >= len(s.rowEdges) || nr != kernelTable[s.main].nr {
		return noKernel, false
	}
	e := s.rowEdges[rows]
	if store && e[1] != noKernel {
		return e[1], false
	}
	return e[0], store
}

// storeWidthKernel is id's kernel that sets an nr-wide tile instead of
// adding to it, or noKernel if it has none of that width.
func storeWidthKernel(id isaID, nr int) kernelID {
	kid := kernelSets[id].store
	if kid == noKernel || kernelTable[kid].nr != nr {
		return noKernel
	}
	return kid
}

// runTile runs kernel kid, or the generic kernel for noKernel, after
// checking its operands against kid's tile. The generic kernel computes
// only the tile's first rows rows, the assembly kernels all of theirs.
func runTile(kid kernelID, a, b, c []float32, k, ldc, rows int) {
	if kid == noKernel {
		sgemmGeneric(a, b, c, k, ldc, rows)
		return
	}
	kk := &kernelTable[kid]
	checkTile(a, b, c, k, ldc, kk.mr, kk.height(), kk.nr)
	callTile(kid, a, b, c, k, ldc)
}

// hasStoreKernel reports whether id has a storing main kernel.
func hasStoreKernel(id isaID) bool { return kernelSets[id].store != noKernel }

// hasPackingKernels reports whether id has packKernel's and prefetchTile's kernels.
func hasPackingKernels(id isaID) bool {
	s := &kernelSets[id]
	for _, p := range s.pack[packingA:] {
		if p[0] == noKernel || p[1] == noKernel {
			return false
		}
	}
	return s.prefetch[0] != noKernel && s.prefetch[1] != noKernel
}

// mainTile is the tile of id's main kernel.
func mainTile(id isaID) (mr, nr int) {
	b := &blockings[id]
	return b.mr, b.nr
}

// packKernel runs id's main kernel on a tile whose A or B sliver it packs
// as it reads it, from src with row stride lds, and writes to a or b: for
// packingA row i of the A sliver is src[i*lds:], for packingAT step p of
// it is src[p*lds:] (mr floats), and for packingB step p of the B sliver
// is src[p*lds:] (nr floats). With store set it sets c instead of adding
// to it.
func packKernel(id isaID, p packing, a, b, c []float32, k, ldc int, src []float32, lds int, store bool) {
	kid := kernelSets[id].pack[p][b2i(store)]
	mr, nr := kernelTable[kid].mr, kernelTable[kid].nr
	checkTile(a, b, c, k, ldc, mr, mr, nr)
	rows, width, minLd := mr, k, 0 // src's rows read, floats of each, least lds
	switch p {
	case packingAT:
		rows, width, minLd = k, mr, mr
	case packingB:
		rows, width, minLd = k, nr, nr
	}
	if k > 0 && (lds < minLd || !fits(len(src), rows, lds, width)) {
		panic("simdconv: packKernel source out of bounds")
	}
	callPack(kid, a, b, c, k, ldc, src, lds)
}

// prefetchTile runs the main kernel kid, one of an ISA's prefetching
// forms (resolved once a sliver), and prefetches the first rows rows of nr
// floats of pf, row stride lds (at most one per 4 k steps).
func prefetchTile(kid kernelID, a, b, c []float32, k, ldc int, pf []float32, lds, rows int) {
	nr := kernelTable[kid].nr
	checkTile(a, b, c, k, ldc, kernelTable[kid].mr, kernelTable[kid].mr, nr)
	if rows != 0 && (lds < nr || !fits(len(pf), rows, lds, nr)) {
		panic("simdconv: prefetchKernel rows out of bounds")
	}
	callPrefetch(kid, a, b, c, k, ldc, pf, lds, rows)
}

// fits reports whether rows rows of width floats, stride apart, lie in n
// floats: rows = 0, or (rows−1)·stride + width ≤ n. It is false if an
// argument is negative, and never overflows, so every extent that a
// caller's ints determine is checked here before an assembly kernel sees
// it. A run of width floats at off is the second row of fits(n, 2, off,
// width).
func fits(n, rows, stride, width int) bool {
	if n < 0 || rows < 0 || stride < 0 || width < 0 {
		return false
	}
	if rows == 0 {
		return true
	}
	// A multiply, not a division: the check runs before every tile.
	hi, lo := bits.Mul64(uint64(rows-1), uint64(stride))
	end := lo + uint64(width)
	return hi == 0 && end >= lo && end <= uint64(n)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxDim bounds k and ldc in checkTile: 2⁴⁰ floats is more than any slice
// holds, and times a tile side of at most maxNR it stays far from overflow.
const maxDim = 1 << 40

// checkTile panics if an assembly microkernel would read or write outside
// its operands: k steps of mr floats of a and nr of b, h rows of nr floats
// of c. The driver never lets that happen; the check is the last line of
// defence before code that has no bounds checks.
func checkTile(a, b, c []float32, k, ldc, mr, h, nr int) {
	// Tiles are at most maxNR wide and tall, so below maxDim no product
	// overflows; written without fits, so that it inlines.
	if uint(k)|uint(ldc) >= maxDim || k*mr > len(a) || k*nr > len(b) || ldc < nr || (h-1)*ldc+nr > len(c) {
		panic("simdconv: microkernel operands out of bounds")
	}
}

// directKernel runs id's direct-A kernel on a tile of its mr rows and the
// columns set in cols, after checking that every element it reads or
// writes is in bounds.
func directKernel(id isaID, a []float32, rs, ks int, b, c []float32, k, ldc int, cols uint64) {
	kid := kernelSets[id].direct
	mr, nr := kernelTable[kid].mr, kernelTable[kid].nr
	checkDirect(len(a), rs, ks, fits(len(b), k, nr, nr), c, k, ldc, cols, mr, nr)
	callDirect(kid, a, rs, ks, b, c, k, ldc, cols)
}

// directDotKernel is directKernel for the kernels with a dot column, d
// holding B's last column: the one for A's rows contiguous (ks = 1) or the
// one for its columns contiguous (rs = 1).
func directDotKernel(id isaID, a []float32, rs, ks int, b, d, c []float32, k, ldc int, cols uint64) {
	kid := kernelSets[id].dotRows
	if ks != 1 {
		kid = kernelSets[id].dotCols
		if rs != 1 {
			panic("simdconv: direct dot kernel needs a unit stride")
		}
	}
	mr, nr := kernelTable[kid].mr, kernelTable[kid].nr
	checkDirect(len(a), rs, ks, fits(len(b), k, nr-1, nr-1) && len(d) >= k, c, k, ldc, cols, mr, nr)
	callDirectDot(kid, a, rs, ks, b, d, c, k, ldc, cols)
}

// checkDirect panics unless a's alen floats hold the tile's mr rows, rs
// apart, of k floats ks apart, b and d are long enough, cols is a non-empty
// set of the tile's nr columns and c holds the tile's last row up to its
// last column in cols. A row spans (k−1)·ks+1 floats, computed once the
// first fits has bounded it.
func checkDirect(alen, rs, ks int, bOK bool, c []float32, k, ldc int, cols uint64, mr, nr int) {
	hi := 64 - bits.LeadingZeros64(cols)
	if k <= 0 || !fits(alen, k, ks, 1) || !fits(alen, mr, rs, (k-1)*ks+1) || !bOK ||
		cols == 0 || hi > nr || ldc < hi || !fits(len(c), mr, ldc, hi) {
		panic("simdconv: direct kernel operands out of bounds")
	}
}

// packTKernelFor is id's transposing pack for rows rows, or noKernel.
func packTKernelFor(id isaID, rows int) kernelID {
	for _, kid := range kernelSets[id].packT {
		if kernelTable[kid].mr == rows {
			return kid
		}
	}
	return noKernel
}

// hasPackT reports whether id has a transposing pack for rows rows.
func hasPackT(id isaID, rows int) bool { return packTKernelFor(id, rows) != noKernel }

func packTKernel(id isaID, rows int, dst, a []float32, lda, ldd, kc int, alpha float32) {
	callPackT(packTKernelFor(id, rows), dst, a, lda, ldd, kc, alpha)
}

func packTOffKernel(id isaID, dst, a []float32, offs []int, at, ldd, kc, n int) {
	callPackTOff(kernelSets[id].packTOff, dst, a, offs, at, ldd, kc, n)
}

// dotsKernel is ShiftedDotsPlanes on id's kernel, a call per group of taps
// that fits its registers.
func dotsKernel(id isaID, d, a, x []float32, off []int, n, planes, ldd, lda, ldx int) {
	kid := kernelSets[id].dots
	if kid == noKernel {
		for c := range planes {
			dotsGeneric(d[c*ldd:], a[c*lda:], x[c*ldx:], off, n)
		}
		return
	}
	// A call a plane: the kernel's own overhead is small beside the
	// checks above it, which ShiftedDotsPlanes does once for all planes.
	per := kernelTable[kid].per
	for c := range planes {
		for t0 := 0; t0 < len(off); t0 += per {
			callDots(kid, d[c*ldd+t0:], a[c*lda:], x[c*ldx:], off[t0:min(t0+per, len(off))], n)
		}
	}
}

// addRowsKernel adds the first whole vectors of each row on id's kernel and
// returns how many floats of a row it did.
func addRowsKernel(id isaID, dst, src []float32, rows, n, dstStride, srcStride int) int {
	kid := kernelSets[id].addRows
	if kid == noKernel {
		return 0
	}
	// The width is a power of two (TestKernelSets): a division here cost
	// col2im of 14-wide planes a tenth of its time.
	vn := n &^ (kernelTable[kid].nr - 1)
	callAddRows(kid, dst, src, rows, vn, dstStride, srcStride)
	return vn
}

// sliverLanes is the sliver width of id's im2col sliver kernel, or 0 if it
// has none.
func sliverLanes(id isaID) int { return kernelTable[kernelSets[id].packSliver].nr }

func packSliverKernel(id isaID, dst, x []float32, tab []int32, kc, t0, taps, segs, c0, chanStride int) {
	callPackSliver(kernelSets[id].packSliver, dst, x, tab, kc, t0, taps, segs, c0, chanStride)
}

// peak runs n iterations of id's peak loop and returns the flops done.
func peak(id isaID, n int) (flops int) {
	kid := kernelSets[id].peak
	if kid == noKernel {
		return peakGeneric(n)
	}
	callPeak(kid, n)
	return n * kernelTable[kid].per
}
