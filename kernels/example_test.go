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

// One training step of a tiny layer: two 4×4 images of two channels, three
// 3×3 filters with padding 1, and the loss L = ½·Σ y², so that dL/dy = y.
// The data are small integers, which keeps every sum exact.
func ExampleConv2D() {
	p := kernels.Conv2DParams{N: 2, C: 2, H: 4, W: 4, K: 3, R: 3, S: 3,
		PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1}
	conv, err := kernels.NewConv2D(p)
	if err != nil {
		panic(err)
	}
	x := make([]float32, p.N*p.C*p.H*p.W)
	for i := range x {
		x[i] = float32(i%5 - 2)
	}
	w := make([]float32, p.K*p.C*p.R*p.S)
	for i := range w {
		w[i] = float32(i%3 - 1)
	}
	bias := []float32{1, 0, -1}

	y := make([]float32, p.N*p.K*conv.OutH()*conv.OutW())
	if err := conv.Forward(y, x, w, bias); err != nil {
		panic(err)
	}
	loss := float32(0)
	for _, v := range y {
		loss += v * v / 2
	}
	dy := y // dL/dy
	dx := make([]float32, len(x))
	if err := conv.BackwardData(dx, dy, w); err != nil {
		panic(err)
	}
	dw, dbias := make([]float32, len(w)), make([]float32, len(bias))
	if err := conv.BackwardFilter(dw, dbias, dy, x); err != nil {
		panic(err)
	}
	// A step of gradient descent.
	const rate = 1.0 / 1024
	for i := range w {
		w[i] -= rate * dw[i]
	}
	for i := range bias {
		bias[i] -= rate * dbias[i]
	}

	fmt.Println("y[:4]  ", y[:4])
	fmt.Println("loss   ", loss)
	fmt.Println("dx[:4] ", dx[:4])
	fmt.Println("dw[:4] ", dw[:4])
	fmt.Println("dbias  ", dbias)
	fmt.Printf("w[:4]   %.4f\n", w[:4])
	fmt.Printf("bias    %.4f\n", bias)
	// Output:
	// y[:4]   [-3 4 9 1]
	// loss    1154
	// dx[:4]  [0 -69 -9 45]
	// dw[:4]  [-80 49 102 -116]
	// dbias   [42 10 -22]
	// w[:4]   [-0.9219 -0.0479 0.9004 -0.8867]
	// bias    [0.9590 -0.0098 -0.9785]
}

// FullConv2D is a true convolution in "full" mode: the filter, flipped, at
// every offset where it overlaps the plane. With powers of ten in the
// filter, each output's digits show the plane values that reached it.
func ExampleFullConv2D() {
	a := []float32{1, 2, 3, 4}
	k := []float32{1, 10, 100, 1000}
	out := make([]float32, 3*3)
	if err := kernels.FullConv2D(out, a, 2, 2, k, 2, 2); err != nil {
		panic(err)
	}
	fmt.Println(out[0:3])
	fmt.Println(out[3:6])
	fmt.Println(out[6:9])
	// Output:
	// [1 12 20]
	// [103 1234 2040]
	// [300 3400 4000]
}

// Correlate2D slides the filter, not flipped, over the plane where it fits
// whole ("valid" mode). With powers of ten in the filter, each output's
// digits, read from the right, are the plane values under the filter.
func ExampleCorrelate2D() {
	a := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	k := []float32{1, 10, 100, 1000}
	out := make([]float32, 2*2)
	if err := kernels.Correlate2D(out, a, 3, 3, k, 2, 2); err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output:
	// [5421 6532 8754 9865]
}

// Paths tells which algorithm each pass of a plan runs: here a depthwise
// layer of MobileNet, whose passes are stencils over each channel's plane.
func ExampleConv2D_Paths() {
	// ResNet-50's 1×1 projection of 256 channels to 64 at 56×56.
	p := kernels.Conv2DParams{N: 1, C: 256, H: 56, W: 56, K: 64, R: 1, S: 1}
	conv, err := kernels.NewConv2D(p)
	if err != nil {
		panic(err)
	}
	fmt.Println(conv.Paths())
	// Output:
	// forward gemm-x, backward-data gemm-x, backward-filter gemm-x
}
