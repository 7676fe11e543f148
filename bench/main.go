// Command bench times simdconv's convolution passes on the design's layer
// table for each ISA and thread count, compares them with the FMA ceiling,
// the pure-Go kernels and, where the peer harness ran on this CPU model, the
// fastest peer library, prints one markdown table and writes it, with a
// description of the machine and SVG plots, under -out.
//
//	go run ./bench                      # everything, about 5 minutes on 2 cores; writes results/
//	go run ./bench -isa avx512 -threads 1 -layers L2,L6 -passes fwd
//	go run ./bench -quick -layers L5,L8 # smoke test
//
// Where more threads run slower than one, it says what was measured: the load
// of other processes and the hypervisor's steal during those cells, then a
// spin-loop and a cache-line probe of two CPUs.
//
// Only the full run (the first line) writes to results/ by default; a run
// with -quick or any other selection or timing writes to a new temporary
// directory, or to -out.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/simdconv/simdconv"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run is the whole program, apart from the process's streams and exit code,
// so that the test can drive it.
func run(args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	if n := slices.Max(cfg.threads); n > runtime.NumCPU() {
		fmt.Fprintf(stderr, "warning: %d threads on %d CPUs: the threads will share cores\n", n, runtime.NumCPU())
	}
	// SetISA is global; leave the process as it was found.
	defer simdconv.SetISA(simdconv.ISA())

	if cfg.outTemp {
		fmt.Fprintf(stderr, "partial run (%s): the report goes to a new temporary directory, not %s/; -out DIR to choose\n",
			strings.Join(cfg.partial(), ", "), defaultOut)
	}
	r := newResults(cfg)
	r.revision = gitRevision()
	cpu := readCPU()
	if r.peers, r.noPeers, err = loadPeers(cfg.peers, cpu, cfg.layers); err != nil {
		return err
	}
	for _, isa := range cfg.isas {
		if err := simdconv.SetISA(isa); err != nil {
			return err
		}
		// The 1-thread ceiling is the % peak base, so it is measured always.
		for _, th := range cfg.peakThreads() {
			pk := measurePeak(th, cfg.peakTime, cfg.peakReps)
			r.peaks[peakKey{isa, th}] = pk
			fmt.Fprintf(stderr, "peak %-7s %dt %8.1f GFLOP/s\n", isa, th, pk)
		}
	}
	s0, ok0 := sampleHost()
	if err := measureAll(r, stderr); err != nil {
		return err
	}
	s1, ok1 := sampleHost()
	r.runLoad = loadBetween(s0, s1, ok0, ok1)

	tab := legend(r) + "\n" + resultTable(r).markdown()
	fmt.Fprint(stdout, tab)
	if slow, _ := r.slowdowns(); len(slow) > 0 {
		fmt.Fprintln(stderr, "more threads ran slower than one somewhere: probing the CPUs")
		r.probe = runProbe()
		fmt.Fprint(stdout, "\n"+slowdownText(r))
	}
	if cfg.outTemp {
		if cfg.out, err = os.MkdirTemp("", "simdconv-bench-"); err != nil {
			return err
		}
	}
	if cfg.out != "" {
		paths, err := writeReport(cfg.out, r, tab, cpu, start)
		if err != nil {
			return err
		}
		for _, p := range paths {
			fmt.Fprintln(stderr, "wrote", p)
		}
	}
	fmt.Fprintf(stderr, "done in %v\n", time.Since(start).Round(time.Second/10))
	return nil
}

// measureAll times every cell. The ISA is the outer loop because SetISA must
// not change while a kernel runs.
func measureAll(r *results, stderr io.Writer) error {
	cfg := r.cfg
	total := len(cfg.isas) * len(cfg.layers) * len(cfg.passes) * len(cfg.threads)
	done := 0
	for _, isa := range cfg.isas {
		if err := simdconv.SetISA(isa); err != nil {
			return err
		}
		minTime, reps := cfg.timing(isa)
		for _, l := range cfg.layers {
			for _, p := range cfg.passes {
				for _, th := range cfg.threads {
					call, n, err := prepare(l, p, th)
					if err != nil {
						return err
					}
					s0, ok0 := sampleHost()
					per, err := measure(call, minTime, reps)
					if err != nil {
						return fmt.Errorf("%s %s %s %dt: %w", l.Name, p, isa, th, err)
					}
					s1, ok1 := sampleHost()
					c := &cell{layer: l, pass: p, isa: isa, threads: th, perCall: per,
						gflops: n / per.Seconds() / 1e9, load: loadBetween(s0, s1, ok0, ok1)}
					r.add(c)
					done++
					fmt.Fprintf(stderr, "[%3d/%d] %-7s %dt %-3s %-10s %8.1f GFLOP/s %9.3f ms %4.0f%% peak\n",
						done, total, isa, th, l.Name, p, c.gflops, per.Seconds()*1e3, r.pctPeak(c))
				}
			}
		}
	}
	return nil
}
