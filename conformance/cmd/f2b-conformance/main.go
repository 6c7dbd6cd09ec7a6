// Command f2b-conformance runs fail2ban's sample logs through f2b's reading
// of the stock filters and prints "conformance: N/M failJSON lines pass",
// preceded by every line that did not pass. It is what `make conformance`
// runs; the unpacked Debian fail2ban package is found (and downloaded on
// first use) by scripts/fetch-fail2ban.sh, or given with -root.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/f2bproject/f2b/conformance"
)

func main() {
	root := flag.String("root", "", "the unpacked fail2ban package (default: scripts/fetch-fail2ban.sh's output)")
	bt := flag.Bool("backtracking", false, "also list the stock regexes that run on the backtracking engine")
	amb := flag.Bool("reject-ambiguous", false, "run with failfilter's RejectAmbiguous hardening (fail2ban has none)")
	flag.Parse()
	if *root == "" {
		r, err := conformance.Fetch("")
		if err != nil {
			fmt.Fprintln(os.Stderr, "f2b-conformance:", err)
			os.Exit(2)
		}
		*root = r
	}
	res, err := conformance.Run(*root, conformance.Config{RejectAmbiguous: *amb})
	if err != nil {
		fmt.Fprintln(os.Stderr, "f2b-conformance:", err)
		os.Exit(2)
	}
	if *bt {
		for _, b := range res.Backtracking {
			fmt.Println("backtracking:", b)
		}
	}
	res.Print(os.Stdout)
	if !res.OK() {
		os.Exit(1)
	}
}
