package simdconv

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/simdconv/simdconv/internal/testutil"
	"github.com/stretchr/testify/require"
)

// TestStridedRows checks GatherRows and ScatterRows on every ISA against
// their definitions, bit for bit: at steps 1 to 3, for row lengths around
// the kernels' vectors, and with row strides that leave gaps, that leave
// none, and (the strided side) that end the slice inside a kernel's run.
// Both operands sit inside NaN guard bands; dst's floats that the call must
// not change (gaps between rows, the floats between a scatter's) hold
// values they must keep, and a read outside src brings a NaN into dst.
func TestStridedRows(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(21, 22))
		for _, step := range []int{1, 2, 3} {
			for _, rows := range []int{1, 2, 5} {
				for _, n := range []int{1, 3, 4, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 64, 100} {
					for _, gap := range []int{0, 1, 6} {
						where := fmt.Sprintf("step=%d rows=%d n=%d gap=%d", step, rows, n, gap)
						wide := (n-1)*step + 1 // a strided row's floats
						checkGather(t, r, rows, n, step, n+gap, wide+gap, where)
						checkScatter(t, r, rows, n, step, wide+gap, n+gap, where)
					}
				}
			}
		}
	})
}

func checkGather(t *testing.T, r *rand.Rand, rows, n, step, dstStride, srcStride int, where string) {
	src := testutil.NewGuarded((rows-1)*srcStride+(n-1)*step+1, nil)
	copy(src.Slice(), testutil.Rand(r, len(src.Slice())))
	old := testutil.Rand(r, (rows-1)*dstStride+n)
	dst := testutil.NewGuarded(len(old), old)
	want := append([]float32(nil), old...)
	for i := range rows {
		for j := range n {
			want[i*dstStride+j] = src.Slice()[i*srcStride+j*step]
		}
	}
	driver{}.GatherRows(dst.Slice(), src.Slice(), rows, n, step, dstStride, srcStride)
	dst.Check(t)
	requireBits(t, want, dst.Slice(), "GatherRows "+where)
}

func checkScatter(t *testing.T, r *rand.Rand, rows, n, step, dstStride, srcStride int, where string) {
	src := testutil.NewGuarded((rows-1)*srcStride+n, nil)
	copy(src.Slice(), testutil.Rand(r, len(src.Slice())))
	old := testutil.Rand(r, (rows-1)*dstStride+(n-1)*step+1)
	dst := testutil.NewGuarded(len(old), old)
	want := append([]float32(nil), old...)
	for i := range rows {
		for j := range n {
			want[i*dstStride+j*step] = src.Slice()[i*srcStride+j]
		}
	}
	driver{}.ScatterRows(dst.Slice(), src.Slice(), rows, n, step, dstStride, srcStride)
	dst.Check(t)
	requireBits(t, want, dst.Slice(), "ScatterRows "+where)
}

func requireBits(t *testing.T, want, got []float32, where string) {
	t.Helper()
	for i := range want {
		if math.Float32bits(want[i]) != math.Float32bits(got[i]) {
			t.Fatalf("%s: [%d] = %v, want %v", where, i, got[i], want[i])
		}
	}
}

// TestScatterStaysInRows checks that ScatterRows' kernel at step 2 never
// touches the float past a row's last, which it writes back: that float
// starts a row that another thread may be writing (values cannot show
// it, as the write-back stores what it read).
func TestScatterStaysInRows(t *testing.T) {
	registry.ForEachISA(t, func(t *testing.T) {
		kid := kernelSets[current].scatter2
		if kid == noKernel { // the Go loop touches only the row's floats
			require.Equal(t, isaGeneric, current)
			return
		}
		for n := 1; n <= 40; n++ {
			dst, src := make([]float32, 4*n), make([]float32, n)
			_, vn := strided2Kernel(kid, dst, src, 1, n, 0, 0, len(dst))
			require.LessOrEqual(t, 2*vn, 2*(n-1)+1, "n=%d", n)
		}
	})
}

// TestStridedRowsBounds checks that GatherRows and ScatterRows refuse
// operands too short for what they would touch.
func TestStridedRowsBounds(t *testing.T) {
	buf := make([]float32, 64)
	require.Panics(t, func() { driver{}.GatherRows(buf[:7], buf, 2, 4, 2, 4, 8) }, "dst short")
	require.Panics(t, func() { driver{}.GatherRows(buf, buf[:14], 2, 4, 2, 8, 8) }, "src short")
	require.NotPanics(t, func() { driver{}.GatherRows(buf[:8], buf[32:47], 2, 4, 2, 4, 8) }, "exact")
	require.Panics(t, func() { driver{}.ScatterRows(buf[:14], buf, 2, 4, 2, 8, 4) }, "dst short")
	require.Panics(t, func() { driver{}.ScatterRows(buf, buf[:7], 2, 4, 2, 8, 4) }, "src short")
	require.Panics(t, func() { driver{}.ScatterRows(buf, buf, 2, 4, 0, 8, 4) }, "step 0")
	require.NotPanics(t, func() { driver{}.ScatterRows(buf[:15], buf[32:40], 2, 4, 2, 8, 4) }, "exact")
}

// BenchmarkStridedRows times GatherRows and ScatterRows at a step of 2 on
// every ISA: 64 rows of 28 and of 112 floats (56 and 224 on the strided
// side, rows back to back on both), the rows of a stride-2 layer's phase
// planes. A float moved is one read and one write; the rate is of
// rows·n·4 bytes moved, so that the kernels compare with the Go loop
// (generic).
func BenchmarkStridedRows(b *testing.B) {
	const rows = 64
	prev := ISA()
	defer func() { require.NoError(b, SetISA(prev)) }()
	for _, name := range ISAs() {
		require.NoError(b, SetISA(name))
		for _, n := range []int{28, 112} {
			r := rand.New(rand.NewPCG(1, 2))
			narrow, wide := testutil.Rand(r, rows*n), testutil.Rand(r, rows*2*n)
			for _, op := range []struct {
				name string
				call func()
			}{
				{"gather", func() { driver{}.GatherRows(narrow, wide, rows, n, 2, n, 2*n) }},
				{"scatter", func() { driver{}.ScatterRows(wide, narrow, rows, n, 2, 2*n, n) }},
			} {
				b.Run(fmt.Sprintf("isa=%s/%s/n=%d", name, op.name, n), func(b *testing.B) {
					b.SetBytes(int64(rows * n * 4))
					b.ReportAllocs()
					for b.Loop() {
						op.call()
					}
				})
			}
		}
	}
}
