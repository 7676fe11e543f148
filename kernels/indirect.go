package kernels

import "github.com/simdconv/simdconv/internal/engine"

// The indirect route (engine.Indirect): the GEMM of a pass with B read
// straight from a zero-padded copy of its input, never packed. Each output
// position is an offset into the padded planes, each (channel, tap) a
// further offset, so a stride, a dilation or the padding costs nothing;
// a tile of positions × output channels broadcasts one input float per
// position against vectors of the filter, each vector's channels
// interleaved tap by tap (engine.DwcIn's layout). The outputs come out
// channel-interleaved and are written back into planes (engine.DwcOut). It serves the layers whose GEMM packs B for a large
// share of its time: small planes with many channels, where each packed
// float of B meets few rows of the filter, and strided layers, whose
// packing gathers.
//
// Every output is one kernel call's sum, in (channel, tap) order, so the
// result does not depend on the threads.

// filterShare is the share of L2, 1/filterShare, that a call's block of
// the filter takes. Tests raise it to cut small filters into blocks.
var filterShare = 4

// indirectPlan is the geometry of the forward pass on the indirect route.
type indirectPlan struct {
	mr, lanes, nv int   // the kernel's tile: positions, lanes, vectors at a time
	vecs          int   // vectors of Kg channels
	steps         int   // (channel, tap) steps a call: the filter's share of them stays in L2
	hp, wp        int   // the padded planes
	off           []int // per (c, r, s): c·hp·wp + r·dh·wp + s·dw
	pos           []int // per output position p·Q+q: p·sh·wp + q·sw; then repeats of the last to a whole tile
	band, bands   int   // positions an item (a multiple of mr), and items an image and group
	xLen          int   // floats of an image and group's padded planes
}

// planIndirect sets c.ind where the cost model prefers the indirect route
// for the forward pass, on an ISA with its kernel: a layer neither
// depthwise, 1×1 nor on the few-channel route, whose padded input fits
// maxCopy.
func (c *Conv2D) planIndirect() {
	if c.stencil != nil || c.dwc != nil || c.pointwise || c.subsample || c.few != nil && c.few.forward || !engine.Native() {
		return
	}
	if p := c.indirectGeometry(); p != nil && c.indirectGains(p) {
		c.useIndirect(p)
	}
}

// indirectGeometry returns the route's plan for the layer, or nil if the
// ISA has no indirect kernel, or its padded input overflows maxCopy.
func (c *Conv2D) indirectGeometry() *indirectPlan {
	s := &c.s
	mr, lanes, nv := engine.IndirectTile()
	if mr == 0 || engine.DwcLanes(lanes) != lanes {
		return nil
	}
	p := &indirectPlan{mr: mr, lanes: lanes, nv: nv, vecs: ceilDiv(s.Kg, lanes),
		hp: s.H + s.PadTop + s.PadBottom, wp: s.W + s.PadLeft + s.PadRight}
	p.steps = max(1, engine.L2()/filterShare/(4*p.vecs*lanes))
	p.xLen = s.Cg * p.hp * p.wp
	if p.xLen > maxCopy {
		return nil
	}
	return p
}

// useIndirect completes p and takes the indirect route with it.
func (c *Conv2D) useIndirect(p *indirectPlan) {
	s := &c.s
	mr := p.mr
	for ci := range s.Cg {
		for r := range s.R {
			for t := range s.S {
				p.off = append(p.off, (ci*p.hp+r*s.DilationH)*p.wp+t*s.DilationW)
			}
		}
	}
	for i := range roundUp(s.PQ, mr) {
		i = min(i, s.PQ-1)
		p.pos = append(p.pos, i/s.Q*s.StrideH*p.wp+i%s.Q*s.StrideW)
	}
	// Bands keep an item's interleaved outputs in L2 (rowPanel) and give
	// each thread two items at least.
	p.band = roundUp(max(mr, min(s.PQ, rowPanel/(p.vecs*p.lanes))), mr)
	if items := s.N * s.Groups; items < 2*c.threads {
		p.band = min(p.band, roundUp(ceilDiv(s.PQ, ceilDiv(2*c.threads, items)), mr))
	}
	p.bands = ceilDiv(s.PQ, p.band)
	c.ind = p
	c.xpadLen = max(c.xpadLen, p.xLen)
	c.panel = max(c.panel, p.vecs*p.lanes*p.band)
}

// The indirect route's cost model, in fewchan_cost.go's flop equivalents:
//
//   - A tile runs at gemmPeak of the slots that its step takes: mr·nv
//     FMAs, or its loads if more (nv vectors of the filter, the offset and
//     a broadcast per position). A tile does all its vectors before the
//     next, so its positions' lines of x stay in L1 across them.
//   - Each tile's start and end (bias in, outputs out) costs about
//     tileSteps steps.
//   - The outputs are written back into planes, and the filter interleaved
//     once a call, as streams that do not overlap the FMAs: streamCost a
//     float. x is padded at copyCost.
const (
	tileSteps  = 3
	streamCost = 32
)

// indirectGains reports whether the indirect route's forward pass costs
// less than the GEMM's, for one image and group.
func (c *Conv2D) indirectGains(p *indirectPlan) bool {
	s := &c.s
	var slots float64 // FMA-slot equivalents of one step over every block of vectors
	for v := p.vecs; v > 0; v -= p.nv {
		nv := min(v, p.nv)
		slots += max(float64(p.mr*nv), float64(nv+1+p.mr))
	}
	fit := float64(s.Kg*s.PQ) / (slots * float64(p.lanes*roundUp(s.PQ, p.mr)) / float64(p.mr))
	flops := 2 * float64(s.Kg) * float64(s.CRSg) * float64(s.PQ)
	ind := flops/(gemmPeak*fit)*float64(s.CRSg+tileSteps)/float64(s.CRSg) +
		copyCost*float64(p.xLen) + streamCost*float64(s.Kg*s.PQ+s.Kg*s.CRSg/s.N)
	return ind < c.gemmForwardCost()
}

// forwardIndirect is Forward on the indirect route.
func (st *callState) forwardIndirect(y, x, w, bias []float32) {
	c := st.c
	s, p := &c.s, c.ind
	ld := p.vecs * p.lanes
	interleaveFilter(st.filt, w, s.Groups, s.Kg, s.CRSg, p.lanes)
	st.biasPad = st.filt[s.Groups*s.CRSg*ld:][:s.Groups*ld]
	clear(st.biasPad)
	if bias != nil {
		for g := range s.Groups {
			copy(st.biasPad[g*ld:], bias[g*s.Kg:][:s.Kg])
		}
	}
	st.resetPads()
	st.indForward = indirectForwardJob{st: st, y: y, x: x}
	st.spread(&st.indForward)
	st.indForward = indirectForwardJob{}
}

// indirectForwardJob is a Forward call on the indirect route, an item per
// band of an image and group's output positions.
type indirectForwardJob struct {
	st   *callState
	y, x []float32
}

func (j *indirectForwardJob) Do(part int) { j.st.doPart(j, part) }

func (j *indirectForwardJob) items() int {
	s := &j.st.c.s
	return s.N * s.Groups * j.st.c.ind.bands
}

// item computes one band. Its outputs are its own, so it ignores wide.
func (j *indirectForwardJob) item(wk *worker, _ bool, it int) {
	st, c := j.st, j.st.c
	s, p := &c.s, c.ind
	img, b := it/p.bands, it%p.bands
	g := img % s.Groups
	xp := wk.xpad[:p.xLen]
	if wk.xpadImage != img {
		padPlanes(xp, j.x[img*s.Cg*s.HW:][:s.Cg*s.HW], s.Cg, s.H, s.W, s.PadTop, s.PadLeft, p.hp, p.wp)
		wk.xpadImage = img
	}
	i0 := b * p.band
	n := min(p.band, s.PQ-i0)
	pos := p.pos[i0:][:roundUp(n, p.mr)]
	ldy := len(pos) * p.lanes
	lda := s.CRSg * p.lanes // a vector's filter
	filt, bias := st.filt[g*p.vecs*lda:][:p.vecs*lda], st.biasPad[g*p.vecs*p.lanes:][:p.vecs*p.lanes]
	panel := wk.panel[:p.vecs*ldy]
	// Blocks of steps whose filter stays in L2 while the tiles pass over
	// it, each block's sums carried on by the next.
	for t0 := 0; t0 < s.CRSg; t0 += p.steps {
		t1 := min(t0+p.steps, s.CRSg)
		engine.Indirect(panel, ldy, xp, pos, filt[t0*p.lanes:], lda, p.off[t0:t1], p.vecs, bias, t0 > 0, c.relu && t1 == s.CRSg)
	}
	// Output channel g·Kg + k of image n is plane img·Kg + k of y.
	yb := j.y[img*s.Kg*s.PQ:][:s.Kg*s.PQ]
	for v := range p.vecs {
		k0 := v * p.lanes
		unblock(yb[k0*s.PQ+i0:], panel[v*ldy:], min(p.lanes, s.Kg-k0), n, s.PQ, p.lanes)
	}
}

// interleaveFilter writes w (groups × kg × steps) into filt as vectors of
// l output channels, each the channels' weights interleaved step by step:
// filt[((g·⌈kg/l⌉ + v)·steps + t)·l + i] = w[g·kg + v·l + i][t], zero past kg.
func interleaveFilter(filt, w []float32, groups, kg, steps, l int) {
	vecs := ceilDiv(kg, l)
	for g := range groups {
		for v := range vecs {
			dst := filt[(g*vecs+v)*steps*l:][:steps*l]
			src := w[(g*kg+v*l)*steps:]
			if rows := kg - v*l; rows < l {
				clear(dst)
				for i := range rows {
					for t, x := range src[i*steps:][:steps] {
						dst[t*l+i] = x
					}
				}
				continue
			}
			engine.DwcIn(l, dst, src, 1, steps, steps, steps*l, 0, 0)
		}
	}
}

// unblock writes n positions of rows ≤ l channels, interleaved l to a
// position in src, into rows of dst ldd apart: DwcOut where it applies.
func unblock(dst, src []float32, rows, n, ldd, l int) {
	if rows == l && n >= l {
		engine.DwcOut(l, dst, src, n, ldd)
		return
	}
	for k := range rows {
		row := dst[k*ldd:][:n]
		for i := range row {
			row[i] = src[i*l+k]
		}
	}
}
