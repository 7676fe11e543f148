package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Peer figures belong to the machine that measured them, so they are read
// from files, never kept in code. The peer harness (../shared/peers/run.sh)
// writes one folder per run, results/runs/RUN_ID/; a session that wants a
// peer column commits a run's raw.csv and env.txt, as written, to
//
//	results/peers/<date>-<cpu slug>/raw.csv
//	results/peers/<date>-<cpu slug>/env.txt
//
// and, if there is one, its peak.csv. The folder name is only for people;
// bench reads env.txt's "date:", "Model name:", "CPU family:" and "Model:"
// lines. A folder counts when they
// name this CPU (name, family and model as in /proc/cpuinfo), and each cell
// comes from the newest such folder that measured it, as the harness merges
// its own runs. A raw.csv with a run column (the harness's merged file) keeps
// only the rows of the run its env.txt describes: the others may come from
// another machine.

// peerKey names a peer figure.
type peerKey struct {
	layer   string
	pass    pass
	threads int
}

// peerFigure is the fastest NCHW peer of a cell: its median over rounds.
type peerFigure struct {
	peer   string // peer/variant, as the harness names them
	gflops float64
	source string // the folder it came from
}

// peerSet is what bench found for this CPU.
type peerSet struct {
	best    map[peerKey]peerFigure
	sources []string // folders that supplied a figure, newest first
	// ceilings are each source's 1-thread FMA ceiling by ISA, from its
	// peak.csv: a run on a busier or slower guest of the same model shows
	// there.
	ceilings map[string]map[string]float64
}

// peerEnv is what bench reads of a run's env.txt.
type peerEnv struct {
	cpu  cpuID
	date string // "2026-11-29T01:05:41Z"
}

// harnessPass maps the harness's pass names to ours; other rows (sgemm) are
// not conv cells.
var harnessPass = map[string]pass{"fwd": passForward, "bwd_data": passBackwardData, "bwd_filter": passBackwardFilter}

// loadPeers returns the peer figures of cpu under root for the layers of tab.
// When there are none it returns nil and the reason, for the console.
func loadPeers(root string, cpu cpuID, tab []*layer) (*peerSet, string, error) {
	none := fmt.Sprintf("no peer measurement of %v in %s", cpu, root)
	ents, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, none, nil
	}
	if err != nil {
		return nil, "", err
	}
	type run struct {
		dir string
		env peerEnv
	}
	var runs []run
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		if env, err := readPeerEnv(filepath.Join(dir, "env.txt")); err == nil && env.cpu == cpu {
			runs = append(runs, run{dir, env})
		}
	}
	// The newest first; the dates are ISO 8601 UTC, so they sort as text.
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].env.date > runs[j].env.date })

	set := &peerSet{best: map[peerKey]peerFigure{}, ceilings: map[string]map[string]float64{}}
	for _, rn := range runs {
		figs, err := readPeerCSV(filepath.Join(rn.dir, "raw.csv"), rn.env, tab)
		if err != nil {
			return nil, "", err
		}
		used := false
		for k, f := range figs {
			if _, ok := set.best[k]; !ok {
				f.source = rn.dir
				set.best[k] = f
				used = true
			}
		}
		if used {
			set.sources = append(set.sources, rn.dir)
			if c, err := readPeerCeilings(filepath.Join(rn.dir, "peak.csv")); err == nil {
				set.ceilings[rn.dir] = c
			}
		}
	}
	if len(set.best) == 0 {
		return nil, none, nil
	}
	return set, "", nil
}

// readPeerEnv reads the lines of an env.txt that identify the run.
func readPeerEnv(path string) (peerEnv, error) {
	f, err := os.Open(path)
	if err != nil {
		return peerEnv{}, err
	}
	defer f.Close()
	var env peerEnv
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		v = strings.TrimSpace(v)
		switch k {
		case "date":
			env.date = v
		case "Model name":
			env.cpu.name = v
		case "CPU family":
			env.cpu.family = v
		case "Model":
			env.cpu.model = v
		}
	}
	if err := sc.Err(); err != nil {
		return peerEnv{}, err
	}
	if env.date == "" || env.cpu.name == "" {
		return peerEnv{}, fmt.Errorf("%s: no date: or Model name: line", path)
	}
	return env, nil
}

// readPeerCSV returns the fastest NCHW peer of every cell of raw.csv whose
// layer has the shape of the same-named layer of tab.
func readPeerCSV(path string, env peerEnv, tab []*layer) (map[peerKey]peerFigure, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := map[string]int{}
	for i, name := range head {
		col[name] = i
	}
	for _, name := range []string{"peer", "variant", "threads", "layer", "pass", "gflops",
		"N", "C", "H", "W", "K", "R", "S", "stride", "pad"} {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("%s: no %q column; want the peer harness's raw.csv", path, name)
		}
	}
	runID := strings.NewReplacer("-", "", ":", "").Replace(env.date)

	samples := map[peerKey]map[string][]float64{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return rec[i]
			}
			return ""
		}
		p, ok := harnessPass[get("pass")]
		if !ok || !nchwPeer(get("peer"), get("variant")) {
			continue
		}
		if run := get("run"); run != "" && !strings.HasPrefix(run, runID) {
			continue
		}
		l := findLayer(tab, get("layer"))
		if l == nil || !sameShape(l, get) {
			continue
		}
		th, err1 := strconv.Atoi(get("threads"))
		g, err2 := strconv.ParseFloat(get("gflops"), 64)
		if err := errors.Join(err1, err2); err != nil {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		k := peerKey{l.Name, p, th}
		if samples[k] == nil {
			samples[k] = map[string][]float64{}
		}
		name := get("peer") + "/" + get("variant")
		samples[k][name] = append(samples[k][name], g)
	}

	out := map[peerKey]peerFigure{}
	for k, byPeer := range samples {
		names := make([]string, 0, len(byPeer))
		for name := range byPeer {
			names = append(names, name)
		}
		slices.Sort(names) // a tie goes to the same peer every time
		var best peerFigure
		for _, name := range names {
			if m := median(byPeer[name]); m > best.gflops {
				best = peerFigure{peer: name, gflops: m}
			}
		}
		out[k] = best
	}
	return out, nil
}

// harnessPeak names the peer harness's FMA loop of each ISA in peak.csv.
var harnessPeak = map[string]string{"avx512_zmm_fma_12acc": "avx512", "avx2_ymm_fma_12acc": "avx2"}

// readPeerCeilings reads the 1-thread medians of a harness peak.csv by ISA.
func readPeerCeilings(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, rec := range recs {
		if isa, ok := harnessPeak[rec[0]]; ok && len(rec) > 2 && rec[1] == "1" {
			if g, err := strconv.ParseFloat(rec[2], 64); err == nil {
				out[isa] = g
			}
		}
	}
	return out, nil
}

// nchwPeer is the harness scoreboard's rule (common/scoreboard.py): a peer
// that starts from plain NCHW buffers, as our users hold them. oneDNN's
// primitive-only rows assume its blocked layouts, and simdconv is the
// project itself.
func nchwPeer(peer, variant string) bool {
	if peer == "simdconv" {
		return false
	}
	return variant != "prim" || (peer != "onednn-auto" && peer != "onednn-direct")
}

func findLayer(tab []*layer, name string) *layer {
	for _, l := range tab {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// sameShape reports whether a raw.csv row measured l: the harness's shapes
// file may change, and a name alone does not say so. Its shapes are square
// in stride, padding and dilation; dil and groups may be missing (older
// runs) and then are 1.
func sameShape(l *layer, get func(string) string) bool {
	q := l.Params
	want := map[string]int{"N": q.N, "C": q.C, "H": q.H, "W": q.W, "K": q.K, "R": q.R, "S": q.S,
		"stride": max(q.StrideH, 1), "pad": q.PadTop, "dil": max(q.DilationH, 1), "groups": max(q.Groups, 1)}
	if q.StrideW != q.StrideH || q.DilationW != q.DilationH ||
		q.PadBottom != q.PadTop || q.PadLeft != q.PadTop || q.PadRight != q.PadTop {
		return false
	}
	for name, v := range want {
		s := get(name)
		if s == "" && (name == "dil" || name == "groups") {
			s = "1"
		}
		if n, err := strconv.Atoi(s); err != nil || n != v {
			return false
		}
	}
	return true
}

// threads returns the thread counts of the set among those timed.
func (s *peerSet) threads(timed []int) []int {
	var out []int
	for _, th := range timed {
		for k := range s.best {
			if k.threads == th {
				out = append(out, th)
				break
			}
		}
	}
	return out
}
