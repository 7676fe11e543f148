package main

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testdata/peers holds three harness runs: two of "Test CPU" family 1
// model 2 (January, old columns; February, merged file with a run column)
// and a newer one of a CPU with the same name but family 9 model 9.
func TestLoadPeers(t *testing.T) {
	const jan, feb = "testdata/peers/20260101T000000Z-test-cpu-f1-m2", "testdata/peers/20260201T000000Z-test-cpu-f1-m2"
	set, why, err := loadPeers("testdata/peers", cpuID{"Test CPU", "1", "2"}, ptrs(allLayers))
	if err != nil || set == nil {
		t.Fatalf("loadPeers: %v, %v, %q", set, err, why)
	}
	want := map[peerKey]peerFigure{
		// February is newer; January's onednn-auto/prim (500) and simdconv
		// (400) are not NCHW peers.
		{"L8", passForward, 1}: {"blis/default", 70, feb},
		// February's row is of another run (999), so January's stands.
		{"L8", passBackwardData, 1}: {"openblas/env", 30, jan},
		// The median of two rounds (20, 30) beats onednn-nchw's 24.
		{"L8", passBackwardFilter, 1}: {"openblas/env", 25, jan},
		{"L8", passForward, 2}:        {"torch/default", 90, jan},
		// L2 at C = 32 is not our L2, and sgemm is not a layer.
	}
	if !maps.Equal(set.best, want) {
		t.Errorf("best = %v, want %v", set.best, want)
	}
	if !slices.Equal(set.sources, []string{feb, jan}) {
		t.Errorf("sources = %q, want February then January", set.sources)
	}
	if want := map[string]float64{"avx512": 100}; len(set.ceilings) != 1 || !maps.Equal(set.ceilings[jan], want) {
		t.Errorf("ceilings = %v, want January's 1-thread avx512 %v", set.ceilings, want)
	}

	set, _, _ = loadPeers("testdata/peers", cpuID{"Test CPU", "9", "9"}, ptrs(allLayers))
	if set == nil || set.best[peerKey{"L8", passForward, 1}].gflops != 999 {
		t.Errorf("family 9 model 9: %v, want its own L8 fwd figure 999", set)
	}

	for _, cpu := range []cpuID{{"Test CPU", "1", "3"}, {"Other CPU", "1", "2"}} {
		set, why, err := loadPeers("testdata/peers", cpu, ptrs(allLayers))
		wantWhy := fmt.Sprintf("no peer measurement of %v in testdata/peers", cpu)
		if set != nil || err != nil || why != wantWhy {
			t.Errorf("%v: %v, %v, %q; want none and %q", cpu, set, err, why, wantWhy)
		}
	}
}

// TestPeerColumn drives the program with a peer run of this machine's CPU
// and with one of other CPUs only.
func TestPeerColumn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cpu := readCPU()
	env := fmt.Sprintf("date: 2026-01-01T00:00:00Z\nModel name: %s\nCPU family: %s\nModel: %s\n", cpu.name, cpu.family, cpu.model)
	raw := "round,peer,variant,threads,layer,pass,N,C,H,W,K,R,S,stride,pad,dil,groups,gflops\n" +
		"1,openblas,env,1,L8,fwd,32,1,28,28,32,3,3,1,0,1,1,155\n"
	for name, s := range map[string]string{"env.txt": env, "raw.csv": raw} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"-quick", "-isa", "generic", "-threads", "1", "-layers", "L8", "-passes", "fwd", "-out", ""}

	var stdout bytes.Buffer
	if err := run(append(args, "-peers", filepath.Dir(dir)), &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	rows := tableRows(stdout.String())
	if len(rows) != 2 || !slices.Equal(rows[0][4:], []string{"peer 1t", "generic/peer"}) ||
		rows[1][4] != "155.0" || !(number(rows[1][5]) > 0) {
		t.Errorf("with a peer run of %v: rows %q, want peer 1t 155.0 and a ratio", cpu, rows)
	}

	stdout.Reset()
	if err := run(append(args, "-peers", "testdata/peers"), &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	rows = tableRows(stdout.String())
	want := fmt.Sprintf("No peer column: no peer measurement of %v in testdata/peers.", cpu)
	if len(rows) != 2 || len(rows[0]) != 4 || !strings.Contains(stdout.String(), want) {
		t.Errorf("without: rows %q and\n%s\nwant 4 columns and %q", rows, stdout.String(), want)
	}
}
