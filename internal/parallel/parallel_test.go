package parallel

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// count records which parts ran.
type count struct{ ran [8]atomic.Int32 }

func (c *count) Do(part int) { c.ran[part].Add(1) }

// jobFunc is a Job of a function.
type jobFunc func(part int)

func (f jobFunc) Do(part int) { f(part) }

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

// TestRunAllocs checks that a Run allocates nothing once its Group has run.
func TestRunAllocs(t *testing.T) {
	var g Group
	var c count
	g.Run(4, &c)
	require.Zero(t, testing.AllocsPerRun(100, func() { g.Run(4, &c) }))
}

// TestRunConcurrent runs jobs from several goroutines at once, each on its
// own Group, with more parts in flight than the pool has goroutines: every
// part of every run must run exactly once, on the run's own job.
func TestRunConcurrent(t *testing.T) {
	const submitters, runs = 8, 200
	within(t, time.Minute, func() {
		var wg sync.WaitGroup
		errs := make(chan error, submitters)
		for s := range submitters {
			wg.Go(func() {
				var g Group
				for r := range runs {
					parts := 2 + (s+r)%11
					ran := make([]int32, parts) // each part writes its own
					g.Run(parts, jobFunc(func(p int) { ran[p]++ }))
					for p, n := range ran {
						if n != 1 {
							errs <- fmt.Errorf("submitter %d run %d: part %d of %d ran %d times", s, r, p, parts, n)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// TestRunBusyPool checks that a run completes while every pool goroutine is
// held by another run's parts, which wait for it: its caller runs the parts
// no worker can take. The same holds for a part that calls Run.
func TestRunBusyPool(t *testing.T) {
	w := liveWorkers(t)
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(w)
	hold := jobFunc(func(p int) {
		if p > 0 {
			started.Done()
		}
		started.Wait() // parts 1..w, one per worker, while part 0 holds the caller
		<-release
	})
	var a Group
	aDone := make(chan struct{})
	drain(t)
	go func() {
		defer close(aDone)
		a.Run(w+1, hold)
	}()
	within(t, 10*time.Second, func() {
		started.Wait()
		var b Group
		ran := make([]atomic.Int32, w+1) // no more parts than workers: none are added
		b.Run(len(ran), jobFunc(func(p int) { ran[p].Add(1) }))
		for p := range ran {
			require.Equal(t, int32(1), ran[p].Load(), "part %d", p)
		}
	})
	close(release)
	within(t, 10*time.Second, func() { <-aDone })

	within(t, 10*time.Second, func() {
		var outer Group
		inner := make([]Group, w+1)
		var n atomic.Int32
		outer.Run(w+1, jobFunc(func(p int) {
			inner[p].Run(w+1, jobFunc(func(int) { n.Add(1) }))
		}))
		require.Equal(t, int32((w+1)*(w+1)), n.Load(), "parts of nested runs")
	})
}

// TestRunPanic checks that a panic in part 0, on the caller, or in a part
// on a worker reaches the caller as a *PartPanic once the other parts have
// finished, and that the Group and the pool keep working afterwards.
func TestRunPanic(t *testing.T) {
	const parts = 4
	var g Group
	for _, bad := range []int{0, 1, parts - 1} {
		t.Run(fmt.Sprintf("part=%d", bad), func(t *testing.T) {
			var ran [parts]atomic.Int32
			var onWorker sync.WaitGroup // bad > 0: part 0 waits, so a worker runs it
			onWorker.Add(1)
			job := jobFunc(func(p int) {
				switch {
				case p == bad:
					defer onWorker.Done()
					panic(fmt.Sprintf("part %d fails", p))
				case p == 0:
					onWorker.Wait()
				default:
					time.Sleep(20 * time.Millisecond) // still running when part 0 panics
				}
				ran[p].Add(1)
			})
			pp := runPanic(t, &g, parts, job)
			require.Equal(t, bad, pp.Part)
			require.Equal(t, fmt.Sprintf("part %d fails", bad), pp.Value)
			require.Contains(t, string(pp.Stack), "TestRunPanic", "the stack of the panicking part")
			for p := range ran {
				if p != bad {
					require.Equal(t, int32(1), ran[p].Load(), "part %d finished before Run panicked", p)
				}
			}
			var c count
			g.Run(len(c.ran), &c)
			for p := range c.ran {
				require.Equal(t, int32(1), c.ran[p].Load(), "part %d of the next run", p)
			}
			liveWorkers(t)
		})
	}
	t.Run("every part", func(t *testing.T) {
		pp := runPanic(t, &g, parts, jobFunc(func(p int) { panic(io.ErrUnexpectedEOF) }))
		require.Contains(t, []int{0, 1, 2, 3}, pp.Part)
		require.ErrorIs(t, pp, io.ErrUnexpectedEOF, "Unwrap gives an error value")
		var c count
		g.Run(len(c.ran), &c)
		require.Equal(t, int32(1), c.ran[parts-1].Load(), "the next run")
	})
}

// runPanic runs job on g and returns what Run panicked with.
func runPanic(t *testing.T, g *Group, parts int, job Job) (pp *PartPanic) {
	t.Helper()
	drain(t)
	within(t, 10*time.Second, func() {
		defer func() {
			r := recover()
			var ok bool
			pp, ok = r.(*PartPanic)
			if !ok {
				t.Errorf("Run panicked with %#v, want a *PartPanic", r)
			}
		}()
		g.Run(parts, job)
	})
	require.NotNil(t, pp)
	return pp
}

// liveWorkers returns the number of pool goroutines after checking that
// every one of them is alive: a job's parts 1..n wait for each other, so
// they need n goroutines besides the caller, which waits in part 0.
func liveWorkers(t *testing.T) int {
	t.Helper()
	ensureWorkers(3)
	mu.Lock()
	n := workers
	mu.Unlock()
	var started, finished sync.WaitGroup
	started.Add(n)
	finished.Add(n)
	drain(t)
	within(t, 10*time.Second, func() {
		var g Group
		g.Run(n+1, jobFunc(func(p int) {
			if p == 0 {
				finished.Wait()
				return
			}
			started.Done()
			started.Wait()
			finished.Done()
		}))
	})
	return n
}

// drain waits until the workers have taken every queued ticket, stale ones
// included. Run drops the tickets that find the queue full, its caller
// claiming their parts instead; a job whose part 0 waits for another part
// needs a worker to get the ticket.
func drain(t *testing.T) {
	t.Helper()
	within(t, 10*time.Second, func() {
		for len(tickets) > 0 {
			time.Sleep(time.Millisecond)
		}
	})
}

// within fails t unless f returns within d: a deadlock fails, not hangs.
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("not done after %v: deadlock", d)
	}
}
