package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Auto's cost model: each pass's time in flop equivalents of the GEMM
// engine, the direct pass against the Winograd one, from the shape alone.

// Costs of the Winograd steps bound by memory, in flop equivalents of the
// direct pass's GEMM, fitted to the measured gain of every pass of the 3×3
// stride-1 layers of the layer table and the zoo at one thread, with the
// SIMD band transforms and the products costed at the direct pass's rate.
// The least-squares fit (in logarithms) is 36 and 120; of the constants
// within 10 % of its error, these put every measured pass on its measured
// side of 1 (results/winograd-speed.md has the data and the fit).
const (
	// winoTransformCost is per point of a tile lane and channel: the
	// input, output and dY transforms with their strip copies. The band
	// kernels compute whole vectors of tiles (engine.WinogradLanes), so a
	// 16×16 plane's bands of 4 tiles cost what bands of 16 do.
	winoTransformCost = 28
	// winoBlockCost is per point of U and block: each block's products
	// read and pack all of U again, and the filter's transform, once a
	// call, writes it (the fit leaves no separate cost for that).
	winoBlockCost = 120
)

// winogradGain is the predicted speed-up of Winograd over the direct pass
// on geometry g of layer s: above 1, Winograd is faster. Every direct pass
// of s costs its flops over the share of the register tiles that forward's
// product fills (the three run at about the same rate); Winograd costs
// g.cost on the same engine.
//
// The constants hold for the SIMD band transforms: an ISA without them
// (generic) transforms tens of times slower, so there the gain is 0.
func winogradGain(s *shape, g *winoGeom) float64 {
	if !engine.WinogradNative() {
		return 0
	}
	direct := 2 * float64(s.N) * float64(s.K) * float64(s.C) * 9 * float64(s.PQ) / engine.DenseTileFit(s.K, s.PQ)
	return direct / g.cost()
}

// cost is Winograd's time on g: its 36 products per block, spare tiles
// included, and the steps above, whose SIMD band transforms compute whole
// vectors of tiles.
func (g *winoGeom) cost() float64 {
	k, c := float64(g.cout), float64(g.cin)
	bt := g.bandTiles()
	tiles := float64(g.bands() * bt)
	lanes := float64(g.bands() * engine.WinogradLanes(bt))
	if !engine.WinogradNative() { // the generic transforms go a tile at a time
		lanes = tiles
	}
	u := 36 * k * c
	return 2*u*tiles/engine.DenseTileFit(g.cout, g.blockBands*bt) +
		winoTransformCost*36*(k+c)*lanes + winoBlockCost*u*float64(g.blocks())
}
