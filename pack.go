package simdconv

// Packing copies operand blocks into the sliver layouts the microkernels
// read: A in MR-row slivers (k steps of MR floats), B in NR-column slivers
// (k steps of NR floats). Rows or columns past the edge of the matrix are
// zero-filled, so a microkernel always computes a full tile.

// Dense is a row-major matrix view. Element (i, j) is Data[i*Stride+j], or
// Data[j*Stride+i] when Trans is set.
type Dense struct {
	Data   []float32
	Stride int
	Trans  bool
}

// A BSource is the B operand of a multiply: a K×N matrix that the driver
// packs block by block. Dense, Im2col and Im2colT implement it.
type BSource interface {
	// packB packs rows [k0, k0+kc) and columns [j0, j0+nc) into
	// ⌈nc/nr⌉ slivers of kc·nr floats, zero-filling columns past nc.
	packB(dst []float32, k0, kc, j0, nc, nr int)
}

// packA packs alpha·A[i0:i0+mc, k0:k0+kc] into ⌈mc/mr⌉ slivers of kc·mr
// floats, zero-filling rows past mc.
func packA(dst []float32, a Dense, alpha float32, i0, mc, k0, kc, mr int) {
	for s := 0; s < mc; s += mr {
		rows := min(mr, mc-s)
		sl := dst[s*kc : s*kc+kc*mr]
		for ii := 0; ii < rows; ii++ {
			i := i0 + s + ii
			if a.Trans { // A(i, k) = Data[k*Stride+i]: column walk
				for kk := 0; kk < kc; kk++ {
					sl[kk*mr+ii] = alpha * a.Data[(k0+kk)*a.Stride+i]
				}
				continue
			}
			row := a.Data[i*a.Stride+k0 : i*a.Stride+k0+kc]
			for kk, v := range row {
				sl[kk*mr+ii] = alpha * v
			}
		}
		for ii := rows; ii < mr; ii++ {
			for kk := 0; kk < kc; kk++ {
				sl[kk*mr+ii] = 0
			}
		}
	}
}

func (d Dense) packB(dst []float32, k0, kc, j0, nc, nr int) {
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		sl := dst[s*kc : s*kc+kc*nr]
		j := j0 + s
		for kk := 0; kk < kc; kk++ {
			out := sl[kk*nr : kk*nr+nr]
			if d.Trans {
				for jj := 0; jj < cols; jj++ {
					out[jj] = d.Data[(j+jj)*d.Stride+k0+kk]
				}
			} else {
				copy(out[:cols], d.Data[(k0+kk)*d.Stride+j:])
			}
			clear(out[cols:])
		}
	}
}

// Im2col is the column matrix of a convolution, read straight from the
// input planes: row (c, r, s), for c < C, r < len(OffH), s < len(OffW), and
// column p·Q+q hold
//
//	X[c·H·W + (p·StrideH+OffH[r])·W + q·StrideW+OffW[s]]
//
// or 0 where that position falls outside the H×W plane. A forward
// convolution has OffH[r] = r·DilationH − PadTop; other tap lists express
// the full convolution of backward-data.
type Im2col struct {
	X                []float32
	C, H, W          int
	P, Q             int
	StrideH, StrideW int
	OffH, OffW       []int
}

func (m *Im2col) packB(dst []float32, k0, kc, j0, nc, nr int) {
	nw := len(m.OffW)
	taps := len(m.OffH) * nw
	hw := m.H * m.W
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
		c, t := k0/taps, k0%taps
		for kk := 0; kk < kc; kk++ {
			offH, offW := m.OffH[t/nw], m.OffW[t%nw]
			plane := m.X[c*hw : (c+1)*hw]
			row := sl[kk*nr : kk*nr+nr]
			for _, sg := range segs[:ns] {
				out := row[sg.off : sg.off+sg.n]
				ih, iw := sg.ih+offH, sg.iw+offW
				switch {
				case ih < 0 || ih >= m.H:
					clear(out)
				case m.StrideW == 1 && iw >= 0 && iw+sg.n <= m.W: // interior
					copy(out, plane[ih*m.W+iw:])
				default:
					gatherRow(out, plane[ih*m.W:(ih+1)*m.W], iw, m.StrideW)
				}
			}
			if t++; t == taps {
				t = 0
				c++
			}
		}
	}
	padSliver(dst, kc, nc, nr)
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

// gatherRow sets out[u] = src[iw+u·step], or 0 where that index is outside
// src.
func gatherRow(out, src []float32, iw, step int) {
	if step == 1 {
		lo := min(max(-iw, 0), len(out))          // first u with iw+u >= 0
		hi := max(min(len(src)-iw, len(out)), lo) // first u with iw+u >= len(src)
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

// Im2colT is the transpose of an Im2col: its rows are the output positions
// p·Q+q and its columns the taps (c, r, s). Backward-filter multiplies by it.
type Im2colT Im2col

func (m *Im2colT) packB(dst []float32, k0, kc, j0, nc, nr int) {
	nw := len(m.OffW)
	taps := len(m.OffH) * nw
	hw := m.H * m.W
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		sl := dst[s*kc : s*kc+kc*nr]
		for jj := 0; jj < cols; jj++ {
			col := j0 + s + jj
			c, t := col/taps, col%taps
			offH, offW := m.OffH[t/nw], m.OffW[t%nw]
			plane := m.X[c*hw : (c+1)*hw]
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

// Rows writes the whole column matrix, row after row, into dst
// (C·len(OffH)·len(OffW) × P·Q floats): one sliver as wide as the matrix.
func (m *Im2col) Rows(dst []float32) {
	n := m.P * m.Q
	m.packB(dst, 0, m.C*len(m.OffH)*len(m.OffW), 0, n, n)
}
