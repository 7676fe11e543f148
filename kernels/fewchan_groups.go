package kernels

import (
	"slices"

	"github.com/simdconv/simdconv/internal/engine"
)

// Tap groups of the row kernels. A StencilRows pass holds a few vectors of
// outputs and walks every tap, each a shifted run of one row of a padded
// plane, so taps in D distinct rows keep D streams of input open at once,
// each advanced by a pass's few vectors. Backward-data of VGG's first layer
// (dY's 64 planes × 3 rows of taps: 192 streams) missed on nearly every
// new line: AVX2's passes of 4 vectors ran at 12 GFLOP/s, and at 51 with
// the taps in groups of 24 streams (avx512: 70 and 89; results/
// 2026-12-03-amd64-amd-epyc-f25-m17-tap-groups.md). The model: the
// prefetchers of current cores follow a few tens of streams (Intel's L2
// streamer 32, one per 4 KiB page), so a group holds at most maxStreams.
//
// Passes of 16-lane vectors (AVX-512: 8 vectors, 8 cache lines of each
// stream a pass) need no groups: there the 192 streams ran as fast as 24
// in the real pass, and the groups' extra passes over the panel cost AlexNet's
// stem (Z21) 14 %. AVX2's passes of 4 vectors (2 lines) and NEON's take
// them.
//
// A band whose rows of input fit half of L2 is read from there whatever
// the streams (CIFAR's and LeNet's small planes), and grouping would only
// add the passes over its panel: its taps stay one group.
//
// The first group of a band sets its panel and each later one is added to
// it from a second panel, a pass over the panel per group. The groups
// depend on the shape and the ISA alone, so results stay the same on any
// thread count.
const maxStreams = 24

// groupFloats is the floats of a band's input rows that take no groups:
// half of L2. Tests lower it to group small layers.
var groupFloats = engine.L2() / 4 / 2

// groupLanes is the lanes from which the row kernels' passes take no
// groups. Tests raise it to group on every ISA.
var groupLanes = 16

// tapGroups returns the first tap of each group of off and then len(off):
// runs of taps that read at most maxStreams distinct rows of ld floats;
// one run for wide passes, for StencilRows in Go (which takes a tap's
// whole run at a time), or if a band, n floats from each tap's start,
// reads at most half of L2.
func tapGroups(off []int, ld, n int) []int {
	if l := engine.RowsLanes(); l == 0 || l >= groupLanes || distinctRows(off, ld)*n <= groupFloats {
		return []int{0, len(off)}
	}
	starts := []int{0}
	var rows []int
	for t, o := range off {
		r := o / ld
		if slices.Contains(rows, r) {
			continue
		}
		if len(rows) == maxStreams {
			starts, rows = append(starts, t), rows[:0]
		}
		rows = append(rows, r)
	}
	return append(starts, len(off))
}

// distinctRows is the rows of ld floats that the taps at off start in.
func distinctRows(off []int, ld int) int {
	seen := make(map[int]bool, len(off))
	for _, o := range off {
		seen[o/ld] = true
	}
	return len(seen)
}

// stencilGroups is engine.StencilRows(panel, ld, x, w, off, n, m, bias)
// with the taps in groups (tapGroups): tmp, m rows of ld floats like
// panel, takes each group after the first.
func stencilGroups(panel, tmp []float32, ld int, x, w []float32, off, groups []int, n, m int, bias []float32) {
	for i := 0; i+1 < len(groups); i++ {
		t0, t1 := groups[i], groups[i+1]
		dst := panel
		if i > 0 {
			dst, bias = tmp, nil
		}
		engine.StencilRows(dst, ld, x, w[t0*m:][:(t1-t0)*m], off[t0:t1], n, m, bias)
		if i > 0 {
			engine.AddRows(panel, tmp, m, n, ld, ld)
		}
	}
}

// groupPanels is the floats of a band's panels: one, or two where the taps
// form several groups.
func groupPanels(groups []int, panel int) int {
	if len(groups) > 2 {
		return 2 * panel
	}
	return panel
}
