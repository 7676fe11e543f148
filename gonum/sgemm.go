package simdgonum

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/simdconv/simdconv"
)

// Implementation is gonum's BLAS with Sgemm, Ssyrk and Ssyr2k on simdconv.
// Its zero value is ready to use.
type Implementation struct {
	gonum.Implementation
}

var _ blas.Float32 = Implementation{}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices, where
// op(X) is X for blas.NoTrans and Xᵀ for blas.Trans and blas.ConjTrans, and
// op(A) is m×k, op(B) is k×n and C is m×n.
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if gonumRejects(tA, tB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc) {
		// gonum panics, with the message its users expect.
		impl.Implementation.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	simdconv.Sgemm(tA != blas.NoTrans, tB != blas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gonumRejects reports whether gonum's Sgemm panics on these arguments.
// It makes gonum's checks, which differ from simdconv's where k is zero: a
// non-transposed A must then still hold (m−1)·lda elements.
func gonumRejects(tA, tB blas.Transpose, m, n, k, lenA, lda, lenB, ldb, lenC, ldc int) bool {
	if !validTranspose(tA) || !validTranspose(tB) || m < 0 || n < 0 || k < 0 {
		return true
	}
	aRows, aCols := m, k
	if tA != blas.NoTrans {
		aRows, aCols = k, m
	}
	bRows, bCols := k, n
	if tB != blas.NoTrans {
		bRows, bCols = n, k
	}
	if lda < max(1, aCols) || ldb < max(1, bCols) || ldc < max(1, n) {
		return true
	}
	if m == 0 || n == 0 {
		return false
	}
	return lenA < (aRows-1)*lda+aCols || lenB < (bRows-1)*ldb+bCols || lenC < (m-1)*ldc+n
}

func validTranspose(t blas.Transpose) bool {
	return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans
}

// scale sets C = beta·C, writing zeros when beta is zero so that a NaN in C
// does not survive, as in gonum.
func scale(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
