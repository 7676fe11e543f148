package simdconv

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// sliverConv is a convolution layer (padding the same on both sides) whose
// column matrix TestSliverIm2col packs, from its input planes or, with
// phases set, from the sw phase planes per channel that kernels reads at
// column stride sw > 1.
type sliverConv struct {
	name            string
	c, h, w, r, s   int
	sh, sw, dh, dw  int
	padTop, padLeft int
	phases          bool
}

// sliverConvs have rows shorter and longer than a sliver, Q = 1, taps
// wholly or partly in the padding, strides 1 and 2, dilation, taps × rows
// per sliver up to maxSliverTab and past it (4×4 at Q = 3: 16 rows per
// 48 columns at j0 = 0, 17 at j0 = 1), and kc below 2 rows per tap (Go
// gather) and above (the sliver kernel or one call per tap).
var sliverConvs = []sliverConv{
	{name: "3x3 pad1", c: 3, h: 7, w: 9, r: 3, s: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1},
	{name: "3x5 pad1,2", c: 3, h: 6, w: 10, r: 3, s: 5, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 2},
	{name: "wide rows 2x3 pad1", c: 2, h: 3, w: 70, r: 2, s: 3, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1},
	{name: "1x1", c: 5, h: 4, w: 13, r: 1, s: 1, sh: 1, sw: 1, dh: 1, dw: 1},
	{name: "3x3 dil2 pad2", c: 2, h: 8, w: 10, r: 3, s: 3, sh: 1, sw: 1, dh: 2, dw: 2, padTop: 2, padLeft: 2},
	{name: "Q=1 3x1 pad1", c: 4, h: 20, w: 1, r: 3, s: 1, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1},
	{name: "4x4 pad1 Q=3", c: 3, h: 38, w: 4, r: 4, s: 4, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 1, padLeft: 1},
	{name: "3x3 stride2 pad1", c: 2, h: 9, w: 11, r: 3, s: 3, sh: 2, sw: 2, dh: 1, dw: 1, padTop: 1, padLeft: 1},
	{name: "3x3 stride2 pad1 phases", c: 2, h: 9, w: 11, r: 3, s: 3, sh: 2, sw: 2, dh: 1, dw: 1, padTop: 1, padLeft: 1, phases: true},
	{name: "7x7 stride2 pad3 phases", c: 3, h: 16, w: 17, r: 7, s: 7, sh: 2, sw: 2, dh: 1, dw: 1, padTop: 3, padLeft: 3, phases: true},
	{name: "3x3 stride2 dil2,3 pad2,3 phases", c: 2, h: 12, w: 15, r: 3, s: 3, sh: 2, sw: 2, dh: 2, dw: 3, padTop: 2, padLeft: 3, phases: true},
}

func (g sliverConv) pq() (p, q int) {
	return (g.h+2*g.padTop-g.dh*(g.r-1)-1)/g.sh + 1, (g.w+2*g.padLeft-g.dw*(g.s-1)-1)/g.sw + 1
}

// columns is the column matrix from its definition: row (c, r, s), column
// p·Q+q holds x[c, p·sh + r·dh − padTop, q·sw + s·dw − padLeft], or 0
// outside the h×w plane.
func (g sliverConv) columns(x []float32) [][]float32 {
	p, q := g.pq()
	var rows [][]float32
	for c := range g.c {
		for r := range g.r {
			for s := range g.s {
				row := make([]float32, p*q)
				for j := range row {
					ih := j/q*g.sh + r*g.dh - g.padTop
					iw := j%q*g.sw + s*g.dw - g.padLeft
					if ih >= 0 && ih < g.h && iw >= 0 && iw < g.w {
						row[j] = x[(c*g.h+ih)*g.w+iw]
					}
				}
				rows = append(rows, row)
			}
		}
	}
	return rows
}

// im2col returns the column matrix of input x, its X a copy of x (or of x split
// into phase planes) inside NaN guard bands, so that a read past X shows
// up as a NaN in the packed sliver.
func (g sliverConv) im2col(x []float32) (im2col, *testutil.Guarded) {
	p, q := g.pq()
	m := im2col{C: g.c, H: g.h, W: g.w, P: p, Q: q, StrideH: g.sh, StrideW: g.sw}
	for r := range g.r {
		m.OffH = append(m.OffH, r*g.dh-g.padTop)
	}
	for s := range g.s {
		m.OffW = append(m.OffW, s*g.dw-g.padLeft)
	}
	if !g.phases {
		gx := testutil.NewGuarded(len(x), x)
		m.X = gx.Slice()
		return m, gx
	}
	// Plane φ of channel c holds columns φ, φ+sw, … of x's channel c, and
	// 0 past its width; tap s reads column q·sw + o = (q + shift)·sw + φ.
	pw := (g.w + g.sw - 1) / g.sw
	xs := make([]float32, g.c*g.sw*g.h*pw)
	for c := range g.c {
		for ph := range g.sw {
			for i := range g.h {
				for j := range pw {
					if iw := j*g.sw + ph; iw < g.w {
						xs[((c*g.sw+ph)*g.h+i)*pw+j] = x[(c*g.h+i)*g.w+iw]
					}
				}
			}
		}
	}
	for s, o := range m.OffW {
		ph := (o%g.sw + g.sw) % g.sw
		m.OffW[s] = (o - ph) / g.sw
		m.TapPlane = append(m.TapPlane, ph*g.h*pw)
	}
	m.W, m.StrideW, m.ChanStride = pw, 1, g.sw*g.h*pw
	gx := testutil.NewGuarded(len(xs), xs)
	m.X = gx.Slice()
	return m, gx
}

// sliverWidths are the sliver widths the driver packs on blocking b: its
// edge kernels', its main kernel's, its direct-A kernels' (the dot form
// packs nr−1 columns and a 1-wide dot column).
func sliverWidths(b blocking) []int {
	ws := append([]int{1, b.nr}, b.edges...)
	if b.direct.nr > 0 {
		ws = append(ws, b.direct.nr)
	}
	if b.directDot.nr > 0 {
		ws = append(ws, b.directDot.nr-1)
	}
	slices.Sort(ws)
	return slices.Compact(ws)
}

// sliverRanges are row blocks [k0, k0+kc) of a k-row column matrix of taps
// rows per channel: whole, starting mid-channel over several channels
// (from the first and the last tap), shorter than a channel, one row.
func sliverRanges(taps, k int) [][2]int {
	var out [][2]int
	for _, b := range [][2]int{{0, k}, {1, k - 1}, {taps - 1, 2*taps + 1}, {taps + taps/2, taps}, {k - 1, 1}} {
		if b[0] >= 0 && b[1] >= 1 && b[0]+b[1] <= k && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// sliverCase names one packB call; it formats only when a check fails.
type sliverCase struct {
	conv               *sliverConv
	k0, kc, j0, nc, nr int
}

func (c sliverCase) String() string {
	p, q := c.conv.pq()
	return fmt.Sprintf("%s (P=%d Q=%d): k0=%d kc=%d j0=%d nc=%d nr=%d", c.conv.name, p, q, c.k0, c.kc, c.j0, c.nc, c.nr)
}

// TestSliverIm2col packs blocks of the column matrix of every layer in
// sliverConvs with im2col.packB on every ISA, at every sliver width the
// driver uses and every column count up to it (and a few slivers' worth),
// from column starts that put sliver edges mid-row, and compares them
// exactly with the definition. The destination is NaN before packing and
// sits in NaN guard bands, and so does X: a lane left unwritten, or read
// from outside X, is a NaN in the result.
func TestSliverIm2col(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		id := current
		widths := sliverWidths(tileOf(id))
		r := rand.New(rand.NewPCG(11, 12))
		calls := 0
		for i := range sliverConvs {
			g := &sliverConvs[i]
			x := testutil.Rand(r, g.c*g.h*g.w)
			ref := g.columns(x)
			m, gx := g.im2col(x)
			x0 := slices.Clone(m.X)
			p, q := g.pq()
			taps := g.r * g.s
			for _, nr := range widths {
				var ncs []int
				for nc := 1; nc <= nr; nc++ {
					ncs = append(ncs, nc)
				}
				ncs = append(ncs, nr+1, 2*nr+3)
				for _, nc := range ncs {
					var starts []int
					for _, j0 := range []int{0, 1, q - 1, q + 1, p*q - nc} {
						if j0 >= 0 && j0+nc <= p*q && !slices.Contains(starts, j0) {
							starts = append(starts, j0)
						}
					}
					for _, j0 := range starts {
						for _, kb := range sliverRanges(taps, len(ref)) {
							checkSliver(t, id, &m, ref, sliverCase{g, kb[0], kb[1], j0, nc, nr})
							calls++
						}
					}
				}
			}
			gx.Check(t)
			require.Equal(t, x0, m.X, "%s: X changed", g.name)
		}
		t.Logf("%d packB calls", calls)
	})
}

// checkSliver runs one packB call into a NaN-filled, guarded destination
// and compares it with the column matrix ref.
func checkSliver(t *testing.T, id isaID, m *im2col, ref [][]float32, c sliverCase) {
	t.Helper()
	n := (c.nc + c.nr - 1) / c.nr * c.kc * c.nr
	gd := testutil.NewGuarded(n, nanSlice(n))
	dst := gd.Slice()
	defer func() {
		if e := recover(); e != nil {
			t.Fatalf("%v: packB panicked: %v", c, e)
		}
		if t.Failed() {
			t.Logf("in %v", c)
		}
	}()
	m.packB(id, dst, c.k0, c.kc, c.j0, c.nc, c.nr)
	want := make([]float64, n) // columns past nc stay 0
	for jj := range c.nc {
		at := jj/c.nr*c.kc*c.nr + jj%c.nr
		for kk := range c.kc {
			want[at+kk*c.nr] = float64(ref[c.k0+kk][c.j0+jj])
		}
	}
	testutil.AssertClose(t, want, dst, 0, 0, c)
	gd.Check(t)
}

// TestSliverKernel calls the sliver kernel of every ISA that has one with
// tables packB never builds: each tap's lanes dealt at random to its
// segments or to none, so masks have holes and reach every lane, and
// offsets that often put a segment's first selected lane at a channel's
// start or its last at the channel's end, which for the first and last
// channel are the ends of X. X is NaN everywhere no mask selects, and sits
// in NaN guard bands, as does dst.
func TestSliverKernel(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		id := current
		nl := sliverLanes(id)
		if nl == 0 {
			t.Skipf("%s has no sliver kernel", ISA())
		}
		r := rand.New(rand.NewPCG(13, 14))
		for _, taps := range []int{1, 2, 9} {
			for _, segs := range []int{1, 2, 5, nl} {
				if taps*segs > maxSliverTab {
					continue
				}
				for range 4 {
					checkSliverKernel(t, r, id, nl, taps, segs)
				}
			}
		}
	})
}

func checkSliverKernel(t *testing.T, r *rand.Rand, id isaID, nl, taps, segs int) {
	t.Helper()
	kc, t0, c0 := 1+r.IntN(3*taps), r.IntN(taps), r.IntN(3)
	cs := 2*nl + r.IntN(nl) // floats per channel
	channels := c0 + (t0+kc-1)/taps + 1
	tab := make([]int32, 4*taps*segs)
	mask := make([]uint64, taps*segs)
	for tp := range taps {
		for j := range nl {
			if i := r.IntN(segs + 1); i < segs {
				mask[tp*segs+i] |= 1 << j
			}
		}
	}
	for e, mk := range mask {
		lo, hi := 0, 0
		if mk != 0 {
			lo, hi = bits.TrailingZeros64(mk), 64-bits.LeadingZeros64(mk)
		}
		var off int // the selected lanes read [0, cs) of a channel
		switch r.IntN(3) {
		case 0:
			off = -lo
		case 1:
			off = cs - hi
		default:
			off = -lo + r.IntN(cs-(hi-lo)+1)
		}
		// The fourth int32 is padding: -1 there must change nothing.
		tab[4*e], tab[4*e+1], tab[4*e+2], tab[4*e+3] = int32(off), int32(uint32(mk)), int32(uint32(mk>>32)), -1
	}
	x := make([]float32, channels*cs)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	want := make([]float64, kc*nl)
	for kk := range kc {
		tp, c := (t0+kk)%taps, c0+(t0+kk)/taps
		for i := range segs {
			e := tp*segs + i
			for j := range nl {
				if mask[e]>>j&1 == 0 {
					continue
				}
				at := c*cs + int(tab[4*e]) + j
				if math.IsNaN(float64(x[at])) {
					x[at] = 2*r.Float32() - 1
				}
				want[kk*nl+j] = float64(x[at])
			}
		}
	}
	gx := testutil.NewGuarded(len(x), x)
	gd := testutil.NewGuarded(kc*nl, nil)
	for i := range gd.Slice() {
		gd.Slice()[i] = float32(math.NaN())
	}
	packSliverKernel(id, gd.Slice(), gx.Slice(), tab, kc, t0, taps, segs, c0, cs)
	testutil.AssertClose(t, want, gd.Slice(), 0, 0, fmt.Sprintf("taps=%d segs=%d kc=%d t0=%d c0=%d", taps, segs, kc, t0, c0))
	gd.Check(t)
	gx.Check(t)
}

// TestIm2colRowsAndTranspose checks, on every layer of sliverConvs, the
// column matrix written out whole (rows) and the transpose's packing
// (im2colT.packB: rows are output positions and columns taps) against the
// definition, inside NaN guard bands.
func TestIm2colRowsAndTranspose(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		id := current
		r := rand.New(rand.NewPCG(13, 14))
		for i := range sliverConvs {
			g := &sliverConvs[i]
			x := testutil.Rand(r, g.c*g.h*g.w)
			ref := g.columns(x)
			m, gx := g.im2col(x)
			k, n := len(ref), len(ref[0])

			gd := testutil.NewGuarded(k*n, nanSlice(k*n))
			m.rows(gd.Slice())
			testutil.AssertClose(t, testutil.F64(slices.Concat(ref...)), gd.Slice(), 0, 0, g.name)
			gd.Check(t)

			const nr = 4
			for _, b := range [][4]int{{0, n, 0, k}, {1, n - 2, 1, min(k-1, 5)}, {n - 1, 1, k - 1, 1}} {
				k0, kc, j0, nc := b[0], b[1], b[2], b[3]
				size := (nc + nr - 1) / nr * kc * nr
				gd := testutil.NewGuarded(size, nanSlice(size))
				(*im2colT)(&m).packB(id, gd.Slice(), k0, kc, j0, nc, nr)
				want := make([]float64, size)
				for jj := range nc {
					for kk := range kc {
						want[jj/nr*kc*nr+kk*nr+jj%nr] = float64(ref[j0+jj][k0+kk])
					}
				}
				testutil.AssertClose(t, want, gd.Slice(), 0, 0, g.name, b)
				gd.Check(t)
			}
			gx.Check(t)
		}
	})
}

// nanSlice is n NaNs: a destination whose every unwritten lane shows.
func nanSlice(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}
