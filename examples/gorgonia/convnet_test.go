package main

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/gorgonia"

	"github.com/simdconv/simdconv/gonum"
)

// counting is the drop-in with a count of its Sgemm calls, to show that
// gorgonia's products reach it.
type counting struct {
	simdgonum.Implementation
	calls *int
}

func (c counting) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, cc []float32, ldc int) {
	*c.calls++
	c.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, cc, ldc)
}

// TestDropInAgrees trains two steps on gonum's BLAS and two on the
// drop-in from the same seed: the losses must be finite and agree to
// float32 rounding, the second one after an update from gradients that
// each BLAS computed.
func TestDropInAgrees(t *testing.T) {
	defer gorgonia.Use(gonum.Implementation{})
	gorgonia.Use(gonum.Implementation{})
	want, err := train(8, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	gorgonia.Use(counting{calls: &calls})
	got, err := train(8, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Fatal("gorgonia made no Sgemm call on the drop-in")
	}
	for i, w := range want.losses {
		g := got.losses[i]
		if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) || math.Abs(float64(g-w)) > 1e-4*math.Max(1, math.Abs(float64(w))) {
			t.Errorf("step %d: loss %v on the drop-in, %v on gonum", i, g, w)
		}
	}
	t.Logf("losses %v on gonum, %v on the drop-in, %d Sgemm calls", want.losses, got.losses, calls)
}
