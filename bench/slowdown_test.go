package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSlowdownText(t *testing.T) {
	cfg := &config{isas: []string{"avx2"}, threads: []int{1, 2}, layers: ptrs(allLayers[:2]), passes: []pass{passForward}}
	r := newResults(cfg)
	r.peaks[peakKey{"avx2", 1}], r.peaks[peakKey{"avx2", 2}] = 100, 150
	l1, l2 := cfg.layers[0], cfg.layers[1]
	r.add(&cell{layer: l1, pass: passForward, isa: "avx2", threads: 1, gflops: 50})
	r.add(&cell{layer: l1, pass: passForward, isa: "avx2", threads: 2, gflops: 40, load: hostLoad{other: 0.75, steal: 0.25, ok: true}})
	r.add(&cell{layer: l2, pass: passForward, isa: "avx2", threads: 1, gflops: 50})
	r.add(&cell{layer: l2, pass: passForward, isa: "avx2", threads: 2, gflops: 90})
	r.runLoad = hostLoad{other: 0.5, ok: true}
	r.probe = probe{cpus: [2]int{0, 1}, spin: [2]float64{0.5, 1}, pingPong: 200 * time.Nanosecond, pingPongBest: 80 * time.Nanosecond}

	got := slowdownText(r)
	for _, want := range []string{
		"in 1 of 2 cells",
		"- avx2 L1 fwd: 50.0 → 40.0 at 2t; other processes 0.75, steal 0.25\n",
		"on CPUs 0 and 1",
		"over alone: 0.50 and 1.00",
		"200 ns one way, the median of 3 runs (best 80 ns)",
		"at 2 threads over 2 × 1 thread, measured before the table: 0.75",
		"over all the cells: other processes 0.50, steal 0.00",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("slowdownText lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "L2") {
		t.Errorf("slowdownText lists L2, which gained:\n%s", got)
	}

	r.cells[key{l1.Name, passForward, "avx2", 2}].gflops = 60
	if got := slowdownText(r); got != "" {
		t.Errorf("no slower cell, slowdownText = %q, want none", got)
	}
}

// TestProbe runs the CPU probes briefly where two CPUs can be pinned.
func TestProbe(t *testing.T) {
	cpus := allowedCPUs()
	if len(cpus) < 2 {
		t.Skipf("CPUs to pin to: %v", cpus)
	}
	rates, err := spinRates(cpus[:2], 5*time.Millisecond)
	if err != nil || len(rates) != 2 || slices.Min(rates) <= 0 {
		t.Errorf("spinRates = %v, %v; want two positive rates", rates, err)
	}
	d, err := pingPong([2]int{cpus[0], cpus[1]}, 100)
	if err != nil || d <= 0 {
		t.Errorf("pingPong = %v, %v; want a positive time", d, err)
	}
	if _, err := spinRates([]int{cpus[0], 1 << 20}, time.Millisecond); err == nil {
		t.Error("spinRates on CPU 1<<20 succeeded, want an error")
	}
}
