package simdconv

import (
	"fmt"
	"os"
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

func init() {
	if name := os.Getenv("SIMDCONV_ISA"); name != "" {
		// An unknown or unavailable name keeps the best ISA; tests that need
		// a specific one assert it with SIMDCONV_TEST_REQUIRE.
		_ = SetISA(name)
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
// unknown name or one this CPU or build cannot run. SetISA must not be called
// concurrently with kernels that are running.
func SetISA(name string) error {
	for id, n := range isaNames {
		if n != name {
			continue
		}
		if !available[id] {
			return fmt.Errorf("simdconv: ISA %q is not available on this CPU or build (available: %s)",
				name, strings.Join(ISAs(), ", "))
		}
		current = isaID(id)
		return nil
	}
	return fmt.Errorf("simdconv: unknown ISA %q (known: %s)", name, strings.Join(isaNames[:], ", "))
}
