//go:build !(amd64 && gc && !purego) && !(linux && arm64)

package simdconv

// readCPU reads nothing on these builds: the caches are the defaults.
func readCPU() cpuInfo { return cpuInfo{} }
