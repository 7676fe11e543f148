package simdconv

import "unsafe"

// lineFloats is a cache line in floats. The packed A and B buffers start on
// a line, so that no 64-byte load of a sliver splits across two lines: a
// split load costs the microkernel a second L1 access, and with B 32 bytes
// off its line every AVX-512 load of B split.
const lineFloats = 16

// alignLine returns ws from its first float that starts a cache line. It
// skips at most lineFloats-1 floats, which gemmWorkspace includes.
func alignLine(ws []float32) []float32 {
	if len(ws) == 0 {
		return ws
	}
	off := uintptr(unsafe.Pointer(&ws[0])) % (lineFloats * 4) / 4
	return ws[(lineFloats-int(off))%lineFloats:]
}
