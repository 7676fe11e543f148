package simdconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

var nan = math.NaN()

// tailSizes returns sizes around multiples of a tile side: 1, t−1, t, t+1,
// 2t+3 and one past a cache block.
func tailSizes(t int) []int {
	return []int{1, max(1, t-1), t, t + 1, 2*t + 3}
}

func TestSgemm(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		b := tileOf(current)
		r := rand.New(rand.NewPCG(1, 2))
		for _, m := range tailSizes(b.mr) {
			for _, n := range tailSizes(b.nr) {
				for _, k := range []int{1, 2, 3, 7, 16, 17, 257} {
					tA, tB := r.IntN(2) == 1, r.IntN(2) == 1
					checkSgemm(t, r, tA, tB, m, n, k, r.IntN(3), 1, 0)
				}
			}
		}
	})
}

// TestSgemmBlocks crosses every cache block boundary, with every
// transposition and BLAS alpha/beta.
func TestSgemmBlocks(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		b := tileOf(current)
		r := rand.New(rand.NewPCG(3, 4))
		w := b.forProduct(b.mc+b.mr+1, 1) // the wide kc, where the ISA has one
		sizes := [][3]int{{b.mc + b.mr + 1, b.nr*3 + 1, b.kc + 3}, {b.mc + b.mr + 1, b.nr + 5, 2*w.kc + 7}, {5, b.nc + b.nr + 2, 1031}, {b.mc*2 + 1, 37, 300}, {7, 53, 300}}
		for _, s := range sizes {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				for _, ab := range [][2]float32{{1, 0}, {-0.5, 1}, {2, -1.5}, {0, 0.5}} {
					checkSgemm(t, r, tr[0], tr[1], s[0], s[1], s[2], 1, ab[0], ab[1])
				}
			}
		}
	})
}

// TestSgemmBigC runs products that take bigKC, with bigC lowered so that
// they are small: k blocks of bigKC and a remainder, row blocks of mc and a
// remainder, every transposition.
func TestSgemmBigC(t *testing.T) {
	defer func(c int) { bigC = c }(bigC)
	bigC = 1
	registry.ForEachISA(t, func(t *testing.T) {
		b := tileOf(current)
		r := rand.New(rand.NewPCG(5, 6))
		m := b.mc + b.mr + 1
		require.Equal(t, b.bigKC, b.forProduct(m, 1).kc)
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			checkSgemm(t, r, tr[0], tr[1], m, b.nr+5, b.bigKC+9, 1, 1, 0)
			checkSgemm(t, r, tr[0], tr[1], m, 2*b.nr+3, 2*b.bigKC+7, 0, -0.5, 1)
		}
	})
}

// TestSgemmBetaZero checks that beta = 0 ignores C, NaN included, as in
// BLAS, on the store kernels and their fallbacks: shapes with edge tiles
// both ways, one k block and several, and, on one thread, blocks of A
// both packed once (runSlivers) and per k block (runBlocks).
func TestSgemmBetaZero(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for _, s := range [][3]int{{8, 48, 9}, {13, 53, 70}, {21, 100, 300}, {300, 60, 130}} {
			m, n, k := s[0], s[1], s[2]
			a, b := testutil.Rand(r, m*k), testutil.Rand(r, k*n)
			want := naiveGemm(false, false, m, n, k, 1, a, k, b, n, 0, make([]float32, m*n), n)
			c := make([]float32, m*n)
			for i := range c {
				c[i] = float32(math.NaN())
			}
			Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
			rtol, atol := testutil.Tol(k)
			testutil.AssertClose(t, want, c, rtol, atol, "m=", m, " n=", n, " k=", k)
		}
	})
}

func TestSgemmZeroK(t *testing.T) {
	c := []float32{1, 2, 3, 4}
	Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0.5, c, 2)
	require.Equal(t, []float32{0.5, 1, 1.5, 2}, c)
}

func TestSgemmPanics(t *testing.T) {
	a := make([]float32, 6)
	require.PanicsWithValue(t, "simdconv: Sgemm: len(a) = 6, want ≥ 8", func() {
		Sgemm(false, false, 2, 2, 4, 1, a, 4, make([]float32, 8), 2, 0, make([]float32, 4), 2)
	})
	require.PanicsWithValue(t, "simdconv: Sgemm: ldc = 1, want ≥ 2", func() {
		Sgemm(false, false, 2, 2, 3, 1, a, 3, a, 2, 0, make([]float32, 4), 1)
	})
	require.PanicsWithValue(t, "simdconv: Sgemm: negative dimension for a: -1×3", func() {
		Sgemm(false, false, -1, 2, 3, 1, a, 3, a, 2, 0, nil, 2)
	})
}

// TestGemmThreadsBitwise checks that the engine's split over threads does
// not change a single bit of the result.
func TestGemmThreadsBitwise(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, sz := range [][3]int{{300, 70, 513}, {20, 900, 300}, {300, 49, 513}, {13, 49, 20000}, {13, 53, 20000}} {
			m, n, k := sz[0], sz[1], sz[2]
			a, b := testutil.Rand(r, m*k), testutil.Rand(r, k*n)
			var ref []float32
			for _, threads := range []int{1, 2, 3, 4} {
				per := gemmWorkspace(m, n, k)
				ws := make([][]float32, threads)
				for i := range ws {
					ws[i] = make([]float32, per)
				}
				c := make([]float32, m*n)
				g := engine.Gemm{M: m, N: n, K: k, Alpha: 1, A: &engine.Dense{Data: a, Stride: k}, B: &engine.Dense{Data: b, Stride: n}, C: c, Ldc: n}
				var e engine.Engine
				e.Run(&g, ws)
				if ref == nil {
					ref = c
					continue
				}
				require.Equal(t, ref, c, "threads=%d", threads)
			}
		}
	})
}

func FuzzSgemm(f *testing.F) {
	f.Add(uint8(7), uint8(19), uint8(33), uint8(0), uint64(1))
	f.Add(uint8(1), uint8(1), uint8(1), uint8(3), uint64(2))
	f.Fuzz(func(t *testing.T, m, n, k, flags uint8, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 9))
		registry.ForEachISA(t, func(t *testing.T) {
			checkSgemm(t, r, flags&1 != 0, flags&2 != 0, int(m%97)+1, int(n%97)+1, int(k)+1,
				int(flags>>2)%3, float32(flags>>4)/4-1, float32(flags&12)/8)
		})
	})
}

func BenchmarkSgemm(b *testing.B) {
	sizes := [][3]int{{64, 64, 64}, {256, 256, 256}, {1024, 1024, 1024}, {2048, 2048, 2048}}
	for _, name := range ISAs() {
		for _, s := range sizes {
			b.Run(fmt.Sprintf("isa=%s/m=%d,n=%d,k=%d", name, s[0], s[1], s[2]), func(b *testing.B) {
				benchSgemm(b, name, s[0], s[1], s[2])
			})
		}
	}
}

func benchSgemm(b *testing.B, isa string, m, n, k int) {
	prev := ISA()
	defer SetISA(prev)
	require.NoError(b, SetISA(isa))
	r := rand.New(rand.NewPCG(1, 1))
	a, bb, c := testutil.Rand(r, m*k), testutil.Rand(r, k*n), make([]float32, m*n)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		Sgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkPeak(b *testing.B) {
	for _, name := range ISAs() {
		b.Run("isa="+name, func(b *testing.B) {
			prev := ISA()
			defer SetISA(prev)
			require.NoError(b, SetISA(name))
			const iters = 1 << 16
			flops := 0
			for range b.N {
				flops += PeakLoop(iters)
			}
			b.ReportMetric(float64(flops)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestTileFit checks TileFit against a count of the tiles the driver runs:
// whole tiles, then the narrowest kernel that covers the last columns.
func TestTileFit(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		b := tileOf(current)
		for m := 1; m <= 3*b.mr; m++ {
			for n := 1; n <= 3*b.nr; n++ {
				rows := (m + b.mr - 1) / b.mr * b.mr
				cols := 0
				for left := n; left > 0; left -= b.nr {
					cols += b.sliverWidth(min(left, b.nr))
				}
				require.InDelta(t, float64(m*n)/float64(rows*cols), tileFit(m, n), 1e-12, "m=%d n=%d", m, n)
			}
		}
		require.Equal(t, 1.0, tileFit(4*b.mr, 5*b.nr))
	})
}

// TestDenseTileFit checks the direct-A tiles' fit where they apply, and
// TileFit's elsewhere.
func TestDenseTileFit(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		// AVX-512's direct tiles: 3×49 with a dot column, and 3×64.
		want := map[[2]int]float64{{512, 49}: 512.0 / 513, {12, 52}: 52.0 / 64, {7, 56}: 7 * 56 / (9 * 64.0), {8, 57}: 8 * 57 / (9 * 64.0)}
		for _, mn := range [][2]int{{512, 49}, {12, 52}, {7, 56}, {2, 52}, {8, 57}, {64, 48}} {
			w, ok := want[mn]
			if !ok || current != isaAVX512 {
				w = tileFit(mn[0], mn[1])
			}
			require.InDelta(t, w, denseTileFit(mn[0], mn[1]), 1e-12, "m×n = %v", mn)
		}
	})
}

// TestGemmDirectBitwise checks that reading A in place (the direct-A route,
// taken for a *Dense A) gives the same bits as packing it (a Dense value),
// with the last rows in a tile of their own, on a C with gaps of NaN
// between its rows, beta, bias and ReLU, and blocks of columns that start
// past 0. (The dot-column route of a row-major A sums its last column in
// another order; TestSgemm checks it at n = 49.)
func TestGemmDirectBitwise(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		b := tileOf(current)
		r := rand.New(rand.NewPCG(7, 8))
		for _, sz := range [][5]int{{3, 50, 1, 0, 50}, {7, 56, 130, 0, 56}, {512, 49, 300, 0, 49}, {20, 50, 4608, 0, 50}, {10, 152, 300, 96, 152}} {
			m, n, k, j0, j1 := sz[0], sz[1], sz[2], sz[3], sz[4]
			for _, trans := range []bool{false, true} {
				a, bm, bias := testutil.Rand(r, m*k), testutil.Rand(r, k*n), testutil.Rand(r, m)
				lda, ldc := k, n+3
				if trans {
					lda = m
				}
				c0 := testutil.Rand(r, m*ldc)
				dense := engine.Dense{Data: a, Stride: lda, Trans: trans}
				// run computes the product, through the direct route unless
				// packed, which takes the direct tiles away.
				run := func(packed bool) []float32 {
					c := slices.Clone(c0)
					for i := range m {
						for j := n; j < ldc; j++ {
							c[i*ldc+j] = float32(nan)
						}
					}
					g := gemm{M: m, N: n, K: k, Alpha: 1, A: &dense, B: &engine.Dense{Data: bm, Stride: n}, Beta: 0.5,
						Bias: bias, ReLU: true, C: c, Ldc: ldc}
					bb := b
					if packed {
						bb.direct, bb.directDot = tile{}, tile{}
					}
					g.run(current, bb.forProduct(m, n), make([]float32, gemmWorkspace(m, n, k)), 0, m, j0, j1)
					for i := range m {
						for j := n; j < ldc; j++ {
							require.True(t, math.IsNaN(float64(c[i*ldc+j])), "gap %d,%d written", i, j)
						}
					}
					return c
				}
				g := gemm{M: m, N: n, K: k, Alpha: 1, A: &dense}
				kind := g.directRoute(b, j1-j0)
				if kind == noDirect || kind == directDot && !trans {
					require.True(t, b.direct.nr == 0 || kind == directDot, "route %v", kind)
					continue
				}
				got, want := run(false), run(true)
				for i := range got {
					if math.IsNaN(float64(want[i])) { // require.Equal sees NaN ≠ NaN
						got[i], want[i] = 0, 0
					}
				}
				require.Equal(t, want, got, "m=%d n=%d k=%d trans=%v", m, n, k, trans)
			}
		}
	})
}
