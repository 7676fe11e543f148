// Command isa prints the selected ISA, or with -all every available one, one
// per line. CI uses it to run one test leg per ISA this machine can run.
// With -v it prints what simdconv read about the CPU and chose from it.
package main

import (
	"flag"
	"fmt"

	"github.com/simdconv/simdconv"
)

func main() {
	all := flag.Bool("all", false, "print every available ISA")
	verbose := flag.Bool("v", false, "also print the CPU, its caches and the blocking of each ISA")
	flag.Parse()
	if !*all {
		fmt.Println(simdconv.ISA())
	} else {
		for _, n := range simdconv.ISAs() {
			fmt.Println(n)
		}
	}
	if *verbose {
		fmt.Print(simdconv.CPUInfo())
	}
}
