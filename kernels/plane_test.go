package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// TestWorkedExample checks the gradients of the 3×3 / 2×2 MSE example
// (see Example) against the textbook operations: dL/dW = Correlate2D(X,
// dL/dY) and dL/dX = FullConv2D(dL/dY, W).
func TestWorkedExample(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	w := []float32{1, 0, 0, -1}
	dy := []float32{-0.5, 0, 0.5, 0}
	registry.ForEachISA(t, func(t *testing.T) {
		dw := make([]float32, 4)
		require.NoError(t, Correlate2D(dw, x, 3, 3, dy, 2, 2))
		require.Equal(t, []float32{1.5, 1.5, 1.5, 1.5}, dw)
		dx := make([]float32, 9)
		require.NoError(t, FullConv2D(dx, dy, 2, 2, w, 2, 2))
		require.Equal(t, []float32{-0.5, 0, 0, 0.5, 0.5, 0, 0, -0.5, 0}, dx)
		c, err := NewConv2D(Conv2DParams{N: 1, C: 1, H: 3, W: 3, K: 1, R: 2, S: 2})
		require.NoError(t, err)
		dx2 := make([]float32, 9)
		require.NoError(t, c.BackwardData(dx2, dy, w))
		require.Equal(t, dx, dx2)
	})
}

func TestPlaneOps(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	registry.ForEachISA(t, func(t *testing.T) {
		for _, sz := range [][4]int{{1, 1, 1, 1}, {5, 7, 2, 3}, {9, 4, 9, 1}, {20, 33, 5, 5}} {
			h, w, kr, ks := sz[0], sz[1], sz[2], sz[3]
			a, k := testutil.Rand(r, h*w), testutil.Rand(r, kr*ks)
			oh, ow := h+kr-1, w+ks-1
			full := testutil.NewGuarded(oh*ow, nil)
			require.NoError(t, FullConv2D(full.Slice(), a, h, w, k, kr, ks))
			full.Check(t)
			want := make([]float64, oh*ow)
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					for u := 0; u < kr; u++ {
						for v := 0; v < ks; v++ {
							if ai, aj := i-u, j-v; ai >= 0 && ai < h && aj >= 0 && aj < w {
								want[i*ow+j] += float64(a[ai*w+aj]) * float64(k[u*ks+v])
							}
						}
					}
				}
			}
			rt, at := testutil.Tol(kr * ks)
			testutil.AssertClose(t, want, full.Slice(), rt, at, "FullConv2D ", sz)

			vh, vw := h-kr+1, w-ks+1
			valid := testutil.NewGuarded(vh*vw, nil)
			require.NoError(t, Correlate2D(valid.Slice(), a, h, w, k, kr, ks))
			valid.Check(t)
			want = make([]float64, vh*vw)
			for i := 0; i < vh; i++ {
				for j := 0; j < vw; j++ {
					for u := 0; u < kr; u++ {
						for v := 0; v < ks; v++ {
							want[i*vw+j] += float64(a[(i+u)*w+j+v]) * float64(k[u*ks+v])
						}
					}
				}
			}
			testutil.AssertClose(t, want, valid.Slice(), rt, at, "Correlate2D ", sz)
		}
	})
}

// TestIm2colCol2im checks Im2col against the definition and Col2im as its
// adjoint: ⟨Im2col(x), c⟩ = ⟨x, Col2im(c)⟩.
func TestIm2colCol2im(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for i, p := range testShapes {
		s, err := p.validate()
		require.NoError(t, err)
		x := testutil.Rand(r, s.xLen)
		n := s.N * s.C * s.RS * s.PQ
		col := testutil.NewGuarded(n, nil)
		require.NoError(t, Im2col(col.Slice(), x, p))
		col.Check(t)
		want := make([]float64, n)
		for b := 0; b < s.N; b++ {
			for c := 0; c < s.C; c++ {
				for r := 0; r < s.R; r++ {
					for u := 0; u < s.S; u++ {
						for pq := 0; pq < s.PQ; pq++ {
							h := pq/s.Q*s.StrideH + r*s.DilationH - s.PadTop
							w := pq%s.Q*s.StrideW + u*s.DilationW - s.PadLeft
							if h >= 0 && h < s.H && w >= 0 && w < s.W {
								want[(((b*s.C+c)*s.R+r)*s.S+u)*s.PQ+pq] = float64(x[((b*s.C+c)*s.H+h)*s.W+w])
							}
						}
					}
				}
			}
		}
		testutil.AssertClose(t, want, col.Slice(), 0, 0, "Im2col shape ", i)

		cv := testutil.Rand(r, n)
		back := testutil.NewGuarded(s.xLen, nil)
		require.NoError(t, Col2im(back.Slice(), cv, p))
		back.Check(t)
		lhs, rhs := 0.0, 0.0
		for j := range cv {
			lhs += want[j] * float64(cv[j])
		}
		for j, v := range back.Slice() {
			rhs += float64(x[j]) * float64(v)
		}
		require.InDelta(t, lhs, rhs, 1e-4*float64(n), "adjoint, shape %d", i)
	}
}
