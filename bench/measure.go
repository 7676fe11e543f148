package main

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/simdconv/simdconv/kernels"
)

// cell is one timed combination of layer, pass, ISA and thread count.
type cell struct {
	layer   *layer
	pass    pass
	isa     string
	threads int
	perCall time.Duration // median over reps
	gflops  float64
	load    hostLoad // besides this program, while the cell ran
}

// prepare plans the layer for threads and fills its operands with the same
// pseudo-random numbers every run, so that runs compare. It returns one call
// of the pass and the pass's flop count.
func prepare(l *layer, p pass, threads int) (func() error, float64, error) {
	c, err := kernels.NewConv2D(l.Params, kernels.WithThreads(threads))
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", l.Name, err)
	}
	q := l.Params
	g := max(q.Groups, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	x := randSlice(rng, q.N*q.C*q.H*q.W)
	w := randSlice(rng, q.K*(q.C/g)*q.R*q.S)
	y := randSlice(rng, q.N*q.K*c.OutH()*c.OutW())
	n := flops(q, c.OutH(), c.OutW())
	// Each pass overwrites one operand (bwd-data x as dx, bwd-filter w as
	// dw), which the next call does not read, so one set serves all three.
	// Bias is left out: it is not in the flop count.
	switch p {
	case passForward:
		return func() error { return c.Forward(y, x, w, nil) }, n, nil
	case passBackwardData:
		return func() error { return c.BackwardData(x, y, w) }, n, nil
	default:
		return func() error { return c.BackwardFilter(w, nil, y, x) }, n, nil
	}
}

// randSlice returns n floats uniform in [-1, 1).
func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

// measure warms the call up once (page faults, worker start-up), then runs
// reps reps, each repeating it for at least minTime, and returns the median
// time per call.
func measure(call func() error, minTime time.Duration, reps int) (time.Duration, error) {
	if err := call(); err != nil {
		return 0, err
	}
	// The passes allocate nothing, so one collection now keeps the GC out of
	// the timed loops.
	runtime.GC()
	per := make([]time.Duration, reps)
	for r := range per {
		calls := 0
		start := time.Now()
		for {
			if err := call(); err != nil {
				return 0, err
			}
			calls++
			if el := time.Since(start); el >= minTime {
				per[r] = el / time.Duration(calls)
				break
			}
		}
	}
	return median(per), nil
}

// median is the middle value, or the mean of the two middle ones, as
// Python's statistics.median, which the peer harness uses.
func median[T ~int64 | ~float64](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
