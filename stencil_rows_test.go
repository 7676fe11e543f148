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

// TestStencilRowsAndDotsRows checks StencilRows and DotsRows on every ISA
// against a float64 reference, for row counts around every kernel's rows,
// lengths around the vector and block sizes, and tap counts of few-channel
// layers (1·3·3 to 6·5·5); y is NaN-guarded past each row's rounded length,
// between the rows too.
func TestStencilRowsAndDotsRows(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, m := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 32} {
			for _, n := range []int{1, 15, 16, 17, 48, 100, 300} {
				for _, taps := range []int{1, 9, 27, 49, 150} {
					np := roundUp(n, engine.Slack)
					x := testutil.Rand(r, 2*np+200)
					off := make([]int, taps)
					for i := range off {
						off[i] = r.IntN(len(x) - np + 1)
					}
					w := testutil.Rand(r, taps*m)
					bias := testutil.Rand(r, m)
					where := fmt.Sprintf("m=%d n=%d taps=%d", m, n, taps)

					ldy := np + 5
					gy := testutil.NewGuarded((m-1)*ldy+np, nil)
					y := gy.Slice()
					for i := range y {
						y[i] = float32(math.NaN()) // the gaps between rows stay NaN
					}
					if taps == 9 { // nil counts as zeros
						driver{}.StencilRows(y, ldy, x, w, off, n, m, nil)
						clear(bias)
					} else {
						driver{}.StencilRows(y, ldy, x, w, off, n, m, bias)
					}
					gy.Check(t)
					want := make([]float64, 0, m*n)
					got := make([]float32, 0, m*n)
					for k := range m {
						for i := range n {
							v := float64(bias[k])
							for tt, o := range off {
								v += float64(w[tt*m+k]) * float64(x[o+i])
							}
							want, got = append(want, v), append(got, y[k*ldy+i])
						}
						for _, v := range y[k*ldy+np : min(len(y), (k+1)*ldy)] {
							require.True(t, math.IsNaN(float64(v)), "StencilRows wrote between rows, %s", where)
						}
					}
					rt, at := testutil.Tol(taps)
					testutil.AssertClose(t, want, got, rt, at, "StencilRows ", where)

					lda := np + 3
					a := make([]float32, (m-1)*lda+np)
					for k := range m {
						copy(a[k*lda:], testutil.Rand(r, n))
					}
					gd := testutil.NewGuarded(m*taps, nil)
					driver{}.DotsRows(gd.Slice(), a, lda, m, x, off, n)
					gd.Check(t)
					wantD := make([]float64, m*taps)
					for k := range m {
						for tt, o := range off {
							for i := range n {
								wantD[k*taps+tt] += float64(a[k*lda+i]) * float64(x[o+i])
							}
						}
					}
					rt, at = testutil.Tol(n)
					testutil.AssertClose(t, wantD, gd.Slice(), rt, at, "DotsRows ", where)
				}
			}
		}
	})
}

// TestStencilLines checks StencilLines on every ISA against a float64
// reference: lines of q outputs q apart in y (each line running into the
// next) from lines ldxl ≥ q apart in x, as a direct pass writes output
// rows. y is NaN-guarded, and stays NaN past each row's last line and its
// rounding.
func TestStencilLines(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, m := range []int{1, 3, 8, 9, 17} {
			for _, q := range []int{8, 15, 16, 26, 33} {
				for _, lines := range []int{1, 2, 5} {
					for _, taps := range []int{1, 9, 27} {
						ldxl := q + r.IntN(8)
						np := roundUp(q, engine.Slack)
						xrun := (lines-1)*ldxl + np
						x := testutil.Rand(r, xrun+100)
						off := make([]int, taps)
						for i := range off {
							off[i] = r.IntN(len(x) - xrun + 1)
						}
						w, bias := testutil.Rand(r, taps*m), testutil.Rand(r, m)
						where := fmt.Sprintf("m=%d q=%d lines=%d taps=%d ldxl=%d", m, q, lines, taps, ldxl)

						yrun := (lines-1)*q + np
						ldy := yrun + 3
						gy := testutil.NewGuarded((m-1)*ldy+yrun, nil)
						y := gy.Slice()
						for i := range y {
							y[i] = float32(math.NaN())
						}
						driver{}.StencilLines(y, ldy, q, x, ldxl, w, off, q, lines, m, bias)
						gy.Check(t)
						var want []float64
						var got []float32
						for k := range m {
							for j := range lines {
								for i := range q {
									v := float64(bias[k])
									for tt, o := range off {
										v += float64(w[tt*m+k]) * float64(x[o+j*ldxl+i])
									}
									want, got = append(want, v), append(got, y[k*ldy+j*q+i])
								}
							}
							for _, v := range y[k*ldy+yrun : min(len(y), (k+1)*ldy)] {
								require.True(t, math.IsNaN(float64(v)), "StencilLines wrote between rows, %s", where)
							}
						}
						rt, at := testutil.Tol(taps)
						testutil.AssertClose(t, want, got, rt, at, "StencilLines ", where)
					}
				}
			}
		}
	})
}

// TestDotsLines checks DotsLines on every ISA against a float64 reference:
// lines of q floats of a, q apart (no zeros between them), against lines
// ldxl ≥ q apart in x, for q around the vectors of every ISA, so that a
// line ends in a masked vector or a whole one, and for rows and taps around
// the kernels' blocks. d is NaN-guarded.
func TestDotsLines(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(15, 16))
		for _, m := range []int{1, 2, 3, 4, 7} {
			for _, q := range []int{3, 4, 7, 8, 15, 16, 26, 33, 112} {
				for _, lines := range []int{1, 2, 5} {
					for _, taps := range []int{1, 5, 9, 27} {
						ldxl := q + r.IntN(8)
						xrun := (lines-1)*ldxl + q
						x := testutil.Rand(r, xrun+60)
						off := make([]int, taps)
						for i := range off {
							off[i] = r.IntN(len(x) - xrun + 1)
						}
						lda := (lines-1)*q + q + r.IntN(3)
						a := testutil.Rand(r, (m-1)*lda+(lines-1)*q+q)
						where := fmt.Sprintf("m=%d q=%d lines=%d taps=%d ldxl=%d", m, q, lines, taps, ldxl)
						gd := testutil.NewGuarded(m*taps, nil)
						driver{}.DotsLines(gd.Slice(), a, lda, q, m, x, ldxl, off, q, lines)
						gd.Check(t)
						want := make([]float64, m*taps)
						for k := range m {
							for tt, o := range off {
								for j := range lines {
									for i := range q {
										want[k*taps+tt] += float64(a[k*lda+j*q+i]) * float64(x[o+j*ldxl+i])
									}
								}
							}
						}
						rt, at := testutil.Tol(lines * q)
						testutil.AssertClose(t, want, gd.Slice(), rt, at, "DotsLines ", where)
					}
				}
			}
		}
	})
}

// TestStencilRowsPanics checks that both functions refuse operands shorter
// than their contracts before touching memory.
func TestStencilRowsPanics(t *testing.T) {
	const n, m = 20, 3
	np := roundUp(n, engine.Slack)
	x, w, off := make([]float32, np+10), make([]float32, 2*m), []int{0, 10}
	y, bias := make([]float32, 2*np+np), make([]float32, m)
	d := driver{}
	require.NotPanics(t, func() { d.StencilRows(y, np, x, w, off, n, m, bias) })
	require.NotPanics(t, func() { d.StencilRows(y, np, x, w, off, n, m, nil) })
	require.Panics(t, func() { d.StencilRows(y[:3*np-1], np, x, w, off, n, m, bias) })
	require.Panics(t, func() { d.StencilRows(y, np-1, x, w, off, n, m, bias) })
	require.Panics(t, func() { d.StencilRows(y, np, x[:np+9], w, off, n, m, bias) })
	require.Panics(t, func() { d.StencilRows(y, np, x, w[:2*m-1], off, n, m, bias) })
	require.Panics(t, func() { d.StencilRows(y, np, x, w, off, n, m, bias[:m-1]) })
	require.Panics(t, func() { d.StencilRows(y, np, x, w, []int{-1}, n, m, bias) })
	require.Panics(t, func() { d.StencilRows(y, np, x, w, off, n, 0, bias) })
	// Two lines of n, n apart in y and np in x: each row reaches n + np in
	// y and np + np + 10 (off's last) in x.
	yl, xl := make([]float32, 2*(n+np)+n+np), make([]float32, 2*np+10)
	require.NotPanics(t, func() { d.StencilLines(yl, n+np, n, xl, np, w, off, n, 2, m, bias) })
	require.Panics(t, func() { d.StencilLines(yl[:len(yl)-1], n+np, n, xl, np, w, off, n, 2, m, bias) })
	require.Panics(t, func() { d.StencilLines(yl, n+np-1, n, xl, np, w, off, n, 2, m, bias) })
	require.Panics(t, func() { d.StencilLines(yl, n+np, n, xl[:len(xl)-1], np, w, off, n, 2, m, bias) })
	require.Panics(t, func() { d.StencilLines(yl, n+np, n, xl, np, w, off, n, 0, m, bias) })
	require.Panics(t, func() { d.StencilLines(yl, n+np, -1, xl, np, w, off, n, 2, m, bias) })

	a, dd := make([]float32, 3*np), make([]float32, m*len(off))
	require.NotPanics(t, func() { d.DotsRows(dd, a, np, m, x, off, n) })
	require.Panics(t, func() { d.DotsRows(dd[:m*len(off)-1], a, np, m, x, off, n) })
	require.Panics(t, func() { d.DotsRows(dd, a[:3*np-1], np, m, x, off, n) })
	require.Panics(t, func() { d.DotsRows(dd, a, np, m, x[:np+9], off, n) })
	// Two lines of n, n apart in a and np in x: each row of a reaches 2n,
	// x np + n + 10 (off's last).
	al, xl := make([]float32, 2*(2*n)+2*n), make([]float32, np+n+10)
	require.NotPanics(t, func() { d.DotsLines(dd, al, 2*n, n, m, xl, np, off, n, 2) })
	require.Panics(t, func() { d.DotsLines(dd, al[:len(al)-1], 2*n, n, m, xl, np, off, n, 2) })
	require.Panics(t, func() { d.DotsLines(dd, al, 2*n-1, n, m, xl, np, off, n, 2) })
	require.Panics(t, func() { d.DotsLines(dd, al, 2*n, n, m, xl[:len(xl)-1], np, off, n, 2) })
	require.Panics(t, func() { d.DotsLines(dd[:m*len(off)-1], al, 2*n, n, m, xl, np, off, n, 2) })
	require.Panics(t, func() { d.DotsLines(dd, al, 2*n, n, m, xl, np, off, n, 0) })
	a[n] = 1
	require.Panics(t, func() { d.DotsRows(dd, a, np, m, x, off, n) }, "a not zero past n")
}

// rowsShapes are the benchmarks' few-channel layers, as positions on c
// padded planes of h rows of width wp: MNIST's first layer (L8: one
// channel, 3×3 on 28×28, no padding), an RGB stem (three channels, 3×3 on
// 32×32 padded to 34×34), 32 output channels each, and L8's
// backward-data (32 channels of the output gradient, padded by 2, into
// one), where a block is a single row.
var rowsShapes = []struct {
	m, c, h, wp, r, n int
}{
	{m: 32, c: 1, h: 28, wp: 28, r: 3, n: 26 * 28},
	{m: 32, c: 3, h: 34, wp: 34, r: 3, n: 32 * 34},
	{m: 1, c: 32, h: 30, wp: 30, r: 3, n: 28 * 30},
}

// benchRows times, for every ISA and shape, the call that setup returns for
// the shape's m, n, planes x and taps off; it does 2·m·taps·n flops.
func benchRows(b *testing.B, setup func(r *rand.Rand, m, n int, x []float32, off []int) func()) {
	prev := current
	defer func() { current = prev }()
	for _, name := range ISAs() {
		require.NoError(b, SetISA(name))
		for _, s := range rowsShapes {
			var off []int
			for c := range s.c {
				for i := range s.r {
					for j := range s.r {
						off = append(off, c*s.h*s.wp+i*s.wp+j)
					}
				}
			}
			b.Run(fmt.Sprintf("isa=%s/m=%d,taps=%d,n=%d", name, s.m, len(off), s.n), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				call := setup(r, s.m, s.n, testutil.Rand(r, s.c*s.h*s.wp+2*engine.Slack), off)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					call()
				}
				b.ReportMetric(float64(2*s.m*len(off)*s.n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkStencilRows times StencilRows on rowsShapes: one image's forward
// pass.
func BenchmarkStencilRows(b *testing.B) {
	benchRows(b, func(r *rand.Rand, m, n int, x []float32, off []int) func() {
		np := roundUp(n, engine.Slack)
		w, bias, y := testutil.Rand(r, len(off)*m), testutil.Rand(r, m), make([]float32, m*np)
		return func() { driver{}.StencilRows(y, np, x, w, off, n, m, bias) }
	})
}

// BenchmarkDotsRows times DotsRows on rowsShapes: one image's
// backward-filter pass, a the output gradient.
func BenchmarkDotsRows(b *testing.B) {
	benchRows(b, func(r *rand.Rand, m, n int, x []float32, off []int) func() {
		np := roundUp(n, engine.Slack)
		a, d := make([]float32, m*np), make([]float32, m*len(off))
		for k := range m {
			copy(a[k*np:], testutil.Rand(r, n))
		}
		return func() { driver{}.DotsRows(d, a, np, m, x, off, n) }
	})
}
