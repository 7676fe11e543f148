package parallel

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// count records which parts ran.
type count struct{ ran [8]atomic.Int32 }

func (c *count) Do(part int) { c.ran[part].Add(1) }

// TestRun checks that every part runs once, both when the workers are
// polling (back-to-back calls) and when they have blocked (after an idle
// spell longer than spin).
func TestRun(t *testing.T) {
	var g Group
	for _, idle := range []time.Duration{0, 0, 3 * spin, 0, 5 * spin} {
		time.Sleep(idle)
		var c count
		g.Run(len(c.ran), &c)
		for p := range c.ran {
			require.Equal(t, int32(1), c.ran[p].Load(), "part %d after %v idle", p, idle)
		}
	}
}
