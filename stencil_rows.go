package simdconv

import (
	"fmt"

	"github.com/simdconv/simdconv/internal/engine"
)

// Layers with few input channels per group (an RGB stem, MNIST's single
// channel, LeNet's six) have a reduction C/G·R·S too short for the GEMM's
// tiles to repay packing B and storing C. Over zero-padded planes read at
// positions p·W'+q, every (channel, tap) pair is a shift of the input, as
// in the depthwise passes, and a block of output channels shares each
// shifted load of x:
//
//   - forward and backward-data: StencilRows, y_k = bias_k + Σ_t w[t·m+k]·x[off[t]:];
//   - backward-filter: DotsRows, d[k·T+t] = Σ_i a_k[i]·x[off[t]+i].

// StencilRows sets y[k·ldy+i] = bias[k] + Σ_t w[t·m+k]·x[off[t]+i] for
// k < m and i < n (bias nil counts as zeros), and may write each row of y
// up to n rounded up to engine.Slack. It panics unless y, w, bias, off and
// x hold what that reads and writes.
func (driver) StencilRows(y []float32, ldy int, x, w []float32, off []int, n, m int, bias []float32) {
	stencilLines("StencilRows", y, ldy, 0, x, 0, w, off, n, 1, m, bias)
}

// StencilLines is StencilRows on lines of n outputs, ldyl apart in each
// row of y, from x ldxl further on a line: y[k·ldy+j·ldyl+i] = bias[k] +
// Σ_t w[t·m+k]·x[off[t]+j·ldxl+i] for j < lines. Lines are written in
// order, each up to n rounded up to engine.Slack, so a line may run into
// the next one's start, which that line then overwrites: a direct pass's
// output rows, Q apart, from padded rows W' ≥ Q apart, without a panel.
func (driver) StencilLines(y []float32, ldy, ldyl int, x []float32, ldxl int, w []float32, off []int, n, lines, m int, bias []float32) {
	stencilLines("StencilLines", y, ldy, ldyl, x, ldxl, w, off, n, lines, m, bias)
}

func stencilLines(fn string, y []float32, ldy, ldyl int, x []float32, ldxl int, w []float32, off []int, n, lines, m int, bias []float32) {
	np := checkRows(fn, n, m)
	if lines < 1 || lines > 1<<20 || ldyl < 0 || ldxl < 0 || ldyl > 1<<30 || ldxl > 1<<30 {
		panic(fmt.Sprintf("simdconv: %s: %d lines %d apart in y and %d in x, want 1 ≤ lines ≤ 2²⁰ and strides in [0, 2³⁰]",
			fn, lines, ldyl, ldxl))
	}
	xrun, yrun := (lines-1)*ldxl+np, (lines-1)*ldyl+np // a row's reach in x and y
	checkShifts(fn, x, off, xrun)
	if ldy < yrun || !fits(len(y), m, ldy, yrun) {
		panic(fmt.Sprintf("simdconv: %s: %d rows of %d floats at stride %d, want them in len(y) = %d without overlap",
			fn, m, yrun, ldy, len(y)))
	}
	if len(w) < len(off)*m || bias != nil && len(bias) < m {
		panic(fmt.Sprintf("simdconv: %s: len(w) = %d, len(bias) = %d, want ≥ %d·%d and ≥ %d (or nil bias)",
			fn, len(w), len(bias), len(off), m, m))
	}
	kid := kernelSets[current].stencilRows
	if kid == noKernel || np == 0 || len(off) == 0 {
		for j := range lines {
			stencilRowsGeneric(y[j*ldyl:], ldy, x[j*ldxl:], w, off, n, m, bias)
		}
		return
	}
	mr := kernelTable[kid].mr
	var zeros [maxRowsMR]float32 // the bias of a nil bias's blocks
	for k0 := 0; k0 < m; k0 += mr {
		rows := min(mr, m-k0)
		b := zeros[:rows]
		if bias != nil {
			b = bias[k0 : k0+rows]
		}
		callStencilRows(kid, y[k0*ldy:], ldy, x, w[k0:], m, off, np, rows, b, lines, ldxl, ldyl)
	}
}

// RowsLanes is engine.RowsLanes.
func (driver) RowsLanes() int {
	if kid := kernelSets[current].stencilRows; kid != noKernel {
		return kernelTable[kid].nr
	}
	return 0
}

// maxRowsMR bounds the rows of a StencilRows kernel's block
// (TestKernelSets).
const maxRowsMR = 16

// DotsRows sets d[k·len(off)+t] = Σ_{i<n} a[k·lda+i]·x[off[t]+i] for k < m
// and t < len(off). Each row of a must hold n rounded up to engine.Slack
// floats, zero past n. It panics unless d, a, off and x hold what that
// reads and writes.
func (driver) DotsRows(d, a []float32, lda, m int, x []float32, off []int, n int) {
	np := checkRows("DotsRows", n, m)
	checkShifts("DotsRows", x, off, np)
	if lda < np || !fits(len(a), m, lda, np) || len(d) < m*len(off) {
		panic(fmt.Sprintf("simdconv: DotsRows: %d rows of a of %d floats at stride %d in len(a) = %d, len(d) = %d, want ≥ %d",
			m, np, lda, len(a), len(d), m*len(off)))
	}
	for k := range m {
		for _, v := range a[k*lda:][n:np] {
			if v != 0 {
				panic("simdconv: DotsRows: a is not zero past n")
			}
		}
	}
	kid := kernelSets[current].dotsRows
	if kid == noKernel || np == 0 || len(off) == 0 {
		for k := range m {
			dotsGeneric(d[k*len(off):], a[k*lda:], x, off, n)
		}
		return
	}
	// The taps go in as few calls as the kernel's registers allow, of
	// sizes that differ by one at most: 9 taps on 6 a call go as 5 and 4,
	// each enough independent FMA chains, rather than 6 and 3.
	mr, taps := kernelTable[kid].mr, len(off)
	calls := (taps + kernelTable[kid].per - 1) / kernelTable[kid].per
	for k0 := 0; k0 < m; k0 += mr {
		rows := min(mr, m-k0)
		for c, t0 := 0, 0; c < calls; c++ {
			t1 := t0 + taps/calls
			if c < taps%calls {
				t1++
			}
			callDotsRows(kid, d[k0*taps+t0:], taps, a[k0*lda:], lda, x, off[t0:t1], np, rows)
			t0 = t1
		}
	}
}

// checkRows returns n rounded up to engine.Slack, after checking n and m.
func checkRows(fn string, n, m int) int {
	if n < 0 || n > 1<<30 || m < 1 || m > 1<<20 {
		panic(fmt.Sprintf("simdconv: %s: n = %d, m = %d, want 0 ≤ n ≤ 2³⁰ and 1 ≤ m ≤ 2²⁰", fn, n, m))
	}
	return roundUp(n, engine.Slack)
}

func stencilRowsGeneric(y []float32, ldy int, x, w []float32, off []int, n, m int, bias []float32) {
	for k := range m {
		b := float32(0)
		if bias != nil {
			b = bias[k]
		}
		row := y[k*ldy:][:n]
		for i := range row {
			row[i] = b
		}
		for t, o := range off {
			wt, xs := w[t*m+k], x[o:o+n]
			for i := range row {
				row[i] += wt * xs[i]
			}
		}
	}
}
