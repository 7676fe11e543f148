package simdconv

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

var registry = testutil.Registry{ISA: ISA, ISAs: ISAs, SetISA: SetISA}

// TestRequireISA fails unless the ISA named by SIMDCONV_TEST_REQUIRE is the
// one selected, so that a CI leg meant for an ISA cannot silently run
// another (for example generic code under an emulator).
func TestRequireISA(t *testing.T) {
	want := os.Getenv("SIMDCONV_TEST_REQUIRE")
	if want == "" {
		t.Skip("SIMDCONV_TEST_REQUIRE is not set")
	}
	require.Equal(t, want, ISA(), "selected ISA (available: %v)", ISAs())
}

func TestSetISA(t *testing.T) {
	prev := ISA()
	defer func() { require.NoError(t, SetISA(prev)) }()
	require.Error(t, SetISA("sse9"))
	require.Equal(t, prev, ISA(), "a failed SetISA must not change the selection")
	names := ISAs()
	require.Equal(t, "generic", names[len(names)-1])
	for _, n := range names {
		require.NoError(t, SetISA(n))
		require.Equal(t, n, ISA())
	}
	for id, n := range isaNames {
		if !available[id] {
			require.Error(t, SetISA(n), n)
		}
	}
}

// naiveGemm is the float64 reference: alpha·op(A)·op(B) + beta·C.
func naiveGemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			sum := 0.0
			for p := 0; p < k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if tA {
					ai = p*lda + i
				}
				if tB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				sum += float64(av) * float64(bv)
			}
			out[i*ldc+j] = float64(alpha)*sum + float64(beta)*float64(c[i*ldc+j])
		}
	}
	return out
}

// checkSgemm runs one Sgemm against the reference, with NaN guard bands
// around C and in its ldc gaps.
func checkSgemm(t *testing.T, r *rand.Rand, tA, tB bool, m, n, k, pad int, alpha, beta float32) {
	t.Helper()
	lda, ldb, ldc := k+pad, n+pad, n+pad
	ar, br := m, k
	if tA {
		lda, ar = m+pad, k
	}
	if tB {
		ldb, br = k+pad, n
	}
	a := testutil.Rand(r, ar*lda)
	b := testutil.Rand(r, br*ldb)
	c0 := testutil.Rand(r, m*ldc)
	want := naiveGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc)
	gc := testutil.NewGuarded(m*ldc, c0)
	c := gc.Slice()
	for i := 0; i < m; i++ { // the ldc gaps are sentinels too
		for j := n; j < ldc; j++ {
			c[i*ldc+j] = float32(nan)
			want[i*ldc+j] = nan
		}
	}
	Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	gc.Check(t)
	for i := 0; i < m; i++ {
		for j := n; j < ldc; j++ {
			require.True(t, c[i*ldc+j] != c[i*ldc+j], "ldc gap written at %d,%d", i, j)
			c[i*ldc+j], want[i*ldc+j] = 0, 0
		}
	}
	rtol, atol := testutil.Tol(k)
	testutil.AssertClose(t, want, c, rtol, atol, "m=", m, " n=", n, " k=", k, " tA=", tA, " tB=", tB)
}
