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

func (driver) Stencil(y, x, w []float32, off []int, n int, bias float32) {
	stencil(y, x, w, off, n, bias)
}

func (driver) ShiftedDots(d, a, x []float32, off []int, n int) { shiftedDots(d, a, x, off, n) }

func (driver) CopyRows(dst, src []float32, rows, n, lo, hi, dstStride, srcStride int) {
	copyRows(dst, src, rows, n, lo, hi, dstStride, srcStride)
}

func (driver) AddRows(dst, src []float32, rows, n, dstStride, srcStride int) {
	addRows(dst, src, rows, n, dstStride, srcStride)
}
