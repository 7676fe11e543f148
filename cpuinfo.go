package simdconv

import "runtime"

// cpuInfo is what the CPU and operating system report: its identity, the
// caches and where they were read.
type cpuInfo struct {
	vendor                  string // CPUID's vendor string ("GenuineIntel", "AuthenticAMD"), or "" where not read
	family, model, stepping int    // CPUID's, with the extended family and model folded in
	arch                    string // GOARCH
	avx512                  bool   // the CPU and OS run AVX-512F (as isa_*.go's cpuFeatures says)
	amx                     bool   // CPUID reports AMX tiles, which only Intel's server cores have
	caches                  caches
	source                  string // where the caches were read; "" if nowhere
}

// thisCPU is this machine, read once.
var thisCPU = detectCPU()

func detectCPU() cpuInfo {
	c := readCPU()
	c.arch, c.avx512 = runtime.GOARCH, cpuFeatures()&featAVX512F != 0
	return c
}

// decodeVendor is leaf 0's vendor string, from EBX, EDX and ECX in order.
func decodeVendor(ebx, ecx, edx uint32) string {
	var b [12]byte
	for i, r := range []uint32{ebx, edx, ecx} {
		for j := range 4 {
			b[4*i+j] = byte(r >> (8 * j))
		}
	}
	return string(b[:])
}

// decodeSignature is leaf 1's EAX: family, model and stepping, with the
// extended family added to a base family of 0xF and the extended model
// prefixed to the model of families 6 and 0xF and above.
func decodeSignature(eax uint32) (family, model, stepping int) {
	family, model, stepping = int(eax>>8&0xf), int(eax>>4&0xf), int(eax&0xf)
	if family == 0xf {
		family += int(eax >> 20 & 0xff)
	}
	if family == 6 || family >= 0xf {
		model |= int(eax>>16&0xf) << 4
	}
	return family, model, stepping
}
