package main

import (
	"fmt"
	"io"
	"strings"
)

// emitter writes assembly or Go text. The first write error (or encoding
// error passed to inst) sticks; later calls do nothing.
type emitter struct {
	w   io.Writer
	err error
}

func (e *emitter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// op writes one instruction in Go assembler syntax.
func (e *emitter) op(mnemonic string, operands ...string) {
	e.printf("\t%s\t%s\n", mnemonic, strings.Join(operands, ", "))
}

// inst writes a hand-encoded instruction as a WORD with its disassembly.
func (e *emitter) inst(in inst, err error) {
	if err != nil && e.err == nil {
		e.err = err
	}
	e.printf("\tWORD\t$0x%08x\t// %s\n", in.word, in.text)
}

func (e *emitter) label(name string) { e.printf("%s:\n", name) }

func (e *emitter) comment(format string, args ...any) {
	e.printf("\t// "+format+"\n", args...)
}

func (e *emitter) blank() { e.printf("\n") }
