package kernels

import "fmt"

// Paths names the algorithm that each pass of a plan runs. The plan chooses
// them from the layer's shape and the ISA's register tiles when it is made,
// by cost models, never from a list of known layers. The names are:
//
//	gemm        a product with the column matrix, packed straight from x
//	            (forward: W · im2col(x); backward-filter: dY · im2col(x)ᵀ)
//	gemm-t      a product transposed where that fills the register tile
//	            better (small or odd planes): forward's im2col(x)ᵀ · Wᵀ, a 1×1
//	            layer's backward-data dYᵀ · W
//	gemm-x      a 1×1 layer's product with x, or dY, in place: no column matrix
//	gemm-sub    a strided 1×1 layer's product with x subsampled once
//	gemm-col2im backward-data as Wᵀ · dY, its columns added into dX (col2im)
//	full        backward-data as the full convolution of dY with the rotated
//	            filter, one product per sub-pixel phase of the stride
//	full-t      full, each product transposed
//	shifted     backward-filter as a product with the padded input read at
//	            shifts, no column matrix (an x with a NaN or an infinity takes
//	            gemm instead, as the shifts would spread it)
//	rows        direct row kernels for layers with few input channels:
//	            outputs of a block of channels per shifted load
//	            (backward-filter: as shifted, for an all-finite x)
//	indirect    tiles of output positions × channels, x read in place
//	            through an offset per position and per (channel, tap)
//	            (backward-data: dY with the taps of each sub-pixel phase
//	            of the stride, the phases' outputs interleaved)
//	stencil     depthwise: a stencil per channel over its padded plane, or
//	            over the phase planes of a stride of 2
//	dwc         depthwise: blocks of a vector's lanes of channels,
//	            interleaved a position at a time, a tap a vector
//	winograd    F(4×4, 3×3) (WithAlgorithm)
type Paths struct {
	Forward, BackwardData, BackwardFilter string
}

func (p Paths) String() string {
	return fmt.Sprintf("forward %s, backward-data %s, backward-filter %s", p.Forward, p.BackwardData, p.BackwardFilter)
}

// Paths returns the algorithm of each pass.
func (c *Conv2D) Paths() Paths {
	return Paths{Forward: c.forwardPath(), BackwardData: c.dataPath(), BackwardFilter: c.filterPath()}
}

func (c *Conv2D) forwardPath() string {
	switch {
	case c.wino != nil && c.wino.forward:
		return "winograd"
	case c.few != nil && c.few.forward:
		return "rows"
	case c.ind != nil:
		return "indirect"
	case c.dwc != nil:
		return "dwc"
	case c.stencil != nil:
		return "stencil"
	case c.forwardT:
		return "gemm-t"
	}
	return c.gemmPath()
}

func (c *Conv2D) dataPath() string {
	if c.wino != nil && c.wino.data {
		return "winograd"
	}
	switch c.route {
	case routeStencil:
		return "stencil"
	case routeFew:
		return "rows"
	case routeDwc:
		return "dwc"
	case routeIndirect:
		return "indirect"
	case routeDirect:
		if c.dataT {
			return "gemm-t"
		}
		return c.gemmPath()
	case routeFull:
		if c.fullT {
			return "full-t"
		}
		return "full"
	}
	return "gemm-col2im"
}

func (c *Conv2D) filterPath() string {
	switch {
	case c.wino != nil && c.wino.filter:
		return "winograd"
	case c.few != nil && c.few.filter:
		return "rows"
	case c.indFilter != nil:
		return "indirect"
	case c.dwc != nil:
		return "dwc"
	case c.stencil != nil:
		return "stencil"
	case c.shifted != nil:
		return "shifted"
	case c.filterT:
		return "gemm-t"
	}
	return c.gemmPath()
}

// gemmPath is the product of a pass that multiplies by x's column matrix.
func (c *Conv2D) gemmPath() string {
	switch {
	case c.pointwise:
		return "gemm-x"
	case c.subsample:
		return "gemm-sub"
	}
	return "gemm"
}
