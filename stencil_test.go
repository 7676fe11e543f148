package simdconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// TestStencilAndDots checks Stencil and ShiftedDots on every ISA against a
// float64 reference, for lengths around the vector and block sizes and tap
// counts beyond one register file's worth; y is NaN-guarded past its
// rounded length.
func TestStencilAndDots(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, n := range []int{1, 7, 15, 16, 17, 127, 128, 129, 300} {
			for _, taps := range []int{1, 9, 10, 11, 25, 31, 49} {
				np := roundUp(n, engine.Slack)
				x := testutil.Rand(r, 3*np+50)
				off := make([]int, taps)
				for i := range off {
					off[i] = r.IntN(len(x) - np + 1)
				}
				w := testutil.Rand(r, taps)
				where := fmt.Sprintf("n=%d taps=%d", n, taps)

				gy := testutil.NewGuarded(np, nil)
				const bias = 0.25
				driver{}.Stencil(gy.Slice(), x, w, off, n, bias)
				gy.Check(t)
				want := make([]float64, n)
				for i := range want {
					want[i] = bias
					for k, o := range off {
						want[i] += float64(w[k]) * float64(x[o+i])
					}
				}
				rt, at := testutil.Tol(taps)
				testutil.AssertClose(t, want, gy.Slice()[:n], rt, at, "Stencil ", where)

				a := make([]float32, np)
				copy(a, testutil.Rand(r, n))
				gd := testutil.NewGuarded(taps, nil)
				driver{}.ShiftedDots(gd.Slice(), a, x, off, n)
				gd.Check(t)
				wantD := make([]float64, taps)
				for k, o := range off {
					for i := range n {
						wantD[k] += float64(a[i]) * float64(x[o+i])
					}
				}
				rt, at = testutil.Tol(n)
				testutil.AssertClose(t, wantD, gd.Slice(), rt, at, "ShiftedDots ", where)
			}
		}
	})
}

// TestStencilPlanes checks StencilPlanes on every ISA against a float64
// reference: planes at strides that leave gaps and, for y, that the next
// plane's rounded run overlaps (ldy = n), so the planes must run in order.
// y is NaN-guarded, and its floats past the last plane's rounded run keep
// their values.
func TestStencilPlanes(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, n := range []int{1, 15, 16, 49, 63, 100} {
			for _, planes := range []int{1, 2, 5} {
				for _, taps := range []int{1, 9, 25} {
					np := roundUp(n, engine.Slack)
					ldx, ldw := np+2*taps+3, taps+2
					for _, ldy := range []int{n, np + 5} {
						off := make([]int, taps)
						for i := range off {
							off[i] = r.IntN(2*taps + 4)
						}
						x := testutil.Rand(r, (planes-1)*ldx+2*taps+4+np)
						w := testutil.Rand(r, (planes-1)*ldw+taps)
						bias := testutil.Rand(r, planes)
						old := testutil.Rand(r, (planes-1)*ldy+np+7)
						gy := testutil.NewGuarded(len(old), old)
						driver{}.StencilPlanes(gy.Slice(), x, w, off, n, planes, ldy, ldx, ldw, bias)
						gy.Check(t)
						where := fmt.Sprintf("n=%d planes=%d taps=%d ldy=%d", n, planes, taps, ldy)
						rt, at := testutil.Tol(taps)
						for c := range planes {
							want := make([]float64, n)
							for i := range want {
								want[i] = float64(bias[c])
								for k, o := range off {
									want[i] += float64(w[c*ldw+k]) * float64(x[c*ldx+o+i])
								}
							}
							testutil.AssertClose(t, want, gy.Slice()[c*ldy:][:n], rt, at, "StencilPlanes ", where, " plane ", c)
						}
						end := (planes-1)*ldy + np
						require.Equal(t, old[end:], gy.Slice()[end:], "past the last plane: %s", where)
					}
				}
			}
		}
	})
}

func TestStencilPanics(t *testing.T) {
	x, y, w := make([]float32, 40), make([]float32, 16), make([]float32, 2)
	require.Panics(t, func() { driver{}.Stencil(y, x, w, []int{0, 30}, 10, 0) }, "offset runs past x")
	require.Panics(t, func() { driver{}.Stencil(y, x, w, []int{-1}, 10, 0) }, "negative offset")
	require.Panics(t, func() { driver{}.Stencil(y[:8], x, w, []int{0}, 10, 0) }, "y shorter than the rounded n")
	require.Panics(t, func() { driver{}.Stencil(y, x, w[:1], []int{0, 1}, 10, 0) }, "fewer weights than taps")
	a := make([]float32, 16)
	a[12] = 1
	require.Panics(t, func() { driver{}.ShiftedDots(w, a, x, []int{0}, 10) }, "a not zero past n")
	require.Panics(t, func() { driver{}.Stencil(y, x, w, []int{math.MaxInt - 4}, 10, 0) }, "offset overflowing")

	require.NotPanics(t, func() { driver{}.Stencil(y, x, w[:0], nil, 10, 2) }, "no taps")
	require.Equal(t, float32(2), y[9], "no taps: y is the bias")
	y2, bias := make([]float32, 24), []float32{0, 0}
	require.NotPanics(t, func() { driver{}.StencilPlanes(y2, x, w, []int{0}, 8, 2, 8, 16, 1, bias) }, "two planes that fit")
	require.Panics(t, func() { driver{}.StencilPlanes(y2[:23], x, w, []int{0}, 8, 2, 8, 16, 1, bias) }, "second plane past y")
	require.Panics(t, func() { driver{}.StencilPlanes(y2, x, w, []int{0}, 10, 2, 8, 16, 1, bias) }, "n past ldy")
	require.Panics(t, func() { driver{}.StencilPlanes(y2, x, w, []int{0}, 8, 2, 8, 30, 1, bias) }, "second plane past x")
	require.Panics(t, func() { driver{}.StencilPlanes(y2, x, w, []int{0}, 8, 2, 8, 16, 2, bias) }, "second filter past w")
	require.Panics(t, func() { driver{}.StencilPlanes(y2, x, w, []int{0}, 8, 2, 8, 16, 1, bias[:1]) }, "one bias for two planes")
	require.Panics(t, func() { driver{}.StencilPlanes(y2, x, w, []int{0}, 8, 0, 8, 16, 1, bias) }, "no planes")
	require.Panics(t, func() { driver{}.CopyRows(y, x, 2, 16, 0, 16, -1000, 16) }, "negative dst stride")
	require.Panics(t, func() { driver{}.AddRows(x[:32], y, 2, 16, 16, -16) }, "negative src stride")
	require.Panics(t, func() { driver{}.AddRows(x, y, 9, 1, math.MaxInt/4, 1) }, "stride overflowing")
}

// BenchmarkStencil times L9's forward per channel: a 30×30 padded plane,
// 28 rows of 30 positions, nine 3×3 taps.
func BenchmarkStencil(b *testing.B) {
	prev := current
	defer func() { current = prev }()
	for _, name := range ISAs() {
		require.NoError(b, SetISA(name))
		b.Run("isa="+name, func(b *testing.B) {
			const wp, n = 30, 28 * 30
			x := make([]float32, 30*wp+2*engine.Slack)
			y := make([]float32, roundUp(n, engine.Slack))
			w := make([]float32, 9)
			var off []int
			for r := range 3 {
				for s := range 3 {
					off = append(off, r*wp+s)
				}
			}
			for range b.N {
				driver{}.Stencil(y, x, w, off, n, 0)
			}
			b.ReportMetric(float64(2*9*28*28)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestAddRows checks AddRows on every ISA for widths around the vector
// sizes: the gaps between dst's rows are NaN and must stay so.
func TestAddRows(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, n := range []int{1, 7, 8, 15, 16, 17, 40, 100} {
			for rows := range 4 {
				ds, ss := n+3, n+5
				g := testutil.NewGuarded(max(rows*ds, 1), nil)
				dst := g.Slice()
				for i := range dst {
					dst[i] = float32(math.NaN())
				}
				init := testutil.Rand(r, rows*n)
				for row := range rows {
					copy(dst[row*ds:][:n], init[row*n:])
				}
				src := testutil.Rand(r, max(rows*ss, 1))
				driver{}.AddRows(dst, src, rows, n, ds, ss)
				g.Check(t)
				for row := range rows {
					for j := range ds {
						got := dst[row*ds+j]
						if j >= n {
							require.True(t, got != got, "n=%d rows=%d: gap %d of row %d written", n, rows, j, row)
							continue
						}
						require.Equal(t, init[row*n+j]+src[row*ss+j], got, "n=%d rows=%d: row %d lane %d", n, rows, row, j)
					}
				}
			}
		}
	})
}

// TestCopyRows checks CopyRows on every ISA, for rows narrower than
// wideRow (packRows) and wider (copy and clear), against packRowsGeneric,
// with dst NaN-guarded and the gaps between its rows left as they were.
func TestCopyRows(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, n := range []int{5, 16, 63, 64, 100, 300} {
			for _, win := range [][2]int{{0, n}, {1, n}, {0, n - 1}, {3, n - 2}, {n / 2, n / 2}, {n, 0}} {
				lo, hi := win[0], win[1]
				const rows = 3
				ds, ss := n+7, max(hi-lo, 0)+3
				src := testutil.Rand(r, rows*ss)
				init := testutil.Rand(r, (rows-1)*ds+n)
				g := testutil.NewGuarded(len(init), init)
				driver{}.CopyRows(g.Slice(), src, rows, n, lo, hi, ds, ss)
				g.Check(t)
				want := append([]float32(nil), init...)
				packRowsGeneric(want, src, rows, n, lo, hi, ds, ss)
				require.Equal(t, want, g.Slice(), "n=%d lo=%d hi=%d", n, lo, hi)
			}
		}
	})
	y := make([]float32, 300)
	require.Panics(t, func() { driver{}.CopyRows(y, y, 3, 100, 0, 100, 100, 101) }, "src row past its end")
	require.Panics(t, func() { driver{}.CopyRows(y, y, 3, 100, 0, 100, 101, 100) }, "dst row past its end")
	require.Panics(t, func() { driver{}.CopyRows(y, y, 2, 100, 0, 101, 100, 100) }, "window past n")
}
