package main

import "fmt"

// peakChains is the number of independent FMLA accumulator chains in
// peakNEON: enough to cover a 4-cycle FMLA latency on 4 pipes (16) with room.
const peakChains = 24

// peakFlops is the floating-point operations of one peakNEON iteration:
// each 4S FMLA is 4 multiplies and 4 adds.
const peakFlops = peakChains * 4 * 2

// genPeakNEON emits func name(n int): n iterations of chains independent
// vector FMLAs V(32-chains)..V31 += V0*V1, registers only.
func genPeakNEON(e *emitter, name string, chains int) error {
	if chains < 1 || chains > 30 {
		return fmt.Errorf("peak: %d chains: need 1..30 (V0, V1 are the sources)", chains)
	}
	first := 32 - chains
	e.printf("// func %s(n int)\n", name)
	e.printf("//\n")
	e.printf("// Register use: V%d-V31 accumulators (%d independent chains), V0 and V1\n", first, chains)
	e.printf("// the multiplicands (zeroed, so no denormals or NaNs); R0 n.\n")
	e.printf("// Per iteration: %d VFMLA (%d flops), SUBS, BNE.\n", chains, chains*8)
	e.printf("TEXT ·%s(SB), NOSPLIT, $0-8\n", name)
	e.op("MOVD", "n+0(FP)", "R0")
	e.op("CMP", "$0", "R0")
	e.op("BLE", name+"_done")
	for _, r := range append([]int{0, 1}, seq(first, 32)...) {
		b := fmt.Sprintf("V%d.B16", r)
		e.op("VEOR", b, b, b)
	}
	e.label(name + "_loop")
	for r := first; r < 32; r++ {
		// Go's operand order is Vm, Vn, Vd: Vd += Vn * Vm.
		e.op("VFMLA", v(1), v(0), v(r))
	}
	e.op("SUBS", "$1", "R0", "R0")
	e.op("BNE", name+"_loop")
	e.label(name + "_done")
	e.op("RET")
	e.blank()
	return nil
}

func seq(from, to int) []int {
	s := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}
