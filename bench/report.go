package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/simdconv/simdconv"
)

// writeReport writes the run's report as <date>-<GOARCH>-<cpu>.md, the same
// as latest.md, one CSV row per cell as <date>-<GOARCH>-<cpu>.csv and the
// plots of writePlots beside them, which the report shows. It returns the
// paths written.
func writeReport(dir string, r *results, tab string, cpu cpuID, start time.Time) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%s-%s", start.Format("2006-01-02"), runtime.GOARCH, cpu.slug()))
	plots, err := writePlots(base, r, cpu, start)
	if err != nil {
		return nil, err
	}
	md := []byte(reportMarkdown(r, tab, cpu, start, plots))
	paths := []string{base + ".md", filepath.Join(dir, "latest.md"), base + ".csv"}
	for _, p := range paths[:2] {
		if err := os.WriteFile(p, md, 0o644); err != nil {
			return nil, err
		}
	}
	if err := writeCSV(paths[2], r); err != nil {
		return nil, err
	}
	return append(paths, plots...), nil
}

func reportMarkdown(r *results, tab string, cpu cpuID, start time.Time, plots []string) string {
	cfg := r.cfg
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# simdconv convolution benchmark, %s\n\n", start.Format("2006-01-02 15:04 MST"))
	if cfg.quick {
		p("**Quick run (-quick): the timings are too short to mean anything.**\n\n")
	}
	p("## Machine\n\n")
	p("- CPU: %v\n", cpu)
	for _, line := range strings.Split(strings.TrimSpace(simdconv.CPUInfo()), "\n") {
		p("- %s\n", line)
	}
	p("- GOOS/GOARCH: %s/%s\n", runtime.GOOS, runtime.GOARCH)
	p("- GOMAXPROCS: %d, NumCPU: %d\n", runtime.GOMAXPROCS(0), runtime.NumCPU())
	p("- Go: %s\n", runtime.Version())
	p("- ISAs available: %s; timed: %s\n", strings.Join(simdconv.ISAs(), ", "), strings.Join(cfg.isas, ", "))
	if r.revision != "" {
		p("- revision: %s\n", r.revision)
	}
	p("- command: `%s`\n", commandLine(cfg.args))
	gt, gr := cfg.timing("generic")
	p("- timing: per cell a warm-up call, then %d reps of ≥ %v each (generic: %d of ≥ %v); the median time per call is reported\n",
		cfg.reps, cfg.minTime, gr, gt)
	p("- load besides this program while the cells ran, in CPUs (/proc/stat): %s\n\n", fmtLoad(r.runLoad))
	if s := slowdownText(r); s != "" {
		p("### More threads slower than one\n\n%s\n", s)
	}

	p("## FMA ceilings\n\n")
	p("simdconv.PeakLoop on as many goroutines as threads, best of %d × %v, in GFLOP/s. "+
		"Scaling is the multi-thread ceiling over threads × the 1-thread one; "+
		"well below 1 means shared cores (SMT, an oversubscribed host) or a busy neighbour. "+
		"%% peak in the results uses threads × the 1-thread ceiling.\n\n", cfg.peakReps, cfg.peakTime)
	pt := &table{header: []string{"ISA"}, right: []bool{false}}
	for _, th := range cfg.peakThreads() {
		pt.header = append(pt.header, fmt.Sprintf("%dt", th))
		pt.right = append(pt.right, true)
		if th > 1 {
			pt.header = append(pt.header, fmt.Sprintf("%dt scaling", th))
			pt.right = append(pt.right, true)
		}
	}
	for _, isa := range cfg.isas {
		row := []string{isa}
		one := r.peaks[peakKey{isa, 1}]
		for _, th := range cfg.peakThreads() {
			pk := r.peaks[peakKey{isa, th}]
			row = append(row, fmt.Sprintf("%.1f", pk))
			if th > 1 {
				row = append(row, fmt.Sprintf("%.2f", pk/(float64(th)*one)))
			}
		}
		pt.rows = append(pt.rows, row)
	}
	b.WriteString(pt.markdown())

	p("\n## Results\n\n")
	b.WriteString(tab)
	if len(plots) > 0 {
		p("\nDashed: the FMA ceilings of the %% peak column.\n\n")
		for _, path := range plots {
			name := filepath.Base(path)
			p("![%s](%s)\n", strings.TrimSuffix(name, ".svg"), name)
		}
	}

	p("\n## Peers\n\n")
	b.WriteString(peersMarkdown(r))

	p("\n## Layers\n\n")
	lt := &table{header: []string{"layer", "N", "C", "H×W", "K", "R×S", "stride", "pad", "dilation", "groups", "P×Q", "MFLOP", "note"},
		right: []bool{false, true, true, true, true, true, true, true, true, true, true, true, false}}
	for _, l := range cfg.layers {
		q := l.Params
		oh, ow := outSize(q.H, q.R, q.StrideH, q.PadTop+q.PadBottom, q.DilationH), outSize(q.W, q.S, q.StrideW, q.PadLeft+q.PadRight, q.DilationW)
		lt.rows = append(lt.rows, []string{l.Name, strconv.Itoa(q.N), strconv.Itoa(q.C),
			fmt.Sprintf("%d×%d", q.H, q.W), strconv.Itoa(q.K), fmt.Sprintf("%d×%d", q.R, q.S),
			strconv.Itoa(q.StrideH), strconv.Itoa(q.PadTop), strconv.Itoa(q.DilationH), strconv.Itoa(max(q.Groups, 1)),
			fmt.Sprintf("%d×%d", oh, ow), fmt.Sprintf("%.1f", flops(q, oh, ow)/1e6), l.Note})
	}
	b.WriteString(lt.markdown())
	return b.String()
}

// outSize is the output extent of one spatial dimension; the plan computes
// the same, but the layer list is printed without planning.
func outSize(in, k, stride, pad, dil int) int {
	return (in+pad-max(dil, 1)*(k-1)-1)/max(stride, 1) + 1
}

func writeCSV(path string, r *results) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"layer", "pass", "isa", "threads", "gflops", "pct_peak", "ratio_generic", "ms_median"})
	for _, c := range r.order {
		ratio := ""
		if x, ok := r.ratioGeneric(c); ok {
			ratio = strconv.FormatFloat(x, 'f', 3, 64)
		}
		w.Write([]string{c.layer.Name, c.pass.String(), c.isa, strconv.Itoa(c.threads),
			strconv.FormatFloat(c.gflops, 'f', 3, 64),
			strconv.FormatFloat(r.pctPeak(c), 'f', 2, 64),
			ratio,
			strconv.FormatFloat(c.perCall.Seconds()*1e3, 'f', 4, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// peersMarkdown names the fastest NCHW peer of every cell, or says why the
// table has no peer column.
func peersMarkdown(r *results) string {
	if why := r.noPeerColumn(); why != "" {
		return "No peer column: " + why + ".\n"
	}
	threads := r.peerThreads()
	s := "The fastest peer from plain NCHW buffers (the rule of the peer harness's common/scoreboard.py), " +
		"its median over rounds, from " + strings.Join(r.peers.sources, ", ") + ".\n\n"
	t := &table{header: []string{"layer", "pass"}, right: []bool{false, false}}
	for _, th := range threads {
		t.header = append(t.header, fmt.Sprintf("peer %dt", th), "GFLOP/s")
		t.right = append(t.right, false, true)
	}
	for _, l := range r.cfg.layers {
		for _, p := range r.cfg.passes {
			row := []string{l.Name, p.String()}
			for _, th := range threads {
				if f, ok := r.peers.best[peerKey{l.Name, p, th}]; ok {
					name := f.peer
					if len(r.peers.sources) > 1 {
						name += " (" + filepath.Base(f.source) + ")"
					}
					row = append(row, name, fmt.Sprintf("%.2f", f.gflops))
				} else {
					row = append(row, "—", "—")
				}
			}
			t.rows = append(t.rows, row)
		}
	}
	return s + t.markdown()
}
