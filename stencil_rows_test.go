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
					driver{}.StencilRows(y, ldy, x, w, off, n, m, bias)
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

	a, dd := make([]float32, 3*np), make([]float32, m*len(off))
	require.NotPanics(t, func() { d.DotsRows(dd, a, np, m, x, off, n) })
	require.Panics(t, func() { d.DotsRows(dd[:m*len(off)-1], a, np, m, x, off, n) })
	require.Panics(t, func() { d.DotsRows(dd, a[:3*np-1], np, m, x, off, n) })
	require.Panics(t, func() { d.DotsRows(dd, a, np, m, x[:np+9], off, n) })
	a[n] = 1
	require.Panics(t, func() { d.DotsRows(dd, a, np, m, x, off, n) }, "a not zero past n")
}
