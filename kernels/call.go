package kernels

import (
	// simdconv runs what internal/engine describes: it installs its driver
	// there when it is initialised.
	_ "github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/parallel"
)

// The state that one call of a pass writes, and how a pass's jobs spread
// over it.

// callState is everything a call writes besides its outputs: the workers'
// buffers, the rearranged filter, the GEMM engine and the jobs that carry
// the call's arguments to the threads. A call only reads the plan (Conv2D),
// so this is all the state it needs of its own; the plan keeps the states
// of finished calls for the next ones (acquire), so that a call allocates
// nothing.
type callState struct {
	c       *Conv2D     // the plan it serves
	workers []worker    // per-thread buffers, carved from the workspace
	slabs   [][]float32 // each worker's GEMM workspace, for engine.Run
	filt    []float32   // the filter rearranged for backward-data's full route or a direct pass (fewchan.go)
	// partials are the chunked backward-filter's partial dWs.
	partials []float32
	engine   engine.Engine
	group    parallel.Group

	forward      forwardJob
	data         dataJob
	planes       planesJob
	dwc          dwcJob
	dwcFilter    dwcFilterJob
	filterPlanes filterPlanesJob
	dataRows     dataRowsJob
	col2im       col2imJob
	dataPanels   dataPanelsJob
	rearrange    rearrangeJob
	filter       filterJob
	filterPad    filterPadJob
	filterShared filterSharedJob
	chunk        chunkJob
	split        splitJob
	wino         winoState
	fewForward   fewForwardJob
	fewData      fewDataJob
	fewFilter    fewFilterJob
	indirect     indirectJob
	layout       layoutJob
	indFilter    indirectFilterJob
	ind          []float32 // backward-filter's padded images and interleaved dY on the indirect route
	biasPad      []float32 // the indirect route's bias, lanes-padded per group, in filt
}

// worker holds what one thread needs during a pass. The structs are kept
// here, not on the stack, so that passing them to the GEMM engine does not
// allocate.
type worker struct {
	gemm    []float32 // GEMM packing workspace
	panel   []float32 // output panels: col2im's, a sub-pixel phase's, a transposed product's (productT), a stencil's; backward-filter's column matrix (imRows)
	off     []int     // tap offsets of a sub-pixel panel
	g       engine.Gemm
	denseA  engine.Dense
	dense   engine.Dense
	shifted engine.Shifted
	xpad    []float32 // input copies: padded (Shifted form, stencil), split into phase planes (column stride > 1), or col2im's phase planes
	dypad   []float32 // dY copies: at the padded row stride (Shifted form, stencil) or padded for backward-data's stencil
	block   []float32 // the indirect route's block of the filter (fused), or phaseFilter's transposed taps
	im      engine.Im2col
	imT     engine.Im2colT
	dots    []float32 // a depthwise filter gradient's dot products, one a tap
	// xpadImage is the image that xpad holds on the chunked backward-filter
	// route, or the image and group that xpad (dypad on backward-data)
	// holds on the direct passes (fewchan.go), or -1.
	xpadImage int
	// The Winograd passes' bands: 6 rows of input, 4 of output or dY.
	wbandIn, wbandOut []float32
	// Each thread writes its worker's fields, and dots, product by product;
	// padding keeps two threads' writes off a shared cache line.
	_ [cacheLine]byte
}

// cacheLine is the bytes of a cache line on the CPUs we run on.
const cacheLine = 64

// acquire returns a call state for one call, which gives it back with
// release: the caller's workspace, once the calls before have released it,
// or one of the plan's own, made if every one is in use.
func (c *Conv2D) acquire() *callState {
	if c.shared != nil {
		c.turn.Lock()
		return c.shared
	}
	c.mu.Lock()
	if n := len(c.free); n > 0 {
		st := c.free[n-1]
		c.free = c.free[:n-1]
		c.mu.Unlock()
		return st
	}
	c.mu.Unlock()
	return c.newState(make([]float32, c.WorkspaceSize()))
}

func (c *Conv2D) release(st *callState) {
	if st == c.shared {
		c.turn.Unlock()
		return
	}
	c.mu.Lock()
	c.free = append(c.free, st)
	c.mu.Unlock()
}

// newState carves the workspace ws into a call state's pieces, each on
// whole cache lines (engine.Line): the kernels stream through them with
// 64-byte loads and stores, and no two threads' pieces share a line.
func (c *Conv2D) newState(ws []float32) *callState {
	st := &callState{c: c}
	st.workers = make([]worker, c.threads)
	st.slabs = make([][]float32, c.threads)
	ws = engine.AlignLine(ws)
	piece := func(n int) []float32 {
		p := ws[:n:n]
		ws = ws[engine.Lines(n):]
		return p
	}
	for t := range st.workers {
		w := &st.workers[t]
		w.gemm, w.panel, w.xpad, w.dypad = piece(c.gemmWS), piece(c.panel), piece(c.xpadLen), piece(c.dypadLen)
		w.block = piece(c.blockLen)
		st.slabs[t] = w.gemm
		w.off = make([]int, c.s.R)
		dots := c.s.RS
		if c.stencil != nil {
			dots *= max(1, c.stencil.block) // 0 at stride above 1
		}
		if c.dwc != nil { // a block's filters, interleaved, and a phase's
			dots = max(dots, 2*c.s.RS*c.dwc.l)
		}
		w.dots = make([]float32, ceilDiv(dots, cacheLine/4)*cacheLine/4)[:dots]
	}
	st.filt = piece(c.filtLen())
	st.ind = piece(c.filterCopies())
	st.partials = piece(c.chunks * c.s.wLen)
	if wp := c.wino; wp != nil {
		for t := range st.workers {
			st.workers[t].wbandIn, st.workers[t].wbandOut = piece(wp.bandIn), piece(wp.bandOut)
		}
		st.wino.carve(wp, &c.s, piece)
	}
	return st
}

// itemJob is a pass made of items, image and group pairs or blocks of a
// filter gradient, that are independent of each other.
type itemJob interface {
	parallel.Job
	items() int
	// item does item it on wk, with its products spread over all threads
	// when wide.
	item(wk *worker, wide bool, it int)
}

// spread does the items of j: spread over the workers when there are at
// least as many items as threads, else one after the other, each multiply
// spread over the threads.
func (st *callState) spread(j itemJob) {
	c := st.c
	if c.parallel() && j.items() >= c.threads {
		st.group.Run(c.threads, j)
		return
	}
	for it := range j.items() {
		j.item(&st.workers[0], c.parallel(), it)
	}
}

// doPart is Do for an itemJob: worker part takes a contiguous range of the
// items.
func (st *callState) doPart(j itemJob, part int) {
	n, parts := j.items(), st.c.threads
	for it := part * n / parts; it < (part+1)*n/parts; it++ {
		j.item(&st.workers[part], false, it)
	}
}

// gemm runs the worker's multiply, on all threads when wide.
func (st *callState) gemm(w *worker, wide bool) {
	if wide && st.c.threads > 1 {
		st.engine.Run(&w.g, st.slabs)
		return
	}
	w.g.Run(w.gemm)
}

// productT sets dst (m×n, row stride n) to a (m×k, row-major) times the
// column matrix in wk.imT (k×n), plus bias per row, then ReLU if asked, by
// computing the transpose imTᵀ·aᵀ (n×m) into wk.panel and storing that
// transposed.
func (st *callState) productT(wk *worker, wide bool, a []float32, m, k, n int, dst, bias []float32, relu bool) {
	wk.dense = engine.Dense{Data: a, Stride: k, Trans: true}
	panel := wk.panel[:n*m]
	wk.g = engine.Gemm{M: n, N: m, K: k, Alpha: 1, A: &wk.imT, B: &wk.dense, C: panel, Ldc: m}
	st.gemm(wk, wide)
	storeT(dst, panel, m, n, bias, relu)
}

// storeT sets dst (m×n, row stride n) to the transpose of panel (n×m), plus
// bias per row if it is not nil, then ReLU if asked.
func storeT(dst, panel []float32, m, n int, bias []float32, relu bool) {
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
