package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/simdconv/simdconv"
)

// config is the parsed command line.
type config struct {
	isas    []string // best first, as simdconv.ISAs orders them
	threads []int
	layers  []*layer
	passes  []pass

	minTime, genericTime time.Duration // per rep
	reps, genericReps    int
	peakTime             time.Duration // per peak rep
	peakReps             int
	out                  string // "" writes no files
	outTemp              bool   // write to a new temporary directory instead of out
	peers                string // where peer measurements are looked for
	quick                bool
	args                 []string // as given, for the report
}

// The full run's settings. Only a full run writes to results/ unless -out
// says otherwise: any other would replace latest.md with a table of fewer
// cells, or of noisier ones.
const (
	defaultThreads = "1,2"
	defaultTime    = 300 * time.Millisecond
	defaultReps    = 5
	defaultOut     = "results"
)

// The pure-Go kernels run at a few GFLOP/s, so at full settings they alone
// would take most of the run; fewer, shorter reps still give a stable median
// for the ratio columns.
const (
	genericMaxReps = 3
	genericTimeDiv = 3
)

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	isaList := fs.String("isa", strings.Join(simdconv.ISAs(), ","), "comma list of ISAs to time")
	threadList := fs.String("threads", defaultThreads, "comma list of thread counts")
	layerList := fs.String("layers", "all", "comma list of layers (L1…L10) or all")
	passList := fs.String("passes", "all", "comma list of fwd, bwd-data, bwd-filter, or all")
	minTime := fs.Duration("time", defaultTime, "minimum time per rep of a cell (generic: a third, unless set)")
	reps := fs.Int("reps", defaultReps, "reps per cell; the median is reported (generic: at most 3, unless set)")
	out := fs.String("out", defaultOut, `directory for the report files; "" writes none. `+
		`Unless given, only a full run writes to results; any other (-quick, fewer layers, passes or ISAs, `+
		`other threads or timing) to a new temporary directory`)
	peers := fs.String("peers", "results/peers", "directory of peer harness runs, one folder each (see results/README.md)")
	quick := fs.Bool("quick", false, "tiny times and 3 reps, for smoke tests; the numbers are not meaningful")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	c := &config{out: *out, peers: *peers, quick: *quick, args: args,
		minTime: *minTime, reps: *reps, peakTime: 200 * time.Millisecond, peakReps: 5}
	if c.quick {
		c.peakTime, c.peakReps = 5*time.Millisecond, 3
		if !set["time"] {
			c.minTime = 2 * time.Millisecond
		}
		if !set["reps"] {
			c.reps = 3
		}
	}
	if c.minTime < 0 || c.reps < 1 {
		return nil, fmt.Errorf("-time %v, -reps %d: want -time ≥ 0 and -reps ≥ 1", c.minTime, c.reps)
	}
	// An explicit -time or -reps is honoured for every ISA.
	c.genericTime, c.genericReps = c.minTime, c.reps
	if !set["time"] {
		c.genericTime = (c.minTime / genericTimeDiv).Round(10 * time.Microsecond)
	}
	if !set["reps"] {
		c.genericReps = min(c.reps, genericMaxReps)
	}

	var err error
	if c.isas, err = selectISAs(*isaList); err != nil {
		return nil, err
	}
	if c.threads, err = parseThreads(*threadList); err != nil {
		return nil, err
	}
	if c.layers, err = selectLayers(*layerList); err != nil {
		return nil, err
	}
	if c.passes, err = selectPasses(*passList); err != nil {
		return nil, err
	}
	c.outTemp = !set["out"] && len(c.partial()) > 0
	return c, nil
}

// partial names the flags that make this run other than the full one: every
// layer, pass and available ISA at the default threads and timing. The
// lists are compared as sets, so their order does not count.
func (c *config) partial() []string {
	var out []string
	if c.quick {
		out = append(out, "-quick")
	}
	if !sameSet(c.isas, simdconv.ISAs()) {
		out = append(out, "-isa")
	}
	if th, _ := parseThreads(defaultThreads); !sameSet(c.threads, th) {
		out = append(out, "-threads")
	}
	if !sameSet(c.layers, ptrs(allLayers)) {
		out = append(out, "-layers")
	}
	if all, _ := selectPasses("all"); !sameSet(c.passes, all) {
		out = append(out, "-passes")
	}
	if !c.quick && c.minTime != defaultTime {
		out = append(out, "-time")
	}
	if !c.quick && c.reps != defaultReps {
		out = append(out, "-reps")
	}
	return out
}

func sameSet[T comparable](a, b []T) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

// selectISAs checks the names against what this CPU runs and orders them
// best first, so that the table's columns and its "best ISA" are stable
// whatever order the flag lists them in.
func selectISAs(list string) ([]string, error) {
	avail := simdconv.ISAs()
	want := splitList(list)
	if len(want) == 0 {
		return nil, fmt.Errorf("-isa: empty list (available: %s)", strings.Join(avail, ", "))
	}
	for _, name := range want {
		if !slices.Contains(avail, name) {
			return nil, fmt.Errorf("-isa: %q is not available here (available: %s)", name, strings.Join(avail, ", "))
		}
	}
	var out []string
	for _, name := range avail {
		if slices.Contains(want, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// parseThreads parses -threads into distinct positive counts, ascending.
func parseThreads(list string) ([]int, error) {
	var out []int
	for _, f := range splitList(list) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-threads: %q is not a positive integer", f)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-threads: empty list")
	}
	slices.Sort(out)
	return out, nil
}

// timing returns the per-rep time and rep count for an ISA.
func (c *config) timing(isa string) (time.Duration, int) {
	if isa == "generic" {
		return c.genericTime, c.genericReps
	}
	return c.minTime, c.reps
}

// peakThreads are the thread counts whose FMA ceiling is measured: 1 and
// those timed.
func (c *config) peakThreads() []int {
	if slices.Contains(c.threads, 1) {
		return c.threads
	}
	return append([]int{1}, c.threads...)
}
