package kernels

import (
	"slices"

	"github.com/simdconv/simdconv/internal/engine"
)

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

// indirectConv is a correlation that the indirect route computes per
// image and group: in planes of h×w padded by top, left, bottom and right,
// out planes of p×q, r×s taps at a dilation and a stride. Forward is the
// layer itself; backward-data is dY's planes, padded so that every
// sub-pixel phase reads inside them (indirect_data.go).
type indirectConv struct {
	in, h, w, out, p, q      int
	r, s, dh, dw, sh, sw     int
	top, left, bottom, right int
}

// forwardConv is the layer's forward pass as an indirectConv.
func forwardConv(s *shape) indirectConv {
	return indirectConv{in: s.Cg, h: s.H, w: s.W, out: s.Kg, p: s.P, q: s.Q, r: s.R, s: s.S,
		dh: s.DilationH, dw: s.DilationW, sh: s.StrideH, sw: s.StrideW,
		top: s.PadTop, left: s.PadLeft, bottom: s.PadBottom, right: s.PadRight}
}

// indirectPlan is the geometry of a pass on the indirect route.
type indirectPlan struct {
	indirectConv
	mr, lanes, nv int            // the kernel's tile: positions, lanes, vectors at a time
	vecs          int            // vectors of out channels
	steps         int            // (channel, tap) steps a call: the filter's share of them stays in L2
	hp, wp        int            // the padded planes
	hc            int            // rows of a channel's copy: hp, or the rows of a band's window
	lo            []int          // per band, the padded row its window starts at; nil: one copy of the whole planes
	phases        []phase        // backward-data's sub-pixel phases; nil for forward's one correlation
	off           []int          // per step: forward's (c, r, s) at c·hp·wp + r·dh·wp + s·dw, or the phases' (indirect_data.go)
	pos           []int          // forward's, per output position p·q+q: p·sh·wp + q·sw; then repeats of the last to a whole tile
	parts         []indirectPart // forward's correlation, or the phases
	band, bands   int            // output positions an item (a multiple of mr), and bands an image and group
	vblock        int            // vectors of out channels an item (a multiple of nv, or vecs)
	vblocks       int            // items a band: ⌈vecs/vblock⌉
	fused         bool           // each item lays out its blocks of the filter as it reads them (fuse)
	xLen          int            // floats of a copy: an image and group's padded planes, or a window
}

// indirectPart is one correlation of a pass, steps [t0, t1) of its plan's,
// and per band the kernel's tables: its outputs' positions in the padded
// planes, repeats of the last to a whole tile, and their places among the
// band's outputs.
type indirectPart struct {
	t0, t1    int
	pos, ypos [][]int
}

// planIndirect sets c.ind where the cost model prefers the indirect route
// for the forward pass, on an ISA with its kernel: a layer neither
// depthwise, 1×1 nor on the few-channel route, whose padded input fits
// maxCopy.
func (c *Conv2D) planIndirect() {
	if c.stencil != nil || c.dwc != nil || c.pointwise || c.subsample || c.few != nil && c.few.forward || !engine.Native() {
		return
	}
	if p := indirectGeometry(forwardConv(&c.s)); p != nil && p.cost(&c.s, streamCost) < c.gemmForwardCost() {
		c.ind = c.useIndirect(p)
	}
}

// indirectGeometry returns the route's plan for a correlation, or nil if
// the ISA has no indirect kernel, or the padded input overflows maxCopy.
func indirectGeometry(ic indirectConv) *indirectPlan {
	mr, lanes, nv := engine.IndirectTile()
	if mr == 0 || engine.DwcLanes(lanes) != lanes {
		return nil
	}
	p := &indirectPlan{indirectConv: ic, mr: mr, lanes: lanes, nv: nv, vecs: ceilDiv(ic.out, lanes),
		hp: ic.h + ic.top + ic.bottom, wp: ic.w + ic.left + ic.right}
	p.hc = p.hp
	p.steps = max(1, engine.L2()/filterShare/(4*p.vecs*lanes))
	p.xLen = ic.in * p.hp * p.wp
	if p.xLen > maxCopy {
		return nil
	}
	return p
}

// tables fills p's offsets of the steps and forward's positions.
func (p *indirectPlan) tables() *indirectPlan {
	p.offsets()
	if p.phases != nil {
		return p
	}
	pq := p.p * p.q
	for i := range roundUp(pq, p.mr) {
		i = min(i, pq-1)
		p.pos = append(p.pos, i/p.q*p.sh*p.wp+i%p.q*p.sw)
	}
	return p
}

// offsets fills p.off: forward's (c, r, s) at c·hc·wp + r·dh·wp + s·dw,
// or the phases' steps (phaseOffsets).
func (p *indirectPlan) offsets() {
	if p.phases != nil {
		p.phaseOffsets()
		return
	}
	for ci := range p.in {
		for r := range p.r {
			for t := range p.s {
				p.off = append(p.off, (ci*p.hc+r*p.dh)*p.wp+t*p.dw)
			}
		}
	}
}

// useIndirect completes p for the plan's threads and sizes its buffers.
func (c *Conv2D) useIndirect(p *indirectPlan) *indirectPlan {
	s := &c.s
	mr, pq := p.mr, p.p*p.q
	p.tables()
	// Bands keep an item's interleaved outputs in L2 (rowPanel). Each
	// thread gets two items at least: blocks of the out channels' vectors
	// where the filter overflows its share of L2, as each band streams it
	// again (L4's forward at 2 threads, a 2.4 MB filter, ran 1.37× faster
	// on an Intel Xeon in two blocks of vectors than in four bands, before
	// fuse took it: results/, 2026-12-04, phase-filter.md), and else
	// narrower bands.
	if !c.fuse(p) {
		p.band = roundUp(max(mr, min(pq, rowPanel/(p.vecs*p.lanes))), mr)
		p.vblock = p.vecs
		items := s.N * s.Groups
		if bands := items * ceilDiv(pq, p.band); bands < 2*c.threads && len(p.off) > p.steps {
			p.vblock = roundUp(ceilDiv(p.vecs, ceilDiv(2*c.threads, bands)), p.nv)
			p.steps = max(1, engine.L2()/filterShare/(4*p.vblock*p.lanes))
		}
		p.vblocks = ceilDiv(p.vecs, p.vblock)
		if items *= p.vblocks; items < 2*c.threads {
			p.band = min(p.band, roundUp(ceilDiv(pq, ceilDiv(2*c.threads, items)), mr))
		}
	}
	p.bands = ceilDiv(pq, p.band)
	if p.phases != nil {
		p.phaseParts()
	} else {
		ident := identity(p.band)
		pt := indirectPart{t0: 0, t1: len(p.off)}
		for i0 := 0; i0 < pq; i0 += p.band {
			pos := p.pos[i0:][:roundUp(min(p.band, pq-i0), mr)]
			pt.pos, pt.ypos = append(pt.pos, pos), append(pt.ypos, ident[:len(pos)])
		}
		p.parts = []indirectPart{pt}
	}
	p.window()
	c.xpadLen = max(c.xpadLen, p.xLen)
	c.panel = max(c.panel, p.vblock*p.lanes*p.band)
	if p.fused {
		c.blockLen = max(c.blockLen, p.vblock*p.lanes*p.steps)
	}
	if !p.wholeTaps(s.RS) {
		c.blockLen = max(c.blockLen, s.RS*p.lanes) // phaseFilter's transposed taps
	}
	return p
}

// fuse sets p up to lay out its filter a block of steps at a time, in the
// item that reads the block, and reports whether it did. That pays on one
// image (N = 1) whose filter overflows its share of L2: laid out once a
// call, the filter goes out to memory and each item reads it back; fused,
// it is read from memory once, as the GEMM's packing reads it. An item is
// then a block of vectors over all the positions, whose panel takes a
// quarter of L2 at most (and 4 rowPanels, which tests lower to turn this
// off); two items a thread at least where the vectors allow. On an Intel
// Xeon, L5's backward-data (a 9.4 MB filter) ran 1.18× faster fused at 1
// and 2 threads, and Z29's forward (2.4 MB, 32×32) 1.06 and 1.15×
// (results/, 2026-12-04, phase-filter.md). Backward-data fuses at
// stride 1 only, whose one phase takes every tap in order.
func (c *Conv2D) fuse(p *indirectPlan) bool {
	s := &c.s
	pq := roundUp(p.p*p.q, p.mr)
	panel := min(4*rowPanel, engine.L2()/16) // floats
	if s.N > 1 || len(p.off) <= p.steps || p.nv*p.lanes*pq > panel || !p.wholeTaps(s.RS) {
		return false
	}
	fit := panel / (p.lanes * pq) / p.nv * p.nv
	need := ceilDiv(2*c.threads, s.Groups) // items an image and group
	p.vblock = min(p.vecs, fit, roundUp(ceilDiv(p.vecs, need), p.nv))
	p.vblocks = ceilDiv(p.vecs, p.vblock)
	p.band, p.fused = pq, true
	p.steps = max(1, engine.L2()/filterShare/(4*p.vblock*p.lanes))
	if p.phases != nil { // blocks of whole k's
		p.steps = roundUp(p.steps, s.RS)
	}
	return true
}

// wholeTaps reports whether p is forward's, or backward-data's of one
// phase that takes all rs taps in order.
func (p *indirectPlan) wholeTaps(rs int) bool {
	if p.phases == nil {
		return true
	}
	whole := len(p.phases) == 1 && len(p.phases[0].taps) == rs
	for i, tap := range p.phases[0].taps {
		whole = whole && tap == i
	}
	return whole
}

// window gives each band a copy of only the padded rows that it reads,
// where those are fewer than the planes': the copy is then written and
// read in L2, where one of a large image's whole planes goes out to
// memory before its bands read it back. On Z28's 256×256 planes of 32
// channels both passes ran 1.02–1.10× faster with windows (results/,
// 2026-12-04, indirect-data.md).
func (p *indirectPlan) window() {
	drLo, drHi := 0, (p.r-1)*p.dh // the rows a step reads past its position's
	if p.phases != nil {
		drLo, drHi = p.phases[0].offH[0], p.phases[0].offH[0]
		for _, ph := range p.phases {
			drLo, drHi = min(drLo, slices.Min(ph.offH)), max(drHi, slices.Max(ph.offH))
		}
	}
	lo, hc := make([]int, p.bands), 0
	for b := range p.bands {
		first, last := p.hp, 0
		for _, pt := range p.parts {
			for _, o := range pt.pos[b] {
				first, last = min(first, o/p.wp), max(last, o/p.wp)
			}
		}
		lo[b] = max(0, first+drLo)
		hc = max(hc, last+drHi+1-lo[b])
	}
	if hc >= p.hp {
		return
	}
	p.hc, p.lo, p.xLen = hc, lo, p.in*hc*p.wp
	for i := range p.parts {
		pt := &p.parts[i]
		for b, pos := range pt.pos {
			rebased := make([]int, len(pos)) // forward's alias p.pos
			for j, o := range pos {
				rebased[j] = o - lo[b]*p.wp
			}
			pt.pos[b] = rebased
		}
	}
	p.off = p.off[:0]
	p.offsets()
}

// identity is 0, 1, …, n−1: the places of positions in order.
func identity(n int) []int {
	ident := make([]int, n)
	for i := range ident {
		ident[i] = i
	}
	return ident
}

// filtLen is the floats of the interleaved filter of all groups, and its
// padded bias.
func (p *indirectPlan) filtLen(groups int) int {
	return groups * (p.laidOut() + 1) * p.vecs * p.lanes
}

// laidOut is the steps of the filter laid out once a call: none when
// fused.
func (p *indirectPlan) laidOut() int {
	if p.fused {
		return 0
	}
	return len(p.off)
}

// The indirect route's cost model, in fewchan_cost.go's flop equivalents:
//
//   - A tile runs at gemmPeak of the slots that its step takes: mr·nv
//     FMAs, or its loads if more (nv vectors of the filter, the offset and
//     a broadcast per position). A broadcast reads x's lines, a row of
//     each channel per tile, where the GEMM's step reads a packed panel
//     that stays in L1; it counts 16/lanes slots, as on 32-byte vectors it
//     feeds half the flops of a 64-byte one, and there the GEMM keeps the
//     layers whose packing costs little. A tile does all its vectors
//     before the next, so its positions' lines of x stay in L1 across them.
//   - Each tile's start and end (bias in, outputs out) costs about
//     tileSteps steps.
//   - The outputs are written back into planes, and the filter laid out
//     once a call, as streams that do not overlap the FMAs: streamCost a
//     float, and for backward-data's rotated filter, which takes a call a
//     few taps, layoutCost. x is padded at copyCost.
const (
	tileSteps  = 3
	streamCost = 32
)

// cost is the route's cost for one image and group of a layer of N
// images: the filter is laid out once a call, at filterCost a float.
func (p *indirectPlan) cost(s *shape, filterCost float64) float64 {
	pq := p.p * p.q
	c := copyCost*float64(p.xLen) + streamCost*float64(p.out*pq)
	total := 0
	tile := func(steps, n int) {
		flops := 2 * float64(p.out) * float64(steps) * float64(n)
		c += flops / (gemmPeak * p.fit(p.out, n)) * float64(steps+tileSteps) / float64(steps)
		total += steps
	}
	if p.phases == nil {
		tile(p.in*p.r*p.s, pq)
	}
	for _, ph := range p.phases {
		tile(p.in*len(ph.taps), ph.rows*ph.cols)
	}
	return c + filterCost*float64(p.out*total)/float64(s.N)
}

// fit is the share of peak of tiles over n positions of m channels (m
// rounded up to vectors of p's lanes): the useful FMAs over the slots
// their steps take, FMAs or loads.
func (p *indirectPlan) fit(m, n int) float64 {
	var slots float64 // FMA-slot equivalents of one step over every block of vectors
	for v := ceilDiv(m, p.lanes); v > 0; v -= p.nv {
		nv := min(v, p.nv)
		slots += max(float64(p.mr*nv), float64(nv+1+p.mr*16/p.lanes))
	}
	return float64(m*n) / (slots * float64(p.lanes*roundUp(n, p.mr)) / float64(p.mr))
}

// forwardIndirect is Forward on the indirect route.
func (st *callState) forwardIndirect(y, x, w, bias []float32) {
	p := st.c.ind
	st.layoutFilter(p, w)
	st.runIndirect(p, y, x, w, bias, st.c.relu)
}

// runIndirect computes dst from src on p with the filter w, laid out in
// st.filt unless p is fused, bias added (nil: none) and then ReLU if asked.
func (st *callState) runIndirect(p *indirectPlan, dst, src, w, bias []float32, relu bool) {
	s := &st.c.s
	ld := p.vecs * p.lanes
	st.biasPad = st.filt[s.Groups*p.laidOut()*ld:][:s.Groups*ld]
	clear(st.biasPad)
	if bias != nil {
		for g := range s.Groups {
			copy(st.biasPad[g*ld:], bias[g*p.out:][:p.out])
		}
	}
	st.resetPads()
	st.indirect = indirectJob{st: st, p: p, dst: dst, src: src, w: w, relu: relu}
	st.spread(&st.indirect)
	st.indirect = indirectJob{}
}

// indirectJob is a pass on the indirect route, an item per band of an
// image and group's output positions.
type indirectJob struct {
	st          *callState
	p           *indirectPlan
	dst, src, w []float32
	relu        bool
}

func (j *indirectJob) Do(part int) { j.st.doPart(j, part) }

func (j *indirectJob) items() int { return j.st.c.s.N * j.st.c.s.Groups * j.p.vblocks * j.p.bands }

// item computes one band of a block of vectors, the bands of a block one
// after the other, so that a thread's consecutive items share their
// filter. Its outputs are its own, so it ignores wide.
func (j *indirectJob) item(wk *worker, _ bool, it int) {
	st, p := j.st, j.p
	img, vb, b := it/(p.vblocks*p.bands), it/p.bands%p.vblocks, it%p.bands
	g := img % st.c.s.Groups
	hw, pq := p.h*p.w, p.p*p.q
	// A copy of the whole planes serves the image's every band.
	xp, copied, lo := wk.xpad[:p.xLen], img, 0
	if p.lo != nil {
		copied, lo = img*p.bands+b, p.lo[b]
	}
	if wk.xpadImage != copied {
		padWindow(xp, j.src[img*p.in*hw:][:p.in*hw], p.in, p.h, p.w, p.top, p.left, lo, p.hc, p.wp)
		wk.xpadImage = copied
	}
	i0 := b * p.band
	n := min(p.band, pq-i0)
	ldy := roundUp(n, p.mr) * p.lanes
	v0 := vb * p.vblock
	vecs := min(p.vblock, p.vecs-v0)
	bias := st.biasPad[(g*p.vecs+v0)*p.lanes:][:vecs*p.lanes]
	panel := wk.panel[:vecs*ldy]
	// Each part's outputs in blocks of steps whose filter stays in L2
	// while the tiles pass over it, each block's sums carried on by the
	// next.
	for _, pt := range p.parts {
		pos, ypos := pt.pos[b], pt.ypos[b]
		for t0 := pt.t0; t0 < pt.t1 && len(pos) > 0; t0 += p.steps {
			t1 := min(t0+p.steps, pt.t1)
			f, ld := wk.block, (t1-t0)*p.lanes
			if p.fused {
				for v := range vecs {
					st.layoutSteps(f[v*ld:][:ld], j.w, p, g, v0+v, t0, t1)
				}
			} else {
				f, ld = st.filt[((g*p.vecs+v0)*len(p.off)+t0)*p.lanes:], len(p.off)*p.lanes
			}
			engine.Indirect(panel, ldy, ypos, xp, pos, f, ld, p.off[t0:t1], vecs, bias, t0 > pt.t0, j.relu && t1 == pt.t1)
		}
	}
	// Out channel g·out + k of image n is plane img·out + k of dst.
	ob := j.dst[img*p.out*pq:][:p.out*pq]
	for v := range vecs {
		k0 := (v0 + v) * p.lanes
		unblock(ob[k0*pq+i0:], panel[v*ldy:], min(p.lanes, p.out-k0), n, pq, p.lanes)
	}
}

// layoutJob lays out an indirect pass's filter into st.filt, an item per
// vector of a group's channels, so that the threads share it: on L5 (a
// 9.4 MB filter, 49 positions) one thread's layout took as long as the
// product on two (results/, 2026-12-04, phase-filter.md).
type layoutJob struct {
	st *callState
	p  *indirectPlan
	w  []float32
}

func (j *layoutJob) Do(part int) { j.st.doPart(j, part) }

func (j *layoutJob) items() int { return j.st.c.s.Groups * j.p.vecs }

func (j *layoutJob) item(wk *worker, _ bool, it int) {
	s, p := &j.st.c.s, j.p
	g, v := it/p.vecs, it%p.vecs
	dst := j.st.filt[(g*p.vecs+v)*len(p.off)*p.lanes:][:len(p.off)*p.lanes]
	if p.phases != nil && !p.wholeTaps(s.RS) {
		j.st.phaseFilter(wk, dst, j.w, p, g, v)
		return
	}
	j.st.layoutSteps(dst, j.w, p, g, v, 0, len(p.off))
}

// layoutSteps writes steps [t0, t1) of vector v of group g of p's filter,
// which takes every tap in order (wholeTaps), into dst: forward's rows of
// w (kg × steps) interleaved step by step, dst[(t−t0)·l + i] =
// w[g·kg + v·l + i][t]; backward-data's per k the channels' RS taps,
// dst[((k−k0)·RS + tap)·l + i] = w[g·Kg + k][v·l + i][tap] for the whole
// k's of the steps. Zero past the channels.
func (st *callState) layoutSteps(dst, w []float32, p *indirectPlan, g, v, t0, t1 int) {
	s, l := &st.c.s, p.lanes
	if p.phases == nil {
		interleaveSteps(dst, w[(g*s.Kg+v*l)*s.CRSg+t0:], min(l, s.Kg-v*l), s.CRSg, t1-t0, l)
		return
	}
	// Per k, the vector's channels are l rows of RS taps, RS apart; the
	// next k's are Cg·RS further on.
	k0, k1 := t0/s.RS, t1/s.RS
	src, rows := w[((g*s.Kg+k0)*s.Cg+v*l)*s.RS:], min(l, s.Cg-v*l)
	if rows == l {
		engine.DwcIn(l, dst, src, k1-k0, s.RS, s.Cg*s.RS, s.RS, s.RS*l, 0, 0)
		return
	}
	for k := range k1 - k0 {
		interleaveSteps(dst[k*s.RS*l:], src[k*s.Cg*s.RS:], rows, s.RS, s.RS, l)
	}
}

// layoutFilter lays out w as p's filter in st.filt, unless p is fused.
func (st *callState) layoutFilter(p *indirectPlan, w []float32) {
	if p.fused {
		return
	}
	st.layout = layoutJob{st: st, p: p, w: w}
	st.spread(&st.layout)
	st.layout = layoutJob{}
}

// interleaveSteps writes n steps of rows ≤ l rows of src, lds apart, into
// dst interleaved step by step, dst[t·l + i] = src[i·lds + t], zero past
// the rows.
func interleaveSteps(dst, src []float32, rows, lds, n, l int) {
	dst = dst[:n*l]
	if rows < l {
		clear(dst)
		for i := range rows {
			for t, x := range src[i*lds:][:n] {
				dst[t*l+i] = x
			}
		}
		return
	}
	engine.DwcIn(l, dst, src, 1, n, n, lds, n*l, 0, 0)
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
