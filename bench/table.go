package main

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// table is a markdown table whose cells are padded to line up in a terminal
// as well as render.
type table struct {
	header []string
	right  []bool // right-aligned (numeric) columns
	rows   [][]string
}

func (t *table) markdown() string {
	width := make([]int, len(t.header))
	for i := range width {
		width[i] = 3 // the narrowest delimiter cell markdown accepts, ":-:"
	}
	for _, row := range append([][]string{t.header}, t.rows...) {
		for i, s := range row {
			width[i] = max(width[i], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, s := range cells {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(s))
			if t.right[i] {
				s = pad + s
			} else {
				s += pad
			}
			b.WriteString(" " + s + " |")
		}
		b.WriteString("\n")
	}
	line(t.header)
	rule := make([]string, len(width))
	for i, w := range width {
		rule[i] = strings.Repeat("-", w)
		if t.right[i] {
			rule[i] = rule[i][1:] + ":"
		}
	}
	line(rule)
	for _, row := range t.rows {
		line(row)
	}
	return b.String()
}

// resultTable lays the results out one row per layer and pass; per ISA and
// thread count, GFLOP/s, % of that ceiling and the speed-up over generic
// (left out for generic itself), then, where the peers were measured on this
// CPU, the fastest NCHW peer and the best ISA's ratio to it per thread count.
func resultTable(r *results) *table {
	cfg := r.cfg
	t := &table{}
	col := func(name string, right bool) {
		t.header = append(t.header, name)
		t.right = append(t.right, right)
	}
	col("layer", false)
	col("pass", false)
	for _, isa := range cfg.isas {
		for _, th := range cfg.threads {
			col(fmt.Sprintf("%s %dt", isa, th), true)
			col("% peak", true)
			if isa != "generic" && r.hasGeneric() {
				col("× gen", true)
			}
		}
	}
	best := cfg.isas[0]
	peerThreads := r.peerThreads()
	for _, th := range peerThreads {
		col(fmt.Sprintf("peer %dt", th), true)
		col(fmt.Sprintf("%s/peer", best), true)
	}

	for _, l := range cfg.layers {
		for _, p := range cfg.passes {
			row := []string{l.Name, p.String()}
			for _, isa := range cfg.isas {
				for _, th := range cfg.threads {
					c := r.get(l, p, isa, th)
					row = append(row, fmtG(c), fmtPct(r, c))
					if isa != "generic" && r.hasGeneric() {
						row = append(row, fmtRatio(r, c))
					}
				}
			}
			for _, th := range peerThreads {
				row = append(row, "—", "—")
				pf, ok := r.peers.best[peerKey{l.Name, p, th}]
				if !ok {
					continue
				}
				row[len(row)-2] = fmt.Sprintf("%.1f", pf.gflops)
				if c := r.get(l, p, best, th); c != nil {
					row[len(row)-1] = fmt.Sprintf("%.2g", c.gflops/pf.gflops) // 2 significant digits: generic under emulation is far below 0.01
				}
			}
			t.rows = append(t.rows, row)
		}
	}
	return t
}

// legend explains resultTable's short headers; it goes right above it.
func legend(r *results) string {
	s := "GFLOP/s per ISA and thread count (1t, 2t…), counting 2·N·K·(C/G)·R·S·P·Q flops for every pass.\n" +
		"% peak: of that ISA's 1-thread FMA ceiling × threads.\n"
	if r.hasGeneric() {
		s += "× gen: speed-up over the pure-Go kernels at the same thread count.\n"
	}
	if why := r.noPeerColumn(); why != "" {
		s += "No peer column: " + why + ".\n"
	} else {
		best := r.cfg.isas[0]
		s += fmt.Sprintf("peer Nt: the fastest peer library from NCHW buffers at N threads, its median GFLOP/s, "+
			"measured on this CPU model by the peer harness (%s); %s/peer: %s at N threads over it.\n",
			strings.Join(r.peers.sources, ", "), best, best)
		s += r.ceilingNote()
	}
	return s
}

func fmtG(c *cell) string {
	if c == nil {
		return "—"
	}
	// Two decimals below 10 keep the slow cells (generic, depthwise) apart.
	if c.gflops < 10 {
		return fmt.Sprintf("%.2f", c.gflops)
	}
	return fmt.Sprintf("%.1f", c.gflops)
}

func fmtPct(r *results, c *cell) string {
	if c == nil {
		return "—"
	}
	if pct := r.pctPeak(c); pct < 10 {
		return fmt.Sprintf("%.1f%%", pct)
	}
	return fmt.Sprintf("%.0f%%", r.pctPeak(c))
}

func fmtRatio(r *results, c *cell) string {
	if c == nil {
		return "—"
	}
	if x, ok := r.ratioGeneric(c); ok {
		return fmt.Sprintf("%.1f×", x)
	}
	return "—"
}
