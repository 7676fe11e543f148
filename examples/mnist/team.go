package main

import "sync"

// team runs a function for each of its members at once: member 0 on the
// calling goroutine, the others on goroutines of their own that wait for
// work, so that a training step starts no goroutine and allocates nothing.
type team struct {
	work []chan func(member int)
	busy sync.WaitGroup
}

func newTeam(size int) *team {
	t := &team{work: make([]chan func(int), size-1)}
	for i := range t.work {
		t.work[i] = make(chan func(int))
		go t.serve(i + 1)
	}
	return t
}

func (t *team) serve(member int) {
	for f := range t.work[member-1] {
		f(member)
		t.busy.Done()
	}
}

// run calls f(m) for each member m < members, at once, and returns when all
// have returned. f should be a func value made once: building a method value
// or closure for each call would allocate.
func (t *team) run(members int, f func(member int)) {
	t.busy.Add(members - 1)
	for m := 1; m < members; m++ {
		t.work[m-1] <- f
	}
	f(0)
	t.busy.Wait()
}

// close ends the team's goroutines.
func (t *team) close() {
	for _, c := range t.work {
		close(c)
	}
}
