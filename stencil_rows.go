package simdconv

import (
	"fmt"
	"math"

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
	if kernelSets[current].dotsRows == noKernel { // a's zeros past n are not read
		for k := range m {
			dotsLinesGeneric(d[k*len(off):][:len(off)], a[k*lda:], 0, x, 0, off, n, 1)
		}
		return
	}
	dotsLines(d, a, lda, 0, m, x, 0, off, np, 1)
}

// DotsLines sets d[k·len(off)+t] = Σ_{j<lines} Σ_{i<n} a[k·lda+j·ldal+i]·
// x[off[t]+j·ldxl+i] for k < m and t < len(off): DotsRows on lines of n,
// ldal apart in a's rows and ldxl in x, with no zeros between them (a
// layer's output-gradient rows, Q apart, against padded rows W' apart).
// x must be finite within each line's n rounded down to the lanes' start
// of its last vector: lanes of a are masked there, not skipped. It panics
// unless d, a, off and x hold what that reads.
func (driver) DotsLines(d, a []float32, lda, ldal, m int, x []float32, ldxl int, off []int, n, lines int) {
	checkRows("DotsLines", n, m)
	if lines < 1 || lines > 1<<20 || ldal < 0 || ldxl < 0 || ldal > 1<<30 || ldxl > 1<<30 {
		panic(fmt.Sprintf("simdconv: DotsLines: %d lines %d apart in a and %d in x, want 1 ≤ lines ≤ 2²⁰ and strides in [0, 2³⁰]",
			lines, ldal, ldxl))
	}
	arun := (lines-1)*ldal + n
	checkShifts("DotsLines", x, off, (lines-1)*ldxl+n)
	if lda < arun || !fits(len(a), m, lda, arun) || len(d) < m*len(off) {
		panic(fmt.Sprintf("simdconv: DotsLines: %d rows of a of %d floats at stride %d in len(a) = %d, len(d) = %d, want ≥ %d",
			m, arun, lda, len(a), len(d), m*len(off)))
	}
	dotsLines(d, a, lda, ldal, m, x, ldxl, off, n, lines)
}

// dotsLines is DotsLines on checked operands.
func dotsLines(d, a []float32, lda, ldal, m int, x []float32, ldxl int, off []int, n, lines int) {
	kid := kernelSets[current].dotsRows
	lanes := 0
	if kid != noKernel {
		lanes = kernelTable[kid].nr
	}
	if kid == noKernel || n == 0 || len(off) == 0 || n%lanes != 0 && n < lanes {
		for k := range m {
			dotsLinesGeneric(d[k*len(off):][:len(off)], a[k*lda:], ldal, x, ldxl, off, n, lines)
		}
		return
	}
	// The last vector of a line ends with it: its first lanes − n mod
	// lanes lanes were summed already, and are masked off.
	var mask [maxLanes]float32
	for i := lanes - n%lanes; i < lanes && n%lanes != 0; i++ {
		mask[i] = math.Float32frombits(^uint32(0))
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
			callDotsRows(kid, d[k0*taps+t0:], taps, a[k0*lda:], lda, x, off[t0:t1], n, rows, lines, ldal, ldxl, mask[:lanes])
			t0 = t1
		}
	}
}

// maxLanes bounds the lanes of a DotsRows kernel's vectors.
const maxLanes = 16

// dotsLinesGeneric sets d[t] to the dot products of a's lines with x's at
// each offset, four taps at a time.
func dotsLinesGeneric(d, a []float32, ldal int, x []float32, ldxl int, off []int, n, lines int) {
	clear(d)
	for j := range lines {
		aj, xj := a[j*ldal:][:n], x[j*ldxl:]
		t := 0
		for ; t+4 <= len(off); t += 4 {
			x0, x1, x2, x3 := xj[off[t]:][:n], xj[off[t+1]:][:n], xj[off[t+2]:][:n], xj[off[t+3]:][:n]
			var s0, s1, s2, s3 float32
			for i, v := range aj {
				s0 += v * x0[i]
				s1 += v * x1[i]
				s2 += v * x2[i]
				s3 += v * x3[i]
			}
			d[t] += s0
			d[t+1] += s1
			d[t+2] += s2
			d[t+3] += s3
		}
		for ; t < len(off); t++ {
			var sum float32
			for i, v := range xj[off[t]:][:n] {
				sum += aj[i] * v
			}
			d[t] += sum
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
