package main

import (
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/simdconv/simdconv"
)

// TestQuickRun drives the whole program on the smallest layer with the pure-Go
// kernels, which every build has, and checks the table and the files.
func TestQuickRun(t *testing.T) {
	dir := t.TempDir()
	var stdout bytes.Buffer
	args := []string{"-quick", "-isa", "generic", "-threads", "1", "-layers", "L8", "-passes", "fwd", "-out", dir}
	if err := run(args, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}

	rows := tableRows(stdout.String())
	wantHeader := []string{"layer", "pass", "generic 1t", "% peak"}
	if len(rows) != 2 || !slices.Equal(rows[0], wantHeader) {
		t.Fatalf("table rows = %q, want the header %q and one row\n%s", rows, wantHeader, stdout.String())
	}
	row := rows[1]
	if row[0] != "L8" || row[1] != "fwd" {
		t.Errorf("row = %q, want L8 fwd …", row)
	}
	for _, i := range []int{2, 3} {
		if v := number(row[i]); !(v > 0) {
			t.Errorf("%s = %q, want a positive number", rows[0][i], row[i])
		}
	}

	latest, err := os.ReadFile(filepath.Join(dir, "latest.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GOARCH", "NumCPU", "-quick -isa generic", stdout.String()} {
		if !strings.Contains(string(latest), want) {
			t.Errorf("latest.md lacks %q", want)
		}
	}
	svgs, _ := filepath.Glob(filepath.Join(dir, "*-generic.svg"))
	if len(svgs) != 1 || !strings.Contains(string(latest), "("+filepath.Base(svgs[0])+")") {
		t.Errorf("plots = %q, want one of generic, shown in latest.md", svgs)
	}
	csvs, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(csvs) != 1 {
		t.Fatalf("CSV files = %q, want one", csvs)
	}
	f, err := os.Open(csvs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || strings.Join(recs[0], ",") != "layer,pass,isa,threads,gflops,pct_peak,ratio_generic,ms_median" ||
		strings.Join(recs[1][:4], ",") != "L8,fwd,generic,1" || !(number(recs[1][4]) > 0) {
		t.Errorf("CSV = %q", recs)
	}
}

// TestPartialRunLeavesResults checks that a run without -out that is not the
// full one writes its report to a new temporary directory and nothing under
// the working directory, where results/ is committed.
func TestPartialRunLeavesResults(t *testing.T) {
	wd, tmp := t.TempDir(), t.TempDir()
	t.Chdir(wd)
	t.Setenv("TMPDIR", tmp)
	var stderr bytes.Buffer
	args := []string{"-quick", "-isa", "generic", "-threads", "1", "-layers", "L8", "-passes", "fwd"}
	if err := run(args, io.Discard, &stderr); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(wd); len(ents) != 0 {
		t.Errorf("the working directory holds %v, want nothing", ents)
	}
	latest, _ := filepath.Glob(filepath.Join(tmp, "simdconv-bench-*", "latest.md"))
	if len(latest) != 1 || !strings.Contains(stderr.String(), "wrote "+latest[0]) ||
		!strings.Contains(stderr.String(), "partial run (-quick, ") {
		t.Errorf("reports in TMPDIR: %q; stderr:\n%s", latest, stderr.String())
	}
}

func TestPartial(t *testing.T) {
	isas := simdconv.ISAs()
	slices.Reverse(isas)
	type tcase struct{ args, want []string }
	cases := []tcase{
		{nil, nil},
		{[]string{"-threads", "2,1", "-isa", strings.Join(isas, ","), "-reps", "5", "-passes", "bwd-filter,fwd,bwd-data", "-out", "x"}, nil},
		{[]string{"-quick"}, []string{"-quick"}},
		{[]string{"-layers", "L1", "-time", "1s"}, []string{"-layers", "-time"}},
		{[]string{"-threads", "1,2,4"}, []string{"-threads"}},
	}
	if len(isas) > 1 { // not under purego
		cases = append(cases, tcase{[]string{"-isa", isas[1]}, []string{"-isa"}})
	}
	for _, tc := range cases {
		c, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.partial(); !slices.Equal(got, tc.want) {
			t.Errorf("%q: partial() = %q, want %q", tc.args, got, tc.want)
		}
		if wantTemp := len(tc.want) > 0 && !slices.Contains(tc.args, "-out"); c.outTemp != wantTemp {
			t.Errorf("%q: outTemp = %v, want %v", tc.args, c.outTemp, wantTemp)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-isa", "mmx"}, {"-layers", "L11"}, {"-passes", "sideways"}, {"-threads", "0"}} {
		if err := run(args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
}

// tableRows returns the cells of a markdown table's lines, without the
// delimiter row.
func tableRows(s string) [][]string {
	var rows [][]string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "| -") || strings.HasPrefix(line, "| :") {
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.TrimSpace(c))
		}
		rows = append(rows, cells)
	}
	return rows
}

// number parses a table cell such as "12.5", "31%" or "4.0×".
func number(s string) float64 {
	v, err := strconv.ParseFloat(strings.TrimRight(s, "%×"), 64)
	if err != nil {
		return -1
	}
	return v
}
