//go:build gc && !purego

package simdconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// sgemmNEONRef is the float64 reference for an neonMR×neonNR sgemm kernel.
func sgemmNEONRef(a, b []float32, c []float64, k, ldc int) {
	for i := 0; i < neonMR; i++ {
		for j := 0; j < neonNR; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += float64(a[p*neonMR+i]) * float64(b[p*neonNR+j])
			}
			c[i*ldc+j] += s
		}
	}
}

func testSgemmKernelNEON(t *testing.T, kernel func(a, b, c []float32, k, ldc int)) {
	const guard = 16 // NaN floats before and after c
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 16, 17, 257} {
		for _, ldc := range []int{neonNR, 15} {
			t.Run(fmt.Sprintf("k=%d/ldc=%d", k, ldc), func(t *testing.T) {
				// Exact-length packed slivers so a read past the end would
				// have to run into other memory; the check is the result.
				a := make([]float32, k*neonMR)
				b := make([]float32, k*neonNR)
				for i := range a {
					a[i] = rng.Float32()*2 - 1
				}
				for i := range b {
					b[i] = rng.Float32()*2 - 1
				}
				n := (neonMR-1)*ldc + neonNR
				buf := make([]float32, guard+n+guard)
				for i := range buf {
					buf[i] = float32(math.NaN())
				}
				c := buf[guard : guard+n : guard+n]
				want := make([]float64, n)
				for i := 0; i < neonMR; i++ {
					for j := 0; j < neonNR; j++ {
						v := rng.Float32()*2 - 1
						c[i*ldc+j] = v
						want[i*ldc+j] = float64(v)
					}
				}
				sgemmNEONRef(a, b, want, k, ldc)

				kernel(a, b, c, k, ldc)

				rtol := 1e-6 * float64(k+1)
				for i := 0; i < neonMR; i++ {
					for j := 0; j < neonNR; j++ {
						got, w := float64(c[i*ldc+j]), want[i*ldc+j]
						// |a|,|b| < 1: bound the error by k+1 terms of size ≤ 1.
						require.InDelta(t, w, got, rtol*math.Max(1, math.Abs(w)),
							"c[%d*ldc+%d]", i, j)
					}
				}
				isNaN := func(where string, i int) {
					require.True(t, math.IsNaN(float64(buf[i])), "%s: buf[%d] = %v was written", where, i, buf[i])
				}
				for i := 0; i < guard; i++ {
					isNaN("before c", i)
					isNaN("after c", guard+n+i)
				}
				for i := 0; i < neonMR-1; i++ {
					for j := neonNR; j < ldc; j++ {
						isNaN("ldc gap", guard+i*ldc+j)
					}
				}
			})
		}
	}
}

func TestSgemm8x12NEON(t *testing.T) {
	require.Equal(t, 8, neonMR)
	require.Equal(t, 12, neonNR)
	testSgemmKernelNEON(t, sgemm8x12NEON)
}

func TestSgemmNEON(t *testing.T) { testSgemmKernelNEON(t, sgemmNEON) }

// TestSgemmNEONExact checks each (i, j) is wired to a[p*8+i] and b[p*12+j]
// exactly, with small integers that sum without rounding.
func TestSgemmNEONExact(t *testing.T) {
	const k, ldc = 6, 13
	a := make([]float32, k*neonMR)
	b := make([]float32, k*neonNR)
	for i := range a {
		a[i] = float32(i%7 - 3)
	}
	for i := range b {
		b[i] = float32(i%5 - 2)
	}
	c := make([]float32, (neonMR-1)*ldc+neonNR)
	want := make([]float64, len(c))
	for i := range c {
		c[i] = float32(i)
		want[i] = float64(i)
	}
	sgemmNEONRef(a, b, want, k, ldc)
	sgemmNEON(a, b, c, k, ldc)
	for i := range c {
		if i%ldc < neonNR {
			require.Equal(t, float32(want[i]), c[i], "c[%d]", i)
		} else {
			require.Equal(t, float32(i), c[i], "gap c[%d] written", i)
		}
	}
}

func TestPeakNEON(t *testing.T) {
	require.Positive(t, neonPeakFlops)
	peakNEON(0)
	peakNEON(-1)
	peakNEON(1000)
}
