package main

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
	cfg   *config
	peaks map[peakKey]float64 // GFLOP/s
	cells map[key]*cell
	order []*cell // in measuring order, for the CSV
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

// peerCell is the cell compared with the peer: the best ISA timed, at 1
// thread, since the peer figures are single-thread. It is nil when 1 thread
// was not timed.
func (r *results) peerCell(l *layer, p pass) *cell {
	return r.get(l, p, r.cfg.isas[0], 1)
}
