package main

import (
	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
)

// alignLoop pads to a 32-byte boundary before a short hot loop's first
// instruction, so that its body is fetched in as few windows as it can be
// wherever the kernel lands in the binary; unaligned, the same loop ran
// measurably slower after an unrelated kernel moved it.
func alignLoop() {
	Instruction(&ir.Instruction{Opcode: "PCALIGN", Operands: []Op{Imm(32)}})
}
