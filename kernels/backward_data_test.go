package kernels

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPlanPanels checks the panels that backwardDataPanels deals to the
// threads: every row of every strided phase in exactly one panel, the
// phases of one item exactly those of one row of the stride (ScatterRows
// may write back the columns between its own, so two threads must not
// share a row), and every thread given work where there is enough.
func TestPlanPanels(t *testing.T) {
	for i, p := range []Conv2DParams{
		{N: 1, C: 64, H: 56, W: 56, K: 128, R: 3, S: 3, StrideH: 2, StrideW: 2, PadTop: 1, PadBottom: 1, PadLeft: 1, PadRight: 1},
		{N: 1, C: 3, H: 64, W: 64, K: 8, R: 5, S: 5, StrideH: 2, StrideW: 2, PadTop: 2, PadBottom: 2, PadLeft: 2, PadRight: 2},
		{N: 1, C: 5, H: 30, W: 29, K: 4, R: 2, S: 3, StrideH: 3, StrideW: 2, DilationH: 2, PadTop: 4, PadBottom: 2, PadRight: 1},
		{N: 1, C: 3, H: 7, W: 6, K: 4, R: 1, S: 2, StrideH: 2, StrideW: 3}, // phases without taps
	} {
		for _, threads := range []int{2, 3, 4} {
			t.Run(fmt.Sprintf("shape=%d/threads=%d", i, threads), func(t *testing.T) {
				c, err := newConv2DRoute(p, routeFull, false, threads)
				require.NoError(t, err)
				require.NotEmpty(t, c.panels)
				covered := make([][]int, len(c.phases))
				for j, ph := range c.phases {
					covered[j] = make([]int, ph.rows)
				}
				busy := make([]bool, c.threads) // threads at most GOMAXPROCS
				for _, it := range c.panels {
					require.Less(t, it.part, c.threads)
					busy[it.part] = true
					for j := range c.phases {
						require.Equal(t, c.phases[j].h0 == c.phases[it.first].h0, j >= it.first && j < it.last,
							"phase %d in panel %+v", j, it)
					}
					for j := it.first; j < it.last; j++ {
						for r := it.i0; r < it.i0+it.rows; r++ {
							covered[j][r]++
						}
					}
				}
				for j := range covered {
					for r, n := range covered[j] {
						require.Equal(t, 1, n, "phase %d row %d", j, r)
					}
				}
				if len(c.panels) >= c.threads {
					require.NotContains(t, busy, false, "an idle thread")
				}
			})
		}
	}
}
