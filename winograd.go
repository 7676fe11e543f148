package simdconv

import (
	"fmt"

	"github.com/simdconv/simdconv/internal/engine"
)

// Winograd F(4×4, 3×3) (Lavin and Gray, arXiv 1509.09308) computes a 4×4
// tile of a 3×3 correlation from a 6×6 tile of input d as
//
//	Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// at the interpolation points 0, ±1, ±2 and ∞. Package kernels transforms
// the filter and multiplies the 36 transform points' matrices; the
// transforms of the tiles, which touch every activation, run here, a band
// of tiles at a time. A band is one channel's run of tiles side by side:
// tile t reads (or writes) columns 4t… of the band's rows, so neighbouring
// input tiles overlap by two columns. Point p = 6ξ+ν of tile t sits at
// [p·stride + t] of a transformed band.
//
// The ISA kernels do the tiles a vector at a time, so every band function
// reads and writes its buffers up to tiles rounded up to engine.Slack:
// WinogradLanes(tiles) is that count.

// WinogradInput sets dst[p·dstStride + t] = (Bᵀ d B)[ξ][ν] for the 6×6 tile
// d of rows src[i·ld:] at columns 4t…4t+5. src must hold 6 rows of
// engine.WinogradBand(tiles) floats at stride ld, dst 36 rows of
// WinogradLanes(tiles) at stride dstStride.
// WinogradNative reports whether the selected ISA has SIMD band kernels.
func (driver) WinogradNative() bool { return kernelSets[current].winogradIn != noKernel }

func (driver) WinogradInput(dst []float32, dstStride int, src []float32, ld, tiles int) {
	n := checkWinograd("WinogradInput", tiles)
	checkBand("WinogradInput", "src", src, 6, ld, 4*n+4)
	checkBand("WinogradInput", "dst", dst, 36, dstStride, n)
	if kid := kernelSets[current].winogradIn; kid != noKernel && n > 0 {
		callWinogradBand(kid, dst, dstStride, src, ld, n)
		return
	}
	winogradInputGeneric(dst, dstStride, src, ld, tiles)
}

// WinogradOutput writes the 4×4 tiles Aᵀ m A (+ bias, then max(·, 0) if
// relu) of the 6×6 tiles m[p] = src[p·srcStride + t] to rows dst[i·ld:]
// at columns 4t…4t+3. src must hold 36 rows of WinogradLanes(tiles)
// floats at stride srcStride, dst 4 rows of 4·WinogradLanes(tiles) at ld.
func (driver) WinogradOutput(dst []float32, ld int, src []float32, srcStride, tiles int, bias float32, relu bool) {
	n := checkWinograd("WinogradOutput", tiles)
	checkBand("WinogradOutput", "src", src, 36, srcStride, n)
	checkBand("WinogradOutput", "dst", dst, 4, ld, 4*n)
	if kid := kernelSets[current].winogradOut; kid != noKernel && n > 0 {
		callWinogradOut(kid, dst, ld, src, srcStride, n, bias, relu)
		return
	}
	winogradOutputGeneric(dst, ld, src, srcStride, tiles, bias, relu)
}

// WinogradGrad sets dst[p·dstStride + t] = (A e Aᵀ)[ξ][ν] for the 4×4
// tile e of rows src[i·ld:] at columns 4t…4t+3: the transform of an output
// gradient's tile in the filter gradient Gᵀ[(A e Aᵀ) ⊙ (Bᵀ d B)]G. src
// must hold 4 rows of 4·WinogradLanes(tiles) floats at stride ld, dst 36
// rows of WinogradLanes(tiles) at stride dstStride.
func (driver) WinogradGrad(dst []float32, dstStride int, src []float32, ld, tiles int) {
	n := checkWinograd("WinogradGrad", tiles)
	checkBand("WinogradGrad", "src", src, 4, ld, 4*n)
	checkBand("WinogradGrad", "dst", dst, 36, dstStride, n)
	if kid := kernelSets[current].winogradGrad; kid != noKernel && n > 0 {
		callWinogradBand(kid, dst, dstStride, src, ld, n)
		return
	}
	winogradGradGeneric(dst, dstStride, src, ld, tiles)
}

// checkWinograd returns the tiles a band function reads and writes.
func checkWinograd(fn string, tiles int) int {
	if tiles < 0 || tiles > 1<<24 {
		panic(fmt.Sprintf("simdconv: %s: tiles = %d, want 0 to %d", fn, tiles, 1<<24))
	}
	return engine.WinogradLanes(tiles)
}

// checkBand panics unless buf holds rows rows of width floats at stride,
// rows that do not overlap.
func checkBand(fn, name string, buf []float32, rows, stride, width int) {
	if stride < width || !fits(len(buf), rows, stride, width) {
		panic(fmt.Sprintf("simdconv: %s: %d rows of %d floats at stride %d, want them in len(%s) = %d without overlap",
			fn, rows, width, stride, name, len(buf)))
	}
}

func winogradInputGeneric(dst []float32, dstStride int, src []float32, ld, tiles int) {
	var u [6][6]float32 // Bᵀ d, row ξ column j
	for t := range tiles {
		for j := range 6 {
			var d [6]float32
			for i := range d {
				d[i] = src[i*ld+4*t+j]
			}
			c := winogradBT(d)
			for xi := range c {
				u[xi][j] = c[xi]
			}
		}
		for xi := range u {
			c := winogradBT(u[xi])
			for nu, v := range c {
				dst[(6*xi+nu)*dstStride+t] = v
			}
		}
	}
}

func winogradOutputGeneric(dst []float32, ld int, src []float32, srcStride, tiles int, bias float32, relu bool) {
	var u [6][4]float32 // m A, row ξ column j
	for t := range tiles {
		for xi := range u {
			var m [6]float32
			for nu := range m {
				m[nu] = src[(6*xi+nu)*srcStride+t]
			}
			u[xi] = winogradAT(m)
		}
		for j := range 4 {
			var m [6]float32
			for xi := range m {
				m[xi] = u[xi][j]
			}
			o := winogradAT(m)
			for i, v := range o {
				v += bias
				if relu {
					v = max(v, 0)
				}
				dst[i*ld+4*t+j] = v
			}
		}
	}
}

func winogradGradGeneric(dst []float32, dstStride int, src []float32, ld, tiles int) {
	var u [6][4]float32 // A e, row ξ column j
	for t := range tiles {
		for j := range 4 {
			var e [4]float32
			for i := range e {
				e[i] = src[i*ld+4*t+j]
			}
			c := winogradA(e)
			for xi := range c {
				u[xi][j] = c[xi]
			}
		}
		for xi := range u {
			c := winogradA(u[xi])
			for nu, v := range c {
				dst[(6*xi+nu)*dstStride+t] = v
			}
		}
	}
}

// winogradBT is Bᵀ d, factored to 22 additions and multiplications.
func winogradBT(d [6]float32) [6]float32 {
	d13, d24 := d[1]+d[2], d[3]+d[4]
	e13, e24 := d[1]-d[2], d[4]-d[3]
	f42, f31 := d[4]-d[2], 2*(d[3]-d[1])
	return [6]float32{
		4*d[0] - 5*d[2] + d[4],
		d24 - 4*d13,
		e24 + 4*e13,
		f42 + f31,
		f42 - f31,
		4*d[1] - 5*d[3] + d[5],
	}
}

// winogradAT is Aᵀ m.
func winogradAT(m [6]float32) [4]float32 {
	s12, s34 := m[1]+m[2], m[3]+m[4]
	d12, d34 := m[1]-m[2], m[3]-m[4]
	return [4]float32{
		m[0] + s12 + s34,
		d12 + 2*d34,
		s12 + 4*s34,
		d12 + 8*d34 + m[5],
	}
}

// winogradA is A e: the output transform's adjoint.
func winogradA(e [4]float32) [6]float32 {
	s02, s13 := e[0]+e[2], e[1]+e[3]
	t02, t13 := e[0]+4*e[2], 2*e[1]+8*e[3]
	return [6]float32{e[0], s02 + s13, s02 - s13, t02 + t13, t02 - t13, e[3]}
}
