package cli

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// Shell completion. cobra provides "btftool completion bash|zsh|fish|powershell"
// and its hidden __complete command; this file tells it what each argument
// and flag value is, so that the shell offers BPF objects (*.o) where
// objects go, output formats after -o, and so on.

// completeFiles completes file names with one of exts (no dot), or any file
// or directory when exts is empty.
func completeFiles(exts ...string) cobra.CompletionFunc {
	if len(exts) == 0 {
		return cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault)
	}
	return cobra.FixedCompletions(exts, cobra.ShellCompDirectiveFilterFileExt)
}

// completeWords completes one of words and never a file name.
func completeWords(words ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(words, cobra.ShellCompDirectiveNoFileComp)
}

// completeDirs completes directory names.
var completeDirs = cobra.FixedCompletions(nil, cobra.ShellCompDirectiveFilterDirs)

// completeArgs completes the n-th positional argument with byPos[n], and
// every argument after the last with byPos's last function.
func completeArgs(byPos ...cobra.CompletionFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return byPos[min(len(args), len(byPos)-1)](cmd, args, toComplete)
	}
}

// completionTables returns how the positional arguments of each command
// complete, by command path below the root ("gen min_core_btf"), and how
// the value of each flag completes, by flag name, on whichever command has
// it. Flags not listed complete file names (cobra's default).
func completionTables() (byArg, byFlag map[string]cobra.CompletionFunc) {
	var (
		anyFile = completeFiles()
		objects = completeFiles("o")
		noMore  = cobra.NoFileCompletions
	)
	byArg = map[string]cobra.CompletionFunc{
		// INPUT (kernel BTF file or btfhub tree), OUTPUT (file, directory
		// or bundle), OBJECT...
		"gen min_core_btf": completeArgs(anyFile, anyFile, objects),
		// INPUT, MINIMIZED, OBJECT...
		"verify": completeArgs(anyFile, completeFiles("btf"), objects),
		// OLD, NEW, then objects (as --only-used-by)
		"diff":           completeArgs(anyFile, anyFile, objects),
		"inspect btf":    completeArgs(anyFile, noMore),
		"inspect object": completeArgs(objects),
		"inspect compat": completeArgs(objects),
		"batch":          completeJobNames,
		// BUNDLE, OUTPUT
		"select":  completeArgs(completeFiles("xz", "zst", "gz"), anyFile, noMore),
		"version": noMore,
	}
	byFlag = map[string]cobra.CompletionFunc{
		"output":       completeWords("text", "json"),
		"arch":         completeWords(optArch.Allowed...),
		"config":       completeFiles("yaml", "yml", "toml", "json"),
		"format":       completeWords("raw", "c"),
		"fail-on":      completeWords("never", "unsatisfied", "load"),
		"color":        completeWords("auto", "always", "never"),
		"kernels":      anyFile,
		"only-used-by": objects,
		"object":       objects,
		"obj":          objects,
		"inputdir":     completeDirs,
		"outputdir":    completeDirs,
		"jobs":         noMore,
		"release":      noMore,
		"machine":      completeWords("x86_64", "aarch64", "s390x", "ppc64le", "riscv64", "i686", "armv7l"),
		"root":         completeDirs,
		"type":         noMore,
		"include":      noMore,
		"exclude":      noMore,
	}
	return byArg, byFlag
}

// setupCompletion sets argument and flag value completion on root and every
// command below it. A completion a command already has is left alone.
func setupCompletion(root *cobra.Command) {
	byArg, byFlag := completionTables()
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), root.Name()), " ")
		if f, ok := byArg[path]; ok && c.ValidArgsFunction == nil {
			c.ValidArgsFunction = f
		}
		for name, f := range byFlag {
			if c.LocalFlags().Lookup(name) == nil {
				continue
			}
			if _, ok := c.GetFlagCompletionFunc(name); ok {
				continue
			}
			// Cannot fail: the flag exists and has no completion yet.
			_ = c.RegisterFlagCompletionFunc(name, f)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeJobNames completes the job names of batch's config file (from
// --config, BTFTOOL_CONFIG or the default locations), those not already
// given.
func completeJobNames(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	explicit, _ := lookupEnv(optConfig.env())
	if f := cmd.Flags().Lookup(optConfig.Name); f != nil && f.Changed {
		explicit = f.Value.String()
	}
	path, err := findConfig(explicit, true)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	file, err := readConfig(path, configSections[""])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	jobs, err := file.readJobs()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var names []cobra.Completion
	for _, j := range jobs {
		if !slices.Contains(args, j.Name) && strings.HasPrefix(j.Name, toComplete) {
			names = append(names, j.Name)
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}
