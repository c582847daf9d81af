package cli

import (
	"fmt"
	"path"
)

// The options shared by several commands, declared once. Each command
// binds the ones it has (options.go); an option whose meaning differs
// between commands has a declaration per meaning.
var (
	optConfig = flagDef{Name: "config", ValueName: "FILE", FlagOnly: true,
		Usage: "config file (default ./btftool.yaml, then $XDG_CONFIG_HOME/btftool/config.yaml)"}
	optOutput = flagDef{Name: "output", Short: "o", Usage: "output format", Allowed: []string{"text", "json"}}
	optQuiet  = flagDef{Name: "quiet", Short: "q", Usage: "print nothing on stderr but errors"}
	optColor  = flagDef{Name: "color", Usage: "colour the output: auto (on a terminal, unless NO_COLOR is set), always or never",
		Allowed: []string{"auto", "always", "never"}}
	optJobs = flagDef{Name: "jobs", Short: "j", ValueName: "N", Usage: "kernels processed in parallel (0: one per CPU)"}

	// Kernel selection in a tree (gen, batch jobs).
	optArch = flagDef{Name: "arch", ValueName: "ARCH",
		Usage:   "only kernels of this architecture (repeatable)",
		Allowed: []string{"x86_64", "arm64", "s390x", "ppc64le", "riscv64", "loongarch64"},
		Aliases: map[string]string{"amd64": "x86_64", "x86-64": "x86_64", "aarch64": "arm64", "ppc64el": "ppc64le"}}
	optInclude = flagDef{Name: "include", ValueName: "GLOB", Check: checkGlob,
		Usage: "only kernels whose relative path, or a leading directory of it, matches this glob (repeatable)"}
	optExclude = flagDef{Name: "exclude", ValueName: "GLOB", Check: checkGlob,
		Usage: "skip kernels whose relative path, or a leading directory of it, matches this glob (repeatable)"}
	optFailFast = flagDef{Name: "fail-fast", Usage: "stop at the first kernel that fails"}
)

// checkGlob refuses a malformed path.Match pattern.
func checkGlob(p string) error {
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("invalid pattern %q: %v", p, err)
	}
	return nil
}
