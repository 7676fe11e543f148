package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Forward and backward-data on Winograd F(4×4, 3×3): both are a 3×3
// stride-1 correlation (winoGeom), forward of x with w, backward-data of
// dY, padded by 2 − pad, with the filter rotated by 180° and its channels
// exchanged.

// winoPhase is a step of a block, which the threads split.
type winoPhase uint8

const (
	phaseFilter winoPhase = iota // the filter's transform U, filters split
	phaseInput                   // the block's input transform, channels split
	phaseGemm                    // the products of the block, points split
	phaseOutput                  // the output transform, output channels split
)

// winoConvJob is a Forward or BackwardData call on Winograd.
type winoConvJob struct {
	st           *callState
	g            *winoGeom
	out, in      []float32 // y and x, or dx and dy
	w, bias      []float32 // the filter as given (K×C×3×3); bias nil or cout long
	rotate, relu bool      // backward-data reads w rotated and transposed; Forward's ReLU
	phase        winoPhase
	b0, b1       int // the block's bands
	parts        int
}

// winoConv sets out from in on geometry g: the filter's transform, then
// block by block the input transform, the products and the output
// transform, each a phase that the threads split.
func (st *callState) winoConv(g *winoGeom, out, in, w, bias []float32, rotate, relu bool) {
	j := &st.wino.conv
	*j = winoConvJob{st: st, g: g, out: out, in: in, w: w, bias: bias, rotate: rotate, relu: relu,
		parts: st.winoParts()}
	j.phase = phaseFilter
	st.runParts(j, j.parts)
	for j.b0 = 0; j.b0 < g.bands(); j.b0 = j.b1 {
		j.b1 = min(j.b0+g.blockBands, g.bands())
		for _, ph := range []winoPhase{phaseInput, phaseGemm, phaseOutput} {
			j.phase = ph
			st.runParts(j, j.parts)
		}
	}
	*j = winoConvJob{}
}

func (j *winoConvJob) Do(part int) {
	g, st := j.g, j.st
	wk := &st.workers[part]
	lo := func(n int) int { return part * n / j.parts }
	hi := func(n int) int { return (part + 1) * n / j.parts }
	switch j.phase {
	case phaseFilter: // forward: columns (k, c) of U; backward-data: channels c
		if j.rotate {
			st.winoFilterTransform(wk, j.w, g.cin, g.cout, lo(g.cout), hi(g.cout), true)
		} else {
			st.winoFilterTransform(wk, j.w, g.cout, g.cin, lo(g.cout*g.cin), hi(g.cout*g.cin), false)
		}
	case phaseInput:
		for ci := lo(g.cin); ci < hi(g.cin); ci++ {
			st.winoInput(wk, g, j.in, j.b0, j.b1, ci)
		}
	case phaseGemm:
		tiles := (j.b1 - j.b0) * g.bandTiles()
		wp := st.c.wino
		ts, vs, ms := wp.ts, wp.point(g.cin), wp.point(g.cout)
		for p := lo(36); p < hi(36); p++ {
			wk.denseA = engine.Dense{Data: st.wino.u[p*wp.us:][:g.cout*g.cin], Stride: g.cin}
			wk.dense = engine.Dense{Data: st.wino.v[p*vs:][:g.cin*ts], Stride: ts}
			wk.g = engine.Gemm{M: g.cout, N: tiles, K: g.cin, Alpha: 1, A: &wk.denseA, B: &wk.dense,
				C: st.wino.m[p*ms:][:g.cout*ts], Ldc: ts}
			wk.g.Run(wk.gemm)
		}
	case phaseOutput:
		for co := lo(g.cout); co < hi(g.cout); co++ {
			j.output(wk, co)
		}
	}
}

// winoInput transforms channel ci of in's bands [b0, b1) into V.
func (st *callState) winoInput(wk *worker, g *winoGeom, in []float32, b0, b1, ci int) {
	ts, bt := st.c.wino.ts, g.bandTiles()
	ld := engine.WinogradBand(bt)
	g.strips(b0, b1, func(n0, n1, t0, t1, i int) {
		// Input rows 4·t0 − top … 4·t1 + 1 − top, those outside the plane zero.
		rows := 4*(t1-t0) + 2
		strip := wk.wbandIn[:rows*ld]
		h0 := 4*t0 - g.top
		r0, r1 := max(0, -h0), min(rows, g.h-h0)
		clear(strip[:r0*ld])
		for n := n0; n < n1 && r0 < r1; n++ {
			plane := in[(n*g.cin+ci)*g.h*g.w:][:g.h*g.w]
			engine.CopyRows(strip[r0*ld+(n-n0)*4*g.seg:], plane[(h0+r0)*g.w:], r1-r0,
				g.runWidth(n-n0, n1-n0, ld), g.left, g.left+g.w, ld, g.w)
		}
		clear(strip[max(r0, r1)*ld:])
		for t := t0; t < t1; t++ {
			engine.WinogradInput(st.wino.v[ci*ts+(i+t-t0)*bt:], st.c.wino.point(g.cin), strip[4*(t-t0)*ld:], ld, bt)
		}
	})
}

// output transforms channel co of the block's products into out, with
// the bias and the ReLU. The bands of one image whose vectors of tiles
// cover exactly the plane's full rows are written in place; the others go
// through the worker's strip, which CopyRows trims.
func (j *winoConvJob) output(wk *worker, co int) {
	g, ts, bt := j.g, j.st.c.wino.ts, j.g.bandTiles()
	ms := j.st.c.wino.point(g.cout)
	ld := 4 * engine.WinogradLanes(bt)
	bias := float32(0)
	if j.bias != nil {
		bias = j.bias[co]
	}
	inPlace := g.fold == 1 && ld == g.q
	g.strips(j.b0, j.b1, func(n0, n1, t0, t1, i int) {
		via := t0 // the bands [via, t1) go through the strip
		for t := t0; t < t1; t++ {
			m := j.st.wino.m[co*ts+(i+t-t0)*bt:]
			if inPlace && 4*t+4 <= g.p {
				plane := j.out[(n0*g.cout+co)*g.p*g.q:][:g.p*g.q]
				engine.WinogradOutput(plane[4*t*g.q:], g.q, m, ms, bt, bias, j.relu)
				via = t + 1
				continue
			}
			engine.WinogradOutput(wk.wbandOut[4*(t-via)*ld:], ld, m, ms, bt, bias, j.relu)
		}
		rows := min(4*t1, g.p) - 4*via
		for n := n0; n < n1 && rows > 0; n++ {
			plane := j.out[(n*g.cout+co)*g.p*g.q:][:g.p*g.q]
			engine.CopyRows(plane[4*via*g.q:], wk.wbandOut[(n-n0)*4*g.seg:], rows, g.q, 0, g.q, g.q, ld)
		}
	})
}

// winoFilterTransform sets columns [j0, j1) of U's rows, for forward
// (rotate false), U_p[k][c] = (G w[k][c] Gᵀ)_p, one product of the
// transform matrix winoGG (36×9) and the filter seen as 9 × K·C; for
// backward-data, U_p[c][k] = (G rot(w[k][c]) Gᵀ)_p, one such product per
// input channel c of the rotated matrix and the 9 × K filters of c, with
// j0, j1 counting channels.
func (st *callState) winoFilterTransform(wk *worker, w []float32, kn, cn, j0, j1 int, rotate bool) {
	u, us := st.wino.u, st.c.wino.us
	if !rotate {
		wk.denseA = engine.Dense{Data: winoGG[:], Stride: 9}
		wk.dense = engine.Dense{Data: w, Stride: 9, Trans: true}
		wk.g = engine.Gemm{M: 36, N: kn * cn, K: 9, Alpha: 1, A: &wk.denseA, B: &wk.dense, C: u, Ldc: us}
		wk.g.RunBlock(wk.gemm, 0, 36, j0, j1)
		return
	}
	for c := j0; c < j1; c++ {
		wk.denseA = engine.Dense{Data: winoGGRot[:], Stride: 9}
		wk.dense = engine.Dense{Data: w[c*9:], Stride: cn * 9, Trans: true}
		wk.g = engine.Gemm{M: 36, N: kn, K: 9, Alpha: 1, A: &wk.denseA, B: &wk.dense, C: u[c*kn:], Ldc: us}
		wk.g.Run(wk.gemm)
	}
}

// winoGG is G⊗G, 36×9 row-major: row p = 6ξ+ν, column 3r+s holds
// G[ξ][r]·G[ν][s], so that (G g Gᵀ)_p = Σ winoGG[9p+3r+s]·g[r][s]; the
// filter gradient's inverse transform, Gᵀ M G, is its transpose.
// winoGGRot reads g rotated by 180°.
var winoGG, winoGGRot = func() (gg, rot [36 * 9]float32) {
	g := [6][3]float64{{1. / 4, 0, 0}, {-1. / 6, -1. / 6, -1. / 6}, {-1. / 6, 1. / 6, -1. / 6},
		{1. / 24, 1. / 12, 1. / 6}, {1. / 24, -1. / 12, 1. / 6}, {0, 0, 1}}
	for p := range 36 {
		for t := range 9 {
			v := float32(g[p/6][t/3] * g[p%6][t%3])
			gg[9*p+t], rot[9*p+8-t] = v, v
		}
	}
	return gg, rot
}()
