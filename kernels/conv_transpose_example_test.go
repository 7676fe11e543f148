package kernels_test

import (
	"fmt"

	"github.com/simdconv/simdconv/kernels"
)

// A 2×2 filter at stride 2 upsamples a 2×2 image to 4×4: each input value
// stamps the filter, scaled, on its own 2×2 block, so the powers of ten in
// the filter show which tap wrote which output. The backward passes take
// the output without its bias as dy, so that dx is x·Σw² and dw is w·Σx².
func ExampleConvTranspose2D() {
	up, err := kernels.NewConvTranspose2D(kernels.ConvTranspose2DParams{N: 1, C: 1, H: 2, W: 2, K: 1, R: 2, S: 2,
		StrideH: 2, StrideW: 2})
	if err != nil {
		panic(err)
	}
	x := []float32{1, 2, 3, 4}
	w := []float32{1, 10, 100, 1000}
	bias := []float32{0.5}
	y := make([]float32, up.OutH()*up.OutW())
	if err := up.Forward(y, x, w, bias); err != nil {
		panic(err)
	}
	for i := 0; i < len(y); i += up.OutW() {
		fmt.Println(y[i : i+up.OutW()])
	}

	dy := make([]float32, len(y))
	for i, v := range y {
		dy[i] = v - bias[0]
	}
	dx, dw, dbias := make([]float32, len(x)), make([]float32, len(w)), make([]float32, len(bias))
	if err := up.BackwardData(dx, dy, w); err != nil {
		panic(err)
	}
	if err := up.BackwardFilter(dw, dbias, dy, x); err != nil {
		panic(err)
	}
	fmt.Println("dx   ", dx)
	fmt.Println("dw   ", dw)
	fmt.Println("dbias", dbias)
	// Output:
	// [1.5 10.5 2.5 20.5]
	// [100.5 1000.5 200.5 2000.5]
	// [3.5 30.5 4.5 40.5]
	// [300.5 3000.5 400.5 4000.5]
	// dx    [1.010101e+06 2.020202e+06 3.030303e+06 4.040404e+06]
	// dw    [30 300 3000 30000]
	// dbias [11110]
}
