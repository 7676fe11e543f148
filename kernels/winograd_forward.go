package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Forward and backward-data on Winograd F(4×4, 3×3): both are a 3×3
// stride-1 correlation (winoGeom), forward of x with w, backward-data of
// dY, padded by 2 − pad, with the filter rotated by 180° and its channels
// exchanged.

// winoPhase is a step of a block, which the threads split.
type winoPhase uint8

const (
	phaseFilter winoPhase = iota // the filter's transform U, rows of U_p split
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
	case phaseFilter:
		winoFilterTransform(st.wino.u, j.w, g.cout, g.cin, lo(g.cout), hi(g.cout), j.rotate)
	case phaseInput:
		for ci := lo(g.cin); ci < hi(g.cin); ci++ {
			st.winoInput(wk, g, j.in, j.b0, j.b1, ci)
		}
	case phaseGemm:
		tiles := (j.b1 - j.b0) * g.tw
		ts := st.c.wino.ts
		for p := lo(36); p < hi(36); p++ {
			wk.denseA = engine.Dense{Data: st.wino.u[p*g.cout*g.cin:][:g.cout*g.cin], Stride: g.cin}
			wk.dense = engine.Dense{Data: st.wino.v[p*g.cin*ts:][:g.cin*ts], Stride: ts}
			wk.g = engine.Gemm{M: g.cout, N: tiles, K: g.cin, Alpha: 1, A: &wk.denseA, B: &wk.dense,
				C: st.wino.m[p*g.cout*ts:][:g.cout*ts], Ldc: ts}
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
	ts := st.c.wino.ts
	ld := engine.WinogradBand(g.tw)
	band := wk.wbandIn[:6*ld]
	for b := b0; b < b1; b++ {
		n, ti := b/g.th, b%g.th
		plane := in[(n*g.cin+ci)*g.h*g.w:][:g.h*g.w]
		// Input rows 4·ti − top … +5, those outside the plane zero.
		h0 := 4*ti - g.top
		r0, r1 := max(0, -h0), min(6, g.h-h0)
		clear(band[:r0*ld])
		if r0 < r1 {
			engine.CopyRows(band[r0*ld:], plane[(h0+r0)*g.w:], r1-r0, ld, g.left, g.left+g.w, ld, g.w)
		}
		clear(band[max(r0, r1)*ld:])
		engine.WinogradInput(st.wino.v[ci*ts+(b-b0)*g.tw:], g.cin*ts, band, ld, g.tw)
	}
}

// output transforms channel co of the block's products into out, with
// the bias and the ReLU. A band whose vectors of tiles cover exactly the
// plane's full rows is written in place; the others go through the
// worker's band, which CopyRows trims.
func (j *winoConvJob) output(wk *worker, co int) {
	g, ts := j.g, j.st.c.wino.ts
	ld := 4 * engine.WinogradLanes(g.tw)
	bias := float32(0)
	if j.bias != nil {
		bias = j.bias[co]
	}
	for b := j.b0; b < j.b1; b++ {
		n, ti := b/g.th, b%g.th
		plane := j.out[(n*g.cout+co)*g.p*g.q:][:g.p*g.q]
		m := j.st.wino.m[co*ts+(b-j.b0)*g.tw:]
		rows := min(4, g.p-4*ti)
		if rows == 4 && ld == g.q {
			engine.WinogradOutput(plane[4*ti*g.q:], g.q, m, g.cout*ts, g.tw, bias, j.relu)
			continue
		}
		band := wk.wbandOut[:4*ld]
		engine.WinogradOutput(band, ld, m, g.cout*ts, g.tw, bias, j.relu)
		engine.CopyRows(plane[4*ti*g.q:], band, rows, g.q, 0, g.q, g.q, ld)
	}
}

// winoFilterTransform sets rows [r0, r1) of U_p (rows × cols, at
// u[p·rows·cols:]) to the transform G g Gᵀ of the filters g = w[r][c]
// (forward: rows are K, columns C) or, with rotate, of w[c][r] rotated by
// 180° (backward-data: rows are C, columns K). It works in float64, which
// costs nothing beside the products and rounds U once.
//
// The 36 planes of U lie K·C floats apart, a power of two in most layers:
// stores to all 36 at once would compete for a few cache sets. So it
// transforms a run of winoFilterRun filters into a local block first and
// copies each point's run out whole. Runs go outermost, so that backward-
// data's reads of w across rows reuse the lines the previous row loaded.
func winoFilterTransform(u, w []float32, rows, cols, r0, r1 int, rotate bool) {
	plane := rows * cols
	var block [36][winoFilterRun]float32
	for c0 := 0; c0 < cols; c0 += winoFilterRun {
		run := min(winoFilterRun, cols-c0)
		for r := r0; r < r1; r++ {
			for i := range run {
				var g [9]float32
				if c := c0 + i; rotate {
					src := w[(c*rows+r)*9:][:9]
					for e := range g {
						g[e] = src[8-e]
					}
				} else {
					g = [9]float32(w[(r*cols+c)*9:][:9])
				}
				// t = G g (6×3), then u = t Gᵀ, in scalars that stay in
				// registers.
				var t [6][3]float64
				for s := range 3 {
					t[0][s], t[1][s], t[2][s], t[3][s], t[4][s], t[5][s] =
						winoG(float64(g[s]), float64(g[3+s]), float64(g[6+s]))
				}
				for xi := range t {
					u0, u1, u2, u3, u4, u5 := winoG(t[xi][0], t[xi][1], t[xi][2])
					b := block[6*xi:][:6]
					b[0][i], b[1][i], b[2][i] = float32(u0), float32(u1), float32(u2)
					b[3][i], b[4][i], b[5][i] = float32(u3), float32(u4), float32(u5)
				}
			}
			for p := range block {
				copy(u[p*plane+r*cols+c0:][:run], block[p][:run])
			}
		}
	}
}

// winoFilterRun is the filters that winoFilterTransform transforms
// together: 36 runs of 64 floats, 9 KiB, stay in L1.
const winoFilterRun = 64

// winoG is G a for the filter transform's G (6×3): rows 1/4·(1, 0, 0),
// −1/6·(1, 1, 1), −1/6·(1, −1, 1), (1/24, 1/12, 1/6), (1/24, −1/12, 1/6)
// and (0, 0, 1). It multiplies by the fractions rather than divide: a
// division costs as much as the rest of the transform.
func winoG(a0, a1, a2 float64) (u0, u1, u2, u3, u4, u5 float64) {
	const sixth, twelfth, n24 = 1. / 6, 1. / 12, 1. / 24
	s, d := -(a0+a2)*sixth, -a1*sixth
	s2, d2 := a0*n24+a2*sixth, a1*twelfth
	return a0 * 0.25, s + d, s - d, s2 + d2, s2 - d2, a2
}
