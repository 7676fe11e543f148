package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Auto's cost model: each pass's time in flop equivalents of the GEMM
// engine, the direct pass against the Winograd one, from the shape alone.

// Costs of the Winograd steps bound by memory or by scalar code, in flop
// equivalents (calibrated in results/winograd-speed.md):
const (
	// winoTransformCost is per transformed point of a tile and channel,
	// the band copies included: the input, output and dY transforms.
	winoTransformCost = 60
	// winoFilterCost is per point of U for each (k, c): the filter's
	// transform in Go, or backward-filter's inverse transform.
	winoFilterCost = 40
	// winoBlockCost is per point of U for each block, whose products read
	// all of U again.
	winoBlockCost = 4
)

// winogradGain is the predicted speed-up of Winograd over the direct pass
// on geometry g: above 1, Winograd is faster.
func winogradGain(g *winoGeom) float64 {
	n, k, c := float64(g.n), float64(g.cout), float64(g.cin)
	direct := 2 * n * k * c * 9 * float64(g.p*g.q) / engine.DenseTileFit(g.cout, g.p*g.q)
	tiles := float64(g.bands() * g.tw)
	u := 36 * k * c
	wino := 2*u*tiles/engine.DenseTileFit(g.cout, g.blockBands*g.tw) +
		winoTransformCost*36*(k+c)*tiles + winoFilterCost*u + winoBlockCost*u*float64(g.blocks())
	return direct / wino
}
