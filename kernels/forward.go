package kernels

import "github.com/simdconv/simdconv/internal/engine"

// Forward computes y = x ⋆ w + bias (cross-correlation, as in PyTorch), with
// y N×K×P×Q, x N×C×H×W, w K×(C/Groups)×R×S and bias nil or K long. With
// WithReLU, y is max(·, 0) of that.
//
// Each image and group is one multiply, Y (K/G × P·Q) = W (K/G × C/G·R·S) ·
// im2col(X), whose B panels are packed straight from x. A plan that takes
// Winograd for it (WithAlgorithm) computes it on F(4×4, 3×3) instead.
func (c *Conv2D) Forward(y, x, w, bias []float32) error {
	s := &c.s
	if err := checkArgs("Forward", c.ws,
		arg{name: "y", x: y, want: s.yLen, what: "N·K·P·Q", out: true},
		arg{name: "x", x: x, want: s.xLen, what: "N·C·H·W"},
		arg{name: "w", x: w, want: s.wLen, what: "K·C/Groups·R·S"},
		arg{name: "bias", x: bias, want: s.K, what: "K", optional: true}); err != nil {
		return err
	}
	st := c.acquire()
	defer c.release(st)
	if c.wino != nil && c.wino.forward {
		st.winoConv(&c.wino.fwd, y, x, w, bias, false, c.relu)
		return nil
	}
	if c.ind != nil {
		st.forwardIndirect(y, x, w, bias)
		return nil
	}
	if c.few != nil && c.few.forward {
		st.forwardFew(y, x, w, bias)
		return nil
	}
	if c.dwc != nil {
		st.dwc = dwcJob{st: st, dst: y, src: x, w: w, bias: bias}
		st.spread(&st.dwc)
		st.dwc = dwcJob{}
		return nil
	}
	if c.planes() {
		st.planes = planesJob{st: st, pl: &c.stencil.forward, dst: y, src: x, w: w, bias: bias, relu: c.relu}
		st.spread(&st.planes)
		st.planes = planesJob{}
		return nil
	}
	st.forward = forwardJob{st: st, y: y, x: x, w: w, bias: bias}
	st.spread(&st.forward)
	st.forward = forwardJob{}
	return nil
}

// forwardJob is a Forward call: y = x ⋆ w + bias, an item per image and
// group.
type forwardJob struct {
	st            *callState
	y, x, w, bias []float32
}

func (j *forwardJob) Do(part int) { j.st.doPart(j, part) }

func (j *forwardJob) items() int { return j.st.c.s.N * j.st.c.s.Groups }

func (j *forwardJob) item(wk *worker, wide bool, it int) {
	st, c := j.st, j.st.c
	s, y, x, w, bias := &c.s, j.y, j.x, j.w, j.bias
	n, g := it/s.Groups, it%s.Groups
	xg := x[(n*s.C+g*s.Cg)*s.HW:][:s.Cg*s.HW]
	if c.stencil != nil { // C/G = 1: a stencil per output channel of the group
		for k := g * s.Kg; k < (g+1)*s.Kg; k++ {
			var b []float32
			if bias != nil {
				b = bias[k : k+1]
			}
			c.forwardStencil(wk, y[(n*s.K+k)*s.PQ:][:s.PQ], xg, w[k*s.RS:][:s.RS], b)
		}
		return
	}
	var split *callState // a product that all threads share, its input split by all
	if wide {
		split = st
	}
	if c.forwardT {
		c.setIm2col(wk, (*engine.Im2col)(&wk.imT), xg, split)
		var bg []float32
		if bias != nil {
			bg = bias[g*s.Kg:][:s.Kg]
		}
		st.productT(wk, wide, w[g*s.Kg*s.CRSg:][:s.Kg*s.CRSg], s.Kg, s.CRSg, s.PQ,
			y[(n*s.K+g*s.Kg)*s.PQ:][:s.Kg*s.PQ], bg, c.relu)
		return
	}
	wk.denseA = engine.Dense{Data: w[g*s.Kg*s.CRSg:][:s.Kg*s.CRSg], Stride: s.CRSg}
	wk.g = engine.Gemm{M: s.Kg, N: s.PQ, K: s.CRSg, Alpha: 1,
		A:    &wk.denseA,
		C:    y[(n*s.K+g*s.Kg)*s.PQ:][:s.Kg*s.PQ],
		Ldc:  s.PQ,
		ReLU: c.relu}
	if bias != nil {
		wk.g.Bias = bias[g*s.Kg:][:s.Kg]
	}
	if c.pointwise || c.subsample {
		xs := xg
		if c.subsample {
			xs = c.subsampled(wk, xg, split)
		}
		wk.dense = engine.Dense{Data: xs, Stride: s.PQ}
		wk.g.B = &wk.dense
	} else {
		c.setIm2col(wk, &wk.im, xg, split)
		wk.g.B = &wk.im
	}
	st.gemm(wk, wide)
}
