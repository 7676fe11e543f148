package simdconv_test

import (
	"fmt"

	"github.com/simdconv/simdconv"
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C on row-major matrices,
// here a 2×3 times the transpose of a 2×3.
func ExampleSgemm() {
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{ // used transposed: op(B) is 3×2
		1, 0, -1,
		2, 1, 0,
	}
	c := []float32{
		1, 1,
		1, 1,
	}
	simdconv.Sgemm(false, true, 2, 2, 3, 1, a, 3, b, 3, 10, c, 2)
	fmt.Println(c)
	// Output: [8 14 8 23]
}

// SetISA chooses the implementation by name: the pure-Go one here, which
// every build has; an unknown name is an error.
func ExampleSetISA() {
	prev := simdconv.ISA()
	defer simdconv.SetISA(prev)
	err := simdconv.SetISA("generic")
	fmt.Println(simdconv.ISA(), err, simdconv.SetISA("sse9") != nil)
	// Output: generic <nil> true
}
