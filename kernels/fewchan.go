package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Layers with few input channels per group (an RGB stem, MNIST's single
// channel, LeNet's six) have a reduction C/G·R·S too short for the GEMM's
// register tiles to repay packing and storing them. They run direct
// instead, over zero-padded planes read at positions p·W'+q as the
// depthwise stencil does, with a block of output channels sharing each
// shifted load (engine.StencilRows, engine.DotsRows). At stride sh×sw the
// planes are the Shifted form's phase planes (planShifted), W' = ⌈(W +
// PadLeft + PadRight)/sw⌉ wide, in which every tap is a shift too:
//
//   - forward: y_k = bias_k + Σ_{c,r,s} w[k,c,r,s]·xpad_c[(p + r·dh)·W' + q + s·dw] at stride 1;
//   - backward-data: the same over padded dY, per sub-pixel phase, with the
//     channels swapped (fewchan_data.go);
//   - backward-filter: dot products of dY's rows, zero past column Q, with
//     the shifted planes, over chunks of the reduction (as in
//     backward_filter_chunks.go).
//
// Each computes the W'−Q positions past a row too and drops them. Bands of
// output rows keep a band's outputs in L2 and give the threads items
// within one image. Each pass takes the route where the cost model
// (fewchan_cost.go) finds it cheaper than the GEMM's.

// fewPlan is the geometry of the few-channel passes.
type fewPlan struct {
	forward, data, filter bool // the passes that take the direct route

	// Forward and backward-filter: the padded input planes, and per (c, r,
	// s) its shift, c·H'·W' + r·dh·W' + s·dw at stride 1.
	off    []int
	groups []int // forward's tap groups of off (tapGroups)
	// lines: forward writes a band's rows but its last straight into y
	// (engine.StencilLines), Q outputs a row rounded up to Slack in place
	// of W' and a copy; only with one tap group.
	lines    bool
	xLen     int // floats of the padded planes, with the taps' reach past them
	rows, ld int // forward's output rows a band, and the stride of its rows in a panel
	bands    int
	// Backward-filter's bands, at least enough for maxChunks pieces.
	rowsF, ldF, bandsF int
	// filterLines: backward-filter reads dY's rows in place
	// (engine.DotsLines), not copied W' wide with zeros past Q.
	filterLines bool
	filterTemp  int // Kg·Cg·R·S: one band's dot products

	d *fewData // backward-data's geometry
}

// planFew sets c.few for a layer neither depthwise (which keeps its
// stencil) nor 1×1 (whose GEMM multiplies x in place, without packing, or
// its subsample), for the passes where the cost model picks the direct
// route over the GEMM's and, for forward and backward-filter, over the
// indirect route's.
func (c *Conv2D) planFew() {
	if c.stencil != nil || c.pointwise || c.subsample {
		return
	}
	s := &c.s
	cost := c.fewCosts(c.planFewData())
	forward, filter := cost.forward < cost.gemmForward, cost.filter < cost.gemmFilter
	data := cost.data < cost.gemmData
	if p := indirectGeometry(forwardConv(s)); p != nil && engine.Native() {
		forward = forward && cost.forward < p.cost(s, streamCost)
		filter = filter && cost.filter < p.filterCost(s)
	}
	if p := dataGeometry(s); p != nil && engine.Native() {
		data = data && cost.data < p.cost(s, p.layoutCost())
	}
	c.useFew(forward, data, filter)
}

// useFew sets c.few with the passes that take the direct route, if any,
// for a layer that planFew admits, each where its copies fit maxCopy.
func (c *Conv2D) useFew(forward, data, filter bool) {
	s := &c.s
	_, ws := phasePlanes(s)
	f := &fewPlan{d: c.planFewData()}
	var end int
	f.off, end = shiftedOffsets(s)
	f.xLen = end + engine.Slack
	f.forward = forward && f.xLen <= maxCopy
	f.filter = filter && f.xLen <= maxCopy
	f.data = data && f.d.end <= maxCopy && f.d.panel <= maxCopy
	if !f.forward && !f.data && !f.filter {
		return
	}
	f.rows, f.ld, f.bands = bands(s.P, ws, s.Kg)
	f.groups = tapGroups(f.off, ws, f.rows*ws)
	f.rowsF, f.ldF, f.bandsF = f.rows, f.ld, f.bands
	f.lines = len(f.groups) == 2 && linesFit(s) && c.fewForwardCost(true) < c.fewForwardCost(false)
	if f.lines { // the panel holds a band's last row only
		f.rows, f.bands = c.linesBands()
		f.ld = roundUpSlack(ws)
	}
	if want := min(s.P, ceilDiv(maxChunks, s.N*s.Groups)); want > f.bands {
		f.rowsF = ceilDiv(s.P, want)
		f.ldF, f.bandsF = roundUpSlack(f.rowsF*ws), ceilDiv(s.P, f.rowsF)
	}
	f.filterTemp = s.Kg * s.CRSg
	c.few = f
	if f.forward || f.filter {
		c.usePadded(f.xLen)
	}
	if f.forward {
		c.panel = max(c.panel, groupPanels(f.groups, s.Kg*f.ld))
	}
	if f.data {
		c.dypadLen = max(c.dypadLen, f.d.end)
		c.panel = max(c.panel, f.d.panel)
	}
	f.filterLines = c.fewFilterLines()
	if f.filter {
		if !f.filterLines {
			c.dypadLen = max(c.dypadLen, s.Kg*f.ldF)
		}
		c.panel = max(c.panel, f.filterTemp)
		c.chunks = fewChunks(s.N*s.Groups*f.bandsF, s.N*s.Groups*s.P*ws, max(s.Kg, s.CRSg))
	}
}

// rowPanel is the floats of a band's panel: it stays in L2. Tests lower
// it to cut small layers into bands.
var rowPanel = panelTarget

// linesBands is forward's bands on lines (fewPlan.lines): as many rows as
// keep a band's input planes within rowPanel floats, since its outputs go
// straight to y, but at least two items a thread where the images allow.
func (c *Conv2D) linesBands() (rows, n int) {
	s := &c.s
	_, ws := phasePlanes(s)
	rows = min(s.P, max(1, rowPanel/(s.Cg*s.StrideH*s.StrideW*ws)))
	if per := ceilDiv(2*c.threads, s.N*s.Groups); per > 1 {
		rows = min(rows, ceilDiv(s.P, per))
	}
	return rows, ceilDiv(s.P, rows)
}

// phasePlanes returns the size of the phase planes of the padded input at
// the layer's stride: hs×ws, the padded H'×W' at stride 1.
func phasePlanes(s *shape) (hs, ws int) {
	return ceilDiv(s.H+s.PadTop+s.PadBottom, s.StrideH), ceilDiv(s.W+s.PadLeft+s.PadRight, s.StrideW)
}

// bands cuts rows output rows of width w (positions computed per row) for
// m channels into bands whose panel, m rows at stride ld, stays within
// rowPanel floats: it returns the rows of a band, ld and the bands.
func bands(rows, w, m int) (band, ld, n int) {
	band = min(rows, max(1, rowPanel/(m*w)))
	return band, roundUpSlack(band * w), ceilDiv(rows, band)
}

// fewChunks is how many chunks backward-filter's reduction is cut into,
// from its pieces (bands) and positions: as in planChunks, a chunk keeps a
// reduction of at least four times dW's longer side.
func fewChunks(pieces, positions, side int) int {
	return max(1, min(maxChunks, pieces, positions/(4*side)))
}

// tapMajor writes w into filt with the weights of each (channel, tap)
// side by side for a group's output channels, ld ≥ Kg apart, as
// StencilRows and Indirect read them: filt[g·CRSg·ld + t·ld + k] =
// w[g·Kg + k][t], t = (c, r, s), and zero for Kg ≤ k < ld.
func (c *Conv2D) tapMajor(filt, w []float32, ld int) {
	s := &c.s
	for g := range s.Groups {
		wg, fg := w[g*s.Kg*s.CRSg:][:s.Kg*s.CRSg], filt[g*s.CRSg*ld:][:s.CRSg*ld]
		for t := range s.CRSg {
			clear(fg[t*ld+s.Kg : (t+1)*ld])
		}
		for k := range s.Kg {
			for t, v := range wg[k*s.CRSg:][:s.CRSg] {
				fg[t*ld+k] = v
			}
		}
	}
}

// resetPads marks every worker's padded copy as holding no image.
func (st *callState) resetPads() {
	for i := range st.workers {
		st.workers[i].xpadImage = -1
	}
}

// padFew pads image and group img (n·G + g) of x into wk.xpad, unless it
// holds it already.
func (c *Conv2D) padFew(wk *worker, x []float32, img int) []float32 {
	s := &c.s
	xp := wk.xpad[:c.few.xLen]
	if wk.xpadImage != img {
		c.padInput(xp, x[img*s.Cg*s.HW:][:s.Cg*s.HW])
		wk.xpadImage = img
	}
	return xp
}

// forwardFew is Forward on the direct route.
func (st *callState) forwardFew(y, x, w, bias []float32) {
	st.c.tapMajor(st.filt, w, st.c.s.Kg)
	st.resetPads()
	st.fewForward = fewForwardJob{st: st, y: y, x: x, bias: bias}
	st.spread(&st.fewForward)
	st.fewForward = fewForwardJob{}
}

// fewForwardJob is a Forward call on the direct route, an item per band
// of an image and group's output rows.
type fewForwardJob struct {
	st         *callState
	y, x, bias []float32
}

func (j *fewForwardJob) Do(part int) { j.st.doPart(j, part) }

func (j *fewForwardJob) items() int {
	s := &j.st.c.s
	return s.N * s.Groups * j.st.c.few.bands
}

// item computes one band. Its outputs are its own, so it ignores wide.
func (j *fewForwardJob) item(wk *worker, _ bool, it int) {
	c := j.st.c
	s, f := &c.s, c.few
	img, b := it/f.bands, it%f.bands
	g := img % s.Groups
	xp := c.padFew(wk, j.x, img)
	p0, p1 := b*f.rows, min(s.P, (b+1)*f.rows)
	var bias []float32
	if j.bias != nil {
		bias = j.bias[g*s.Kg:][:s.Kg]
	}
	w := j.st.filt[g*s.Kg*s.CRSg:][:s.Kg*s.CRSg]
	// Output channel g·Kg + k of image n is plane img·Kg + k of y.
	yb := j.y[img*s.Kg*s.PQ:][:s.Kg*s.PQ]
	// Lines: every row but the last straight into y, each running into
	// the next row's start; the last through the panel, whose overhang
	// would land in the next band's first row.
	last := p0
	if f.lines {
		last = p1 - 1
	}
	if last > p0 {
		engine.StencilLines(yb[p0*s.Q:], s.PQ, s.Q, xp[p0*c.wpad:], c.wpad, w, f.off, s.Q, last-p0, s.Kg, bias)
	}
	panel, tmp := wk.panel[:s.Kg*f.ld], wk.panel[s.Kg*f.ld:]
	stencilGroups(panel, tmp, f.ld, xp[last*c.wpad:], w, f.off, f.groups, (p1-last)*c.wpad, s.Kg, bias)
	if p1-last == 1 { // one row of each channel: one call
		engine.CopyRows(yb[last*s.Q:], panel, s.Kg, s.Q, 0, s.Q, s.PQ, f.ld)
	}
	for k := range s.Kg {
		if p1-last > 1 {
			engine.CopyRows(yb[k*s.PQ+last*s.Q:], panel[k*f.ld:], p1-last, s.Q, 0, s.Q, s.Q, c.wpad)
		}
		if c.relu {
			dst := yb[k*s.PQ+p0*s.Q:][:(p1-p0)*s.Q]
			for i, v := range dst {
				dst[i] = max(v, 0)
			}
		}
	}
}

// backwardFilterFew is BackwardFilter on the direct route, for an x that
// is all finite: the zeros past dY's rows meet x's columns past Q. The
// pieces (an image and group's band of output rows) are cut into c.chunks
// chunks; each chunk sums its pieces' dot products in order into a
// partial dW of its own, and the partials are added in chunk order.
func (st *callState) backwardFilterFew(dw, dy, x []float32) {
	c := st.c
	parts := 1
	if c.parallel() {
		parts = min(c.threads, c.chunks)
	}
	st.fewFilter = fewFilterJob{st: st, dy: dy, x: x, parts: parts}
	st.group.Run(parts, &st.fewFilter)
	st.fewFilter = fewFilterJob{}
	if !c.accumulate {
		clear(dw)
	}
	for ch := range c.chunks {
		engine.AddRows(dw, st.partials[ch*len(dw):], 1, len(dw), 0, 0)
	}
}

// fewFilterJob is BackwardFilter on the direct route: part t takes a
// contiguous range of the chunks.
type fewFilterJob struct {
	st    *callState
	dy, x []float32
	parts int
}

func (j *fewFilterJob) Do(t int) {
	c := j.st.c
	s, f, wk := &c.s, c.few, &j.st.workers[t]
	wk.xpadImage = -1
	pieces := s.N * s.Groups * f.bandsF
	for ch := t * c.chunks / j.parts; ch < (t+1)*c.chunks/j.parts; ch++ {
		part := j.st.partials[ch*s.wLen:][:s.wLen]
		clear(part)
		for it := ch * pieces / c.chunks; it < (ch+1)*pieces/c.chunks; it++ {
			j.piece(wk, it, part)
		}
	}
}

// piece adds band b of image and group img's dot products into part.
func (j *fewFilterJob) piece(wk *worker, it int, part []float32) {
	c := j.st.c
	s, f := &c.s, c.few
	img, b := it/f.bandsF, it%f.bandsF
	g := img % s.Groups
	xp := c.padFew(wk, j.x, img)
	p0, p1 := b*f.rowsF, min(s.P, (b+1)*f.rowsF)
	dyb := j.dy[img*s.Kg*s.PQ:][:s.Kg*s.PQ]
	d := wk.panel[:f.filterTemp]
	if f.filterLines {
		engine.DotsLines(d, dyb[p0*s.Q:], s.PQ, s.Q, s.Kg, xp[p0*c.wpad:], c.wpad, f.off, s.Q, p1-p0)
	} else {
		n := (p1 - p0) * c.wpad
		a := wk.dypad[:s.Kg*f.ldF]
		for k := range s.Kg {
			row := a[k*f.ldF:][:roundUpSlack(n)]
			engine.CopyRows(row, dyb[k*s.PQ+p0*s.Q:], p1-p0, c.wpad, 0, s.Q, c.wpad, s.Q)
			clear(row[n:])
		}
		engine.DotsRows(d, a, f.ldF, s.Kg, xp[p0*c.wpad:], f.off, n)
	}
	engine.AddRows(part[g*f.filterTemp:], d, 1, f.filterTemp, 0, 0)
}
