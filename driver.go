package simdconv

import "github.com/simdconv/simdconv/internal/engine"

// driver runs the products and helpers that internal/engine describes, for
// package kernels; it is installed there when this package is initialised.
type driver struct{}

func init() { engine.Install(driver{}) }

func (driver) RunBlock(g *engine.Gemm, ws []float32, i0, i1, j0, j1 int) {
	(*gemm)(g).runBlock(ws, i0, i1, j0, j1)
}

func (driver) NewRunner() engine.Runner                   { return new(runner) }
func (driver) Im2colRows(m *engine.Im2col, dst []float32) { (*im2col)(m).rows(dst) }
func (driver) Workspace(m, n, k int) int                  { return gemmWorkspace(m, n, k) }
func (driver) Tile() (mr, nr int)                         { return mainTile(current) }
func (driver) TileFit(m, n int) float64                   { return tileFit(m, n) }
func (driver) DenseTileFit(m, n int) float64              { return denseTileFit(m, n) }

// CopyRows is packRows on the selected ISA: rows copied between strides,
// zero-padded on either side (a plane into a padded one, or back).
func (driver) CopyRows(dst, src []float32, rows, n, lo, hi, dstStride, srcStride int) {
	packRows(current, dst, src, rows, n, lo, hi, dstStride, srcStride)
}
