// Command isa prints the selected ISA, or with -all every available one, one
// per line. CI uses it to run one test leg per ISA this machine can run.
package main

import (
	"flag"
	"fmt"

	"github.com/simdconv/simdconv"
)

func main() {
	all := flag.Bool("all", false, "print every available ISA")
	flag.Parse()
	if !*all {
		fmt.Println(simdconv.ISA())
		return
	}
	for _, n := range simdconv.ISAs() {
		fmt.Println(n)
	}
}
