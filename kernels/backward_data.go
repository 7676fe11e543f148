package kernels

import (
	"slices"

	"github.com/simdconv/simdconv/internal/engine"
)

// route is how BackwardData computes dX.
type route uint8

const (
	// routeFull correlates dY with the 180°-rotated, channel-swapped filter
	// (the full convolution), one sub-pixel phase per stride residue.
	routeFull route = iota
	// routeGemm computes dXcol = Wᵀ·dY panel by panel and scatters it with
	// col2im.
	routeGemm
	// routeDirect is routeGemm for a pointwise layer, whose dXcol is dX,
	// or for a subsampled one (planSubsample), whose dXcol is scattered
	// into dX at rows p·sh and columns q·sw, zero elsewhere.
	routeDirect
	// routeStencil is the full convolution of a depthwise stride-1 layer
	// as a stencil (depthwise.go).
	routeStencil
	// routeFew is the full convolution of a layer with few input channels
	// as rows of stencils, per sub-pixel phase (fewchan_data.go).
	routeFew
	// routeDwc is the full convolution of a depthwise layer on interleaved
	// channels (depthwise_dwc.go).
	routeDwc
	// routeIndirect is the full convolution on the indirect kernels, one
	// sub-pixel phase at a time (indirect_data.go).
	routeIndirect
)

// phase is one sub-pixel convolution of the full route: the dX positions
// h0 + i·StrideH, w0 + j·StrideW (i < rows, j < cols) receive only the taps
// r in rTaps and s in sTaps, reading dY at i + offH[·], j + offW[·].
type phase struct {
	h0, rows, w0, cols int
	rTaps, sTaps       []int
	taps               []int // r·S + s for r in rTaps and s in sTaps, in order
	offH, offW         []int
	filt               int // offset of this phase's rearranged filter in callState.filt
	rowsPerPanel       int // rows of one output panel when the stride is above 1
}

// panelTarget is the size, in floats, of an output panel: it stays in L2.
const panelTarget = 1 << 15

// planBackwardData picks the route by estimated cost and sizes its panels.
func (c *Conv2D) planBackwardData() {
	s := &c.s
	if c.dwc != nil && c.dwc.data {
		c.route = routeDwc
		return
	}
	if c.pointwise {
		c.route = routeDirect
		// Its A is the filter transposed, which the direct-A kernels read a
		// cache line per k step for a few floats of it: it counts as packed
		// (results/2026-12-02-amd64-amd-epyc-f26-m2-zoo-14e6a27.md, Z07).
		c.dataT = s.PQ*s.Cg <= maxCopy && transposeGains(s.Cg, s.PQ, s.Kg, engine.TileFit(s.Cg, s.PQ))
		if c.dataT {
			c.panel = max(c.panel, s.PQ*s.Cg)
		}
		return
	}
	if c.subsample { // panels of whole rows of dY
		c.route = routeDirect
		c.chunk = s.Q * min(s.P, max(1, panelTarget/(s.Cg*s.Q)))
		c.panel = max(c.panel, s.Cg*c.chunk)
		return
	}
	if c.stencil != nil && c.stencil.data {
		c.route = routeStencil
		return
	}
	if c.few != nil && c.few.data {
		c.route = routeFew
		return
	}
	_, nr := engine.Tile()
	util := engine.DenseTileFit // A is the filter (fullT aside)
	chunk := min(s.PQ, max(panelTarget/s.CRSg, 8*nr))
	flops := 2 * float64(s.Cg) * float64(s.Kg) * float64(s.RS) * float64(s.PQ)
	// The full route multiplies by the taps that reach each dX position; at
	// stride 1 that includes the zeros around dY.
	fullUtil := util(s.Cg, s.HW/(s.StrideH*s.StrideW))
	c.fullT = s.StrideH == 1 && s.StrideW == 1 && s.HW*s.Cg <= maxCopy && transposeFits(s.Cg, s.HW, s.Kg*s.RS, s.Q)
	if c.fullT {
		fullUtil = engine.TileFit(s.HW, s.Cg)
	}
	full := 2 * float64(s.Cg) * float64(s.Kg) * float64(s.RS) * float64(s.HW) /
		float64(s.StrideH*s.StrideW) / fullUtil
	// Steps bound by memory are costed in flop equivalents: col2im 128
	// per element it adds, the full route's per-call rearrangement of the
	// filter (spread over the N·G images and groups) 150 per element it
	// moves, and packing B as gemmCost: dY for the GEMM route, the full
	// route's im2col of padded dY, taps times positions over its phases.
	// Without the packing, the full route was costed below the indirect
	// one on layers where it ran 1.1–1.3× slower on Zen 5 and on an Intel
	// Xeon (results/, 2026-12-04, indirect-data.md).
	// The GEMM's A is the filter transposed, which the direct-A kernels
	// read in place for every image, a cache line per k step for a few
	// floats of it: it costs as a gather, as phaseFilter's transpose does.
	// Without it the model put L5's GEMM at its tiles' 0.92 of peak, where
	// it ran at 0.36 on an Intel Xeon, and the indirect route at 0.48
	// (results/, 2026-12-04, phase-filter.md).
	gemm := flops/util(s.CRSg, chunk) + 128*float64(s.CRSg)*float64(s.PQ) +
		gemmPeak*(packCost*float64(s.Kg*s.PQ)+gatherCost*float64(s.Kg*s.CRSg))
	full += 150*float64(s.wLen)/float64(s.N*s.Groups) +
		gemmPeak*imPackCost(s.Q, s.Q)*float64(s.Kg*s.RS)*float64(s.HW)/float64(s.StrideH*s.StrideW)
	if s.StrideW > 1 { // ScatterRows writes the phases into dX, as a gather reads
		full += gemmPeak * gatherCost * float64(s.Cg*s.HW)
	}
	// col2im adds rows of a column stride above 1 into the phase planes.
	useGemm := gemm < full && (s.StrideW == 1 || c.split != nil)
	alt := full
	if useGemm {
		alt = gemm
	}
	if p := dataGeometry(s); p != nil && engine.Native() && p.cost(s, p.layoutCost()) < alt/gemmPeak {
		c.route = routeIndirect
		c.indData = c.useIndirect(p)
		return
	}
	if useGemm {
		c.route = routeGemm
		c.chunk = chunk
		c.panel = max(c.panel, s.CRSg*c.chunk)
		return
	}
	c.route = routeFull
	c.planPhases()
}

func (c *Conv2D) planPhases() {
	s := &c.s
	filt := 0
	for a := 0; a < s.StrideH; a++ {
		h0, rows, rTaps, offH := phaseTaps(a, s.H, s.R, s.StrideH, s.DilationH, s.PadTop)
		for b := 0; b < s.StrideW; b++ {
			w0, cols, sTaps, offW := phaseTaps(b, s.W, s.S, s.StrideW, s.DilationW, s.PadLeft)
			if rows == 0 || cols == 0 {
				continue
			}
			ph := phase{h0: h0, rows: rows, w0: w0, cols: cols, rTaps: rTaps, sTaps: sTaps,
				offH: offH, offW: offW, filt: filt}
			for _, r := range rTaps {
				for _, t := range sTaps {
					ph.taps = append(ph.taps, r*s.S+t)
				}
			}
			filt += s.Groups * s.Cg * s.Kg * len(rTaps) * len(sTaps)
			if s.StrideH > 1 || s.StrideW > 1 {
				ph.rowsPerPanel = min(rows, max(1, panelTarget/(s.Cg*cols)))
				c.panel = max(c.panel, s.Cg*cols*ph.rowsPerPanel)
			}
			c.phases = append(c.phases, ph)
		}
	}
	// The phases of one row of the stride take the same panels of rows
	// (planPanels).
	for i := range c.phases {
		for j := range c.phases {
			if c.phases[j].h0 == c.phases[i].h0 {
				c.phases[i].rowsPerPanel = min(c.phases[i].rowsPerPanel, c.phases[j].rowsPerPanel)
			}
		}
	}
	if c.fullT {
		c.panel = max(c.panel, s.HW*s.Cg)
	}
	c.planPanels()
}

// panelItem is a panel of the strided phases [first, last), which share
// their dX rows: rows [i0, i0+rows) of each, and the thread that computes
// them in backwardDataPanels. The phases of one row of the stride go to
// one thread, as ScatterRows may write back the columns between its own.
type panelItem struct{ first, last, i0, rows, part int }

// planPanels lists the panels of the strided phases and deals them to the
// threads, the largest first, each to the least loaded one. They are the
// panels of one thread, so every thread count computes the same products.
func (c *Conv2D) planPanels() {
	s := &c.s
	c.panels = nil
	if c.threads < 2 || s.StrideH == 1 && s.StrideW == 1 {
		return
	}
	var work []int
	for first := 0; first < len(c.phases); {
		last := first + 1
		for last < len(c.phases) && c.phases[last].h0 == c.phases[first].h0 {
			last++
		}
		ph := &c.phases[first]
		for i0 := 0; i0 < ph.rows; i0 += ph.rowsPerPanel {
			it := panelItem{first: first, last: last, i0: i0, rows: min(ph.rowsPerPanel, ph.rows-i0)}
			w := 0
			for _, q := range c.phases[first:last] { // a phase without taps still scatters its zeros
				w += max(1, len(q.taps)) * it.rows * q.cols
			}
			c.panels, work = append(c.panels, it), append(work, w)
		}
		first = last
	}
	order := make([]int, len(c.panels))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return work[b] - work[a] })
	load := make([]int, c.threads)
	for _, i := range order {
		t := slices.Index(load, slices.Min(load))
		c.panels[i].part = t
		load[t] += work[i]
	}
}

// phaseTaps returns, along one axis, the first dX position x0 ≥ 0 with
// (x0 + pad) ≡ a (mod stride), the number of such positions below n, the
// taps t whose t·dil ≡ a (mod stride), and for each the dY offset
// (x0 + pad − t·dil)/stride.
func phaseTaps(a, n, taps, stride, dil, pad int) (x0, count int, ts, off []int) {
	x0 = ((a-pad)%stride + stride) % stride
	if x0 < n {
		count = (n - x0 + stride - 1) / stride
	}
	for t := 0; t < taps; t++ {
		if t*dil%stride == a {
			ts = append(ts, t)
			off = append(off, (x0+pad-t*dil)/stride)
		}
	}
	return x0, count, ts, off
}

// BackwardData computes dx, the gradient of the loss with respect to the
// input: the full convolution of dy with the 180°-rotated filter, channels
// swapped. dx is overwritten. A plan that takes Winograd for it
// (WithAlgorithm) computes it on F(4×4, 3×3).
func (c *Conv2D) BackwardData(dx, dy, w []float32) error {
	s := &c.s
	if err := checkArgs("BackwardData", c.ws,
		arg{name: "dx", x: dx, want: s.xLen, what: "N·C·H·W", out: true},
		arg{name: "dy", x: dy, want: s.yLen, what: "N·K·P·Q"},
		arg{name: "w", x: w, want: s.wLen, what: "K·C/Groups·R·S"}); err != nil {
		return err
	}
	st := c.acquire()
	defer c.release(st)
	if c.wino != nil && c.wino.data {
		st.winoConv(&c.wino.bwd, dx, dy, w, nil, true, false)
		return nil
	}
	if c.route == routeFull {
		if c.parallel() {
			st.rearrange = rearrangeJob{st: st, w: w}
			st.group.Run(c.threads, &st.rearrange)
			st.rearrange = rearrangeJob{}
		} else {
			c.rearrangeFilter(st.filt, w, 0, s.Cg)
		}
	}
	if c.route == routeIndirect {
		st.backwardDataIndirect(dx, dy, w)
		return nil
	}
	if c.route == routeDwc {
		st.dwc = dwcJob{st: st, dst: dx, src: dy, w: w, data: true}
		st.spread(&st.dwc)
		st.dwc = dwcJob{}
		return nil
	}
	if c.route == routeStencil && c.planes() && c.stencil.phases == nil {
		st.planes = planesJob{st: st, pl: &c.stencil.backwardData, dst: dx, src: dy, w: w, data: true}
		st.spread(&st.planes)
		st.planes = planesJob{}
		return nil
	}
	if c.route == routeFew {
		st.backwardDataFew(dx, dy, w)
		return nil
	}
	if c.route == routeFull && c.panels != nil && c.parallel() && s.N*s.Groups < c.threads {
		st.backwardDataPanels(dx, dy)
		return nil
	}
	if c.route == routeGemm && c.parallel() && s.N*s.Groups < c.threads && s.PQ >= minRowChunks*c.threads*c.chunk {
		st.backwardDataRows(dx, dy, w)
		return nil
	}
	st.data = dataJob{st: st, dx: dx, dy: dy, w: w}
	st.spread(&st.data)
	st.data = dataJob{}
	return nil
}

// dataJob is a BackwardData call: dx from dy and w, an item per image and
// group, on the route the plan chose.
type dataJob struct {
	st        *callState
	dx, dy, w []float32
}

func (j *dataJob) Do(part int) { j.st.doPart(j, part) }

func (j *dataJob) items() int { return j.st.c.s.N * j.st.c.s.Groups }

func (j *dataJob) item(wk *worker, wide bool, it int) {
	st, c := j.st, j.st.c
	s, dx, dy, w := &c.s, j.dx, j.dy, j.w
	n, g := it/s.Groups, it%s.Groups
	dxg := dx[(n*s.C+g*s.Cg)*s.HW:][:s.Cg*s.HW]
	dyg := dy[(n*s.K+g*s.Kg)*s.PQ:][:s.Kg*s.PQ]
	wg := w[g*s.Kg*s.CRSg:][:s.Kg*s.CRSg]
	switch c.route {
	case routeStencil:
		c.backwardDataStencil(wk, dxg, dyg, wg)
	case routeDirect:
		if c.subsample {
			st.scatterProduct(wk, wide, wg, dyg, dxg)
			return
		}
		if c.dataT {
			st.pointwiseT(wk, wide, wg, dyg, dxg)
			return
		}
		st.transposedProduct(wk, wide, wg, dyg, dxg, s.PQ)
	case routeGemm:
		acc := dxg
		if c.split != nil {
			acc = wk.xpad[:s.Cg*s.StrideW*s.H*c.split.w]
		}
		clear(acc)
		for j0 := 0; j0 < s.PQ; j0 += c.chunk {
			nc := min(c.chunk, s.PQ-j0)
			st.transposedProduct(wk, wide, wg, dyg[j0:], wk.panel[:s.CRSg*nc], nc)
			st.col2imRows(wide, col2imJob{acc: acc, col: wk.panel[:s.CRSg*nc], j0: j0, cols: nc})
		}
		if c.split != nil {
			st.col2imRows(wide, col2imJob{acc: acc, dx: dxg})
		}
	case routeFull:
		for i := range c.phases {
			st.fullPhase(wk, wide, &c.phases[i], g, dxg, dyg)
		}
	}
}

// transposedProduct sets out (C/G·R·S × cols) = wgᵀ · dy[:, :cols], where
// dy has row stride P·Q.
func (st *callState) transposedProduct(wk *worker, wide bool, wg, dy, out []float32, cols int) {
	s := st.c.s
	wk.denseA = engine.Dense{Data: wg, Stride: s.CRSg, Trans: true}
	wk.g = engine.Gemm{M: s.CRSg, N: cols, K: s.Kg, Alpha: 1, A: &wk.denseA, C: out, Ldc: cols}
	wk.dense = engine.Dense{Data: dy, Stride: s.PQ}
	wk.g.B = &wk.dense
	st.gemm(wk, wide)
}

// pointwiseT is routeDirect for a 1×1 layer computed transposed: dxgᵀ
// (P·Q × C/G) = dygᵀ · wg, into the panel, stored transposed.
func (st *callState) pointwiseT(wk *worker, wide bool, wg, dyg, dxg []float32) {
	s := &st.c.s
	panel := wk.panel[:s.PQ*s.Cg]
	wk.denseA = engine.Dense{Data: dyg, Stride: s.PQ, Trans: true}
	wk.dense = engine.Dense{Data: wg, Stride: s.Cg}
	wk.g = engine.Gemm{M: s.PQ, N: s.Cg, K: s.Kg, Alpha: 1, A: &wk.denseA, B: &wk.dense, C: panel, Ldc: s.Cg}
	st.gemm(wk, wide)
	storeT(dxg, panel, s.Cg, s.PQ, nil, false)
}

// scatterProduct is routeDirect for a subsampled layer: dxg is zero but at
// rows p·sh and columns q·sw, which take wgᵀ · dyg, a panel of rows of dY
// at a time.
func (st *callState) scatterProduct(wk *worker, wide bool, wg, dyg, dxg []float32) {
	c := st.c
	s := &c.s
	clear(dxg)
	for j0 := 0; j0 < s.PQ; j0 += c.chunk {
		nc := min(c.chunk, s.PQ-j0)
		panel := wk.panel[:s.Cg*nc]
		st.transposedProduct(wk, wide, wg, dyg[j0:], panel, nc)
		for ci := range s.Cg {
			engine.ScatterRows(dxg[ci*s.HW+j0/s.Q*s.StrideH*s.W:], panel[ci*nc:], nc/s.Q, s.Q, s.StrideW, s.StrideH*s.W, s.Q)
		}
	}
}

// fullPhase computes one sub-pixel phase of dX for one image and group: a
// correlation of dY with the phase's taps of the rotated filter.
func (st *callState) fullPhase(wk *worker, wide bool, ph *phase, g int, dxg, dyg []float32) {
	c := st.c
	s := &c.s
	st.setFull(wk, ph, g, dyg)
	if ph.rowsPerPanel == 0 { // stride 1: the phase is all of dX
		copy(wk.off, ph.offH)
		wk.im.P = ph.rows
		if c.fullT {
			wk.imT = engine.Im2colT(wk.im)
			st.productT(wk, wide, wk.denseA.Data, s.Cg, wk.g.K, s.HW, dxg, nil, false)
			return
		}
		wk.g.N, wk.g.C, wk.g.Ldc = s.HW, dxg, s.HW
		st.gemm(wk, wide)
		return
	}
	for i0 := 0; i0 < ph.rows; i0 += ph.rowsPerPanel {
		st.fullPanel(wk, wide, ph, dxg, i0, min(ph.rowsPerPanel, ph.rows-i0))
	}
}

// setFull sets the worker's product to phase ph of group g: A the phase's
// rearranged filter, B dY read at the phase's taps.
func (st *callState) setFull(wk *worker, ph *phase, g int, dyg []float32) {
	s := &st.c.s
	kdim := s.Kg * len(ph.taps)
	wk.denseA = engine.Dense{Data: st.filt[ph.filt+g*s.Cg*kdim:][:s.Cg*kdim], Stride: kdim}
	wk.g = engine.Gemm{M: s.Cg, K: kdim, Alpha: 1, A: &wk.denseA}
	wk.im = engine.Im2col{X: dyg, C: s.Kg, H: s.P, W: s.Q, Q: ph.cols,
		StrideH: 1, StrideW: 1, OffH: wk.off[:len(ph.offH)], OffW: ph.offW}
	wk.g.B = &wk.im
}

// fullPanel computes the rows [i0, i0+rows) of a strided phase that setFull
// set up: their product into the worker's panel, scattered into dX's rows
// h0 + i·StrideH.
func (st *callState) fullPanel(wk *worker, wide bool, ph *phase, dxg []float32, i0, rows int) {
	s := &st.c.s
	for i, o := range ph.offH {
		wk.off[i] = o + i0
	}
	n := rows * ph.cols
	wk.im.P = rows
	wk.g.N, wk.g.C, wk.g.Ldc = n, wk.panel[:s.Cg*n], n
	st.gemm(wk, wide)
	for ci := 0; ci < s.Cg; ci++ {
		plane := dxg[ci*s.HW:][:s.HW]
		engine.ScatterRows(plane[(ph.h0+i0*s.StrideH)*s.W+ph.w0:], wk.panel[ci*n:][:n], rows, ph.cols,
			s.StrideW, s.StrideH*s.W, ph.cols)
	}
}

// rearrangeFilter writes into filt, for each phase and group, the rows
// [c0, c1) of the matrix A[c][(k, r, s)] = w[k][c][r][s] over the phase's
// taps, in one pass over w.
func (c *Conv2D) rearrangeFilter(filt, w []float32, c0, c1 int) {
	s := &c.s
	// Blocks of 8 input by 16 output channels: w is read in runs of 8·R·S
	// floats and each row of a phase written in runs of 16·taps, where a
	// plain loop over k or c strides through the whole filter.
	for g := range s.Groups {
		for b0 := c0; b0 < c1; b0 += 8 {
			b1 := min(b0+8, c1)
			for k0 := 0; k0 < s.Kg; k0 += 16 {
				for ci := b0; ci < b1; ci++ {
					for k := k0; k < min(k0+16, s.Kg); k++ {
						tap := w[((g*s.Kg+k)*s.Cg+ci)*s.RS:][:s.RS]
						for i := range c.phases {
							ph := &c.phases[i]
							row := filt[ph.filt+((g*s.Cg+ci)*s.Kg+k)*len(ph.taps):][:len(ph.taps)]
							for j, t := range ph.taps {
								row[j] = tap[t]
							}
						}
					}
				}
			}
		}
	}
}

// rearrangeJob is rearrangeFilter split over the threads by input channel.
type rearrangeJob struct {
	st *callState
	w  []float32
}

func (j *rearrangeJob) Do(t int) {
	c := j.st.c
	c.rearrangeFilter(j.st.filt, j.w, t*c.s.Cg/c.threads, (t+1)*c.s.Cg/c.threads)
}

// col2im adds columns [j0, j0+cols) of a column matrix (rows (c, r, s)) into
// the rows [h0, h1) of dst: dX itself at column stride 1, else its phase
// planes (columnSplit), which mergePhases then interleaves into dX. Either
// way each tap adds contiguous runs, a call of engine.AddRows for the
// whole rows of the chunk and one for each partial row at its ends.
func (c *Conv2D) col2im(dst, col []float32, j0, cols, h0, h1 int) {
	s := &c.s
	w, chanLen, shift, plane := s.W, s.HW, c.offW, []int(nil)
	if c.split != nil {
		w, chanLen, shift, plane = c.split.w, s.StrideW*s.H*c.split.w, c.split.shift, c.split.plane
	}
	sh, row := s.StrideH, 0
	for ci := 0; ci < s.Cg; ci++ {
		for _, oh := range c.offH {
			// Output rows p whose input row p·sh + oh lies in [h0, h1).
			pMin := max(0, ceilDiv(h0-oh, sh))
			pEnd := max(0, floorDiv(h1-1-oh, sh)+1)
			for si, u := range shift {
				src := col[row*cols:][:cols]
				row++
				base := ci * chanLen
				if plane != nil {
					base += plane[si]
				}
				lo, hi := max(0, -u), min(s.Q, w-u) // columns q whose q + u lies inside
				if lo >= hi {
					continue
				}
				p, q := j0/s.Q, j0%s.Q
				for len(src) > 0 {
					if q == 0 && len(src) >= s.Q { // whole rows
						k := len(src) / s.Q
						if pa, pb := max(p, pMin), min(p+k, pEnd); pa < pb {
							engine.AddRows(dst[base+(pa*sh+oh)*w+lo+u:], src[(pa-p)*s.Q+lo:],
								pb-pa, hi-lo, sh*w, s.Q)
						}
						src, p = src[k*s.Q:], p+k
						continue
					}
					run := min(s.Q-q, len(src))
					if qa, qb := max(q, lo), min(q+run, hi); p >= pMin && p < pEnd && qa < qb {
						engine.AddRows(dst[base+(p*sh+oh)*w+qa+u:], src[qa-q:], 1, qb-qa, 0, 0)
					}
					src = src[run:]
					p, q = p+1, 0
				}
			}
		}
	}
}

// mergePhases sets rows [h0, h1) of dx (Cg planes) from its phase planes
// in buf.
func (c *Conv2D) mergePhases(dx, buf []float32, h0, h1 int) {
	s, sp := &c.s, c.split
	plane := s.H * sp.w
	for ci := 0; ci < s.Cg; ci++ {
		for ph := 0; ph < s.StrideW; ph++ {
			src := buf[(ci*s.StrideW+ph)*plane:][:plane]
			for h := h0; h < h1; h++ {
				out := dx[(ci*s.H+h)*s.W:][:s.W]
				for u, v := range src[h*sp.w:][:sp.w] {
					if x := u*s.StrideW + ph; x < s.W {
						out[x] = v
					}
				}
			}
		}
	}
}

// col2imJob is a col2im of a chunk's columns into acc, or, with dx set,
// the merge of acc's phase planes into dx: part t of parts does a band of
// dX's rows.
type col2imJob struct {
	st       *callState
	parts    int
	acc, col []float32
	j0, cols int
	dx       []float32
}

// col2imRows does j over all threads when wide (the product before it was
// spread over them too), else on this one.
func (st *callState) col2imRows(wide bool, j col2imJob) {
	j.st, j.parts = st, 1
	if !wide || st.c.threads == 1 {
		j.Do(0)
		return
	}
	j.parts = st.c.threads
	st.col2im = j
	st.group.Run(j.parts, &st.col2im)
	st.col2im = col2imJob{}
}

func (j *col2imJob) Do(t int) {
	c := j.st.c
	h0, h1 := t*c.s.H/j.parts, (t+1)*c.s.H/j.parts
	if j.dx != nil {
		c.mergePhases(j.dx, j.acc, h0, h1)
		return
	}
	c.col2im(j.acc, j.col, j.j0, j.cols, h0, h1)
}

// minRowChunks is how many column chunks per thread backwardDataRows needs:
// each thread multiplies the chunks at its boundary again, which with few
// chunks is most of them.
// Tests lower it.
var minRowChunks = 8

// backwardDataRows is the GEMM route with the threads splitting the rows of
// dX rather than each product: a thread multiplies the column chunks whose
// outputs reach its rows (the chunks at a boundary are multiplied by both
// threads) and adds them into its rows only. Every dX element gets the same
// contributions in the same order as on one thread.
func (st *callState) backwardDataRows(dx, dy, w []float32) {
	c := st.c
	s := &c.s
	for it := 0; it < s.N*s.Groups; it++ {
		n, g := it/s.Groups, it%s.Groups
		dxg := dx[(n*s.C+g*s.Cg)*s.HW:][:s.Cg*s.HW]
		acc := dxg
		if c.split != nil {
			acc = st.workers[0].xpad[:s.Cg*s.StrideW*s.H*c.split.w]
		}
		clear(acc)
		st.dataRows = dataRowsJob{st: st, dx: dxg, dy: dy[(n*s.K+g*s.Kg)*s.PQ:][:s.Kg*s.PQ],
			w: w[g*s.Kg*s.CRSg:][:s.Kg*s.CRSg], acc: acc}
		st.group.Run(c.threads, &st.dataRows)
	}
	st.dataRows = dataRowsJob{}
}

// dataRowsJob is one image and group of backwardDataRows. Part t computes
// the t-th band of dX's rows.
type dataRowsJob struct {
	st        *callState
	dx, dy, w []float32 // the image and group's dX, dY and filter
	acc       []float32 // where col2im adds: dx, or phase planes at column stride > 1
}

func (j *dataRowsJob) Do(t int) {
	st, c := j.st, j.st.c
	s, wk, dxg, dyg, wg, acc := &c.s, &st.workers[t], j.dx, j.dy, j.w, j.acc
	h0, h1 := t*s.H/c.threads, (t+1)*s.H/c.threads
	if h0 >= h1 {
		return
	}
	ohMin, ohMax := c.offH[0], c.offH[len(c.offH)-1]
	pLo := max(0, ceilDiv(h0-ohMax, s.StrideH))
	pHi := min(s.P, floorDiv(h1-1-ohMin, s.StrideH)+1) // output rows [pLo, pHi) reach the part
	for j0 := pLo * s.Q / c.chunk * c.chunk; j0 < pHi*s.Q; j0 += c.chunk {
		nc := min(c.chunk, s.PQ-j0)
		st.transposedProduct(wk, false, wg, dyg[j0:], wk.panel[:s.CRSg*nc], nc)
		c.col2im(acc, wk.panel[:s.CRSg*nc], j0, nc, h0, h1)
	}
	if c.split != nil {
		c.mergePhases(dxg, acc, h0, h1)
	}
}

// backwardDataPanels is the strided full route on fewer images and groups
// than threads: rather than spread each panel's product over the threads,
// which would each pack all of its filter and leave the others idle during
// its scatter, each thread computes whole panels (planPanels), writing dX
// rows that no other thread writes.
func (st *callState) backwardDataPanels(dx, dy []float32) {
	c := st.c
	s := &c.s
	for it := range s.N * s.Groups {
		n, g := it/s.Groups, it%s.Groups
		st.dataPanels = dataPanelsJob{st: st, g: g, dx: dx[(n*s.C+g*s.Cg)*s.HW:][:s.Cg*s.HW],
			dy: dy[(n*s.K+g*s.Kg)*s.PQ:][:s.Kg*s.PQ]}
		st.group.Run(c.threads, &st.dataPanels)
	}
	st.dataPanels = dataPanelsJob{}
}

// dataPanelsJob is one image and group of backwardDataPanels. Part t
// computes the panels dealt to thread t.
type dataPanelsJob struct {
	st     *callState
	g      int
	dx, dy []float32 // the image and group's dX and dY
}

func (j *dataPanelsJob) Do(t int) {
	st := j.st
	wk := &st.workers[t]
	for _, p := range st.c.panels {
		if p.part != t {
			continue
		}
		for i := p.first; i < p.last; i++ {
			ph := &st.c.phases[i]
			st.setFull(wk, ph, j.g, j.dy)
			st.fullPanel(wk, false, ph, j.dx, p.i0, p.rows)
		}
	}
}

// ceilDiv and floorDiv round a/b (b > 0) up and down, for any sign of a.
func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

func floorDiv(a, b int) int {
	if a < 0 {
		return -((-a + b - 1) / b)
	}
	return a / b
}
