//go:build purego || !(amd64 || arm64)

package simdconv

func detectISAs() (a [numISA]bool) {
	a[isaGeneric] = true
	return a
}
