package kernels

import "github.com/simdconv/simdconv/internal/engine"

// The cost model that picks, per pass, the direct route of a layer with
// few input channels (fewchan.go) or the GEMM's. Costs are flop
// equivalents of one image and group at the FMA units' peak, from first
// principles rather than timings of one machine:
//
//   - The GEMM's microkernel runs at gemmPeak of peak (the SGEMM target)
//     on the tiles that hold real rows and columns (engine.TileFit), and
//     each tile adds its C update, about gemmTileSteps rank-1 steps, to a
//     reduction C/G·R·S long: for MNIST's 9 that is a third more. Packing
//     the column matrix costs packCost an element, and more where its
//     rows are short: each run of a row that a sliver gathers (Q floats
//     of an input row, per tap) costs a segment-table entry, masks and a
//     partial vector, about 3.5 cycles, which at 1/8 cycle a float is the
//     packing of segFloats floats.
//   - The row kernels hold a block of rowBlock output rows (channels) of
//     rowVectors vectors each. Each (channel, tap) loads rowVectors vectors
//     of x at a shift, which on 64-byte vectors almost always spans two
//     cache lines (unalignedLoad slots), broadcasts a weight per row and
//     loads the tap's shift, for rowBlock·rowVectors FMAs; with two load
//     and two FMA ports, a block of one or two channels is bound by loads. DotsRows is the same
//     with taps in place of vectors: aligned rows of dY, shifted runs of
//     x. The row kernels peak lower than the GEMM, at rowPeak, since each
//     tap starts a new shifted stream, which the slot count leaves out;
//     and they compute the W'−Q positions past each row too.
//   - Copies (padding, cropping) cost copyCost an element. At a column
//     stride above 1 the input is gathered into phase planes instead
//     (splitPhases), which costs more a float: gatherCost, a cycle (64
//     flop equivalents, the rate packCost assumes), where the kernel's
//     vectors run along the rows; scalarGather, 3 cycles, where a padded
//     phase plane's rows are shorter than a vector and the gather goes a
//     float at a time.
const (
	gemmPeak      = 0.92
	gemmTileSteps = 4
	packCost      = 8
	rowPeak       = 0.8
	// genericRowPeak is stencilFit on the generic kernels, from their
	// instructions per term at one issue rate: StencilRows is a Go loop of
	// 7 a term (loads of x and y, a multiply, an add, a store of y, the
	// index step and the branch), the GEMM's register block of 2×4
	// accumulators 23 per 8 terms (6 loads, 8 multiplies, 8 adds, the
	// step). On Zen 4, LeNet's Z23 forward ran 2.2–2.4 GFLOP/s on the rows
	// against 6 on the GEMM. Their DotsRows sums in a register and keeps
	// rowFit.
	genericRowPeak = gemmPeak * 23 / 8 / 7
	rowBlock       = 4
	rowVectors     = 4
	unalignedLoad  = 2
	copyCost       = 4
	segFloats      = 28
	col2imCost     = 128 // an element added by col2im, as planBackwardData
	gatherCost     = 64
	scalarGather   = 192
)

// fewCost is each pass's cost on both routes.
type fewCost struct {
	forward, gemmForward float64
	data, gemmData       float64
	filter, gemmFilter   float64
}

// rowFit is the share of peak that the row kernels reach with m rows:
// blocks of up to rowBlock rows, each taking the longer of its FMAs and
// its loads.
func rowFit(m int) float64 {
	var useful, slots float64
	for b := min(m, rowBlock); m > 0; b = min(m, rowBlock) {
		fma, loads := float64(b*rowVectors), float64(unalignedLoad*rowVectors+b+1)
		useful, slots = useful+fma, slots+max(fma, loads)
		m -= b
	}
	return rowPeak * useful / slots
}

// stencilFit is rowFit for StencilRows, the forward and backward-data row
// kernels.
func stencilFit(m int) float64 {
	if !engine.Native() {
		return genericRowPeak
	}
	return rowFit(m)
}

// gemmCost is an m×n product of reduction k whose B (k×n) is packed from
// an im2col of rows q floats wide.
func gemmCost(m, n, k, q int, fit float64) float64 {
	flops := 2 * float64(m) * float64(n) * float64(k)
	pack := imPackCost(q, q)
	return flops/(gemmPeak*fit)*float64(k+gemmTileSteps)/float64(k) + pack*float64(k)*float64(n)
}

// gemmForwardCost is the GEMM's forward pass: its product, and at a
// column stride above 1 the split of x into phase planes.
func (c *Conv2D) gemmForwardCost() float64 {
	s := &c.s
	return gemmCost(s.Kg, s.PQ, s.CRSg, s.Q, engine.DenseTileFit(s.Kg, s.PQ)) +
		splitCost(s.StrideW, engine.Slack)*float64(s.Cg*s.HW)
}

// fewCosts estimates each pass, with d backward-data's geometry.
func (c *Conv2D) fewCosts(d *fewData) fewCost {
	s := &c.s
	_, wp := phasePlanes(s)
	flops := 2 * float64(s.Kg) * float64(s.CRSg)
	var f fewCost
	// Forward: the direct route gathers x into padded phase planes W'
	// wide; the GEMM's split has no padding, so its short rows run on as
	// one.
	f.forward = c.fewForwardCost(false)
	if linesFit(s) {
		f.forward = min(f.forward, c.fewForwardCost(true))
	}
	f.gemmForward = c.gemmForwardCost()
	// Backward-data: per phase, Cg rows over its rows of Wd positions of
	// padded dY. The full route is the same products through the GEMM
	// (at stride 1 possibly transposed), an average phase's times their
	// number; the GEMM route adds its column matrix with col2im.
	for _, ph := range d.phases {
		f.data += 2 * float64(s.Kg*len(ph.taps)*s.Cg*ph.rows*d.wd) / stencilFit(s.Cg)
	}
	// dX's rows come back from the panel as copies at column stride 1,
	// else a float at a time (fewchan_data.go).
	back := float64(copyCost)
	if s.StrideW > 1 {
		back = scalarGather
	}
	f.data += copyCost*float64(s.Kg*d.plane) + back*float64(s.Cg*s.HW)
	ph := len(d.phases)
	pn, pk := max(1, s.HW/ph), max(1, s.Kg*s.RS/ph)
	full := float64(ph) * gemmCost(s.Cg, pn, pk, s.Q, max(engine.DenseTileFit(s.Cg, pn), engine.TileFit(pn, s.Cg)))
	col2im := flops*float64(s.PQ)/(gemmPeak*engine.DenseTileFit(s.CRSg, s.PQ)) + col2imCost*float64(s.CRSg*s.PQ)
	f.gemmData = min(full, col2im)
	// Backward-filter: dot products of Kg rows of dY against Cg·R·S
	// shifts (fewFilterCost); the Shifted form multiplies P·W' positions
	// with dW's Kg × Cg·R·S as the tiles, after packing both operands.
	f.filter = c.fewFilterCost(false)
	if filterLinesFit(s) && s.Cg <= fewChannels {
		f.filter = min(f.filter, c.fewFilterCost(true))
	}
	f.gemmFilter = flops*float64(s.P*wp)/(gemmPeak*engine.TileFit(s.Kg, s.CRSg)) +
		packCost*float64((s.Kg+s.CRSg)*s.P*wp)
	return f
}

// linesFit reports whether forward's output rows can go straight into y
// (fewPlan.lines): a row rounded up to Slack reaches at most into the
// next.
func linesFit(s *shape) bool { return roundUpSlack(s.Q) <= 2*s.Q }

// fewForwardCost is the direct route's forward pass, its rows written
// straight into y (lines) or through a panel, Kg rows over P·W' positions
// cropped into y's rows as a stream (the indirect route's streamCost).
// Lines compute Q positions a row rounded up to Slack, and crop a band's
// last row only.
func (c *Conv2D) fewForwardCost(lines bool) float64 {
	s := &c.s
	hs, wp := phasePlanes(s)
	planes := s.Cg * s.StrideH * s.StrideW * hs * wp
	flops := 2 * float64(s.Kg) * float64(s.CRSg)
	pad := copyCost*float64(planes) + splitCost(s.StrideW, wp)*float64(s.Cg*s.HW)
	if !lines {
		return flops*float64(s.P*wp)/stencilFit(s.Kg) + streamCost*float64(s.Kg*s.PQ) + pad
	}
	_, n := c.linesBands()
	return flops*float64(s.P*roundUpSlack(s.Q))/stencilFit(s.Kg) + streamCost*float64(s.Kg*s.Q*n) + pad
}

// filterLinesFit reports whether backward-filter's dot products can read
// dY's rows in place (fewPlan.filterLines): the kernel's last vector of a
// row ends with the row, so a row of Q must fill one, or be whole vectors.
func filterLinesFit(s *shape) bool {
	l := engine.RowsLanes()
	return l > 0 && (s.Q >= l || s.Q%l == 0)
}

// fewFilterCost is the direct route's backward-filter pass: dot products
// over dY's rows read in place (lines), a row's vectors rounded up, or
// over P·W' positions of dY copied into rows W' wide with zeros past Q.
func (c *Conv2D) fewFilterCost(lines bool) float64 {
	s := &c.s
	hs, wp := phasePlanes(s)
	planes := s.Cg * s.StrideH * s.StrideW * hs * wp
	flops := 2 * float64(s.Kg) * float64(s.CRSg)
	if lines {
		return flops*float64(s.P*roundUp(s.Q, engine.RowsLanes()))/rowFit(s.Kg) + copyCost*float64(planes)
	}
	return flops*float64(s.P*wp)/rowFit(s.Kg) + copyCost*float64(planes+s.Kg*s.P*wp)
}

// fewFilterLines reports whether backward-filter on the direct route reads
// dY's rows in place: where it fits, and the copy it saves, a stream
// (streamCost a float, as forward's crop), outweighs the rows' rounding.
func (c *Conv2D) fewFilterLines() bool {
	s := &c.s
	_, wp := phasePlanes(s)
	return filterLinesFit(s) &&
		c.fewFilterCost(true) < c.fewFilterCost(false)+(streamCost-copyCost)*float64(s.Kg*s.P*wp)
}

// fewChannels bounds the input channels a group for which reading dY in
// place lowers the direct route's backward-filter cost against the other
// routes. rowFit was fitted on the layers the route is for (1–16 channels);
// at 32–256 (L10, Z26, Z29 on AVX2) the route ran at 0.2–0.8 of the
// Shifted or indirect one that the model ranked below it, as each block of
// dY's rows re-reads the band's many shifted runs of x.
const fewChannels = 16

// splitCost is the cost of gathering a float of x into phase planes of
// column stride sw whose rows are w floats wide: none at stride 1, where
// the planes are copies (costed as such).
func splitCost(sw, w int) float64 {
	switch {
	case sw == 1:
		return 0
	case w < engine.Slack:
		return scalarGather
	}
	return gatherCost
}
