package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// VersionInfo is what "btftool version" reports.
type VersionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"`
	Go        string `json:"go"`
	CiliumBPF string `json:"cilium_ebpf,omitempty"`
	Platform  string `json:"platform"`
}

// buildInfo collects version information from ldflags and the binary's
// embedded module information.
func buildInfo() VersionInfo {
	v := VersionInfo{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/cilium/ebpf" {
				v.CiliumBPF = d.Version
			}
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && v.Commit == "":
				v.Commit = s.Value
				if len(v.Commit) > 12 {
					v.Commit = v.Commit[:12]
				}
			case s.Key == "vcs.time" && v.Date == "":
				v.Date = s.Value
			}
		}
	}
	return v
}

// NewCmdVersion returns "btftool version".
func NewCmdVersion(f *Factory) *cobra.Command {
	format := outputFormat("text")
	var quiet bool
	var set *optionSet
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print version information",
		Long:  "Print btftool's version, commit, build date, Go and cilium/ebpf versions.\n\n" + exitStatusHelp("", ""),
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := set.resolve(nil); err != nil {
				return err
			}
			v := buildInfo()
			if format == "json" {
				return writeJSON(f.IO.Out, v)
			}
			fmt.Fprintf(f.IO.Out, "btftool %s\n", v.Version)
			if v.Commit != "" {
				fmt.Fprintf(f.IO.Out, "commit:      %s\n", v.Commit)
			}
			if v.Date != "" {
				fmt.Fprintf(f.IO.Out, "built:       %s\n", v.Date)
			}
			fmt.Fprintf(f.IO.Out, "go:          %s (%s)\n", v.Go, v.Platform)
			if v.CiliumBPF != "" {
				fmt.Fprintf(f.IO.Out, "cilium/ebpf: %s\n", v.CiliumBPF)
			}
			return nil
		},
	}
	set = newOptionSet(cmd)
	enumVar(set, &format, optOutput)
	set.Bool(&quiet, optQuiet)
	return cmd
}
