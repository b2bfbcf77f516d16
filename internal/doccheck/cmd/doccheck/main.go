// Command doccheck prints every dangling reference in the doc comments and
// Markdown files of the module in the current directory (or the one named
// by its argument), one per line as file:line: reference: problem, and
// exits 1 when there is any. The rules are those of package doccheck.
package main

import (
	"fmt"
	"os"

	"github.com/matrixbox/matrixbox/internal/doccheck"
)

func main() {
	root := "."
	if len(os.Args) > 2 {
		fmt.Fprintln(os.Stderr, "usage: doccheck [module-root]")
		os.Exit(2)
	}
	if len(os.Args) == 2 {
		root = os.Args[1]
	}
	findings, err := doccheck.Check(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "doccheck:", err)
		os.Exit(2)
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	if len(findings) > 0 {
		fmt.Fprintf(os.Stderr, "doccheck: %d dangling references\n", len(findings))
		os.Exit(1)
	}
}
