package cli

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts the profiles the environment asks for, for
// developers measuring btftool (docs/performance.md): BTFTOOL_CPUPROFILE
// names a file for a CPU profile of the whole command, BTFTOOL_MEMPROFILE
// one for a heap profile written when it ends (every allocation sampled,
// BTFTOOL_MEMPROFILERATE bytes apart when set). The returned function
// writes and closes them. A profile that cannot be written is reported on
// stderr and does not change the command's result.
func startProfiles(errOut *os.File) (stop func()) {
	var stops []func()
	if path := os.Getenv("BTFTOOL_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(errOut, "btftool: CPU profile %s: %v\n", path, err)
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("BTFTOOL_MEMPROFILE"); path != "" {
		rate := 512 * 1024
		if s := os.Getenv("BTFTOOL_MEMPROFILERATE"); s != "" {
			fmt.Sscan(s, &rate)
		}
		runtime.MemProfileRate = rate
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				fmt.Fprintf(errOut, "btftool: memory profile %s: %v\n", path, err)
			}
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
