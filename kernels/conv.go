package kernels

import (
	"fmt"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/internal/parallel"
)

// Conv2D is a validated convolution layer: the three passes of one shape,
// with their workspace. Create it once with NewConv2D and call it for every
// batch. A Conv2D runs one pass at a time; use one per goroutine.
type Conv2D struct {
	s          shape
	threads    int
	accumulate bool // BackwardFilter adds into dw and dbias
	relu       bool // Forward applies max(·, 0)

	ws      []float32   // all of the workspace, the caller's or our own
	workers []worker    // per-thread state, carved from ws
	slabs   [][]float32 // each worker's GEMM workspace, for Engine.Run
	filt    []float32   // the filter rearranged for backward-data's full route

	offH, offW []int        // forward taps: r·DilationH − PadTop, s·DilationW − PadLeft
	route      route        // backward-data route
	phases     []phase      // sub-pixel phases of the full route
	gemmWS     int          // floats of GEMM workspace per worker
	panel      int          // floats of panel per worker (see worker.panel)
	chunk      int          // columns per col2im panel on the GEMM route
	pointwise  bool         // 1×1, stride 1, no padding: the column matrix is X itself
	forwardT   bool         // Forward computes Yᵀ, which fits the register tile better
	fullT      bool         // so does the full route of backward-data, at stride 1
	shifted    []int        // tap offsets of backward-filter's Shifted column matrix, or nil
	imRows     bool         // backward-filter writes its column matrix out first (planImRows)
	stencil    *stencilPlan // a depthwise stride-1 layer's stencil passes, or nil
	split      *columnSplit // the phase planes of a layer of column stride > 1, or nil
	hs         int          // phase plane height of the Shifted form
	wpad       int          // phase plane width of the Shifted form (W' at stride 1), or the stencil's W'
	xpadLen    int          // floats of worker.xpad
	dypadLen   int          // floats of worker.dypad

	engine simdconv.Engine
	group  parallel.Group
	job    convJob
}

// worker holds what one thread needs during a pass. The structs are kept
// here, not on the stack, so that passing them to the GEMM engine does not
// allocate.
type worker struct {
	gemm    []float32 // GEMM packing workspace
	panel   []float32 // output panels: col2im's, a sub-pixel phase's, a transposed product's (productT), a stencil's; backward-filter's column matrix (imRows)
	off     []int     // tap offsets of a sub-pixel panel
	g       simdconv.Gemm
	denseA  simdconv.Dense
	dense   simdconv.Dense
	shifted simdconv.Shifted
	xpad    []float32 // input copies: padded (Shifted form, stencil), split into phase planes (column stride > 1), or col2im's phase planes
	dypad   []float32 // dY copies: at the padded row stride (Shifted form, stencil) or padded for backward-data's stencil
	im      simdconv.Im2col
	imT     simdconv.Im2colT
}

// An Option configures NewConv2D.
type Option func(*Conv2D) error

// WithThreads sets the number of threads a pass uses: 0 (the default) means
// GOMAXPROCS, 1 runs everything on the calling goroutine.
func WithThreads(n int) Option {
	return func(c *Conv2D) error {
		if n < 0 {
			return fmt.Errorf("kernels: WithThreads(%d): want ≥ 0", n)
		}
		c.threads = n
		return nil
	}
}

// WithWorkspace makes the layer use ws, which must hold at least
// WorkspaceSize floats (see WorkspaceSize), instead of allocating its own.
// Several layers that never run at the same time may share one workspace.
func WithWorkspace(ws []float32) Option {
	return func(c *Conv2D) error {
		c.ws = ws
		if ws == nil {
			return fmt.Errorf("kernels: WithWorkspace: ws is nil")
		}
		return nil
	}
}

// WithAccumulate makes BackwardFilter add its results to dw and dbias
// (BLAS beta = 1) instead of overwriting them, for gradient accumulation.
func WithAccumulate() Option {
	return func(c *Conv2D) error { c.accumulate = true; return nil }
}

// WithReLU fuses max(·, 0) into Forward's output.
func WithReLU() Option {
	return func(c *Conv2D) error { c.relu = true; return nil }
}

// NewConv2D validates p once and plans all three passes. The error names the
// offending parameter and its value.
func NewConv2D(p Conv2DParams, opts ...Option) (*Conv2D, error) {
	s, err := p.validate()
	if err != nil {
		return nil, err
	}
	c := &Conv2D{s: s}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	c.threads = parallel.Threads(c.threads)
	c.offH = taps(s.R, s.DilationH, -s.PadTop)
	c.offW = taps(s.S, s.DilationW, -s.PadLeft)
	c.pointwise = s.R == 1 && s.S == 1 && s.StrideH == 1 && s.StrideW == 1 &&
		s.PadTop == 0 && s.PadBottom == 0 && s.PadLeft == 0 && s.PadRight == 0
	c.planStencil()
	c.planSplit()
	c.planBackwardData()
	c.planShifted()
	c.planImRows()
	c.plan()
	need := c.WorkspaceSize()
	if c.ws == nil {
		c.ws = make([]float32, need)
	} else if len(c.ws) < need {
		return nil, fmt.Errorf("kernels: WithWorkspace: len(ws) = %d, want ≥ %d (WorkspaceSize)", len(c.ws), need)
	}
	c.carve()
	return c, nil
}

// taps returns n offsets first, first+step, ….
func taps(n, step, first int) []int {
	t := make([]int, n)
	for i := range t {
		t[i] = first + i*step
	}
	return t
}

// plan sizes the per-worker workspace for the largest multiply of any pass.
// Products may run transposed (productT), so every dimension bounds both M
// and N.
func (c *Conv2D) plan() {
	s := c.s
	m := max(s.Kg, s.Cg, s.CRSg, s.PQ, s.HW)
	n := m
	k := max(s.CRSg, s.Kg*s.RS, s.PQ, s.P*c.wpad)
	c.gemmWS = simdconv.GemmWorkspace(m, n, k)
	c.forwardT = transposeFits(s.Kg, s.PQ, s.CRSg)
	if c.forwardT {
		c.panel = max(c.panel, s.PQ*s.Kg)
	}
	if c.imRows {
		c.panel = max(c.panel, s.CRSg*s.PQ)
	}
}

// transposeFits reports whether an m×n product with reduction length k is
// better computed as its n×m transpose: when the transpose wastes clearly
// less of the register tiles at the edges (for a 7×7 layer on AVX-512, 49
// columns take 48 + 16 of 8×48 and 8×16 tiles; as rows they fill 49 of 56)
// and the saving pays for storing the result transposed, which costs about
// as much as 128 flops an element (productT's loop, 1.1 ns here).
func transposeFits(m, n, k int) bool {
	flops := 2 * float64(m) * float64(n) * float64(k)
	plain := flops / simdconv.DenseTileFit(m, n)
	transposed := flops/simdconv.TileFit(n, m) + 128*float64(m)*float64(n)
	return transposed < 0.95*plain
}

// productT sets dst (m×n, row stride n) to a (m×k, row-major) times the
// column matrix in wk.imT (k×n), plus bias per row, then ReLU if asked, by
// computing the transpose imTᵀ·aᵀ (n×m) into wk.panel and storing that
// transposed.
func (c *Conv2D) productT(wk *worker, wide bool, a []float32, m, k, n int, dst, bias []float32, relu bool) {
	wk.dense = simdconv.Dense{Data: a, Stride: k, Trans: true}
	panel := wk.panel[:n*m]
	wk.g = simdconv.Gemm{M: n, N: m, K: k, Alpha: 1, A: &wk.imT, B: &wk.dense, C: panel, Ldc: m}
	c.gemm(wk, wide)
	for i := range m {
		b := float32(0)
		if bias != nil {
			b = bias[i]
		}
		row := dst[i*n:][:n]
		for j := range row {
			v := panel[j*m+i] + b
			if relu {
				v = max(v, 0)
			}
			row[j] = v
		}
	}
}

// WorkspaceSize is the number of float32s of workspace the layer uses: per
// thread, the GEMM packing buffers, one output panel and backward-filter's
// padded copies of x and dy; once, the rearranged filter of backward-data.
func (c *Conv2D) WorkspaceSize() int {
	n := c.threads * (c.gemmWS + c.panel + c.xpadLen + c.dypadLen)
	if c.route == routeFull {
		n += c.s.wLen
	}
	return n
}

// carve splits the workspace into the workers' pieces.
func (c *Conv2D) carve() {
	ws := c.ws
	c.workers = make([]worker, c.threads)
	c.slabs = make([][]float32, c.threads)
	for t := range c.workers {
		w := &c.workers[t]
		w.gemm, ws = ws[:c.gemmWS:c.gemmWS], ws[c.gemmWS:]
		w.panel, ws = ws[:c.panel:c.panel], ws[c.panel:]
		w.xpad, ws = ws[:c.xpadLen:c.xpadLen], ws[c.xpadLen:]
		w.dypad, ws = ws[:c.dypadLen:c.dypadLen], ws[c.dypadLen:]
		c.slabs[t] = w.gemm
		w.off = make([]int, c.s.R)
	}
	if c.route == routeFull {
		c.filt = ws[:c.s.wLen:c.s.wLen]
	}
}

// OutH returns P, the output height.
func (c *Conv2D) OutH() int { return c.s.P }

// OutW returns Q, the output width.
func (c *Conv2D) OutW() int { return c.s.Q }

// Params returns the layer's parameters with defaults filled in.
func (c *Conv2D) Params() Conv2DParams { return c.s.Conv2DParams }

// pass names the work a convJob does.
type pass uint8

const (
	passForward pass = iota
	passBackwardData
	passBackwardFilter
	passBackwardFilterShared // a block of dW from shared padded copies
	passBackwardDataRows     // a band of dX rows on the GEMM route
	passBackwardFilterPad    // a share of backwardFilterShared's padding
)

// convJob spreads the items of a pass (image and group pairs, or blocks of
// a filter gradient) over the workers, each taking a contiguous range. Its
// fields are the pass's arguments, so that starting it allocates nothing.
type convJob struct {
	c          *Conv2D
	pass       pass
	parts      int
	items      int
	a, b, d, e []float32
	g          int     // passBackwardFilterShared: the group
	beta       float32 // passBackwardFilterShared: 0 for the first image
}

func (j *convJob) Do(part int) {
	w := &j.c.workers[part]
	for it := part * j.items / j.parts; it < (part+1)*j.items/j.parts; it++ {
		j.c.item(j.pass, w, false, it, j.a, j.b, j.d, j.e)
	}
}

// run does the items of a pass: spread over the workers when there are at
// least as many items as threads, else one after the other, each multiply
// spread over the threads.
func (c *Conv2D) run(p pass, items int, a, b, d, e []float32) {
	if c.parallel() && items >= c.threads {
		c.job = convJob{c: c, pass: p, parts: c.threads, items: items, a: a, b: b, d: d, e: e}
		c.group.Run(c.threads, &c.job)
		c.job = convJob{}
		return
	}
	for it := 0; it < items; it++ {
		c.item(p, &c.workers[0], c.parallel(), it, a, b, d, e)
	}
}

// minParallelFlops is the smallest pass worth more than one thread. Before
// the workers polled (internal/parallel), waking a second thread cost tens
// of microseconds here and it was 16 Mflop; now the depthwise L9 (3.6
// Mflop, 110 µs) runs 1.9× as fast on two threads and L8 (12.5 Mflop) 2.0×.
// Tests lower it to run their small shapes threaded.
var minParallelFlops = 1 << 20

// parallel reports whether a pass of this layer runs on several threads.
func (c *Conv2D) parallel() bool {
	s := c.s
	return c.threads > 1 && 2*float64(s.N)*float64(s.K)*float64(s.CRSg)*float64(s.PQ) >= float64(minParallelFlops)
}

func (c *Conv2D) item(p pass, w *worker, wide bool, it int, a, b, d, e []float32) {
	switch p {
	case passForward:
		c.forwardItem(w, wide, it, a, b, d, e)
	case passBackwardData:
		c.backwardDataItem(w, wide, it, a, b, d)
	case passBackwardFilter:
		c.backwardFilterItem(w, it, a, b, d)
	case passBackwardFilterPad:
		c.padShare(it, a, b)
	case passBackwardDataRows:
		c.backwardDataRowsPart(w, it, a, b, d, e)
	case passBackwardFilterShared:
		i0, i1, j0, j1 := split(c.s.Kg, c.s.CRSg, c.threads, it)
		c.shiftedProduct(w, &c.workers[0], c.job.g, c.job.beta, a, i0, i1, j0, j1)
	}
}

// gemm runs the worker's multiply, on all threads when wide.
func (c *Conv2D) gemm(w *worker, wide bool) {
	if wide && c.threads > 1 {
		c.engine.Run(&w.g, c.slabs)
		return
	}
	w.g.Run(w.gemm)
}

// setIm2col makes m the column matrix of one image and group x. At column
// stride sw > 1 it splits x into sw phase planes per channel in wk.xpad
// first, so that packing reads contiguous runs.
func (c *Conv2D) setIm2col(wk *worker, m *simdconv.Im2col, x []float32) {
	s := c.s
	if c.split == nil {
		*m = simdconv.Im2col{X: x, C: s.Cg, H: s.H, W: s.W, P: s.P, Q: s.Q,
			StrideH: s.StrideH, StrideW: s.StrideW, OffH: c.offH, OffW: c.offW}
		return
	}
	sp := c.split
	plane := s.H * sp.w
	xs := wk.xpad[:s.Cg*s.StrideW*plane]
	splitPhases(xs, x, s.Cg, s.H, s.W, 1, s.StrideW, 0, 0, s.H, sp.w)
	*m = simdconv.Im2col{X: xs, C: s.Cg, H: s.H, W: sp.w, P: s.P, Q: s.Q,
		StrideH: s.StrideH, StrideW: 1, OffH: c.offH, OffW: sp.shift,
		ChanStride: s.StrideW * plane, TapPlane: sp.plane}
}

// columnSplit is the phase-plane form of a layer with column stride sw > 1
// (simdconv.Im2col): planes w = ⌈W/sw⌉ wide, and for each tap column s the
// shift and plane offset that read column q·sw + s·DilationW − PadLeft.
type columnSplit struct {
	w            int
	shift, plane []int
}

// planSplit sets c.split for a layer of column stride above 1.
func (c *Conv2D) planSplit() {
	s := c.s
	if s.StrideW == 1 {
		return
	}
	sp := &columnSplit{w: (s.W + s.StrideW - 1) / s.StrideW}
	for _, o := range c.offW {
		ph := ((o % s.StrideW) + s.StrideW) % s.StrideW
		sp.shift = append(sp.shift, (o-ph)/s.StrideW)
		sp.plane = append(sp.plane, ph*s.H*sp.w)
	}
	c.split = sp
	c.xpadLen = max(c.xpadLen, s.Cg*s.StrideW*s.H*sp.w)
}
