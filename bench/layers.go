package main

import (
	"fmt"
	"strings"

	"github.com/simdconv/simdconv/internal/layers"
	"github.com/simdconv/simdconv/kernels"
)

// pass is one of the three convolution passes a layer is timed on.
type pass int

const (
	passForward pass = iota
	passBackwardData
	passBackwardFilter
	numPasses
)

var passNames = [numPasses]string{"fwd", "bwd-data", "bwd-filter"}

// passAliases lets -passes take the long names of the kernels API as well.
var passAliases = map[string]pass{
	"fwd": passForward, "forward": passForward,
	"bwd-data": passBackwardData, "backward-data": passBackwardData,
	"bwd-filter": passBackwardFilter, "backward-filter": passBackwardFilter,
}

func (p pass) String() string { return passNames[p] }

// layer is one shape of the shared table.
type layer = layers.Layer

// allLayers is the design's table, L1 to L10.
var allLayers = layers.Table

// flops is 2·N·K·(C/G)·R·S·P·Q, the same count for every pass, so that the
// passes' GFLOP/s compare directly.
func flops(p kernels.Conv2DParams, outH, outW int) float64 {
	g := max(p.Groups, 1)
	return 2 * float64(p.N) * float64(p.K) * float64(p.C/g) * float64(p.R) * float64(p.S) *
		float64(outH) * float64(outW)
}

// selectLayers parses -layers: "all" or a comma list of names, any case.
func selectLayers(list string) ([]*layer, error) {
	if list == "all" || list == "" {
		return ptrs(allLayers), nil
	}
	var out []*layer
	for _, name := range splitList(list) {
		var found *layer
		for i := range allLayers {
			l := &allLayers[i]
			if strings.EqualFold(l.Name, name) {
				found = l
			}
		}
		if found == nil {
			return nil, fmt.Errorf("-layers: unknown layer %q (known: L1 to L%d)", name, len(allLayers))
		}
		out = append(out, found)
	}
	return out, nil
}

// selectPasses parses -passes: "all" or a comma list of pass names.
func selectPasses(list string) ([]pass, error) {
	if list == "all" || list == "" {
		return []pass{passForward, passBackwardData, passBackwardFilter}, nil
	}
	var out []pass
	for _, name := range splitList(list) {
		p, ok := passAliases[strings.ToLower(name)]
		if !ok {
			return nil, fmt.Errorf("-passes: unknown pass %q (known: %s)", name, strings.Join(passNames[:], ", "))
		}
		out = append(out, p)
	}
	return out, nil
}

// splitList splits a comma list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ptrs returns pointers to every layer of t.
func ptrs(t []layer) []*layer {
	out := make([]*layer, len(t))
	for i := range t {
		out[i] = &t[i]
	}
	return out
}
