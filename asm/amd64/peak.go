package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// genPeak emits func name(n int): n iterations of a loop of `chains`
// independent FMAs on vectors of `lanes` float32 lanes (8: ymm/AVX2,
// 16: zmm/AVX-512), touching no memory. It returns the floating-point
// operations per loop iteration (chains·lanes·2).
func genPeak(name string, lanes, chains int) int {
	flops := chains * lanes * 2
	vec, isa := vectors(lanes)
	TEXT(name, NOSPLIT, "func(n int)")
	Doc(
		fmt.Sprintf("%s runs n iterations of %d independent %s FMA chains (acc[j] += x·y for j < %d),", name, chains, isa, chains),
		fmt.Sprintf("%d flops per iteration, registers only; it measures the core's peak FMA throughput.", flops),
	)
	Commentf("register pressure: %d accumulators + 2 multiplicands = %d of %d vector registers",
		chains, chains+2, map[int]int{8: 16, 16: 32}[lanes])

	n := Load(Param("n"), GP64())
	x, y := vec(), vec()
	zero(x)
	zero(y)
	acc := make([]VecVirtual, chains)
	for j := range acc {
		acc[j] = vec()
		zero(acc[j])
	}
	TESTQ(n, n)
	JLE(LabelRef("done"))
	Label("loop")
	for j := range acc {
		VFMADD231PS(x, y, acc[j])
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
	return flops
}

// vectors returns the register allocator and ISA name for vectors of lanes
// float32s: 8 (ymm, AVX2) or 16 (zmm, AVX-512).
func vectors(lanes int) (func() VecVirtual, string) {
	if lanes == 16 {
		return ZMM, "AVX-512"
	}
	return YMM, "AVX2"
}

// zero clears a vector register (ymm with AVX, zmm with AVX-512F).
func zero(v VecVirtual) {
	if v.Size() == 64 {
		VPXORD(v, v, v)
		return
	}
	VXORPS(v, v, v)
}
