package simdconv

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/simdconv/simdconv/internal/engine"
	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

var registry = testutil.Registry{ISA: ISA, ISAs: ISAs, SetISA: SetISA}

// TestRequireISA fails unless the ISA named by SIMDCONV_TEST_REQUIRE is the
// one selected, so that a CI leg meant for an ISA cannot silently run
// another (for example generic code under an emulator).
func TestRequireISA(t *testing.T) {
	want := os.Getenv("SIMDCONV_TEST_REQUIRE")
	if want == "" {
		t.Skip("SIMDCONV_TEST_REQUIRE is not set")
	}
	require.Equal(t, want, ISA(), "selected ISA (available: %v; SIMDCONV_ISA error: %v)", ISAs(), isaErr)
}

// isaEnvResult is what TestISAEnvChild reports to TestISAEnv.
type isaEnvResult struct {
	ISA, Err, Panic      string // after start-up
	ErrAfter, PanicAfter string // after SetISA(ISA())
}

// isaEnvMark starts the child's report line in its output.
const isaEnvMark = "isa-env-result "

// TestISAEnvChild runs only as TestISAEnv's subprocess: it reports what
// start-up made of SIMDCONV_ISA (the ISA, engine.ISAError and the panic of
// an Sgemm), then the same after a SetISA of the ISA in use.
func TestISAEnvChild(t *testing.T) {
	if os.Getenv("SIMDCONV_TEST_ISA_CHILD") != "1" {
		t.Skip("run by TestISAEnv in a subprocess")
	}
	report := func() (errText, panicText string) {
		if err := engine.ISAError(); err != nil {
			errText = err.Error()
		}
		defer func() {
			if r := recover(); r != nil {
				panicText = fmt.Sprint(r)
			}
		}()
		Sgemm(false, false, 1, 1, 1, 1, []float32{2}, 1, []float32{3}, 1, 0, make([]float32, 1), 1)
		return errText, ""
	}
	var res isaEnvResult
	res.ISA = ISA()
	res.Err, res.Panic = report()
	require.NoError(t, SetISA(ISA()))
	res.ErrAfter, res.PanicAfter = report()
	out, err := json.Marshal(res)
	require.NoError(t, err)
	fmt.Printf("\n%s%s\n", isaEnvMark, out)
}

// TestISAEnv runs this test binary with SIMDCONV_ISA set to names that
// must not select an ISA silently, and to valid ones, and checks that the
// best ISA runs with an error that names the variable, its value and the
// choices, that Sgemm panics with it, and that a SetISA clears it.
func TestISAEnv(t *testing.T) {
	choices := "; choose one of " + strings.Join(ISAs(), ", ")
	unknown := ": unknown ISA" + choices
	type envCase struct{ value, why string } // why: the error after the value, "" if valid
	cases := []envCase{{"bogus", unknown}, {"AVX2", unknown}, {" avx2", unknown}}
	for id, name := range isaNames {
		if !available[id] { // the first ISA this CPU or build lacks
			cases = append(cases, envCase{name, ": known ISA, but not supported by this CPU or build" + choices})
			break
		}
	}
	if len(cases) == 3 {
		t.Log("every known ISA is available: no unsupported case")
	}
	for _, name := range append(ISAs(), "") {
		cases = append(cases, envCase{name, ""})
	}
	best := ISAs()[0]
	for _, c := range cases {
		t.Run(fmt.Sprintf("SIMDCONV_ISA=%q", c.value), func(t *testing.T) {
			res := runISAEnvChild(t, c.value)
			if c.why == "" {
				want := cmp.Or(c.value, best)
				require.Equal(t, isaEnvResult{ISA: want}, res, "a valid value selects its ISA, without error")
				return
			}
			msg := fmt.Sprintf("simdconv: SIMDCONV_ISA=%q%s", c.value, c.why)
			require.Equal(t, isaEnvResult{ISA: best, Err: msg, Panic: msg}, res,
				"the best ISA runs, the error stands and Sgemm panics with it until SetISA")
		})
	}
}

// runISAEnvChild runs TestISAEnvChild in a subprocess with SIMDCONV_ISA set
// to value and returns its report.
func runISAEnvChild(t *testing.T, value string) isaEnvResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestISAEnvChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "SIMDCONV_TEST_ISA_CHILD=1", "SIMDCONV_ISA="+value)
	out, err := cmd.CombinedOutput()
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("cannot run the test binary in a subprocess (an emulator without binfmt_misc?): %v", err)
	}
	require.NoError(t, err, "child output:\n%s", out)
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, isaEnvMark); ok {
			var res isaEnvResult
			require.NoError(t, json.Unmarshal([]byte(rest), &res))
			return res
		}
	}
	t.Fatalf("the child printed no %q line:\n%s", isaEnvMark, out)
	return isaEnvResult{}
}

func TestSetISA(t *testing.T) {
	prev := ISA()
	defer func() { require.NoError(t, SetISA(prev)) }()
	require.Error(t, SetISA("sse9"))
	require.Equal(t, prev, ISA(), "a failed SetISA must not change the selection")
	names := ISAs()
	require.Equal(t, "generic", names[len(names)-1])
	for _, n := range names {
		require.NoError(t, SetISA(n))
		require.Equal(t, n, ISA())
	}
	for id, n := range isaNames {
		if !available[id] {
			require.Error(t, SetISA(n), n)
		}
	}
}

// naiveGemm is the float64 reference: alpha·op(A)·op(B) + beta·C.
func naiveGemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			sum := 0.0
			for p := 0; p < k; p++ {
				ai, bi := i*lda+p, p*ldb+j
				if tA {
					ai = p*lda + i
				}
				if tB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				sum += float64(av) * float64(bv)
			}
			out[i*ldc+j] = float64(alpha)*sum + float64(beta)*float64(c[i*ldc+j])
		}
	}
	return out
}

// checkSgemm runs one Sgemm against the reference, with NaN guard bands
// around C and in its ldc gaps.
func checkSgemm(t *testing.T, r *rand.Rand, tA, tB bool, m, n, k, pad int, alpha, beta float32) {
	t.Helper()
	lda, ldb, ldc := k+pad, n+pad, n+pad
	ar, br := m, k
	if tA {
		lda, ar = m+pad, k
	}
	if tB {
		ldb, br = k+pad, n
	}
	a := testutil.Rand(r, ar*lda)
	b := testutil.Rand(r, br*ldb)
	c0 := testutil.Rand(r, m*ldc)
	want := naiveGemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc)
	gc := testutil.NewGuarded(m*ldc, c0)
	c := gc.Slice()
	for i := 0; i < m; i++ { // the ldc gaps are sentinels too
		for j := n; j < ldc; j++ {
			c[i*ldc+j] = float32(nan)
			want[i*ldc+j] = nan
		}
	}
	Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	gc.Check(t)
	for i := 0; i < m; i++ {
		for j := n; j < ldc; j++ {
			require.True(t, c[i*ldc+j] != c[i*ldc+j], "ldc gap written at %d,%d", i, j)
			c[i*ldc+j], want[i*ldc+j] = 0, 0
		}
	}
	rtol, atol := testutil.Tol(k)
	testutil.AssertClose(t, want, c, rtol, atol, "m=", m, " n=", n, " k=", k, " tA=", tA, " tB=", tB)
}
