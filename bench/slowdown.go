package main

import (
	"fmt"
	"runtime"
	"strings"
)

// slowdown is a cell that ran slower at more threads than at one.
type slowdown struct{ one, more *cell }

// slowdowns returns the slower cells and how many multi-thread cells have a
// 1-thread one to compare with.
func (r *results) slowdowns() (out []slowdown, compared int) {
	for _, isa := range r.cfg.isas {
		for _, l := range r.cfg.layers {
			for _, p := range r.cfg.passes {
				one := r.get(l, p, isa, 1)
				for _, th := range r.cfg.threads[1:] {
					more := r.get(l, p, isa, th)
					if one == nil || more == nil {
						continue
					}
					compared++
					if more.gflops < one.gflops {
						out = append(out, slowdown{one, more})
					}
				}
			}
		}
	}
	return out, compared
}

// slowdownText lists, in markdown, the cells where more threads ran slower
// than one with the load beside each, and what the probe measured; "" when
// there are none.
func slowdownText(r *results) string {
	slow, compared := r.slowdowns()
	if len(slow) == 0 {
		return ""
	}
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("More threads ran slower than one in %d of %d cells. GFLOP/s at 1 thread → more, "+
		"then the load besides this program while the multi-thread cell ran, in CPUs: "+
		"other processes, and the time the hypervisor took from this guest's vCPUs (steal).\n\n",
		len(slow), compared)
	isas := map[string]bool{}
	for _, s := range slow {
		c := s.more
		isas[c.isa] = true
		p("- %s %s %s: %s → %s at %dt; %s\n", c.isa, c.layer.Name, c.pass, fmtG(s.one), fmtG(c), c.threads, fmtLoad(c.load))
	}
	pr := r.probe
	p("\nMeasured after the table")
	if pr.err != nil {
		p(": nothing, %v.\n", pr.err)
	} else {
		p(", on CPUs %d and %d:\n\n", pr.cpus[0], pr.cpus[1])
		p("- a spin loop on each CPU with the other spinning too, over alone: %.2f and %.2f "+
			"(below 1, something shares the CPUs: other processes, as their load says, an SMT sibling, or the host);\n",
			pr.spin[0], pr.spin[1])
		p("- a cache line bounced between them: %d ns one way, the median of %d runs (best %d ns); "+
			"each hand-over of data between two threads costs this;\n",
			pr.pingPong.Nanoseconds(), probeReps, pr.pingPongBest.Nanoseconds())
	}
	for _, isa := range r.cfg.isas {
		if !isas[isa] {
			continue
		}
		one := r.peaks[peakKey{isa, 1}]
		for _, th := range r.cfg.threads[1:] {
			p("- the %s FMA ceiling at %d threads over %d × 1 thread, measured before the table: %.2f;\n",
				isa, th, th, r.peaks[peakKey{isa, th}]/(float64(th)*one))
		}
	}
	p("- over all the cells: %s.\n", fmtLoad(r.runLoad))
	return b.String()
}

func fmtLoad(l hostLoad) string {
	if !l.ok {
		return "load not read on " + runtime.GOOS
	}
	return fmt.Sprintf("other processes %.2f, steal %.2f", l.other, l.steal)
}
