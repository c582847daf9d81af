// Command gendocs writes btftool's generated command reference (markdown
// and man pages) into the directory given as its argument: make docs.
package main

import (
	"fmt"
	"os"

	"github.com/btftool/btftool/internal/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gendocs DIR")
		os.Exit(2)
	}
	if err := cli.GenDocs(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}
