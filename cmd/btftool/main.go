// Command btftool generates, verifies and inspects minimized kernel BTF for
// CO-RE BPF programs.
package main

import (
	"os"

	"github.com/btftool/btftool/internal/cli"
)

func main() { os.Exit(cli.Execute(os.Args[1:])) }
