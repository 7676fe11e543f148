package kernels

import (
	"fmt"

	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/parallel"
)

// Conv2D is a validated convolution layer: the plan of the three passes of
// one shape, with their workspace. Create it once with NewConv2D and call it
// for every batch. A Conv2D runs one pass at a time; use one per goroutine.
type Conv2D struct {
	s          shape
	threads    int
	accumulate bool      // BackwardFilter adds into dw and dbias
	relu       bool      // Forward applies max(·, 0)
	ws         []float32 // all of the workspace, the caller's or our own

	// Input preparation, shared by the passes (prepare.go).
	offH, offW []int        // forward taps: r·DilationH − PadTop, s·DilationW − PadLeft
	pointwise  bool         // 1×1, stride 1, no padding: the column matrix is X itself
	split      *columnSplit // the phase planes of a layer of column stride > 1, or nil
	stencil    *stencilPlan // a depthwise stride-1 layer's stencil passes, or nil
	wpad       int          // phase plane width of the Shifted form (W' at stride 1), or the stencil's W'

	// Forward.
	forwardT bool // Forward computes Yᵀ, which fits the register tile better

	// BackwardData.
	route  route   // backward-data route
	phases []phase // sub-pixel phases of the full route
	fullT  bool    // the full route at stride 1 computes dXᵀ, as forwardT
	chunk  int     // columns per col2im panel on the GEMM route

	// BackwardFilter.
	shifted []int // tap offsets of the Shifted column matrix, or nil
	imRows  bool  // the column matrix is written out first (planImRows)

	// Floats of workspace per worker.
	gemmWS   int // GEMM packing
	panel    int // worker.panel
	xpadLen  int // worker.xpad
	dypadLen int // worker.dypad

	call callState
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
	c.gemmWS = engine.Workspace(m, n, k)
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
// as much as 128 flops an element.
func transposeFits(m, n, k int) bool {
	flops := 2 * float64(m) * float64(n) * float64(k)
	plain := flops / engine.DenseTileFit(m, n)
	transposed := flops/engine.TileFit(n, m) + 128*float64(m)*float64(n)
	return transposed < 0.95*plain
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

// parallel reports whether a pass of this layer runs on several threads.
func (c *Conv2D) parallel() bool {
	s := c.s
	return c.threads > 1 && 2*float64(s.N)*float64(s.K)*float64(s.CRSg)*float64(s.PQ) >= float64(minParallelFlops)
}
