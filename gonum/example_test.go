package simdgonum_test

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/simdconv/simdconv/gonum"
)

// One line sends every later blas32 call to the drop-in: Gemm runs on
// simdconv, the rest on gonum.
func Example() {
	blas32.Use(simdgonum.Implementation{})

	a := blas32.General{Rows: 2, Cols: 3, Stride: 3, Data: []float32{
		1, 2, 3,
		4, 5, 6,
	}}
	b := blas32.General{Rows: 3, Cols: 2, Stride: 2, Data: []float32{
		1, 0,
		0, 1,
		1, -1,
	}}
	c := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: make([]float32, 4)}
	blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, c)
	fmt.Println(c.Data)
	// Output: [4 -1 10 -1]
}
