package kernels

import (
	"fmt"

	"github.com/simdconv/simdconv/internal/engine"
)

// Algorithm is how a plan computes its passes: WithAlgorithm chooses it.
type Algorithm uint8

const (
	// Direct computes every pass as the defining sums (GEMMs over the
	// column matrix and the stencils): the default.
	Direct Algorithm = iota
	// Winograd computes a 3×3 stride-1 layer's passes with F(4×4, 3×3):
	// 2.25 times fewer multiplications, at a larger rounding error (see
	// the package doc). NewConv2D refuses a layer it does not fit.
	Winograd
	// Auto takes Winograd for each pass of a layer it fits where the cost
	// model (winogradGain) predicts it faster, and Direct otherwise.
	Auto
)

// String returns the algorithm's name, as in Go.
func (a Algorithm) String() string {
	switch a {
	case Direct:
		return "Direct"
	case Winograd:
		return "Winograd"
	case Auto:
		return "Auto"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// WithAlgorithm chooses the algorithm of the passes: Direct (the
// default), Winograd or Auto.
func WithAlgorithm(a Algorithm) Option {
	return func(c *config) error {
		if a > Auto {
			return fmt.Errorf("kernels: WithAlgorithm(%v): want Direct, Winograd or Auto", a)
		}
		c.algo = a
		return nil
	}
}

// winoPlan is the Winograd side of a plan: which passes take it and the
// tiling of each.
//
// A pass is a 3×3 stride-1 correlation of an input of cin planes into
// cout planes, computed on blocks of tiles. A band is one row of tiles of
// fold images side by side (winoGeom), the bands of a batch form one
// sequence, and a block is a run of whole bands, so that the small planes
// of a batch fill the products. For each block: the input transform of all
// channels into V (36 points × cin × tiles), one product per point M_p =
// U_p · V_p into M (36 × cout × tiles), and the output transform. U (36
// × cout × cin) is the filter's transform, made once a call.
type winoPlan struct {
	forward, data, filter bool // the passes that take Winograd
	fwd, bwd              winoGeom
	ts                    int // row stride of V and M: a block's tiles and a vector's reach
	us                    int // point stride of U: K·C and a cache line (point)
	bandIn, bandOut       int // floats of a worker's input and output strips
}

// winoGeom is the tiling of one correlation: an input of cin planes
// h×w, read with padding top and left, into cout planes p×q.
//
// The band transforms compute whole vectors of tiles, so a plane a few
// tiles wide would leave most lanes idle. Its bands then hold the same
// row of tiles of fold images side by side, each image in a run of seg =
// tw + 1 tiles: the last tile of an image reads two columns past its
// 4·tw, so every run ends in a spare tile whose outputs are never stored.
// fold is the cheapest by the cost model (cost), spare tiles and idle
// lanes against each other.
type winoGeom struct {
	n, cin, cout int
	h, w         int
	top, left    int
	p, q         int
	th, tw       int // tiles down and across a plane
	fold, seg    int // images a band, tiles an image's run
	blockBands   int // bands of a block
}

// bandTiles is the tiles of a band; bands is the bands of all images,
// blocks the blocks they make.
func (g *winoGeom) bandTiles() int { return g.fold * g.seg }
func (g *winoGeom) bands() int     { return ceilDiv(g.n, g.fold) * g.th }
func (g *winoGeom) blocks() int    { return ceilDiv(g.bands(), g.blockBands) }

// strips calls f for each run of the bands [b0, b1) in one group of
// images: images [n0, n1), rows of tiles [t0, t1), the run's first band the
// block's i-th. A run's rows are copied and transformed as one strip.
func (g *winoGeom) strips(b0, b1 int, f func(n0, n1, t0, t1, i int)) {
	for b := b0; b < b1; {
		group := b / g.th
		end := min(b1, (group+1)*g.th)
		n0 := group * g.fold
		f(n0, min(g.n, n0+g.fold), b%g.th, b%g.th+end-b, b-b0)
		b = end
	}
}

// stripBands is the most bands of a strip.
func (g *winoGeom) stripBands() int { return min(g.blockBands, g.th) }

// runWidth is the floats of image i's run in a band row of ld floats: 4·seg,
// the last image's run reaching to the row's end.
func (g *winoGeom) runWidth(i, images, ld int) int {
	if i == images-1 {
		return ld - i*4*g.seg
	}
	return 4 * g.seg
}

// winoL2 is the floats of V and M that a block keeps: half of the core's
// L2, the rest left for the filter's rows and the packing.
var winoL2 = engine.L2() / 4 / 2

// winoMinTiles is the fewest tiles of a block, whatever the cache: each
// block's products read all of U, so a block of fewer tiles than a
// register tile's width or so streams U from memory for little work.
const winoMinTiles = 64

// winoMaxBand bounds a band's tiles when images are folded into it.
const winoMaxBand = 4 * engine.Slack

func newWinoGeom(n, cin, cout, h, w, top, left, p, q int) winoGeom {
	g := winoGeom{n: n, cin: cin, cout: cout, h: h, w: w, top: top, left: left, p: p, q: q,
		th: ceilDiv(p, 4), tw: ceilDiv(q, 4)}
	best, cost := g, 0.0
	for fold := 1; fold <= n && (fold == 1 || fold*(g.tw+1) <= winoMaxBand); fold++ {
		g.fold, g.seg = fold, g.tw
		if fold > 1 {
			g.seg = g.tw + 1
		}
		tiles := max(winoMinTiles, winoL2/(36*(cin+cout)))
		g.blockBands = min(g.bands(), max(1, tiles/g.bandTiles()))
		if c := g.cost(); fold == 1 || c < cost {
			best, cost = g, c
		}
	}
	return best
}

// winogradFits returns why Winograd cannot compute s, or nil.
func (s *shape) winogradFits() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("kernels: WithAlgorithm(Winograd): "+format, a...)
	}
	switch {
	case s.R != 3 || s.S != 3:
		return bad("R×S = %d×%d, want 3×3", s.R, s.S)
	case s.StrideH != 1 || s.StrideW != 1:
		return bad("stride %d×%d, want 1×1", s.StrideH, s.StrideW)
	case s.DilationH != 1 || s.DilationW != 1:
		return bad("dilation %d×%d, want 1×1", s.DilationH, s.DilationW)
	case max(s.PadTop, s.PadBottom, s.PadLeft, s.PadRight) > 2:
		return bad("padding %d,%d,%d,%d (top, bottom, left, right), want each ≤ 2",
			s.PadTop, s.PadBottom, s.PadLeft, s.PadRight)
	case s.Groups != 1:
		return bad("Groups = %d, want 1", s.Groups)
	case max(s.W, s.Q) > 1<<24:
		return bad("a row of %d, want ≤ %d", max(s.W, s.Q), 1<<24)
	}
	return nil
}

// planWinograd plans the passes that take Winograd, after the direct
// plan: all of them with Winograd, those the cost model favours with
// Auto.
func (c *Conv2D) planWinograd() error {
	s := &c.s
	err := s.winogradFits()
	if c.algo == Direct || c.algo == Auto && err != nil {
		return nil
	}
	if err != nil {
		return err
	}
	wp := &winoPlan{
		fwd: newWinoGeom(s.N, s.C, s.K, s.H, s.W, s.PadTop, s.PadLeft, s.P, s.Q),
		// dX is dY padded by 2 − pad, correlated with the rotated filter.
		bwd: newWinoGeom(s.N, s.K, s.C, s.P, s.Q, 2-s.PadTop, 2-s.PadLeft, s.H, s.W),
	}
	if c.algo == Winograd {
		return c.useWinograd(wp, true, true, true)
	}
	return c.useWinograd(wp, winogradGain(s, &wp.fwd) > 1, winogradGain(s, &wp.bwd) > 1, winogradGain(s, &wp.fwd) > 1)
}

// useWinograd makes the passes marked take Winograd on wp, sizing its
// buffers, and drops the direct buffers if no pass is left to use them.
func (c *Conv2D) useWinograd(wp *winoPlan, forward, data, filter bool) error {
	s := &c.s
	if !forward && !data && !filter {
		return nil
	}
	wp.forward, wp.data, wp.filter = forward, data, filter
	tiles := 0
	for _, g := range []*winoGeom{&wp.fwd, &wp.bwd} {
		tiles = max(tiles, g.blockBands*g.bandTiles())
		wp.bandIn = max(wp.bandIn, (4*g.stripBands()+2)*engine.WinogradBand(g.bandTiles()))
		wp.bandOut = max(wp.bandOut, 4*g.stripBands()*4*engine.WinogradLanes(g.bandTiles()))
	}
	wp.ts = engine.Lines(tiles + engine.Slack)
	wp.us = point(s.K*s.C, 1)
	if 36*wp.point(max(s.C, s.K)) > limit || 36*wp.us > limit {
		return fmt.Errorf("kernels: WithAlgorithm(Winograd): the transformed operands of %d×%d channels overflow", s.C, s.K)
	}
	c.wino = wp
	if !c.directPasses() {
		c.gemmWS, c.panel, c.xpadLen, c.dypadLen, c.chunks = 0, 0, 0, 0, 0
	}
	// The products: a block's per point, either way round, backward-
	// filter's sums, the filter's transform and its inverse.
	m := max(s.C, s.K)
	c.gemmWS = max(c.gemmWS, engine.Workspace(m, tiles, m), engine.Workspace(m, m, tiles),
		engine.Workspace(36, s.K*s.C, 9), engine.Workspace(s.K*s.C, 9, 36))
	return nil
}

// directPasses reports whether any pass of the plan is direct.
func (c *Conv2D) directPasses() bool {
	return c.wino == nil || !c.wino.forward || !c.wino.data || !c.wino.filter
}

// size is the floats the Winograd passes take of the workspace besides
// the workers' GEMM buffers: U, V and M once, and each worker's bands.
func (wp *winoPlan) size(s *shape, threads int) int {
	l := engine.Lines
	return l(36*wp.us) + 2*l(36*wp.point(max(s.C, s.K))) + threads*(l(wp.bandIn)+l(wp.bandOut))
}

// point is the floats from one point's matrix of V or M, rows channels of
// ts floats, to the next.
func (wp *winoPlan) point(rows int) int { return point(rows, wp.ts) }

// point is the stride of 36 matrices of rows × cols floats, stored one
// after another: their size and a cache line. A transform reads or writes
// a value of each, one stride apart; without the line, the stride of a
// layer whose channels and tiles are multiples of 16 is a multiple of
// 4 KiB, and the 36 streams fall into one set of the L1 cache, 8 or 12
// ways deep.
func point(rows, cols int) int { return rows*cols + engine.Line }

// winoState is a call's share of the Winograd buffers.
type winoState struct {
	u    []float32 // the filter's transform; backward-filter's sums M_p
	v, m []float32 // a block's transformed inputs and products (backward-filter: of x and of dY)
	conv winoConvJob
	filt winoFilterJob
}

// carve takes the state's buffers from piece.
func (ws *winoState) carve(wp *winoPlan, s *shape, piece func(int) []float32) {
	ws.u = piece(36 * wp.us)
	ws.v = piece(36 * wp.point(max(s.C, s.K)))
	ws.m = piece(36 * wp.point(max(s.C, s.K)))
}

// winoParts is how many threads a Winograd phase runs on.
func (st *callState) winoParts() int {
	if st.c.parallel() {
		return st.c.threads
	}
	return 1
}

// runParts runs j's parts 0 … parts−1.
func (st *callState) runParts(j interface{ Do(int) }, parts int) {
	if parts == 1 {
		j.Do(0)
		return
	}
	st.group.Run(parts, j)
}
