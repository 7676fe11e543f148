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

// The F(4×4, 3×3) matrices as Lavin and Gray give them, in float64: the
// tests hold the factored transforms of every ISA to them.
var (
	winoBT = [6][6]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winoG = [6][3]float64{
		{1. / 4, 0, 0},
		{-1. / 6, -1. / 6, -1. / 6},
		{-1. / 6, 1. / 6, -1. / 6},
		{1. / 24, 1. / 12, 1. / 6},
		{1. / 24, -1. / 12, 1. / 6},
		{0, 0, 1},
	}
	winoAT = [4][6]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// TestWinogradMatrices checks the matrices themselves: Aᵀ[(G g Gᵀ) ⊙
// (Bᵀ d B)]A is the 3×3 correlation of a 6×6 tile, to rounding.
func TestWinogradMatrices(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var d [6][6]float64
	var g [3][3]float64
	for i := range d {
		for j := range d[i] {
			d[i][j] = r.NormFloat64()
		}
	}
	for i := range g {
		for j := range g[i] {
			g[i][j] = r.NormFloat64()
		}
	}
	var u, v, m [6][6]float64
	for a := range 6 {
		for b := range 6 {
			for i := range 3 {
				for j := range 3 {
					u[a][b] += winoG[a][i] * g[i][j] * winoG[b][j]
				}
			}
			for i := range 6 {
				for j := range 6 {
					v[a][b] += winoBT[a][i] * d[i][j] * winoBT[b][j]
				}
			}
			m[a][b] = u[a][b] * v[a][b]
		}
	}
	for p := range 4 {
		for q := range 4 {
			var y, want float64
			for a := range 6 {
				for b := range 6 {
					y += winoAT[p][a] * m[a][b] * winoAT[q][b]
				}
			}
			for i := range 3 {
				for j := range 3 {
					want += d[p+i][q+j] * g[i][j]
				}
			}
			require.InDelta(t, want, y, 1e-9, "y[%d][%d]", p, q)
		}
	}
}

// TestWinogradBands checks the band transforms of every ISA against the
// matrices in float64, for band widths around the vector sizes, with every
// output NaN-guarded past the floats the contract lets it write, and every
// input inside NaN guard bands too: a read outside it would make some of
// the lanes up to WinogradLanes(tiles), which the kernels compute, NaN.
func TestWinogradBands(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, tiles := range []int{1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 56} {
			n := engine.WinogradLanes(tiles)
			where := fmt.Sprintf("tiles=%d", tiles)
			rt, at := testutil.Tol(36)

			ld := engine.WinogradBand(tiles) + 3
			gsrc := testutil.NewGuarded(5*ld+engine.WinogradBand(tiles), testutil.Rand(r, 5*ld+engine.WinogradBand(tiles)))
			src := gsrc.Slice()
			gd := testutil.NewGuarded(35*(n+5)+n, nil)
			driver{}.WinogradInput(gd.Slice(), n+5, src, ld, tiles)
			gd.Check(t)
			requireFiniteRows(t, gd.Slice(), 36, n+5, n, "WinogradInput ", where)
			want, got := make([]float64, 0, 36*tiles), make([]float32, 0, 36*tiles)
			for tt := range tiles {
				for a := range 6 {
					for b := range 6 {
						var v float64
						for i := range 6 {
							for j := range 6 {
								v += winoBT[a][i] * float64(src[i*ld+4*tt+j]) * winoBT[b][j]
							}
						}
						want, got = append(want, v), append(got, gd.Slice()[(6*a+b)*(n+5)+tt])
					}
				}
			}
			testutil.AssertClose(t, want, got, rt, at, "WinogradInput ", where)

			m := testutil.NewGuarded(35*(n+2)+n, testutil.Rand(r, 35*(n+2)+n)).Slice()
			for _, relu := range []bool{false, true} {
				const bias = -0.5
				ldo := 4*n + 1
				gy := testutil.NewGuarded(3*ldo+4*n, nil)
				driver{}.WinogradOutput(gy.Slice(), ldo, m, n+2, tiles, bias, relu)
				gy.Check(t)
				requireFiniteRows(t, gy.Slice(), 4, ldo, 4*n, "WinogradOutput ", where)
				want, got = want[:0], got[:0]
				for tt := range tiles {
					for p := range 4 {
						for q := range 4 {
							v := float64(bias)
							for a := range 6 {
								for b := range 6 {
									v += winoAT[p][a] * float64(m[(6*a+b)*(n+2)+tt]) * winoAT[q][b]
								}
							}
							if relu {
								v = max(v, 0)
							}
							want, got = append(want, v), append(got, gy.Slice()[p*ldo+4*tt+q])
						}
					}
				}
				testutil.AssertClose(t, want, got, rt, at, "WinogradOutput ", where, " relu=", relu)
			}

			lde := 4*n + 7
			e := testutil.NewGuarded(3*lde+4*n, testutil.Rand(r, 3*lde+4*n)).Slice()
			gg := testutil.NewGuarded(35*n+n, nil)
			driver{}.WinogradGrad(gg.Slice(), n, e, lde, tiles)
			gg.Check(t)
			requireFiniteRows(t, gg.Slice(), 36, n, n, "WinogradGrad ", where)
			want, got = want[:0], got[:0]
			for tt := range tiles {
				for a := range 6 {
					for b := range 6 {
						var v float64
						for i := range 4 {
							for j := range 4 {
								v += winoAT[i][a] * float64(e[i*lde+4*tt+j]) * winoAT[j][b]
							}
						}
						want, got = append(want, v), append(got, gg.Slice()[(6*a+b)*n+tt])
					}
				}
			}
			testutil.AssertClose(t, want, got, rt, at, "WinogradGrad ", where)
		}
	})
}

// requireFiniteRows requires the first width floats of each of rows rows,
// stride apart, to be finite.
func requireFiniteRows(t *testing.T, x []float32, rows, stride, width int, msg ...any) {
	t.Helper()
	for i := range rows {
		for j, v := range x[i*stride:][:width] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				require.Failf(t, "not finite", "%s: row %d, float %d is %v", fmt.Sprint(msg...), i, j, v)
			}
		}
	}
}

// TestWinogradBandsPanic checks that each band function refuses a buffer
// shorter than its contract, before touching memory.
func TestWinogradBandsPanic(t *testing.T) {
	const tiles = 5
	n := engine.WinogradLanes(tiles)
	band := engine.WinogradBand(tiles)
	src, dst := make([]float32, 6*band), make([]float32, 36*n)
	d := driver{}
	require.NotPanics(t, func() { d.WinogradInput(dst, n, src, band, tiles) })
	require.Panics(t, func() { d.WinogradInput(dst, n, src[:6*band-1], band, tiles) })
	require.Panics(t, func() { d.WinogradInput(dst[:36*n-1], n, src, band, tiles) })
	require.Panics(t, func() { d.WinogradInput(dst, n-1, src, band, tiles) })
	require.Panics(t, func() { d.WinogradInput(dst, n, src, band, -1) })
	out := make([]float32, 4*4*n)
	require.NotPanics(t, func() { d.WinogradOutput(out, 4*n, dst, n, tiles, 0, false) })
	require.Panics(t, func() { d.WinogradOutput(out[:16*n-1], 4*n, dst, n, tiles, 0, false) })
	require.Panics(t, func() { d.WinogradOutput(out, 4*n, dst[:36*n-1], n, tiles, 0, false) })
	require.NotPanics(t, func() { d.WinogradGrad(dst, n, out, 4*n, tiles) })
	require.Panics(t, func() { d.WinogradGrad(dst, n, out[:16*n-1], 4*n, tiles) })
	require.Panics(t, func() { d.WinogradGrad(dst[:36*n-1], n, out, 4*n, tiles) })
}

// BenchmarkWinogradBands times each band transform of every ISA on one
// band of 14 or 56 tiles (a 56×56 or 224×224 plane's row of tiles), its
// buffers in L1, and reports tiles per second.
func BenchmarkWinogradBands(b *testing.B) {
	prev := current
	defer func() { current = prev }()
	d := driver{}
	for _, transform := range []string{"input", "output", "grad"} {
		for _, name := range ISAs() {
			require.NoError(b, SetISA(name))
			for _, tiles := range []int{14, 56} {
				b.Run(fmt.Sprintf("transform=%s/isa=%s/tiles=%d", transform, name, tiles), func(b *testing.B) {
					n, band := engine.WinogradLanes(tiles), engine.WinogradBand(tiles)
					r := rand.New(rand.NewPCG(5, 6))
					rows, points := testutil.Rand(r, 6*band), testutil.Rand(r, 36*n)
					for b.Loop() {
						switch transform {
						case "input":
							d.WinogradInput(points, n, rows, band, tiles)
						case "output":
							d.WinogradOutput(rows, 4*n, points, n, tiles, 0.5, true)
						case "grad":
							d.WinogradGrad(points, n, rows, 4*n, tiles)
						}
					}
					b.ReportMetric(float64(tiles)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mtiles/s")
				})
			}
		}
	}
}
