package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// key names a cell in the results.
type key struct {
	layer   string
	pass    pass
	isa     string
	threads int
}

// peakKey names a measured FMA ceiling.
type peakKey struct {
	isa     string
	threads int
}

// results holds a run's measurements and derives the table's ratios.
type results struct {
	cfg      *config
	revision string              // of the code that ran, read before any file is written
	peaks    map[peakKey]float64 // GFLOP/s
	cells    map[key]*cell
	order    []*cell // in measuring order, for the CSV

	peers   *peerSet // nil: no peer measurement of this CPU
	noPeers string   // why not, when peers is nil

	runLoad hostLoad // besides this program, while the cells ran
	probe   probe    // measured when more threads ran slower than one
}

func newResults(cfg *config) *results {
	return &results{cfg: cfg, peaks: map[peakKey]float64{}, cells: map[key]*cell{}}
}

func (r *results) add(c *cell) {
	r.cells[key{c.layer.Name, c.pass, c.isa, c.threads}] = c
	r.order = append(r.order, c)
}

func (r *results) get(l *layer, p pass, isa string, threads int) *cell {
	return r.cells[key{l.Name, p, isa, threads}]
}

// pctPeak is the cell's share of its ISA's 1-thread ceiling × threads. The
// measured multi-thread ceiling is only reported: one busy neighbour during
// its short measurement would lower it and inflate every percentage.
func (r *results) pctPeak(c *cell) float64 {
	pk := r.peaks[peakKey{c.isa, 1}] * float64(c.threads)
	if pk <= 0 {
		return 0
	}
	return 100 * c.gflops / pk
}

// ratioGeneric is the cell's speed-up over the pure-Go kernels at the same
// thread count; ok is false when generic was not timed.
func (r *results) ratioGeneric(c *cell) (ratio float64, ok bool) {
	g := r.get(c.layer, c.pass, "generic", c.threads)
	if g == nil || g.gflops <= 0 {
		return 0, false
	}
	return c.gflops / g.gflops, true
}

// hasGeneric reports whether the ratio columns exist.
func (r *results) hasGeneric() bool { return r.cfg.isas[len(r.cfg.isas)-1] == "generic" }

// peerThreads are the timed thread counts that have peer figures.
func (r *results) peerThreads() []int {
	if r.peers == nil {
		return nil
	}
	return r.peers.threads(r.cfg.threads)
}

// noPeerColumn says why the table has no peer column, or "" when it has one.
func (r *results) noPeerColumn() string {
	switch {
	case r.peers == nil:
		return r.noPeers
	case len(r.peerThreads()) == 0:
		return "the peer runs of this CPU model (" + strings.Join(r.peers.sources, ", ") + ") timed none of these thread counts"
	}
	return ""
}

// ceilingNote sets the peer runs' own FMA ceilings of the best ISA beside
// this run's: a peer run on a slower or busier guest of the same CPU model
// skews every ratio by as much.
func (r *results) ceilingNote() string {
	isa := r.cfg.isas[0]
	var theirs []string
	for _, src := range r.peers.sources {
		if g, ok := r.peers.ceilings[src][isa]; ok {
			theirs = append(theirs, fmt.Sprintf("%.1f (%s)", g, filepath.Base(src)))
		}
	}
	if len(theirs) == 0 {
		return ""
	}
	return fmt.Sprintf("The peer runs' own %s FMA ceiling at 1 thread: %s GFLOP/s; this run's: %.1f.\n",
		isa, strings.Join(theirs, ", "), r.peaks[peakKey{isa, 1}])
}
