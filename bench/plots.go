package main

import (
	"fmt"
	"math"
	"os"
	"time"
)

// writePlots writes base-<isa>.svg for every ISA timed, GFLOP/s per layer and
// pass at the fewest threads against that ISA's ceiling, and, when more than
// one thread count was timed, base-threads-<best ISA>.svg, every layer and
// pass at each thread count against each ceiling. It returns the paths.
func writePlots(base string, r *results, cpu cpuID, start time.Time) ([]string, error) {
	var paths []string
	write := func(path string, c *barChart) error {
		paths = append(paths, path)
		return os.WriteFile(path, c.svg(), 0o644)
	}
	for _, isa := range r.cfg.isas {
		if err := write(fmt.Sprintf("%s-%s.svg", base, isa), isaChart(r, isa, cpu, start)); err != nil {
			return nil, err
		}
	}
	if len(r.cfg.threads) > 1 {
		best := r.cfg.isas[0]
		if err := write(fmt.Sprintf("%s-threads-%s.svg", base, best), threadsChart(r, best, cpu, start)); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// isaChart groups the passes by layer at the fewest threads timed.
func isaChart(r *results, isa string, cpu cpuID, start time.Time) *barChart {
	th := r.cfg.threads[0]
	c := &barChart{
		title:  fmt.Sprintf("simdconv %s, %s: %v, %s", isa, threadWord(th), cpu, start.Format("2006-01-02")),
		yLabel: "GFLOP/s",
		refs:   []refLine{ceiling(r, isa, th)},
	}
	for _, l := range r.cfg.layers {
		c.groups = append(c.groups, l.Name)
	}
	for _, p := range r.cfg.passes {
		c.series = append(c.series, p.String())
		var vs []float64
		for _, l := range r.cfg.layers {
			vs = append(vs, gflopsOrNaN(r.get(l, p, isa, th)))
		}
		c.values = append(c.values, vs)
	}
	return c
}

// threadsChart sets every layer and pass beside itself at each thread count.
func threadsChart(r *results, isa string, cpu cpuID, start time.Time) *barChart {
	c := &barChart{
		title:  fmt.Sprintf("simdconv %s by thread count: %v, %s", isa, cpu, start.Format("2006-01-02")),
		yLabel: "GFLOP/s",
	}
	for _, l := range r.cfg.layers {
		for _, p := range r.cfg.passes {
			c.groups = append(c.groups, l.Name+" "+p.String())
		}
	}
	for _, th := range r.cfg.threads {
		c.series = append(c.series, threadWord(th))
		c.refs = append(c.refs, ceiling(r, isa, th))
		var vs []float64
		for _, l := range r.cfg.layers {
			for _, p := range r.cfg.passes {
				vs = append(vs, gflopsOrNaN(r.get(l, p, isa, th)))
			}
		}
		c.values = append(c.values, vs)
	}
	return c
}

// ceiling is the % peak base: the 1-thread FMA ceiling × threads.
func ceiling(r *results, isa string, th int) refLine {
	label := "FMA ceiling"
	if th > 1 {
		label = fmt.Sprintf("%d × FMA ceiling", th)
	}
	return refLine{label, r.peaks[peakKey{isa, 1}] * float64(th)}
}

func threadWord(th int) string {
	if th == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", th)
}

func gflopsOrNaN(c *cell) float64 {
	if c == nil {
		return math.NaN()
	}
	return c.gflops
}
