package simdconv

import "os"

// readCPU reads the caches that Linux describes for CPU 0, in pure Go.
func readCPU() cpuInfo {
	c, ok := sysfsCaches(os.DirFS("/sys/devices/system/cpu/cpu0/cache"))
	if !ok {
		return cpuInfo{}
	}
	return cpuInfo{caches: c, source: "/sys/devices/system/cpu/cpu0/cache"}
}
