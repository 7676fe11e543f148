package simdconv

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// isaID names one implementation of the microkernels.
type isaID uint8

const (
	isaGeneric isaID = iota
	isaAVX2
	isaAVX512
	isaNEON
	numISA
)

var isaNames = [numISA]string{"generic", "avx2", "avx512", "neon"}

// isaPreference lists implementations best first.
var isaPreference = [...]isaID{isaAVX512, isaAVX2, isaNEON, isaGeneric}

// available records the ISAs this CPU and build can run: those with
// kernels in kernelTable whose features the CPU has, and whose fallback ISA
// is available too.
var available = detectISAs()

func detectISAs() (a [numISA]bool) {
	have := cpuFeatures()
	a[isaGeneric] = true
	for _, isa := range []isaID{isaAVX2, isaNEON, isaAVX512} { // fallbacks first
		needs, any := isaNeeds(isa)
		fb := isaFallback[isa]
		a[isa] = any && have&needs == needs && (fb == isaGeneric || a[fb])
	}
	return a
}

// current is the implementation that calls dispatch to. A call reads it once
// and passes it down, so a concurrent SetISA never mixes two tile shapes.
var current = bestISA()

// isaErr is why SIMDCONV_ISA could not be honoured, or nil. The best ISA
// runs meanwhile, but Sgemm panics and package kernels refuses to plan, so
// that a typo or a masked CPU cannot pass for a deliberate choice; a
// successful SetISA clears it.
var isaErr error

func init() {
	if name := os.Getenv("SIMDCONV_ISA"); name != "" {
		id, why := lookupISA(name)
		if why != "" {
			isaErr = fmt.Errorf("simdconv: SIMDCONV_ISA=%q: %s", name, why)
			return
		}
		current = id
	}
}

func bestISA() isaID {
	for _, id := range isaPreference {
		if available[id] {
			return id
		}
	}
	return isaGeneric
}

// ISA returns the name of the implementation in use: "avx512", "avx2",
// "neon" or "generic".
func ISA() string { return isaNames[current] }

// ISAs returns the names of the implementations this CPU and build can run,
// best first. "generic" is always last.
func ISAs() []string {
	var names []string
	for _, id := range isaPreference {
		if available[id] {
			names = append(names, isaNames[id])
		}
	}
	return names
}

// SetISA selects the implementation by name. It returns an error for an
// unknown name or one this CPU or build cannot run, and then keeps the
// selection. A successful SetISA is a deliberate choice: it also clears the
// error of an unusable SIMDCONV_ISA, so Sgemm and package kernels run
// again. SetISA must not be called concurrently with kernels that are
// running.
func SetISA(name string) error {
	id, why := lookupISA(name)
	if why != "" {
		return fmt.Errorf("simdconv: SetISA(%q): %s", name, why)
	}
	current, isaErr = id, nil
	return nil
}

// lookupISA returns the ISA called name, or, if this CPU and build cannot
// run it, why not and which names they can.
func lookupISA(name string) (isaID, string) {
	choices := "; choose one of " + strings.Join(ISAs(), ", ")
	id := slices.Index(isaNames[:], name)
	switch {
	case id < 0:
		return 0, "unknown ISA" + choices
	case !available[id]:
		return 0, "known ISA, but not supported by this CPU or build" + choices
	}
	return isaID(id), ""
}
