package main

import "time"

// hostSample is the machine's CPU accounting at one moment, to tell the load
// that is not ours: what other processes ran and what the hypervisor stole
// from this guest's vCPUs. sampleHost reads it where the OS tells.
type hostSample struct {
	at          time.Time
	busy, steal time.Duration // summed over all CPUs
	self        time.Duration // this process's user and system time
}

// hostLoad is the load between two samples, in CPUs: other processes' busy
// time and the steal, each per second of wall time.
type hostLoad struct {
	other, steal float64
	ok           bool // false where the OS does not tell
}

func loadBetween(a, b hostSample, aok, bok bool) hostLoad {
	wall := b.at.Sub(a.at).Seconds()
	if !aok || !bok || wall <= 0 {
		return hostLoad{}
	}
	// /proc/stat counts in ticks and getrusage does not, so a process alone
	// can come out slightly below zero.
	other := max(0, (b.busy-a.busy-(b.self-a.self)).Seconds()/wall)
	return hostLoad{other: other, steal: (b.steal - a.steal).Seconds() / wall, ok: true}
}
