// Command sgemmtable benchmarks gonum's Sgemm against the drop-in
// (BenchmarkSgemm of package simdgonum) and writes the comparison, the
// medians of GFLOP/s, as a markdown table to results/<date>-gonum-sgemm.md
// at the repository's root, beside the raw go test output
// (<date>-gonum-sgemm.txt, which benchstat reads). Run it from the gonum
// module:
//
//	go run ./cmd/sgemmtable
//
// gonum's 2048³ runs take seconds each, so they get a fixed two
// iterations per count instead of the default benchtime.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/simdconv/simdconv"
)

const pkg = "github.com/simdconv/simdconv/gonum"

var sizes = []int{64, 128, 256, 512, 1024, 2048}

func main() {
	count := flag.Int("count", 3, "runs of each benchmark; the table shows their median")
	cpus := flag.String("cpu", "1,"+strconv.Itoa(runtime.NumCPU()), "GOMAXPROCS values, as go test's -cpu")
	flag.Parse()

	common := []string{"test", "-run", "^$", "-cpu", *cpus, "-count", strconv.Itoa(*count)}
	runs := [][]string{
		append(slices.Clone(common), "-bench", "Sgemm/impl=simdgonum/|Sgemm/impl=gonum/n=(64|128|256|512|1024)$", pkg),
		append(slices.Clone(common), "-bench", "Sgemm/impl=gonum/n=2048$", "-benchtime", "2x", pkg),
	}
	loadBefore := loadavg()
	var raw bytes.Buffer
	var commands []string
	for _, args := range runs {
		commands = append(commands, "go "+quote(args))
		log.Print(commands[len(commands)-1])
		cmd := exec.Command("go", args...)
		cmd.Stdout, cmd.Stderr = &raw, os.Stderr
		if err := cmd.Run(); err != nil {
			log.Fatalf("go test: %v", err)
		}
	}

	loadAfter := loadavg()
	results := parse(raw.String())
	procs := strings.Split(*cpus, ",")
	date := time.Now().UTC().Format("2006-01-02")
	dir := filepath.Join(output("go", "list", "-m", "-f", "{{.Dir}}"), "..", "results")
	txt := filepath.Join(dir, date+"-gonum-sgemm.txt")
	md := filepath.Join(dir, date+"-gonum-sgemm.md")
	var b strings.Builder
	fmt.Fprintf(&b, "# gonum's Sgemm and simdgonum's, %s\n\n", date)
	fmt.Fprintf(&b, "GFLOP/s of n×n×n products (no transpose, alpha 1, beta 0), the median of %d runs each; "+
		"× is simdgonum over gonum. The host is shared with other work, so single runs are noisy: "+
		"the load average (1, 5, 15 minutes) was %s before the run and %s after it.\n\n", *count, loadBefore, loadAfter)
	fmt.Fprintf(&b, "- machine: %s; Go reports `%s`\n", machine(), goCPU(raw.String()))
	fmt.Fprintf(&b, "- %s/%s, %s, simdconv ISA %s, at commit %s\n", runtime.GOOS, runtime.GOARCH, runtime.Version(),
		simdconv.ISA(), output("git", "describe", "--always", "--dirty"))
	fmt.Fprintf(&b, "- command, in `gonum/`: `go run ./cmd/sgemmtable`, which runs\n\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "      %s\n", c)
	}
	fmt.Fprintf(&b, "\n  The raw output is `%s`.\n\n", filepath.Base(txt))
	b.WriteString("| n |")
	sep := "|---:|"
	for _, p := range procs {
		fmt.Fprintf(&b, " gonum, GOMAXPROCS %s | simdgonum, GOMAXPROCS %s | × |", p, p)
		sep += "---:|---:|---:|"
	}
	b.WriteString("\n" + sep + "\n")
	for _, n := range sizes {
		fmt.Fprintf(&b, "| %d |", n)
		for _, p := range procs {
			g, s := median(results[key{"gonum", n, p}]), median(results[key{"simdgonum", n, p}])
			fmt.Fprintf(&b, " %.1f | %.1f | %.1f |", g, s, s/g)
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(txt, raw.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(md, []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Print(b.String())
}

// key names one benchmark: the implementation, the size and GOMAXPROCS.
type key struct {
	impl  string
	n     int
	procs string
}

var line = regexp.MustCompile(`^BenchmarkSgemm/impl=(\w+)/n=(\d+)(?:-(\d+))?\s.*?([\d.]+) GFLOP/s`)

// parse collects the GFLOP/s of each benchmark line of go test's output.
func parse(out string) map[key][]float64 {
	res := map[key][]float64{}
	for _, l := range strings.Split(out, "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		procs := m[3]
		if procs == "" {
			procs = "1" // go test leaves the suffix off at GOMAXPROCS 1
		}
		v, _ := strconv.ParseFloat(m[4], 64)
		k := key{m[1], n, procs}
		res[k] = append(res[k], v)
	}
	return res
}

func median(x []float64) float64 {
	if len(x) == 0 {
		log.Fatal("a benchmark is missing from go test's output")
	}
	x = slices.Sorted(slices.Values(x))
	if len(x)%2 == 1 {
		return x[len(x)/2]
	}
	return (x[len(x)/2-1] + x[len(x)/2]) / 2
}

// machine describes the CPU as lscpu reports it: model name and cores.
func machine() string {
	f := map[string]string{}
	for _, l := range strings.Split(output("lscpu"), "\n") {
		if name, value, ok := strings.Cut(l, ":"); ok {
			f[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	}
	return fmt.Sprintf("%s (family %s, model %s), %s CPUs (sockets %s, cores per socket %s, threads per core %s)",
		f["Model name"], f["CPU family"], f["Model"], f["CPU(s)"], f["Socket(s)"], f["Core(s) per socket"], f["Thread(s) per core"])
}

// loadavg is the first three fields of /proc/loadavg, or "?".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], ", ")
	}
	return "?"
}

// goCPU is the cpu line of go test's output.
func goCPU(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if s, ok := strings.CutPrefix(l, "cpu: "); ok {
			return strings.TrimSpace(s)
		}
	}
	return "?"
}

func output(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		log.Fatalf("%s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// quote renders args as a shell would need them.
func quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = a
		if strings.ContainsAny(a, "^$|()* ") {
			q[i] = "'" + a + "'"
		}
	}
	return strings.Join(q, " ")
}
