//go:build gc && !purego

package simdconv

func detectISAs() (a [numISA]bool) {
	a[isaGeneric] = true
	return a
}
