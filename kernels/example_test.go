package kernels_test

import (
	"fmt"

	"github.com/simdconv/simdconv/kernels"
)

// The worked example: a 3×3 input, a 2×2 filter and a mean-squared-error
// loss. dL/dW is X correlated with dL/dY; dL/dX is the full convolution of
// dL/dY with W rotated by 180°.
func Example() {
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	w := []float32{1, 0, 0, -1}
	target := []float32{-3, -4, -5, -4}

	conv, err := kernels.NewConv2D(kernels.Conv2DParams{N: 1, C: 1, H: 3, W: 3, K: 1, R: 2, S: 2})
	if err != nil {
		panic(err)
	}
	y := make([]float32, conv.OutH()*conv.OutW())
	if err := conv.Forward(y, x, w, nil); err != nil {
		panic(err)
	}
	// L = mean((y − target)²), so dL/dy = 2(y − target)/4.
	loss, dy := float32(0), make([]float32, len(y))
	for i := range y {
		d := y[i] - target[i]
		loss += d * d / 4
		dy[i] = 2 * d / 4
	}
	dw, dx := make([]float32, len(w)), make([]float32, len(x))
	if err := conv.BackwardFilter(dw, nil, dy, x); err != nil {
		panic(err)
	}
	if err := conv.BackwardData(dx, dy, w); err != nil {
		panic(err)
	}
	fmt.Println("y     ", y)
	fmt.Println("loss  ", loss)
	fmt.Println("dL/dy ", dy)
	fmt.Println("dL/dW ", dw)
	fmt.Println("dL/dX ", dx)
	// Output:
	// y      [-4 -4 -4 -4]
	// loss   0.5
	// dL/dy  [-0.5 0 0.5 0]
	// dL/dW  [1.5 1.5 1.5 1.5]
	// dL/dX  [-0.5 0 0 0.5 0.5 0 0 -0.5 0]
}
