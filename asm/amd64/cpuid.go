package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/reg"
)

// genCPUID emits func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32):
// the CPUID instruction, which package simdconv reads the caches and the
// processor's identity from (golang.org/x/sys/cpu exposes neither).
func genCPUID() {
	TEXT("cpuid", NOSPLIT, "func(leaf, sub uint32) (eax, ebx, ecx, edx uint32)")
	Doc("cpuid executes CPUID with EAX = leaf and ECX = sub and returns the four registers it sets.")
	Load(Param("leaf"), EAX)
	Load(Param("sub"), ECX)
	CPUID()
	Store(EAX, Return("eax"))
	Store(EBX, Return("ebx"))
	Store(ECX, Return("ecx"))
	Store(EDX, Return("edx"))
	RET()
}
