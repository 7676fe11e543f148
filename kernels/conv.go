package kernels

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/simdconv/simdconv/internal/engine"
)

// Conv2D is a validated convolution layer: the plan of the three passes of
// one shape, with their workspace. Create it once with NewConv2D and call it
// for every batch.
//
// A *Conv2D is safe for concurrent use by any number of goroutines, with
// every pass, and each call gives bitwise the results it would give alone.
// A call takes a workspace of the plan's for its duration: the plan keeps
// one for each call that has overlapped another, so one caller at a time
// never needs more than the first, and calls allocate nothing once the plan
// has made as many as run at once. With WithWorkspace there is only the
// caller's: overlapping calls on the plan take turns, and two plans that
// share one workspace must not run at the same time.
type Conv2D struct {
	s shape
	config

	// The workspaces of calls: the caller's (WithWorkspace), which calls
	// take in turn, or the plan's own, kept in free between calls.
	shared *callState
	turn   sync.Mutex
	mu     sync.Mutex
	free   []*callState

	// Input preparation, shared by the passes (prepare.go).
	offH, offW []int               // forward taps: r·DilationH − PadTop, s·DilationW − PadLeft
	pointwise  bool                // 1×1, stride 1, no padding: the column matrix is X itself
	subsample  bool                // 1×1, stride above 1, no padding: X at rows p·sh and columns q·sw (planSubsample)
	split      *columnSplit        // the phase planes of a layer of column stride > 1, or nil
	stencil    *stencilPlan        // a depthwise layer's stencil passes, or nil
	dwc        *dwcPlan            // a depthwise layer's channel-interleaved passes, or nil
	few        *fewPlan            // the direct passes of a layer with few input channels (fewchan.go), or nil
	ind        *indirectPlan       // forward on the indirect route (indirect.go), or nil
	indData    *indirectPlan       // backward-data on the indirect route, or nil
	indFilter  *indirectFilterPlan // backward-filter on the indirect route, or nil
	indLen     int                 // callState.ind
	wpad       int                 // phase plane width of the Shifted form (W' at stride 1), or the stencil's W'

	// Forward.
	forwardT bool // Forward computes Yᵀ, which fits the register tile better

	// BackwardData.
	route  route       // backward-data route
	phases []phase     // sub-pixel phases of the full route
	panels []panelItem // the strided phases' panels, dealt to the threads (planPanels)
	fullT  bool        // the full route at stride 1 computes dXᵀ, as forwardT
	dataT  bool        // a 1×1 layer's backward-data computes dXᵀ
	chunk  int         // columns per col2im panel on the GEMM route

	// BackwardFilter.
	shifted []int // tap offsets of the Shifted column matrix, or nil
	// shiftedPhases marks the phase planes of the Shifted form that a tap reads.
	shiftedPhases []bool
	imRows        bool // the column matrix is written out first (planImRows)
	filterT       bool // a 1×1 layer's backward-filter computes dWᵀ (planFilterT)
	chunks        int  // chunks of backward-filter's reduction (planChunks, planFew), or 0

	// The passes that take Winograd, or nil (winograd.go).
	wino *winoPlan

	// Floats of workspace per worker.
	gemmWS   int // GEMM packing
	panel    int // worker.panel
	xpadLen  int // worker.xpad
	blockLen int // worker.block
	dypadLen int // worker.dypad
}

// config is what the options set.
type config struct {
	threads    int
	ws         []float32 // the caller's workspace, or nil
	accumulate bool      // BackwardFilter adds into dw and dbias
	relu       bool      // Forward applies max(·, 0)
	algo       Algorithm // Direct, Winograd or Auto
}

// An Option configures NewConv2D and WorkspaceSize.
type Option func(*config) error

// WithThreads sets the number of threads a pass uses: 0 (the default) means
// GOMAXPROCS, 1 runs everything on the calling goroutine. More threads
// than the machine has CPUs (runtime.NumCPU) are clamped to that number:
// the results do not depend on it.
func WithThreads(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("kernels: WithThreads(%d): want ≥ 0", n)
		}
		c.threads = n
		return nil
	}
}

// threads resolves a thread-count option.
func threads(n int) int {
	if n == 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return min(n, max(runtime.NumCPU(), runtime.GOMAXPROCS(0)))
}

// WithWorkspace makes the layer use ws, which must hold at least
// WorkspaceSize floats, instead of allocating its own. A workspace sized
// for n threads serves a plan of n threads or fewer. Calls on the plan then
// take turns; several layers that never run at the same time may share one
// workspace.
func WithWorkspace(ws []float32) Option {
	return func(c *config) error {
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
	return func(c *config) error { c.accumulate = true; return nil }
}

// WithReLU fuses max(·, 0) into Forward's output.
func WithReLU() Option {
	return func(c *config) error { c.relu = true; return nil }
}

// NewConv2D validates p and the options once and plans all three passes.
// The error names the offending parameter or option and its value.
func NewConv2D(p Conv2DParams, opts ...Option) (*Conv2D, error) {
	c, err := newPlan(p, opts)
	if err != nil {
		return nil, err
	}
	need := c.WorkspaceSize()
	if c.ws == nil {
		c.free = []*callState{c.newState(make([]float32, need))}
		return c, nil
	}
	if len(c.ws) < need {
		return nil, fmt.Errorf("kernels: WithWorkspace: len(ws) = %d, want ≥ %d (WorkspaceSize)", len(c.ws), need)
	}
	c.shared = c.newState(c.ws)
	return c, nil
}

// WorkspaceSize returns the floats of workspace that a plan of p with these
// options uses, without making one: the length WithWorkspace needs.
func WorkspaceSize(p Conv2DParams, opts ...Option) (int, error) {
	c, err := newPlan(p, opts)
	if err != nil {
		return 0, err
	}
	return c.WorkspaceSize(), nil
}

// newPlan validates p and opts and plans the passes, without a workspace.
func newPlan(p Conv2DParams, opts []Option) (*Conv2D, error) {
	if err := engine.ISAError(); err != nil {
		return nil, err
	}
	s, err := p.validate()
	if err != nil {
		return nil, err
	}
	c := &Conv2D{s: s}
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("kernels: option %d of %d is nil", i+1, len(opts))
		}
		if err := o(&c.config); err != nil {
			return nil, err
		}
	}
	c.threads = threads(c.threads)
	c.offH = taps(s.R, s.DilationH, -s.PadTop)
	c.offW = taps(s.S, s.DilationW, -s.PadLeft)
	c.pointwise = s.R == 1 && s.S == 1 && s.StrideH == 1 && s.StrideW == 1 &&
		s.PadTop == 0 && s.PadBottom == 0 && s.PadLeft == 0 && s.PadRight == 0
	c.planStencil()
	c.planDwc()
	c.planSubsample()
	c.planFew()
	c.planIndirect()
	c.planSplit()
	c.planBackwardData()
	c.planShifted()
	c.planChunks()
	c.planImRows()
	c.planFilterT()
	c.planIndirectFilter()
	c.plan()
	if err := c.planWinograd(); err != nil {
		return nil, err
	}
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
	s := &c.s
	m := max(s.Kg, s.Cg, s.CRSg, s.PQ, s.HW)
	n := m
	k := max(s.CRSg, s.Kg*s.RS, s.PQ, s.P*c.wpad)
	c.gemmWS = engine.Workspace(m, n, k)
	c.forwardT = s.PQ*s.Kg <= maxCopy && transposeFits(s.Kg, s.PQ, s.CRSg, s.Q)
	if c.forwardT {
		c.panel = max(c.panel, s.PQ*s.Kg)
	}
	if c.imRows {
		c.panel = max(c.panel, s.CRSg*s.PQ)
	}
}

// transposeFits reports whether an m×n product with reduction length k,
// whose B is an im2col of rows q floats long, is better computed as its n×m
// transpose: when the transpose wastes clearly less of the register tiles
// at the edges (for a 7×7 layer on AVX-512, 49 columns take 48 + 16 of 8×48
// and 8×16 tiles; as rows they fill 49 of 56) and the saving pays for
// storing the result transposed, about 128 flops an element, and for
// packing the im2col as A slivers mr wide rather than B slivers nr wide,
// whose runs of each row are shorter (imPackCost).
func transposeFits(m, n, k, q int) bool {
	mr, nr := engine.Tile()
	flops := 2 * float64(m) * float64(n) * float64(k)
	plain := flops/engine.DenseTileFit(m, n) + imPackCost(nr, q)*float64(k)*float64(n)
	transposed := flops/engine.TileFit(n, m) + 128*float64(m)*float64(n) + imPackCost(mr, q)*float64(k)*float64(n)
	return transposed < 0.95*plain
}

// imPackCost is the cost of packing an element of an im2col of rows q
// floats long into slivers w wide, in flop equivalents: packCost, and a
// segment's worth (segFloats) for each run, at most w and q floats long.
func imPackCost(w, q int) float64 { return packCost * (1 + segFloats/float64(min(w, q))) }

// transposeGains is transposeFits for a plain product that fills fit of
// its tiles.
func transposeGains(m, n, k int, fit float64) bool {
	flops := 2 * float64(m) * float64(n) * float64(k)
	plain := flops / fit
	transposed := flops/engine.TileFit(n, m) + 128*float64(m)*float64(n)
	return transposed < 0.95*plain
}

// WorkspaceSize is the number of float32s of workspace the layer uses: per
// thread, the GEMM packing buffers, one output panel and backward-filter's
// padded copies of x and dy; once, the rearranged filter of backward-data
// or of the direct passes, and the Winograd passes' buffers (winoPlan.size).
func (c *Conv2D) WorkspaceSize() int {
	l := engine.Lines
	n := c.threads * (l(c.gemmWS) + l(c.panel) + l(c.xpadLen) + l(c.dypadLen) + l(c.blockLen))
	n += l(c.filtLen()) + l(c.filterCopies())
	if c.wino != nil {
		n += c.wino.size(&c.s, c.threads)
	}
	// newState starts on a cache line, up to a line less one in.
	return n + l(c.chunks*c.s.wLen) + engine.Line - 1
}

// filterCopies is the floats of callState.ind: backward-filter's copies on
// the indirect route, unless Winograd takes the pass.
func (c *Conv2D) filterCopies() int {
	if c.wino != nil && c.wino.filter {
		return 0
	}
	return c.indLen
}

// filtLen is the floats of the filter rearranged for a pass: backward-
// data's full route, the few-channel passes or the indirect route, with
// its padded bias.
func (c *Conv2D) filtLen() int {
	n := 0
	if c.fullFilter() || c.few != nil {
		n = c.s.wLen
	}
	if c.ind != nil && (c.wino == nil || !c.wino.forward) {
		n = max(n, c.ind.filtLen(c.s.Groups))
	}
	if c.route == routeIndirect && (c.wino == nil || !c.wino.data) {
		n = max(n, c.indData.filtLen(c.s.Groups))
	}
	return n
}

// fullFilter reports whether backward-data runs the full route, which
// rearranges the filter into the workspace.
func (c *Conv2D) fullFilter() bool {
	return c.route == routeFull && (c.wino == nil || !c.wino.data)
}

// OutH returns P, the output height.
func (c *Conv2D) OutH() int { return c.s.P }

// OutW returns Q, the output width.
func (c *Conv2D) OutW() int { return c.s.Q }

// Params returns the layer's parameters with defaults filled in.
func (c *Conv2D) Params() Conv2DParams { return c.s.Conv2DParams }

// minParallelFlops is the smallest pass worth more than one thread: below
// it, handing the parts to the workers costs more than the second thread
// saves. Tests lower it to run their small shapes threaded.
var minParallelFlops = 1 << 20

// depthwiseSlow is how many times longer a flop of the depthwise routes
// (dwc, stencil) takes than one of the GEMM's, where each FMA loads its
// own x: 4–10 on an Intel Xeon (Z11, Z12 and L9 at 19–49 GFLOP/s against
// 160–200 for the dense layers).
const depthwiseSlow = 8

// parallel reports whether a pass of this layer runs on several threads:
// where its flops, weighted by how slowly its route runs them, reach
// minParallelFlops. Unweighted, Z11 and Z12 (0.7 and 0.8 MFLOP) ran on one
// thread, and ran 1.5–1.75× faster on two (results/, 2026-12-04,
// depthwise-threads.md).
func (c *Conv2D) parallel() bool {
	s := &c.s
	work := 2 * float64(s.N) * float64(s.K) * float64(s.CRSg) * float64(s.PQ)
	if c.dwc != nil || c.stencil != nil {
		work *= depthwiseSlow
	}
	return c.threads > 1 && work >= float64(minParallelFlops)
}
