package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/arch/arm64/arm64asm"
)

// decode disassembles w in GNU syntax.
func decode(t *testing.T, w uint32) string {
	t.Helper()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], w)
	in, err := arm64asm.Decode(b[:])
	if err != nil {
		t.Fatalf("decode %#08x: %v", w, err)
	}
	return normalize(arm64asm.GNUSyntax(in))
}

// normalize lowercases and collapses white space.
func normalize(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

func checkInst(t *testing.T, in inst, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := decode(t, in.word), normalize(in.text); got != want {
		t.Fatalf("%#08x decodes as %q, comment says %q", in.word, got, want)
	}
}

var arrangements = []arrangement{s2, s4, d2}

func TestByElem(t *testing.T) {
	encoders := map[string]func(d, n, m vreg, arr arrangement, lane int) (inst, error){
		"fmla": fmlaElem, "fmls": fmlsElem, "fmul": fmulElem,
	}
	for name, enc := range encoders {
		t.Run(name, func(t *testing.T) { checkByElem(t, name, enc) })
	}
}

func checkByElem(t *testing.T, name string, enc func(d, n, m vreg, arr arrangement, lane int) (inst, error)) {
	n := 0
	for _, arr := range arrangements {
		lanes := 4
		if arr == d2 {
			lanes = 2
		}
		for d := vreg(0); d < 32; d++ {
			for m := vreg(0); m < 32; m++ {
				for lane := 0; lane < lanes; lane++ {
					rn := (d*7 + m*3 + vreg(lane)) % 32 // vary n without a fourth loop
					in, err := enc(d, rn, m, arr, lane)
					checkInst(t, in, err)
					if !strings.HasPrefix(in.text, name+" ") {
						t.Fatalf("%s encoder wrote %q", name, in.text)
					}
					n++
				}
			}
		}
	}
	// Rm above 15 must keep its top bit (the M bit, bit 20).
	in, err := enc(16, 0, 20, s4, 3)
	checkInst(t, in, err)
	if in.word&(1<<20) == 0 {
		t.Fatalf("v20 lost its M bit: %#08x", in.word)
	}
	t.Logf("%d encodings checked", n)
}

func TestThreeSame(t *testing.T) {
	encoders := map[string]func(d, n, m vreg, arr arrangement) (inst, error){
		"fadd": faddVec, "fsub": fsubVec, "fmul": fmulVec, "fmax": fmaxVec, "faddp": faddpVec,
	}
	for name, enc := range encoders {
		for _, arr := range arrangements {
			for d := vreg(0); d < 32; d++ {
				for m := vreg(0); m < 32; m++ {
					in, err := enc(d, (d+m*5)%32, m, arr)
					checkInst(t, in, err)
					if !strings.HasPrefix(in.text, name+" ") {
						t.Fatalf("%s encoder wrote %q", name, in.text)
					}
				}
			}
		}
	}
}

func TestEncodeRejects(t *testing.T) {
	bad := []struct {
		name string
		err  error
	}{
		{"register 32", second(fmlaElem(32, 0, 0, s4, 0))},
		{"rn 32", second(fmlaElem(0, 32, 0, s4, 0))},
		{"rm 32", second(fmlaElem(0, 0, 32, s4, 0))},
		{"lane 4", second(fmlaElem(0, 0, 0, s4, 4))},
		{"lane -1", second(fmlaElem(0, 0, 0, s4, -1))},
		{"fmls lane 4", second(fmlsElem(0, 0, 0, s4, 4))},
		{"fmul register 32", second(fmulElem(0, 0, 32, s4, 0))},
		{"fsub register 32", second(fsubVec(32, 0, 0, s4))},
		{"2d lane 2", second(fmlaElem(0, 0, 0, d2, 2))},
		{"no arrangement", second(fmlaElem(0, 0, 0, 0, 0))},
		{"fadd bad arrangement", second(faddVec(0, 0, 0, 9))},
		{"fadd register 40", second(faddVec(0, 40, 0, s4))},
		{"fmax register 255", second(fmaxVec(0, 0, 255, s4))},
	}
	for _, b := range bad {
		if b.err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
	var buf bytes.Buffer
	e := &emitter{w: &buf}
	e.inst(fmlaElem(0, 0, 0, s4, 7))
	if e.err == nil {
		t.Error("emitter did not keep the encoding error")
	}
}

func second(_ inst, err error) error { return err }

var wordLine = regexp.MustCompile(`^\tWORD\t\$0x([0-9a-f]{8})\t// (.*)$`)

// TestGeneratedWords checks every WORD of the generated assembly against
// its comment, and that generation is deterministic.
func TestGeneratedWords(t *testing.T) {
	s, g, tl, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	s2, g2, tl2, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s, s2) || !bytes.Equal(g, g2) || !bytes.Equal(tl, tl2) {
		t.Fatal("generation is not deterministic")
	}
	counts := map[string]map[string]int{} // by function, then mnemonic
	fn := ""
	sc := bufio.NewScanner(bytes.NewReader(s))
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if name, ok := strings.CutPrefix(text, "TEXT ·"); ok {
			fn, _, _ = strings.Cut(name, "(")
			counts[fn] = map[string]int{}
		}
		if !strings.Contains(text, "WORD") {
			continue
		}
		m := wordLine.FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("line %d: malformed WORD line %q", line, text)
		}
		w, _ := strconv.ParseUint(m[1], 16, 32)
		if got, want := decode(t, uint32(w)), normalize(m[2]); got != want {
			t.Errorf("line %d: %s decodes as %q, comment says %q", line, m[1], got, want)
		}
		counts[fn][strings.Fields(m[2])[0]]++
	}
	// The sgemm kernel: 5 passes of the 24 FMLAs (4 unrolled + 1 tail)
	// and 24 FADDs.
	if c := counts["sgemmNEON"]; c["fmla"] != 5*24 || c["fadd"] != 24 {
		t.Errorf("sgemmNEON instruction counts %v", c)
	}
	for _, f := range [][]byte{s, g, tl} {
		if !bytes.HasPrefix(f, []byte("// Code generated by asm/arm64; DO NOT EDIT.\n\n//go:build gc && !purego\n")) {
			t.Errorf("missing header: %q", f[:80])
		}
	}
}

// TestRegisterHygiene rejects reserved general registers in the output.
func TestRegisterHygiene(t *testing.T) {
	s, _, _, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	reserved := regexp.MustCompile(`\b(R18|R26|R27|R28|R29|R30|g|LR|RSP)\b`)
	for _, line := range strings.Split(string(s), "\n") {
		if strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, "\t//") && !strings.HasPrefix(line, "\tWORD") {
			if reserved.MatchString(line) {
				t.Errorf("reserved register in %q", line)
			}
		}
	}
}

func TestPlanRejects(t *testing.T) {
	for _, tile := range [][2]int{{8, 16}, {6, 8}, {20, 4}, {16, 12}} {
		if _, err := planSgemm(tile[0], tile[1]); err == nil {
			t.Errorf("tile %v accepted", tile)
		}
	}
	if _, err := planSgemm(8, 12); err != nil {
		t.Error(err)
	}
}
