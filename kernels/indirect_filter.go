package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Backward-filter on the indirect route: dWᵀ as tiles of (channel, tap)
// pairs × vectors of output channels. Each pair is a pointer into the
// padded planes of x, each output position of each image a step, and the
// filter's place is taken by dY, interleaved a vector of channels per
// position: dW[k][c,r,s] = Σ_{n,p,q} dY[n][k][p,q]·xpad[n][c][p·sh + r·dh][q·sw + s·dw].
// The steps come in blocks of f.steps, whose dY stays in L2. Where the
// pairs make few tiles (stems: 27 pairs of C=3), the blocks are dealt out
// in chunks, an item per band and chunk that chains its blocks' FMAs into
// a partial panel, and a band's partials are then added in chunk order.
// Every entry of dW is thus the same sum of the same chains whatever the
// threads, which split bands and chunks: blocks and chunks depend on the
// shape and the caches, not on the threads.

// indirectFilterPlan is the geometry of backward-filter on the indirect
// route: the forward pass's padded planes, with its tables swapped.
type indirectFilterPlan struct {
	*indirectPlan       // forward's geometry: hp, wp, xLen, its tables
	taps          []int // the kernel's positions: forward's off, then repeats of the last to a whole tile
	outs          []int // the kernel's steps, per image and output position: n·xLen + forward's pos
	band, bands   int   // pairs an item (a multiple of mr), and bands a group
	blocks        int   // blocks of steps
	chunks        int   // runs of blocks, each summed on its own
	lda           int   // floats of dY a vector of channels: N·P·Q·lanes
	ident         []int // the places of a band's pairs: in order
}

// planIndirectFilter sets c.indFilter where the cost model prefers the
// indirect route for backward-filter over the Shifted form or the GEMM
// that the plan has, for a layer that neither stencil, few-channel route
// nor 1×1 product serves, whose copies fit maxCopy.
func (c *Conv2D) planIndirectFilter() {
	s := &c.s
	if c.stencil != nil || c.dwc != nil || c.pointwise || c.subsample || c.few != nil && c.few.filter || !engine.Native() {
		return
	}
	p := indirectGeometry(forwardConv(s))
	if p == nil || s.N*p.xLen+p.vecs*p.lanes*s.N*s.PQ > maxCopy {
		return
	}
	if p.filterCost(s) < c.directFilterCost() {
		c.useIndirectFilter(p)
	}
}

// useIndirectFilter takes the indirect route for backward-filter with
// forward's geometry p.
func (c *Conv2D) useIndirectFilter(p *indirectPlan) {
	s := &c.s
	f := &indirectFilterPlan{indirectPlan: p.tables()}
	for i := range roundUp(s.CRSg, p.mr) {
		f.taps = append(f.taps, p.off[min(i, s.CRSg-1)])
	}
	for n := range s.N {
		for _, o := range p.pos[:s.PQ] {
			f.outs = append(f.outs, n*p.xLen+o)
		}
	}
	f.lda = s.N * s.PQ * p.lanes
	f.blocks = ceilDiv(len(f.outs), f.steps)
	f.chunks = min(f.blocks, ceilDiv(filterItems, ceilDiv(s.CRSg, p.mr)))
	f.band = balancedBand(s.CRSg, p.mr, rowPanel/(p.vecs*p.lanes), c.threads, f.chunks)
	f.bands = ceilDiv(s.CRSg, f.band)
	f.ident = identity(f.band)
	c.indFilter = f
	c.panel = max(c.panel, p.vecs*p.lanes*f.band)
	c.indLen = s.N*p.xLen + p.vecs*f.lda + p.vecs*p.lanes + f.bands*f.chunks*f.partLen()
}

// balancedBand returns the band, a multiple of mr of at most most units
// (at least mr), for n units cut into bands of per items each (chunks),
// whose items go to the threads in contiguous runs (doPart), that leaves
// the busiest thread the fewest tiles; of bands that tie, the widest, as
// each band reads all of dY. Half a band a thread had dealt L1's 25 tiles
// of pairs out 14 to 11 at 2 threads; one band a thread deals them 13 to
// 12.
func balancedBand(n, mr, most, threads, per int) int {
	tiles := ceilDiv(n, mr)
	best, least := mr, per*tiles+1
	for bt := min(tiles, max(1, most/mr)); bt >= 1; bt-- {
		items, busiest := per*ceilDiv(tiles, bt), 0
		for t := range threads {
			load := 0
			for it := t * items / threads; it < (t+1)*items/threads; it++ {
				load += min(bt, tiles-it/per*bt)
			}
			busiest = max(busiest, load)
		}
		if busiest < least {
			best, least = bt*mr, busiest
		}
	}
	return best
}

// filterItems is the tiles times chunks that backward-filter's indirect
// route makes at least, where it has the blocks: two items for each of 8
// threads.
const filterItems = 16

// partLen is the floats of a partial panel: a band's pairs, its vectors.
func (f *indirectFilterPlan) partLen() int { return f.vecs * f.band * f.lanes }

// filterCost is backward-filter's cost on the indirect route for one
// image and group: tiles of mr pairs over P·Q steps, as the forward
// route's, x padded and dY interleaved at copyCost, and dW written back
// once a call.
func (p *indirectPlan) filterCost(s *shape) float64 {
	flops := 2 * float64(s.Kg) * float64(s.CRSg) * float64(s.PQ)
	return flops/(gemmPeak*p.fit(s.Kg, s.CRSg)) + copyCost*float64(p.xLen+s.Kg*s.PQ) + streamCost*float64(s.Kg*s.CRSg)/float64(s.N)
}

// directFilterCost is backward-filter's cost for one image and group on
// the route the plan has without the indirect one: the Shifted form, dY
// times x's padded planes at P·W' positions with both operands packed, or
// the GEMM, dY times the packed column matrix.
func (c *Conv2D) directFilterCost() float64 {
	s := &c.s
	flops := 2 * float64(s.Kg) * float64(s.CRSg) * float64(s.PQ)
	if c.shifted != nil {
		wide := float64(s.P*c.wpad) / float64(s.PQ)
		return flops*wide/(gemmPeak*engine.TileFit(s.Kg, s.CRSg)) + packCost*float64((s.Kg+s.CRSg)*s.P*c.wpad)
	}
	return gemmCost(s.Kg, s.CRSg, s.PQ, s.Q, engine.TileFit(s.Kg, s.CRSg))
}

// backwardFilterIndirect is BackwardFilter on the indirect route, a group
// at a time: the threads pad x's images and interleave dY's, compute each
// band's partial panels and add them up into dW.
func (st *callState) backwardFilterIndirect(dw, dy, x []float32) {
	c := st.c
	s, f := &c.s, c.indFilter
	clear(st.ind[s.N*f.xLen+f.vecs*f.lda:][:f.vecs*f.lanes])
	for g := range s.Groups {
		st.indFilter = indirectFilterJob{st: st, dw: dw, dy: dy, x: x, g: g}
		for stage := range filterSum + 1 {
			if stage == filterSum && f.chunks == 1 { // the parts wrote dW
				break
			}
			st.indFilter.stage = stage
			st.spread(&st.indFilter)
		}
	}
	st.indFilter = indirectFilterJob{}
}

// A filterStage is one of a group's spreads on the indirect route.
type filterStage int

const (
	filterPrep  filterStage = iota // an item per part of an image: x padded, dY interleaved
	filterParts                    // an item per band and chunk of blocks: a partial panel, or dW's with one chunk
	filterSum                      // an item per band: its partials added into dW
)

// indirectFilterJob is one group of a BackwardFilter call on the indirect
// route, at one of its stages.
type indirectFilterJob struct {
	st        *callState
	dw, dy, x []float32
	g         int
	stage     filterStage
}

func (j *indirectFilterJob) Do(part int) { j.st.doPart(j, part) }

func (j *indirectFilterJob) items() int {
	f := j.st.c.indFilter
	switch j.stage {
	case filterPrep:
		return j.st.c.s.N * j.prepParts()
	case filterParts:
		return f.bands * f.chunks
	}
	return f.bands
}

// prepParts is the parts an image's prep is cut into: one, or enough for
// every thread where the images are fewer (at batch 1 the prep ran on one
// thread, a third of Z08's pass).
func (j *indirectFilterJob) prepParts() int { return ceilDiv(j.st.c.threads, j.st.c.s.N) }

// item does one part of an image, block of a band or band. Its outputs
// are its own, so it ignores wide.
func (j *indirectFilterJob) item(wk *worker, _ bool, it int) {
	st, c := j.st, j.st.c
	s, f := &c.s, c.indFilter
	xall := st.ind[:s.N*f.xLen]
	a := st.ind[len(xall):][:f.vecs*f.lda]
	parts := st.ind[len(xall)+len(a)+f.vecs*f.lanes:][:f.bands*f.chunks*f.partLen()]
	switch j.stage {
	case filterPrep:
		np := j.prepParts()
		n, part := it/np, it%np
		c0, c1 := part*s.Cg/np, (part+1)*s.Cg/np
		q0, q1 := part*s.PQ/np, (part+1)*s.PQ/np
		padPlanes(xall[n*f.xLen+c0*f.hp*f.wp:], j.x[(n*s.C+j.g*s.Cg+c0)*s.HW:][:(c1-c0)*s.HW], c1-c0, s.H, s.W, s.PadTop, s.PadLeft, f.hp, f.wp)
		dyn := j.dy[(n*s.K+j.g*s.Kg)*s.PQ:][:s.Kg*s.PQ]
		for v := range f.vecs {
			block(a[v*f.lda+(n*s.PQ+q0)*f.lanes:][:(q1-q0)*f.lanes], dyn[v*f.lanes*s.PQ+q0:], min(f.lanes, s.Kg-v*f.lanes), q1-q0, s.PQ, f.lanes)
		}
	case filterParts:
		b, k := it/f.chunks, it%f.chunks
		if f.chunks > 1 {
			j.chain(parts[it*f.partLen():][:f.partLen()], b, k*f.blocks/f.chunks, (k+1)*f.blocks/f.chunks, false)
			return
		}
		panel := j.panel(wk, b)
		j.chain(panel, b, 0, f.blocks, c.accumulate)
		j.store(panel, b)
	case filterSum:
		panel := j.panel(wk, it)
		for k := range f.chunks {
			for i, v := range parts[(it*f.chunks+k)*f.partLen():][:len(panel)] {
				panel[i] += v
			}
		}
		j.store(panel, it)
	}
}

// chain runs blocks [k0, k1) of the steps on band b's pairs into panel,
// carrying on from its sums if add.
func (j *indirectFilterJob) chain(panel []float32, b, k0, k1 int, add bool) {
	st, c := j.st, j.st.c
	s, f := &c.s, c.indFilter
	xall := st.ind[:s.N*f.xLen]
	a := st.ind[len(xall):][:f.vecs*f.lda]
	zeros := st.ind[len(xall)+len(a):][:f.vecs*f.lanes]
	i0 := b * f.band
	taps := f.taps[i0:][:roundUp(min(f.band, s.CRSg-i0), f.mr)]
	for k := k0; k < k1; k++ {
		t0, t1 := k*f.steps, min((k+1)*f.steps, len(f.outs))
		engine.Indirect(panel, len(taps)*f.lanes, f.ident[:len(taps)], xall, taps, a[t0*f.lanes:], f.lda, f.outs[t0:t1], f.vecs, zeros, add || k > k0, false)
	}
}

// panel is the worker's panel for band b: zeros or, with WithAccumulate,
// dW's values.
func (j *indirectFilterJob) panel(wk *worker, b int) []float32 {
	c := j.st.c
	s, f := &c.s, c.indFilter
	i0 := b * f.band
	n := min(f.band, s.CRSg-i0)
	ldy := roundUp(n, f.mr) * f.lanes
	panel := wk.panel[:f.vecs*ldy]
	clear(panel)
	if c.accumulate {
		dwg := j.dw[j.g*s.Kg*s.CRSg:][:s.Kg*s.CRSg]
		for v := range f.vecs {
			block(panel[v*ldy:][:n*f.lanes], dwg[v*f.lanes*s.CRSg+i0:], min(f.lanes, s.Kg-v*f.lanes), n, s.CRSg, f.lanes)
		}
	}
	return panel
}

// store writes band b's panel into dW.
func (j *indirectFilterJob) store(panel []float32, b int) {
	c := j.st.c
	s, f := &c.s, c.indFilter
	i0 := b * f.band
	n := min(f.band, s.CRSg-i0)
	ldy := len(panel) / f.vecs
	dwg := j.dw[j.g*s.Kg*s.CRSg:][:s.Kg*s.CRSg]
	for v := range f.vecs {
		k0 := v * f.lanes
		unblock(dwg[k0*s.CRSg+i0:], panel[v*ldy:], min(f.lanes, s.Kg-k0), n, s.CRSg, f.lanes)
	}
}

// block is unblock's inverse: it interleaves n positions of rows ≤ l
// rows of src, ldd apart, into dst, l floats a position, zero past rows.
func block(dst, src []float32, rows, n, lds, l int) {
	if rows == l {
		engine.DwcIn(l, dst, src, 1, n, n, lds, n*l, 0, 0)
		return
	}
	clear(dst[:n*l])
	for k := range rows {
		for i, v := range src[k*lds:][:n] {
			dst[i*l+k] = v
		}
	}
}
