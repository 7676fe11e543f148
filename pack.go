package simdconv

import (
	"math/bits"

	"github.com/simdconv/simdconv/internal/engine"
)

// Packing copies operand blocks into the sliver layouts the microkernels
// read: A in MR-row slivers (k steps of MR floats), B in NR-column slivers
// (k steps of NR floats). Rows or columns past the edge of the matrix are
// zero-filled, so a microkernel always computes a full tile.

// The operand types of engine, with their packing methods. ASource and
// BSource are sealed there; packA and packB switch on the concrete type.
type (
	dense   engine.Dense
	im2col  engine.Im2col
	im2colT engine.Im2colT
	shifted engine.Shifted
)

// packA packs alpha·A[i0:i0+mc, k0:k0+kc] into ⌈mc/mr⌉ slivers of kc·mr
// floats, zero-filling rows past mc, on the kernels of ISA id. dst has
// packSlack floats to spare past the last sliver.
func packA(a engine.ASource, id isaID, dst []float32, alpha float32, i0, mc, k0, kc, mr int) {
	switch a := a.(type) {
	case *engine.Dense:
		(*dense)(a).packA(id, dst, alpha, i0, mc, k0, kc, mr)
	case *engine.Im2colT:
		(*im2colT)(a).packA(id, dst, alpha, i0, mc, k0, kc, mr)
	}
}

// packB packs rows [k0, k0+kc) and columns [j0, j0+nc) of B into
// ⌈nc/nr⌉ slivers of kc·nr floats, zero-filling columns past nc, on the
// kernels of ISA id.
func packB(b engine.BSource, id isaID, dst []float32, k0, kc, j0, nc, nr int) {
	switch b := b.(type) {
	case *engine.Dense:
		(*dense)(b).packB(id, dst, k0, kc, j0, nc, nr)
	case *engine.Im2col:
		(*im2col)(b).packB(id, dst, k0, kc, j0, nc, nr)
	case *engine.Im2colT:
		(*im2colT)(b).packB(id, dst, k0, kc, j0, nc, nr)
	case *engine.Shifted:
		(*shifted)(b).packB(id, dst, k0, kc, j0, nc, nr)
	}
}

// packRows sets, for r < rows and j < n,
//
//	dst[r*dstStride+j] = src[r*srcStride+j-lo] where lo ≤ j < hi, else 0:
//
// rows of a sliver, zero-padded on either side. Every packing of contiguous
// source rows goes through it. It panics unless all it touches lies inside
// dst and src, since the assembly behind it checks nothing.
func packRows(id isaID, dst, src []float32, rows, n, lo, hi, dstStride, srcStride int) {
	if rows <= 0 {
		return
	}
	if hi <= lo {
		// Nothing is read, but a masked load whose address is not mapped
		// (src nil) can cost a microcode assist even with every lane
		// masked off: point it at dst.
		lo, hi, src, srcStride = 0, 0, dst, dstStride
	}
	if lo < 0 || hi > n || !fits(len(dst), rows, dstStride, n) ||
		hi > lo && !fits(len(src), rows, srcStride, hi-lo) {
		panic("simdconv: packRows operands out of bounds")
	}
	// The ISA's kernel takes rows of up to nr floats: wider rows go
	// through it in column blocks.
	kid := kernelSets[id].packRows
	if kid == noKernel {
		packRowsGeneric(dst, src, rows, n, lo, hi, dstStride, srcStride)
		return
	}
	width := kernelTable[kid].nr
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
		callPackRows(kid, d, s, rows, blo, dstStride, ss, lanes(blo, bhi), lanes(0, w))
	}
}

// packPlanes is packRows on planes blocks of rows in turn, block c from
// src[c*srcPlane:] into dst[c*dstPlane:] (a depthwise stencil's block of
// padded planes).
func packPlanes(id isaID, dst, src []float32, planes, dstPlane, srcPlane, rows, n, lo, hi, dstStride, srcStride int) {
	if planes <= 0 || rows <= 0 {
		return
	}
	if !fits(len(dst), planes, dstPlane, 0) || hi > lo && !fits(len(src), planes, srcPlane, 0) {
		panic("simdconv: packPlanes operands out of bounds")
	}
	for c := range planes {
		s := src
		if hi > lo {
			s = src[c*srcPlane:]
		}
		packRows(id, dst[c*dstPlane:], s, rows, n, lo, hi, dstStride, srcStride)
	}
}

// lanes is the bit mask of lanes [lo, hi), hi ≤ 64.
func lanes(lo, hi int) uint64 {
	if hi <= lo {
		return 0
	}
	return (^uint64(0) >> (64 - hi)) &^ (1<<lo - 1)
}

func (a *dense) packA(id isaID, dst []float32, alpha float32, i0, mc, k0, kc, mr int) {
	for s := 0; s < mc; s += mr {
		rows := min(mr, mc-s)
		sl := dst[s*kc : s*kc+kc*mr]
		done := 0
		switch {
		case a.Trans && alpha == 1: // each k step is a run of A's storage
			packRows(id, sl, a.Data[k0*a.Stride+i0+s:], kc, mr, 0, rows, mr, a.Stride)
			continue
		case rows == mr && !a.Trans:
			done = packT(id, mr, dst[s*kc:], a.Data[(i0+s)*a.Stride+k0:], a.Stride, mr, kc, alpha)
			if done == 0 && mr == 4 {
				row := func(ii int) []float32 { return a.Data[(i0+s+ii)*a.Stride+k0:] }
				interleave4(sl, row(0), row(1), row(2), row(3), kc, alpha)
				continue
			}
		}
		for ii := 0; ii < rows; ii++ {
			i := i0 + s + ii
			if a.Trans { // A(i, k) = Data[k*Stride+i]: column walk
				for kk := done; kk < kc; kk++ {
					sl[kk*mr+ii] = alpha * a.Data[(k0+kk)*a.Stride+i]
				}
				continue
			}
			row := a.Data[i*a.Stride+k0 : i*a.Stride+k0+kc]
			for kk := done; kk < kc; kk++ {
				sl[kk*mr+ii] = alpha * row[kk]
			}
		}
		for ii := rows; ii < mr; ii++ {
			for kk := 0; kk < kc; kk++ {
				sl[kk*mr+ii] = 0
			}
		}
	}
}

// packSlack is the room a transposing pack may write past an A sliver: it
// stores 8 floats per k step of an mr-row sliver, mr ≥ 1.
const packSlack = 8

// packT sets dst[kk*ldd+i] = alpha·a[i*lda+kk] for i < rows and kk below
// the largest multiple of 8 ≤ kc, on id's transposing kernel if it has one
// for rows, and returns how many k steps it did: 0 or that multiple. The
// kernel stores 8 floats per k step, which dst must have room for.
func packT(id isaID, rows int, dst, a []float32, lda, ldd, kc int, alpha float32) int {
	kc8 := kc &^ 7
	if kc8 == 0 || !hasPackT(id, rows) {
		return 0
	}
	if ldd < rows || !fits(len(a), rows, lda, kc8) || !fits(len(dst), kc8, ldd, 8) {
		panic("simdconv: packT operands out of bounds")
	}
	packTKernel(id, rows, dst, a, lda, ldd, kc8, alpha)
	return kc8
}

func (d *dense) packB(id isaID, dst []float32, k0, kc, j0, nc, nr int) {
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		sl := dst[s*kc : s*kc+kc*nr]
		j := j0 + s
		if !d.Trans {
			packRows(id, sl, d.Data[k0*d.Stride+j:], kc, nr, 0, cols, nr, d.Stride)
			continue
		}
		// B(k, j) = Data[j*Stride+k]: column j is the run from j*Stride.
		var start [maxNR]int
		for jj := range cols {
			start[jj] = (j + jj) * d.Stride
		}
		packColumns(id, sl, d.Data, start[:cols], k0, kc, nr)
	}
}

// packColumns fills a sliver (kc steps of nr floats) from len(start) ≤ nr
// columns, column jj being the run x[start[jj]+k0:], and zeroes the rest:
// 8 columns at a time on the transposing kernel, which zeroes the columns
// past the last (repeating its offset for them); what it leaves in Go.
func packColumns(id isaID, sl, x []float32, start []int, k0, kc, nr int) {
	cols := len(start)
	if cols == 4 && nr == 4 && !hasPackT(id, 8) {
		col := func(jj int) []float32 { return x[start[jj]+k0:] }
		interleave4(sl, col(0), col(1), col(2), col(3), kc, 1)
		return
	}
	// The kernel did k steps [0, kt) of columns [0, ct).
	kt, ct := 0, 0
	for ct < cols && ct+8 <= nr {
		var offs [8]int
		n := copy(offs[:], start[ct:])
		for i := n; i < 8; i++ {
			offs[i] = offs[n-1]
		}
		k := packTOff(id, sl[ct:], x, offs[:], n, k0, nr, kc)
		if k == 0 {
			break
		}
		kt, ct = k, ct+8
	}
	first := 0
	if ct == nr { // the kernel wrote whole steps
		first = kt
	}
	for kk := first; kk < kc; kk++ {
		out := sl[kk*nr : kk*nr+nr]
		from := 0
		if kk < kt {
			from = ct
		}
		for jj := from; jj < cols; jj++ {
			out[jj] = x[start[jj]+k0+kk]
		}
		clear(out[max(from, cols):])
	}
}

// interleave4 sets dst[kk*4+i] = alpha·r_i[kk] for i < 4 and kk < kc: a
// sliver 4 wide from four runs, as the transposing kernels pack one, for
// the ISAs without them (generic, whose tile is 4×4). An element at a time
// cost a bounds check each.
func interleave4(dst, r0, r1, r2, r3 []float32, kc int, alpha float32) {
	r0, r1, r2, r3 = r0[:kc], r1[:kc], r2[:kc], r3[:kc]
	for kk := range kc {
		d := (*[4]float32)(dst[kk*4:])
		d[0], d[1], d[2], d[3] = alpha*r0[kk], alpha*r1[kk], alpha*r2[kk], alpha*r3[kk]
	}
}

// chanStride is the floats from one channel's planes to the next.
func (m *im2col) chanStride() int {
	if m.ChanStride > 0 {
		return m.ChanStride
	}
	return m.H * m.W
}

// tapPlane is where tap column s's plane starts within its channel.
func (m *im2col) tapPlane(s int) int {
	if m.TapPlane == nil {
		return 0
	}
	return m.TapPlane[s]
}

func (m *im2col) packB(id isaID, dst []float32, k0, kc, j0, nc, nr int) {
	var segs [maxNR + 1]segment
	p, q := j0/m.Q, j0%m.Q
	for s := 0; s < nc; s += nr {
		// Split the sliver's columns into runs that share an output row p;
		// the split is the same for every row of the sliver.
		ns := 0
		for off := 0; off < min(nr, nc-s); ns++ {
			n := min(m.Q-q, nc-s-off, nr-off)
			segs[ns] = segment{off: off, n: n, ih: p * m.StrideH, iw: q * m.StrideW}
			off += n
			if q += n; q == m.Q {
				p, q = p+1, 0
			}
		}
		sl := dst[s*kc : s*kc+kc*nr]
		switch {
		case kc < 2*len(m.OffH)*len(m.OffW):
			// Under 2 rows per tap (a single-channel first layer): the
			// per-tap calls and tables would cost more than the rows; from
			// 3 rows a tap (an RGB stem) the kernels are faster.
			m.gatherSliver(sl, nr, k0, kc, segs[:ns])
		case !m.packSliver(id, sl, k0, kc, segs[:ns], nr):
			for _, sg := range segs[:ns] {
				m.packSegment(id, sl, nr, k0, kc, sg)
			}
		}
	}
	padSliver(dst, kc, nc, nr)
}

// gatherSliver packs a sliver row by row, in Go.
func (m *im2col) gatherSliver(dst []float32, nr, k0, kc int, segs []segment) {
	nw := len(m.OffW)
	taps := len(m.OffH) * nw
	cs := m.chanStride()
	// Row kk is tap (r, s) of channel c; counting them, rather than
	// dividing kk, saves two divisions a row of a few floats.
	c, r, s := k0/taps, k0%taps/nw, k0%nw
	for kk := 0; kk < kc; kk++ {
		offH, offW := m.OffH[r], m.OffW[s]
		plane := m.X[c*cs+m.tapPlane(s):][:m.H*m.W]
		row := dst[kk*nr : kk*nr+nr]
		for _, sg := range segs {
			out := row[sg.off : sg.off+sg.n]
			if ih := sg.ih + offH; ih < 0 || ih >= m.H {
				clear(out)
			} else {
				gatherRow(out, plane[ih*m.W:(ih+1)*m.W], sg.iw+offW, m.StrideW)
			}
		}
		if s++; s == nw {
			if s, r = 0, r+1; r == len(m.OffH) {
				c, r = c+1, 0
			}
		}
	}
}

// maxSliverTab bounds the taps × segments of a sliver that packSliver
// takes; its table lives on the stack.
const maxSliverTab = 256

// packSliver gathers a whole sliver in one call of id's sliver kernel, if id
// has one for a stride-1 layer with this many taps and segments, and reports
// whether it did. The kernel assembles each row from the segments, reading
// through the lane masks of a table built here, so it writes the sliver in
// order. It panics if a mask would read outside X.
func (m *im2col) packSliver(id isaID, dst []float32, k0, kc int, segs []segment, nr int) bool {
	nw := len(m.OffW)
	taps := len(m.OffH) * nw
	if m.StrideW != 1 || nr != sliverLanes(id) || taps*len(segs) > maxSliverTab || kc <= 0 {
		return false
	}
	cs := m.chanStride()
	cLast := (k0 + kc - 1) / taps
	// The kernel reads each mask's lanes at off in the planes of channels
	// up to cLast, cs apart: they lie in X when they lie in room, past the
	// last channel's start, which one overflow-safe check places in X.
	if !fits(len(m.X), cLast+1, cs, 1) {
		panic("simdconv: packSliver mask outside x")
	}
	room := len(m.X) - cLast*cs
	var tab [4 * maxSliverTab]int32
	for t := range taps {
		for i, sg := range segs {
			ih, iw := sg.ih+m.OffH[t/nw], sg.iw+m.OffW[t%nw]
			off, mask := 0, uint64(0)
			if ih >= 0 && ih < m.H {
				lo, hi := inside(iw, sg.n, m.W)
				off, mask = m.tapPlane(t%nw)+ih*m.W+iw-sg.off, lanes(sg.off+lo, sg.off+hi)
			}
			first, last := bits.TrailingZeros64(mask), 63-bits.LeadingZeros64(mask)
			if int(int32(off)) != off || mask != 0 && (off+first < 0 || off+last >= room) {
				panic("simdconv: packSliver mask outside x")
			}
			e := tab[4*(t*len(segs)+i):][:4]
			e[0], e[1], e[2] = int32(off), int32(uint32(mask)), int32(uint32(mask>>32))
		}
	}
	if !fits(len(dst), kc, nr, nr) {
		panic("simdconv: packSliver dst too short")
	}
	packSliverKernel(id, dst, m.X, tab[:], kc, k0%taps, taps, len(segs), k0/taps, cs)
	return true
}

// packSegment writes the columns of sg for rows [k0, k0+kc) of the matrix
// to dst[kk*ld+sg.off : kk*ld+sg.off+sg.n], kk < kc. Rows of the same tap
// (r, s) read the same window of successive channel planes, so each tap is
// one packRows call over its channels.
func (m *im2col) packSegment(id isaID, dst []float32, ld, k0, kc int, sg segment) {
	nw := len(m.OffW)
	taps := len(m.OffH) * nw
	cs := m.chanStride()
	for t := range taps {
		kk := (t - k0%taps + taps) % taps // first row of tap t
		if kk >= kc {
			continue
		}
		rows := (kc - kk + taps - 1) / taps
		c := (k0 + kk) / taps
		ih, iw := sg.ih+m.OffH[t/nw], sg.iw+m.OffW[t%nw]
		base := m.tapPlane(t%nw) + ih*m.W
		out := dst[kk*ld+sg.off:]
		switch {
		case ih < 0 || ih >= m.H:
			packRows(id, out, nil, rows, sg.n, 0, 0, taps*ld, cs)
		case m.StrideW == 1:
			lo, hi := inside(iw, sg.n, m.W)
			var src []float32
			if lo < hi {
				src = m.X[c*cs+base+iw+lo:]
			}
			packRows(id, out, src, rows, sg.n, lo, hi, taps*ld, cs)
		default:
			for r := range rows {
				gatherRow(out[r*taps*ld:][:sg.n], m.X[(c+r)*cs+base:][:m.W], iw, m.StrideW)
			}
		}
	}
}

// maxNR bounds the register tile's width over all ISAs.
const maxNR = 64

// segment is a run of a sliver's columns that share an output row: n
// floats at off, read from input row ih + OffH[r] and columns iw + OffW[s]
// + u·StrideW.
type segment struct {
	off, n, ih, iw int
}

// padSliver zeroes the columns past nc of the last, partial sliver.
func padSliver(dst []float32, kc, nc, nr int) {
	if nc%nr == 0 {
		return
	}
	last := dst[(nc/nr)*kc*nr:][:kc*nr]
	for kk := 0; kk < kc; kk++ {
		clear(last[kk*nr+nc%nr : kk*nr+nr])
	}
}

// inside returns the run [lo, hi) of u < n for which iw+u lies in [0, w).
func inside(iw, n, w int) (lo, hi int) {
	lo = min(max(-iw, 0), n)
	return lo, max(min(w-iw, n), lo)
}

// gatherRow sets out[u] = src[iw+u·step], or 0 where that index is outside
// src.
func gatherRow(out, src []float32, iw, step int) {
	// A short run (a generic sliver's) costs less element by element than
	// the calls of clear and copy.
	if step == 1 && len(out) > genericNR {
		lo, hi := inside(iw, len(out), len(src))
		clear(out[:lo])
		if lo < hi {
			copy(out[lo:hi], src[iw+lo:])
		}
		clear(out[hi:])
		return
	}
	for u := range out {
		if x := iw + u*step; x >= 0 && x < len(src) {
			out[u] = src[x]
		} else {
			out[u] = 0
		}
	}
}

func (m *shifted) packB(id isaID, dst []float32, k0, kc, j0, nc, nr int) {
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		packColumns(id, dst[s*kc:s*kc+kc*nr], m.X, m.Off[j0+s:j0+s+cols], k0, kc, nr)
	}
}

// packTOff sets dst[kk*ldd+i] = a[offs[i]+at+kk] for i < n and 0 for
// n ≤ i < 8, for kk below the largest multiple of 8 ≤ kc, on id's
// transposing kernel if it has one, and returns how many k steps it did: 0
// or that multiple. All 8 offsets must be valid, even those of the zeroed
// columns.
func packTOff(id isaID, dst, a []float32, offs []int, n, at, ldd, kc int) int {
	kc8 := kc &^ 7
	if kc8 == 0 || !hasPackT(id, 8) {
		return 0
	}
	// Column i is the run of kc8 floats at offs[i]+at: the run at at, in
	// a, shifted by offs[i] ≥ 0.
	if ldd < 8 || len(offs) != 8 || n < 1 || n > 8 || !fits(len(dst), kc8, ldd, 8) || !fits(len(a), 2, at, kc8) {
		panic("simdconv: packTOff operands out of bounds")
	}
	for _, o := range offs {
		if !fits(len(a), 2, o, at+kc8) {
			panic("simdconv: packTOff operands out of bounds")
		}
	}
	packTOffKernel(id, dst, a, offs, at, ldd, kc8, n)
	return kc8
}

// packA packs the transpose's rows, output positions, as columns of the
// column matrix: an A sliver is laid out as a B sliver mr wide.
func (m *im2colT) packA(id isaID, dst []float32, alpha float32, i0, mc, k0, kc, mr int) {
	n := roundUp(mc, mr) * kc
	(*im2col)(m).packB(id, dst[:n], k0, kc, i0, mc, mr)
	if alpha != 1 {
		for i, v := range dst[:n] {
			dst[i] = alpha * v
		}
	}
}

func (m *im2colT) packB(_ isaID, dst []float32, k0, kc, j0, nc, nr int) {
	nw := len(m.OffW)
	taps := len(m.OffH) * nw
	cs := (*im2col)(m).chanStride()
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		sl := dst[s*kc : s*kc+kc*nr]
		for jj := 0; jj < cols; jj++ {
			col := j0 + s + jj
			c, t := col/taps, col%taps
			offH, offW := m.OffH[t/nw], m.OffW[t%nw]
			plane := m.X[c*cs+(*im2col)(m).tapPlane(t%nw):][:m.H*m.W]
			p, q := k0/m.Q, k0%m.Q
			for kk := 0; kk < kc; kk++ {
				ih, iw := p*m.StrideH+offH, q*m.StrideW+offW
				v := float32(0)
				if ih >= 0 && ih < m.H && iw >= 0 && iw < m.W {
					v = plane[ih*m.W+iw]
				}
				sl[kk*nr+jj] = v
				if q++; q == m.Q {
					p, q = p+1, 0
				}
			}
		}
		for kk := 0; kk < kc && cols < nr; kk++ {
			clear(sl[kk*nr+cols : kk*nr+nr])
		}
	}
}

// rows writes the whole column matrix, row after row, into dst
// (C·len(OffH)·len(OffW) × P·Q floats), one output row p at a time.
func (m *im2col) rows(dst []float32) {
	id := current
	for p := range m.P {
		sg := segment{off: p * m.Q, n: m.Q, ih: p * m.StrideH}
		m.packSegment(id, dst, m.P*m.Q, 0, m.C*len(m.OffH)*len(m.OffW), sg)
	}
}
