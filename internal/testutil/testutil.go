// Package testutil holds the helpers that the tests of simdconv and kernels
// share: ISA loops, tolerances, guard bands and random data.
package testutil

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// Registry is simdconv's ISA registry, passed in so that this package does
// not import simdconv (whose own tests use it).
type Registry struct {
	ISA    func() string
	ISAs   func() []string
	SetISA func(string) error
}

// ForEachISA runs f as a subtest once per available ISA, with that ISA
// selected, and restores the selection afterwards.
func (r Registry) ForEachISA(t *testing.T, f func(t *testing.T)) {
	prev := r.ISA()
	defer func() { require.NoError(t, r.SetISA(prev)) }()
	for _, name := range r.ISAs() {
		require.NoError(t, r.SetISA(name))
		t.Run("isa="+name, f)
	}
}

// Tol returns the relative and absolute tolerances for float32 results of
// sums of n products of values of magnitude ≤ 1 against a float64 reference:
// the error of a float32 sum grows with its length.
func Tol(n int) (rtol, atol float64) {
	e := 2e-7 * float64(n+4)
	return e, e
}

// AssertClose fails t if any got[i] differs from want[i] by more than
// atol + rtol·|want[i]|, listing the first few bad indices with values.
func AssertClose(t testing.TB, want []float64, got []float32, rtol, atol float64, msg ...any) {
	t.Helper()
	require.Equal(t, len(want), len(got), "length")
	bad := 0
	var report string
	for i := range want {
		d := math.Abs(float64(got[i]) - want[i])
		if !(d <= atol+rtol*math.Abs(want[i])) { // NaN fails too
			if bad < 5 {
				report += fmt.Sprintf("\n  [%d] want %.9g got %.9g (diff %.3g)", i, want[i], got[i], d)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%v: %d of %d values off (rtol %.3g, atol %.3g):%s", fmt.Sprint(msg...), bad, len(want), rtol, atol, report)
	}
}

// Guarded is a slice embedded in a larger buffer whose other floats are NaN
// sentinels, so that writes outside it can be detected.
type Guarded struct {
	buf    []float32
	lo, hi int
}

// guard is the number of sentinel floats on each side.
const guard = 67

// NewGuarded returns n floats (initialised to init, or zero if nil) inside
// NaN guard bands. The slice's capacity reaches into the upper band, so an
// assembly kernel that trusts cap instead of len is caught too.
func NewGuarded(n int, init []float32) *Guarded {
	g := &Guarded{buf: make([]float32, n+2*guard), lo: guard, hi: guard + n}
	for i := range g.buf {
		g.buf[i] = float32(math.NaN())
	}
	s := g.Slice()
	if init != nil {
		copy(s, init)
	} else {
		clear(s)
	}
	return g
}

// Slice is the usable part.
func (g *Guarded) Slice() []float32 { return g.buf[g.lo:g.hi] }

// Check fails t if a sentinel was overwritten.
func (g *Guarded) Check(t testing.TB) {
	t.Helper()
	for i, v := range g.buf {
		if (i < g.lo || i >= g.hi) && !math.IsNaN(float64(v)) {
			t.Fatalf("guard band overwritten at offset %d from the slice start: %v", i-g.lo, v)
		}
	}
}

// Rand returns n uniform values in [-1, 1) from r.
func Rand(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 2*r.Float32() - 1
	}
	return x
}

// F64 widens x.
func F64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
