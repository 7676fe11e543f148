package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Auto's cost model: each pass's time in flop equivalents of the GEMM
// engine, the direct pass against the Winograd one, from the shape alone.

// Costs of the Winograd steps bound by memory, in flop equivalents of the
// direct pass's GEMM: a least-squares fit of the predicted gain to the
// measured one (in logarithms) over every pass of the 3×3 stride-1 layers
// of the layer table and the zoo at one thread, with the SIMD band
// transforms, the products costed at the direct pass's rate
// (results/winograd-speed.md has the data and the fit).
const (
	// winoTransformCost is per point of a tile lane and channel: the
	// input, output and dY transforms with their band copies. The band
	// kernels compute whole vectors of tiles (engine.WinogradLanes), so a
	// 16×16 plane's bands of 4 tiles cost what bands of 16 do.
	winoTransformCost = 20
	// winoBlockCost is per point of U and block: each block's products
	// read and pack all of U again, and the filter's transform, once a
	// call, writes it (the fit leaves no separate cost for that).
	winoBlockCost = 130
)

// winogradGain is the predicted speed-up of Winograd over the direct pass
// on geometry g of layer s: above 1, Winograd is faster. Every direct pass
// of s costs its flops over the share of the register tiles that forward's
// product fills (the three run at about the same rate); Winograd costs its
// 36 products per block, on the same engine, and the steps above.
//
// The constants hold for the SIMD band transforms: an ISA without them
// (generic) transforms tens of times slower, so there the gain is 0.
func winogradGain(s *shape, g *winoGeom) float64 {
	if !engine.WinogradNative() {
		return 0
	}
	direct := 2 * float64(s.N) * float64(s.K) * float64(s.C) * 9 * float64(s.PQ) / engine.DenseTileFit(s.K, s.PQ)
	k, c := float64(g.cout), float64(g.cin)
	tiles := float64(g.bands() * g.tw)
	lanes := float64(g.bands() * engine.WinogradLanes(g.tw))
	u := 36 * k * c
	wino := 2*u*tiles/engine.DenseTileFit(g.cout, g.blockBands*g.tw) +
		winoTransformCost*36*(k+c)*lanes + winoBlockCost*u*float64(g.blocks())
	return direct / wino
}
