package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Backward-filter on the indirect route: dWᵀ as tiles of (channel, tap)
// pairs × vectors of output channels. Each pair is a pointer into the
// padded planes of x, each output position of each image a step, and the
// filter's place is taken by dY, interleaved a vector of channels per
// position: dW[k][c,r,s] = Σ_{n,p,q} dY[n][k][p,q]·xpad[n][c][p·sh + r·dh][q·sw + s·dw].
// Every entry of dW is one chain of FMAs over the images and positions in
// order, so the threads, which split the pairs, do not change its bits.

// indirectFilterPlan is the geometry of backward-filter on the indirect
// route: the forward pass's padded planes, with its tables swapped.
type indirectFilterPlan struct {
	*indirectPlan       // forward's geometry: hp, wp, xLen, its tables
	taps          []int // the kernel's positions: forward's off, then repeats of the last to a whole tile
	outs          []int // the kernel's steps, per image and output position: n·xLen + forward's pos
	band, bands   int   // pairs an item (a multiple of mr), and items a group
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
	f.band = roundUp(max(p.mr, min(ceilDiv(s.CRSg, 2*c.threads), rowPanel/(p.vecs*p.lanes))), p.mr)
	f.bands = ceilDiv(s.CRSg, f.band)
	f.ident = identity(f.band)
	c.indFilter = f
	c.panel = max(c.panel, p.vecs*p.lanes*f.band)
	c.indLen = s.N*p.xLen + p.vecs*f.lda + p.vecs*p.lanes
}

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
// at a time: the threads pad x's images and interleave dY's, then compute
// bands of dW's pairs.
func (st *callState) backwardFilterIndirect(dw, dy, x []float32) {
	c := st.c
	s, f := &c.s, c.indFilter
	clear(st.ind[s.N*f.xLen+f.vecs*f.lda:])
	for g := range s.Groups {
		st.indFilter = indirectFilterJob{st: st, dw: dw, dy: dy, x: x, g: g}
		st.indFilter.prep = true
		st.spread(&st.indFilter)
		st.indFilter.prep = false
		st.spread(&st.indFilter)
	}
	st.indFilter = indirectFilterJob{}
}

// indirectFilterJob is one group of a BackwardFilter call on the indirect
// route: with prep, an item per part of an image (a share of its padded
// planes and of its positions of dY interleaved into st.ind), else an
// item per band of dW's pairs.
type indirectFilterJob struct {
	st        *callState
	dw, dy, x []float32
	g         int
	prep      bool
}

func (j *indirectFilterJob) Do(part int) { j.st.doPart(j, part) }

func (j *indirectFilterJob) items() int {
	if j.prep {
		return j.st.c.s.N * j.prepParts()
	}
	return j.st.c.indFilter.bands
}

// prepParts is the parts an image's prep is cut into: one, or enough for
// every thread where the images are fewer (at batch 1 the prep ran on one
// thread, a third of Z08's pass).
func (j *indirectFilterJob) prepParts() int { return ceilDiv(j.st.c.threads, j.st.c.s.N) }

// item does one image or band. Its outputs are its own, so it ignores
// wide.
func (j *indirectFilterJob) item(wk *worker, _ bool, it int) {
	st, c := j.st, j.st.c
	s, f := &c.s, c.indFilter
	xall := st.ind[:s.N*f.xLen]
	a := st.ind[len(xall):][:f.vecs*f.lda]
	zeros := st.ind[len(xall)+len(a):][:f.vecs*f.lanes]
	if j.prep {
		parts := j.prepParts()
		n, part := it/parts, it%parts
		c0, c1 := part*s.Cg/parts, (part+1)*s.Cg/parts
		q0, q1 := part*s.PQ/parts, (part+1)*s.PQ/parts
		padPlanes(xall[n*f.xLen+c0*f.hp*f.wp:], j.x[(n*s.C+j.g*s.Cg+c0)*s.HW:][:(c1-c0)*s.HW], c1-c0, s.H, s.W, s.PadTop, s.PadLeft, f.hp, f.wp)
		dyn := j.dy[(n*s.K+j.g*s.Kg)*s.PQ:][:s.Kg*s.PQ]
		for v := range f.vecs {
			block(a[v*f.lda+(n*s.PQ+q0)*f.lanes:][:(q1-q0)*f.lanes], dyn[v*f.lanes*s.PQ+q0:], min(f.lanes, s.Kg-v*f.lanes), q1-q0, s.PQ, f.lanes)
		}
		return
	}
	i0 := it * f.band
	n := min(f.band, s.CRSg-i0)
	taps := f.taps[i0:][:roundUp(n, f.mr)]
	ldy := len(taps) * f.lanes
	panel := wk.panel[:f.vecs*ldy]
	dwg := j.dw[j.g*s.Kg*s.CRSg:][:s.Kg*s.CRSg]
	if c.accumulate {
		for v := range f.vecs {
			block(panel[v*ldy:][:n*f.lanes], dwg[v*f.lanes*s.CRSg+i0:], min(f.lanes, s.Kg-v*f.lanes), n, s.CRSg, f.lanes)
		}
	}
	for t0 := 0; t0 < len(f.outs); t0 += f.steps {
		t1 := min(t0+f.steps, len(f.outs))
		engine.Indirect(panel, ldy, f.ident[:len(taps)], xall, taps, a[t0*f.lanes:], f.lda, f.outs[t0:t1], f.vecs, zeros, t0 > 0 || c.accumulate, false)
	}
	for v := range f.vecs {
		k0 := v * f.lanes
		unblock(dwg[k0*s.CRSg+i0:], panel[v*ldy:], min(f.lanes, s.Kg-k0), n, s.CRSg, f.lanes)
	}
}

// block is unblock's inverse: it interleaves n positions of rows ≤ l
// rows of src, ldd apart, into dst, l floats a position, zero past rows.
func block(dst, src []float32, rows, n, lds, l int) {
	if rows == l {
		engine.DwcIn(l, dst, src, 1, n, lds, n*l, 0, 0)
		return
	}
	clear(dst[:n*l])
	for k := range rows {
		for i, v := range src[k*lds:][:n] {
			dst[i*l+k] = v
		}
	}
}
