package simdconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// TestPackRows checks the packing primitive of every ISA against its
// definition for row widths up to the ISA's nr and beyond (which the
// kernels take in column blocks), zero-padding splits, row counts 0 to 3,
// and one block of rows or three (packPlanes). dst is NaN everywhere outside the lanes it may write, and src is NaN
// everywhere outside the lanes it may read, so a stray read shows up as a
// NaN in the output and a stray write as a missing NaN.
func TestPackRows(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		id := current
		nr := tileOf(id).nr
		for _, n := range []int{1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, nr - 1, nr, nr + 1, 2*nr + 5, 3 * nr} {
			if n < 1 {
				continue
			}
			for lo := 0; lo <= n; lo += max(1, n/5) {
				for hi := lo; hi <= n; hi += max(1, n/4) {
					for rows := range 4 {
						for _, planes := range []int{1, 3} {
							checkPackPlanes(t, r, id, planes, rows, n, lo, hi)
						}
					}
				}
			}
		}
	})
}

func checkPackPlanes(t *testing.T, r *rand.Rand, id isaID, planes, rows, n, lo, hi int) {
	t.Helper()
	// The planes lie a few floats apart, which must stay NaN.
	dstStride, srcStride := n+3, hi-lo+5
	dstPlane, srcPlane := rows*dstStride+2, rows*srcStride+1
	nan := float32(math.NaN())
	gd := testutil.NewGuarded(max(planes*dstPlane, 1), nil)
	dst := gd.Slice()
	for i := range dst {
		dst[i] = nan
	}
	gs := testutil.NewGuarded(max(planes*srcPlane, 1), nil)
	src := gs.Slice()
	for i := range src {
		src[i] = nan
	}
	for c := range planes {
		for row := range rows {
			for j := lo; j < hi; j++ {
				src[c*srcPlane+row*srcStride+j-lo] = r.Float32()
			}
		}
	}
	if planes == 1 {
		packRows(id, dst, src, rows, n, lo, hi, dstStride, srcStride)
	} else {
		packPlanes(id, dst, src, planes, dstPlane, srcPlane, rows, n, lo, hi, dstStride, srcStride)
	}
	gd.Check(t)
	gs.Check(t)
	for c := range planes {
		where := fmt.Sprintf("plane %d of %d, rows=%d n=%d lo=%d hi=%d", c, planes, rows, n, lo, hi)
		for i := range dstPlane {
			row, j := i/dstStride, i%dstStride
			got := dst[c*dstPlane+i]
			switch {
			case row >= rows || j >= n:
				require.True(t, got != got, "%s: float %d past the rows written", where, i)
			case j >= lo && j < hi:
				require.Equal(t, src[c*srcPlane+row*srcStride+j-lo], got, "%s: lane %d of row %d", where, j, row)
			default:
				require.Zero(t, got, "%s: padding lane %d of row %d", where, j, row)
			}
		}
	}
}

func TestPackRowsPanics(t *testing.T) {
	dst, src := make([]float32, 20), make([]float32, 20)
	require.Panics(t, func() { packRows(current, dst, src, 2, 10, 0, 10, 11, 10) }, "dst too short")
	require.Panics(t, func() { packRows(current, dst, src, 3, 5, 0, 5, 5, 8) }, "src too short")
	require.Panics(t, func() { packRows(current, dst, src, 1, 5, 0, 6, 5, 5) }, "hi past n")
	require.Panics(t, func() { packRows(current, dst, src, 1, 5, -1, 3, 5, 5) }, "negative lo")
	require.NotPanics(t, func() { packRows(current, dst, nil, 2, 10, 0, 0, 10, 99) }, "all padding reads nothing")
	require.Panics(t, func() { packPlanes(current, dst, src, 2, 11, 5, 1, 10, 0, 5, 10, 5) }, "second dst plane too short")
	require.Panics(t, func() { packPlanes(current, dst, src, 2, 5, 16, 1, 5, 0, 5, 5, 5) }, "second src plane too short")
	require.NotPanics(t, func() { packPlanes(current, dst, src, 2, 10, 15, 1, 10, 0, 5, 10, 5) }, "two planes that fit")
}

// BenchmarkPackRows times one sliver's worth of rows (256) at the widths the
// convolutions produce: a full sliver, and narrow runs with padding.
func BenchmarkPackRows(b *testing.B) {
	prev := current
	defer func() { current = prev }()
	for _, name := range ISAs() {
		require.NoError(b, SetISA(name))
		id := current
		nr := tileOf(id).nr
		for _, w := range []struct{ n, lo, hi int }{{nr, 0, nr}, {nr, 1, nr}, {7, 1, 7}, {14, 0, 14}} {
			if w.n > nr {
				continue
			}
			b.Run(fmt.Sprintf("isa=%s/n=%d/lo=%d/hi=%d", name, w.n, w.lo, w.hi), func(b *testing.B) {
				const rows = 256
				dst := make([]float32, rows*nr)
				src := make([]float32, rows*64)
				b.SetBytes(rows * int64(w.n) * 4)
				for range b.N {
					packRows(id, dst, src, rows, w.n, w.lo, w.hi, nr, 64)
				}
			})
		}
	}
}

// TestPackA checks packA on every ISA (the transposing kernels on avx2 and
// avx512) against its definition: all k lengths around the 8-step blocks,
// partial slivers, both layouts and an alpha. A's unused columns are NaN, so
// a stray read shows up; the workspace past the slivers and their slack is
// NaN-guarded, so a stray write does too.
func TestPackA(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		mr := tileOf(current).mr
		for _, trans := range []bool{false, true} {
			for _, kc := range []int{1, 7, 8, 9, 16, 31, 64, 130} {
				for _, mc := range []int{mr, mr + 3, 2 * mr} {
					for _, alpha := range []float32{1, -0.5} {
						checkPackA(t, r, trans, mr, mc, kc, alpha)
					}
				}
			}
		}
	})
}

func checkPackA(t *testing.T, r *rand.Rand, trans bool, mr, mc, kc int, alpha float32) {
	t.Helper()
	const i0, k0 = 2, 3
	rows, cols := i0+mc+1, k0+kc+2
	if trans {
		rows, cols = cols, rows
	}
	data := make([]float32, rows*cols)
	for i := range data {
		data[i] = float32(math.NaN())
	}
	at := func(i, k int) *float32 {
		if trans {
			return &data[k*cols+i]
		}
		return &data[i*cols+k]
	}
	for i := range mc {
		for k := range kc {
			*at(i0+i, k0+k) = r.Float32()*2 - 1
		}
	}
	slivers := (mc + mr - 1) / mr
	g := testutil.NewGuarded(slivers*mr*kc+packSlack, nil)
	dst := g.Slice()
	(&dense{Data: data, Stride: cols, Trans: trans}).packA(current, dst, alpha, i0, mc, k0, kc, mr)
	g.Check(t)
	for s := range slivers {
		for k := range kc {
			for ii := range mr {
				want := float32(0)
				if i := s*mr + ii; i < mc {
					want = alpha * *at(i0+i, k0+k)
				}
				require.Equal(t, want, dst[s*mr*kc+k*mr+ii], "trans=%v mc=%d kc=%d: sliver %d k %d row %d", trans, mc, kc, s, k, ii)
			}
		}
	}
}

// TestPackTOffPanics checks that the transposing gather refuses a column
// count outside 1..8 and an offset whose run leaves a, on the ISAs that
// have it.
func TestPackTOffPanics(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		if !hasPackT(current, 8) {
			t.Skip("no transposing pack on this ISA")
		}
		dst, a := make([]float32, 64), make([]float32, 20)
		offs := []int{0, 1, 2, 3, 4, 5, 6, 7}
		require.Equal(t, 8, packTOff(current, dst, a, offs, 3, 0, 8, 8))
		require.Panics(t, func() { packTOff(current, dst, a, offs, 0, 0, 8, 8) }, "n = 0")
		require.Panics(t, func() { packTOff(current, dst, a, offs, 9, 0, 8, 8) }, "n = 9")
		bad := []int{0, 1, 2, 3, 4, 5, 6, 13}
		require.Panics(t, func() { packTOff(current, dst, a, bad, 1, 0, 8, 8) }, "a zeroed column's run past a")
		const msg = "simdconv: packTOff operands out of bounds"
		require.PanicsWithValue(t, msg, func() { packTOff(current, dst, a, offs, 3, -1, 8, 8) }, "column 0's run before a")
		require.PanicsWithValue(t, msg, func() { packTOff(current, dst, a, offs, 3, 6, 8, 8) }, "column 7's run past a")
		require.Equal(t, 8, packTOff(current, dst, a, offs, 3, 5, 8, 8), "column 7's run ends at len(a)")
	})
}

// TestShiftedPackB checks Shifted's packing (the offset-table transposing
// kernel on avx2 and avx512) against its definition for k lengths around
// the 8-step blocks and partial slivers, in a NaN-guarded workspace.
func TestShiftedPackB(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		nr := tileOf(current).nr
		x := testutil.Rand(r, 500)
		for _, kc := range []int{1, 7, 8, 9, 16, 33} {
			// A last group of 1, 3 or 7 columns takes the kernel with the
			// rest of its 8 zeroed.
			for _, nc := range []int{1, 3, 8, 9, nr - 1, nr, nr + 9} {
				const k0, j0 = 3, 2
				off := make([]int, j0+nc)
				for j := range off {
					off[j] = r.IntN(len(x) - k0 - kc)
				}
				m := &shifted{X: x, Off: off}
				slivers := (nc + nr - 1) / nr
				g := testutil.NewGuarded(slivers*nr*kc, nil)
				dst := g.Slice()
				m.packB(current, dst, k0, kc, j0, nc, nr)
				g.Check(t)
				for j := range slivers * nr {
					for kk := range kc {
						want := float32(0)
						if j < nc {
							want = x[off[j0+j]+k0+kk]
						}
						require.Equal(t, want, dst[j/nr*nr*kc+kk*nr+j%nr], "kc=%d nc=%d column %d step %d", kc, nc, j, kk)
					}
				}
			}
		}
	})
}

// BenchmarkPackB times packing the B panel of an im2col whole, sliver by
// sliver, as runSlivers does: a 5×5 layer on 28×28 planes (32 channels,
// padding 2) and a 3×3 one on 56×56 (64 channels, padding 1). GFLOP/s is
// not reported; ns per packed row of a sliver is.
func BenchmarkPackB(b *testing.B) {
	prev := current
	defer func() { current = prev }()
	for _, name := range ISAs() {
		require.NoError(b, SetISA(name))
		id := current
		nr := tileOf(id).nr
		for _, l := range []struct{ c, hw, r, pad int }{{32, 28, 5, 2}, {64, 56, 3, 1}} {
			b.Run(fmt.Sprintf("isa=%s/c=%d/hw=%d/r=%d", name, l.c, l.hw, l.r), func(b *testing.B) {
				offs := make([]int, l.r)
				for i := range offs {
					offs[i] = i - l.pad
				}
				m := &im2col{X: make([]float32, l.c*l.hw*l.hw), C: l.c, H: l.hw, W: l.hw, P: l.hw, Q: l.hw,
					StrideH: 1, StrideW: 1, OffH: offs, OffW: offs}
				k, n := l.c*l.r*l.r, l.hw*l.hw
				dst := make([]float32, k*nr)
				for b.Loop() {
					for j := 0; j < n; j += nr {
						m.packB(id, dst, 0, k, j, min(nr, n-j), nr)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(k*((n+nr-1)/nr)), "ns/row")
			})
		}
	}
}
