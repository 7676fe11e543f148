package main

import "fmt"

// Encoders for the AdvSIMD instructions Go's assembler lacks
// (golang/go#41092). Each checks its operands and returns the instruction
// word with its GNU-syntax disassembly, which encode_test.go checks against
// golang.org/x/arch/arm64/arm64asm.

// vreg is a SIMD register number, V0..V31.
type vreg uint8

// arrangement is a floating-point vector arrangement.
type arrangement uint8

const (
	s2 arrangement = iota + 1 // 2S: two float32 (64-bit vector)
	s4                        // 4S: four float32
	d2                        // 2D: two float64
)

// inst is one encoded instruction.
type inst struct {
	word uint32
	text string // GNU syntax, as arm64asm.GNUSyntax prints it
}

// bits returns the Q and sz fields of the arrangement.
func (a arrangement) bits() (q, sz uint32, err error) {
	switch a {
	case s2:
		return 0, 0, nil
	case s4:
		return 1, 0, nil
	case d2:
		return 1, 1, nil
	}
	return 0, 0, fmt.Errorf("invalid arrangement %d", a)
}

func (a arrangement) String() string {
	switch a {
	case s2:
		return "2s"
	case s4:
		return "4s"
	case d2:
		return "2d"
	}
	return fmt.Sprintf("arrangement(%d)", uint8(a))
}

// elem is the element suffix used in by-element operands ("s" or "d").
func (a arrangement) elem() string {
	if a == d2 {
		return "d"
	}
	return "s"
}

func checkRegs(mnemonic string, regs ...vreg) error {
	for _, r := range regs {
		if r > 31 {
			return fmt.Errorf("%s: register v%d out of range v0..v31", mnemonic, r)
		}
	}
	return nil
}

// fmlaElem encodes FMLA (by element): vd.T += vn.T * vm.E[lane].
func fmlaElem(d, n, m vreg, arr arrangement, lane int) (inst, error) {
	return byElem("fmla", 0x0F801000, d, n, m, arr, lane)
}

// fmlsElem encodes FMLS (by element): vd.T -= vn.T * vm.E[lane].
func fmlsElem(d, n, m vreg, arr arrangement, lane int) (inst, error) {
	return byElem("fmls", 0x0F805000, d, n, m, arr, lane)
}

// fmulElem encodes FMUL (by element): vd.T = vn.T * vm.E[lane].
func fmulElem(d, n, m vreg, arr arrangement, lane int) (inst, error) {
	return byElem("fmul", 0x0F809000, d, n, m, arr, lane)
}

// byElem encodes an AdvSIMD floating-point "by element" instruction from
// its base word (Q=0, sz=0, registers and lane 0). For single precision
// H:L hold the lane (0..3) and M:Rm the full 5-bit register; for double
// precision H holds the lane (0..1) and L is 0.
func byElem(mnemonic string, base uint32, d, n, m vreg, arr arrangement, lane int) (inst, error) {
	q, sz, err := arr.bits()
	if err == nil {
		err = checkRegs(mnemonic, d, n, m)
	}
	maxLane := 3
	if sz == 1 {
		maxLane = 1
	}
	if err == nil && (lane < 0 || lane > maxLane) {
		err = fmt.Errorf("%s: lane %d out of range 0..%d for %v", mnemonic, lane, maxLane, arr)
	}
	if err != nil {
		return inst{}, err
	}
	var h, l uint32
	if sz == 0 {
		h, l = uint32(lane)>>1, uint32(lane)&1
	} else {
		h = uint32(lane)
	}
	w := base | q<<30 | sz<<22 | l<<21 | uint32(m)<<16 | h<<11 | uint32(n)<<5 | uint32(d)
	return inst{w, fmt.Sprintf("%s v%d.%v, v%d.%v, v%d.%s[%d]", mnemonic, d, arr, n, arr, m, arr.elem(), lane)}, nil
}

// threeSame encodes an AdvSIMD "three same" floating-point instruction
// vd.T = op(vn.T, vm.T) from its base word (Q=0, sz=0, registers 0).
func threeSame(mnemonic string, base uint32, d, n, m vreg, arr arrangement) (inst, error) {
	q, sz, err := arr.bits()
	if err == nil {
		err = checkRegs(mnemonic, d, n, m)
	}
	if err != nil {
		return inst{}, err
	}
	w := base | q<<30 | sz<<22 | uint32(m)<<16 | uint32(n)<<5 | uint32(d)
	return inst{w, fmt.Sprintf("%s v%d.%v, v%d.%v, v%d.%v", mnemonic, d, arr, n, arr, m, arr)}, nil
}

// faddVec encodes FADD (vector): vd = vn + vm.
func faddVec(d, n, m vreg, arr arrangement) (inst, error) {
	return threeSame("fadd", 0x0E20D400, d, n, m, arr)
}

// fsubVec encodes FSUB (vector): vd = vn - vm.
func fsubVec(d, n, m vreg, arr arrangement) (inst, error) {
	return threeSame("fsub", 0x0EA0D400, d, n, m, arr)
}

// fmulVec encodes FMUL (vector): vd = vn * vm.
func fmulVec(d, n, m vreg, arr arrangement) (inst, error) {
	return threeSame("fmul", 0x2E20DC00, d, n, m, arr)
}

// fmaxVec encodes FMAX (vector): vd = max(vn, vm).
func fmaxVec(d, n, m vreg, arr arrangement) (inst, error) {
	return threeSame("fmax", 0x0E20F400, d, n, m, arr)
}

// faddpVec encodes FADDP (vector): pairwise sums of vn:vm into vd.
func faddpVec(d, n, m vreg, arr arrangement) (inst, error) {
	return threeSame("faddp", 0x2E20D400, d, n, m, arr)
}
