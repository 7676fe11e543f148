package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Auto's cost model: each pass's time in flop equivalents of the GEMM
// engine, the direct pass against the Winograd one, from the shape alone.

// Costs of the Winograd steps bound by memory or by scalar code, in flop
// equivalents of the direct pass's GEMM: least-squares fits to the
// 1-thread times of every pass of the 3×3 stride-1 layers of the layer
// table and the zoo, with the products costed at the direct pass's rate
// (results/winograd-speed.md has the data and the fit). The transforms
// were the generic ones; SIMD transforms change winoTransformCost.
const (
	// winoTransformCost is per point of a tile and channel: the input,
	// output and dY transforms with their band copies.
	winoTransformCost = 840
	// winoFilterCost is per point of U, once a call: the filter's
	// transform in Go, or backward-filter's inverse transform.
	winoFilterCost = 55
	// winoBlockCost is per point of U and block: each block's products
	// read and pack all of U again.
	winoBlockCost = 180
)

// winogradGain is the predicted speed-up of Winograd over the direct pass
// on geometry g: above 1, Winograd is faster. The direct pass costs its
// flops over the share of the register tiles they fill; Winograd its 36
// products per block, which run on the same engine, and the steps above.
func winogradGain(g *winoGeom) float64 {
	n, k, c := float64(g.n), float64(g.cout), float64(g.cin)
	direct := 2 * n * k * c * 9 * float64(g.p*g.q) / engine.DenseTileFit(g.cout, g.p*g.q)
	tiles := float64(g.bands() * g.tw)
	u := 36 * k * c
	wino := 2*u*tiles/engine.DenseTileFit(g.cout, g.blockBands*g.tw) +
		winoTransformCost*36*(k+c)*tiles + winoFilterCost*u + winoBlockCost*u*float64(g.blocks())
	return direct / wino
}
