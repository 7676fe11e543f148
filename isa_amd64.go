//go:build gc && !purego

package simdconv

import (
	"math/bits"

	"golang.org/x/sys/cpu"
)

// The generated kernels use AVX2 with FMA3, and AVX-512 Foundation
// instructions on zmm registers with embedded broadcast; the direct-A
// kernel uses them on ymm registers and masks, which needs AVX-512VL.
func detectISAs() (a [numISA]bool) {
	a[isaGeneric] = true
	a[isaAVX2] = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	a[isaAVX512] = a[isaAVX2] && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL
	return a
}

// Block sizes: a kc×nr B sliver (16 KiB for AVX2, 24 KiB for AVX-512) stays
// in a 32 KiB L1d (Zen 4's; Zen 5 has 48), an mc×kc A block (144 KiB,
// 128 KiB) in L2. With kc = 256 everywhere the 48-wide AVX-512 sliver was
// 48 KiB and spilled from L1: the layer table ran up to 15% slower. A kc×nc
// panel of B is 2 MiB on both: AVX2's 4 MiB panel (nc = 4096) made SGEMM
// 2048³ 1.2-2.7% slower in three paired runs, and no layer changed. Products
// of more than mc rows take kc = 256, and those with a C of 4 MiB or more
// kc = 512 (blocking.forProduct): their B slivers are read from L2 anyway,
// and C is updated half as often.
var (
	avx2Blocking   = blocking{mr: avx2MR, nr: avx2NR, mc: 144, kc: 256, nc: 2048, edges: []int{8}, bigKC: 512}
	avx512Blocking = blocking{mr: avx512MR, nr: avx512NR, mc: 256, kc: 128, nc: 4096, edges: []int{16, 32}, wideKC: 256, bigKC: 512,
		direct: tile{avx512DirectMR, avx512DirectNR}, directDot: tile{avx512DirectDotMR, avx512DirectDotNR}}
)

func tileOf(id isaID) blocking {
	switch id {
	case isaAVX512:
		return avx512Blocking
	case isaAVX2:
		return avx2Blocking
	}
	return genericBlocking
}

// microkernel runs id's nr-wide kernel: the main tile or an edge one.
func microkernel(id isaID, nr int, a, b, c []float32, k, ldc int) {
	switch id {
	case isaAVX512:
		checkTile(a, b, c, k, ldc, avx512MR, nr)
		switch nr {
		case avx512NR:
			sgemmAVX512(a, b, c, k, ldc)
		case 32:
			sgemm8x32AVX512(a, b, c, k, ldc)
		case 16:
			sgemm8x16AVX512(a, b, c, k, ldc)
		default:
			panic("simdconv: no AVX-512 kernel of that width")
		}
	case isaAVX2:
		checkTile(a, b, c, k, ldc, avx2MR, nr)
		switch nr {
		case avx2NR:
			sgemmAVX2(a, b, c, k, ldc)
		case 8:
			sgemm6x8AVX2(a, b, c, k, ldc)
		default:
			panic("simdconv: no AVX2 kernel of that width")
		}
	default:
		sgemmGeneric(a, b, c, k, ldc)
	}
}

// storeKernel runs id's main kernel in the form that sets the c tile to
// the product instead of adding it, and reports whether id has one for
// width nr.
func storeKernel(id isaID, nr int, a, b, c []float32, k, ldc int) bool {
	switch {
	case id == isaAVX512 && nr == avx512NR:
		checkTile(a, b, c, k, ldc, avx512MR, nr)
		sgemmStoreAVX512(a, b, c, k, ldc)
	case id == isaAVX2 && nr == avx2NR:
		checkTile(a, b, c, k, ldc, avx2MR, nr)
		sgemmStoreAVX2(a, b, c, k, ldc)
	default:
		return false
	}
	return true
}

// hasStoreKernel reports whether id has storeKernel's main kernel.
func hasStoreKernel(id isaID) bool { return id == isaAVX512 || id == isaAVX2 }

// hasPackingKernels reports whether id has packKernel and prefetchKernel.
func hasPackingKernels(id isaID) bool { return id == isaAVX512 || id == isaAVX2 }

// packKernel runs id's main kernel on a tile whose A or B sliver it packs
// as it reads it, from src with row stride lds, and writes to a or b: for
// packingA row i of the A sliver is src[i*lds:], for packingAT step p of
// it is src[p*lds:] (mr floats), and for packingB step p of the B sliver
// is src[p*lds:] (nr floats). With store set it sets c instead of adding
// to it.
func packKernel(id isaID, p packing, a, b, c []float32, k, ldc int, src []float32, lds int, store bool) {
	mr, nr := mainTile(id)
	checkTile(a, b, c, k, ldc, mr, nr)
	minLd, reads := 0, (mr-1)*lds+k // row stride and floats of src read
	switch p {
	case packingAT:
		minLd, reads = mr, (k-1)*lds+mr
	case packingB:
		minLd, reads = nr, (k-1)*lds+nr
	}
	if k > 0 && (lds < minLd || reads > len(src)) {
		panic("simdconv: packKernel source out of bounds")
	}
	avx512 := id == isaAVX512
	switch {
	case p == packingA && avx512 && store:
		sgemmPackAStoreAVX512(a, b, c, k, ldc, src, lds)
	case p == packingA && avx512:
		sgemmPackAAVX512(a, b, c, k, ldc, src, lds)
	case p == packingA && store:
		sgemmPackAStoreAVX2(a, b, c, k, ldc, src, lds)
	case p == packingA:
		sgemmPackAAVX2(a, b, c, k, ldc, src, lds)
	case p == packingAT && avx512 && store:
		sgemmPackATStoreAVX512(a, b, c, k, ldc, src, lds)
	case p == packingAT && avx512:
		sgemmPackATAVX512(a, b, c, k, ldc, src, lds)
	case p == packingAT && store:
		sgemmPackATStoreAVX2(a, b, c, k, ldc, src, lds)
	case p == packingAT:
		sgemmPackATAVX2(a, b, c, k, ldc, src, lds)
	case avx512 && store:
		sgemmPackBStoreAVX512(a, b, c, k, ldc, src, lds)
	case avx512:
		sgemmPackBAVX512(a, b, c, k, ldc, src, lds)
	case store:
		sgemmPackBStoreAVX2(a, b, c, k, ldc, src, lds)
	default:
		sgemmPackBAVX2(a, b, c, k, ldc, src, lds)
	}
}

// prefetchKernel runs id's main kernel and prefetches the first rows rows
// of nr floats of pf, row stride lds (at most one per 4 k steps).
func prefetchKernel(id isaID, a, b, c []float32, k, ldc int, pf []float32, lds, rows int, store bool) {
	mr, nr := mainTile(id)
	checkTile(a, b, c, k, ldc, mr, nr)
	if rows > 0 && (lds < nr || (rows-1)*lds+nr > len(pf)) {
		panic("simdconv: prefetchKernel rows out of bounds")
	}
	switch {
	case id == isaAVX512 && store:
		sgemmPrefetchStoreAVX512(a, b, c, k, ldc, pf, lds, rows)
	case id == isaAVX512:
		sgemmPrefetchAVX512(a, b, c, k, ldc, pf, lds, rows)
	case store:
		sgemmPrefetchStoreAVX2(a, b, c, k, ldc, pf, lds, rows)
	default:
		sgemmPrefetchAVX2(a, b, c, k, ldc, pf, lds, rows)
	}
}

// mainTile is the tile of id's main kernel, AVX-512 or AVX2.
func mainTile(id isaID) (mr, nr int) {
	if id == isaAVX512 {
		return avx512MR, avx512NR
	}
	return avx2MR, avx2NR
}

// directKernel runs id's direct-A kernel on a tile of its mr rows and the
// columns set in cols, after checking that every element it reads or
// writes is in bounds.
func directKernel(_ isaID, a []float32, rs, ks int, b, c []float32, k, ldc int, cols uint64) {
	const mr, nr = avx512DirectMR, avx512DirectNR
	checkDirect(len(a), (mr-1)*rs+(k-1)*ks, rs, ks, len(b) >= k*nr, c, k, ldc, cols, mr, nr)
	sgemmDirectAVX512(a, rs, ks, b, c, k, ldc, cols)
}

// directDotKernel is directKernel for the kernels with a dot column, d
// holding B's last column: the one for A's rows contiguous (ks = 1) or the
// one for its columns contiguous (rs = 1).
func directDotKernel(_ isaID, a []float32, rs, ks int, b, d, c []float32, k, ldc int, cols uint64) {
	const mr, nr = avx512DirectDotMR, avx512DirectDotNR
	checkDirect(len(a), (mr-1)*rs+(k-1)*ks, rs, ks, len(b) >= k*(nr-1) && len(d) >= k, c, k, ldc, cols, mr, nr)
	switch {
	case ks == 1:
		sgemmDirectDotRowsAVX512(a, rs, ks, b, d, c, k, ldc, cols)
	case rs == 1:
		sgemmDirectDotColsAVX512(a, rs, ks, b, d, c, k, ldc, cols)
	default:
		panic("simdconv: direct dot kernel needs a unit stride")
	}
}

// checkDirect panics unless a holds element last, b and d are long enough,
// cols is a non-empty set of the tile's nr columns and c holds the tile's
// last row up to its last column in cols.
func checkDirect(alen, last, rs, ks int, bOK bool, c []float32, k, ldc int, cols uint64, mr, nr int) {
	hi := 64 - bits.LeadingZeros64(cols)
	if k <= 0 || rs < 0 || ks < 0 || last >= alen || !bOK || cols == 0 || hi > nr || ldc < hi ||
		len(c) < (mr-1)*ldc+hi {
		panic("simdconv: direct kernel operands out of bounds")
	}
}

// packRowsKernel is packRows (pack.go) on id's kernel, which takes rows of
// up to that ISA's nr floats: wider rows go through it in column blocks.
func packRowsKernel(id isaID, dst, src []float32, rows, n, lo, hi, dstStride, srcStride int) {
	width := 0
	switch id {
	case isaAVX512:
		width = avx512NR
	case isaAVX2:
		width = avx2NR
	default:
		packRowsGeneric(dst, src, rows, n, lo, hi, dstStride, srcStride)
		return
	}
	for j0 := 0; j0 < n; j0 += width {
		// Block [j0, j0+w): its lanes [blo, bhi) read src from j0+blo−lo.
		w := min(width, n-j0)
		blo := min(max(lo-j0, 0), w)
		bhi := max(min(hi-j0, w), blo)
		d, s, ss := dst[j0:], dst[j0:], dstStride // nothing to read: a mapped address
		if blo < bhi {
			s, ss = src[j0+blo-lo:], srcStride
		} else {
			blo, bhi = 0, 0
		}
		if id == isaAVX512 {
			packRowsAVX512(d, s, rows, blo, dstStride, ss, lanes(blo, bhi), lanes(0, w))
		} else {
			packRowsAVX2(d, s, rows, blo, dstStride, ss, lanes(blo, bhi), lanes(0, w))
		}
	}
}

// hasPackT reports whether id has a transposing pack for rows rows.
func hasPackT(id isaID, rows int) bool {
	return (id == isaAVX512 || id == isaAVX2) && (rows == 8 || rows == 6)
}

func packTKernel(_ isaID, rows int, dst, a []float32, lda, ldd, kc int, alpha float32) {
	if rows == 8 {
		packT8AVX2(dst, a, lda, ldd, kc, alpha)
		return
	}
	packT6AVX2(dst, a, lda, ldd, kc, alpha)
}

func packTOffKernel(_ isaID, dst, a []float32, offs []int, at, ldd, kc, n int) {
	packTOff8AVX2(dst, a, offs, at, ldd, kc, n)
}

func stencilKernel(id isaID, y, x, w []float32, off []int, n int, bias float32) {
	switch id {
	case isaAVX512:
		stencilAVX512(y, x, w, off, n, bias)
	case isaAVX2:
		stencilAVX2(y, x, w, off, n, bias)
	default:
		stencilGeneric(y, x, w, off, n, bias)
	}
}

// dotsKernel is ShiftedDots on id's kernel, a call per group of taps that
// fits its registers.
func dotsKernel(id isaID, d, a, x []float32, off []int, n int) {
	switch id {
	case isaAVX512:
		for t0 := 0; t0 < len(off); t0 += dotsAVX512Taps {
			dotsAVX512(d[t0:], a, x, off[t0:min(t0+dotsAVX512Taps, len(off))], n)
		}
	case isaAVX2:
		for t0 := 0; t0 < len(off); t0 += dotsAVX2Taps {
			dotsAVX2(d[t0:], a, x, off[t0:min(t0+dotsAVX2Taps, len(off))], n)
		}
	default:
		dotsGeneric(d, a, x, off, n)
	}
}

// addRowsKernel adds the first whole vectors of each row on id's kernel and
// returns how many floats of a row it did.
func addRowsKernel(id isaID, dst, src []float32, rows, n, dstStride, srcStride int) int {
	switch id {
	case isaAVX512:
		vn := n &^ 15
		addRowsAVX512(dst, src, rows, vn, dstStride, srcStride)
		return vn
	case isaAVX2:
		vn := n &^ 7
		addRowsAVX2(dst, src, rows, vn, dstStride, srcStride)
		return vn
	}
	return 0
}

// sliverLanes is the sliver width of id's im2col sliver kernel, or 0 if it
// has none.
func sliverLanes(id isaID) int {
	if id == isaAVX512 {
		return avx512NR
	}
	return 0
}

func packSliverKernel(_ isaID, dst, x []float32, tab []int32, kc, t0, taps, segs, c0, chanStride int) {
	packSliverAVX512(dst, x, tab, kc, t0, taps, segs, c0, chanStride)
}

func peak(id isaID, n int) (flops int) {
	switch id {
	case isaAVX512:
		peakAVX512(n)
		return n * avx512PeakFlops
	case isaAVX2:
		peakAVX2(n)
		return n * avx2PeakFlops
	}
	return peakGeneric(n)
}
