// Command paths prints, as a markdown table, the algorithm that each pass of
// every layer of the layer table (L1–L10) and of the zoo (Z01–Z32) runs on
// each ISA of this machine (kernels.Paths): the plans choose them by cost
// models from the layer's shape and the ISA's register tiles, so they can
// differ between ISAs and CPUs.
package main

import (
	"fmt"
	"os"

	"github.com/simdconv/simdconv"
	"github.com/simdconv/simdconv/internal/layers"
	"github.com/simdconv/simdconv/kernels"
)

func main() {
	isas := simdconv.ISAs()
	fmt.Print("| layer | shape |")
	for _, isa := range isas {
		fmt.Printf(" %s: forward / backward-data / backward-filter |", isa)
	}
	fmt.Print("\n|---|---|")
	for range isas {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, l := range append(layers.Table[:len(layers.Table):len(layers.Table)], layers.Zoo...) {
		p := l.Params
		fmt.Printf("| %s | N%d C%d %d×%d K%d %d×%d s%d g%d |", l.Name, p.N, p.C, p.H, p.W, p.K, p.R, p.S, max(1, p.StrideH), max(1, p.Groups))
		for _, isa := range isas {
			if err := simdconv.SetISA(isa); err != nil {
				fail(err)
			}
			c, err := kernels.NewConv2D(p)
			if err != nil {
				fail(fmt.Errorf("%s: %w", l.Name, err))
			}
			ps := c.Paths()
			fmt.Printf(" %s / %s / %s |", ps.Forward, ps.BackwardData, ps.BackwardFilter)
		}
		fmt.Println()
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "paths:", err)
	os.Exit(1)
}
