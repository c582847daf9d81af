// Command bundlebench measures bundles (docs/performance.md): the size of
// a bundle of minimized BTFs for each compression and block size, the time
// to write it, and the time and memory to select one entry from it.
//
//	go run ./internal/tools/bundlebench -kernels 1200 -out /tmp/bundles DIR
//
// DIR holds minimized BTF files (a gen output tree). With -kernels N, the
// bundle holds N kernels made from them: each a copy of one of the files
// with a few 32-bit words changed (as neighbouring releases of a kernel
// differ), a third of them identical to the one before (as many releases
// minimize to the same BTF).
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"log"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/btftool/btftool/pkg/batch"
	"github.com/btftool/btftool/pkg/bundle"
)

func main() {
	kernels := flag.Int("kernels", 0, "make this many kernels from the files (0: the files as they are)")
	out := flag.String("out", "", "write the bundles to this directory")
	runs := flag.Int("runs", 20, "selections timed per bundle")
	blocks := flag.String("blocks", "65536,262144,1048576,4194304", "block sizes to try")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: bundlebench [-kernels N] [-out DIR] MINIMIZED_TREE")
	}
	files := readTree(flag.Arg(0))
	if *kernels > 0 {
		files = synthesize(files, *kernels)
	}
	var raw int
	distinct := map[string]bool{}
	for _, f := range files {
		raw += len(f.Data)
		distinct[string(f.Data)] = true
	}
	fmt.Printf("%d kernels, %d distinct BTFs, %d bytes of BTF\n", len(files), len(distinct), raw)
	fmt.Printf("%-5s %9s %10s %10s %12s %12s\n", "comp", "block", "bytes", "write", "select", "alloc/select")
	for _, c := range []string{"xz", "zstd", "gzip"} {
		for _, bs := range strings.Split(*blocks, ",") {
			var size int
			fmt.Sscan(bs, &size)
			start := time.Now()
			data, err := batch.EncodeBundle(files, batch.BundleInfo{Compression: c, BlockSize: size, Generator: "bundlebench"})
			if err != nil {
				log.Fatal(err)
			}
			write := time.Since(start)
			if *out != "" {
				ext := map[string]string{"xz": ".tar.xz", "zstd": ".tar.zst", "gzip": ".tar.gz"}[c]
				if err := os.WriteFile(filepath.Join(*out, fmt.Sprintf("b%d%s", size, ext)), data, 0o644); err != nil {
					log.Fatal(err)
				}
			}
			sel, alloc := timeSelect(data, files, *runs)
			fmt.Printf("%-5s %9d %10d %10s %12s %12d\n", c, size, len(data), write.Round(time.Millisecond), sel.Round(time.Microsecond), alloc)
			if c == "gzip" {
				break // gzip has no block index: one size says it all
			}
		}
	}
}

// timeSelect returns the median time to open the bundle and read the
// entry of a kernel in the middle of it, and the bytes that allocates.
func timeSelect(data []byte, files []batch.BundleFile, runs int) (time.Duration, uint64) {
	target := files[len(files)/2].Entry
	var times []time.Duration
	var alloc uint64
	for range runs {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		b, err := bundle.Open(data, nil)
		if err != nil {
			log.Fatal(err)
		}
		m, err := b.Match(bundle.Target{Release: target.Release, Machine: target.Arch, OS: &bundle.OSRelease{ID: target.Distro, VersionID: target.Version}})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := b.ReadEntry(m.Entry); err != nil {
			log.Fatal(err)
		}
		b.Close()
		times = append(times, time.Since(start))
		runtime.ReadMemStats(&m1)
		alloc = m1.TotalAlloc - m0.TotalAlloc
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[len(times)/2], alloc
}

func readTree(dir string) []batch.BundleFile {
	var files []batch.BundleFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".btf") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		files = append(files, batch.BundleFile{Entry: bundle.Describe(bundle.Entry{Path: filepath.ToSlash(rel)}), Data: data})
		return nil
	})
	if err != nil || len(files) == 0 {
		log.Fatalf("%s: no .btf files (%v)", dir, err)
	}
	return files
}

// synthesize makes n kernels from the files: kernel i derives from file
// i mod len(files), grouped by base so that a distribution's releases sit
// side by side as in btfhub.
func synthesize(base []batch.BundleFile, n int) []batch.BundleFile {
	r := rand.New(rand.NewSource(1))
	var out []batch.BundleFile
	per := (n + len(base) - 1) / len(base)
	for bi, b := range base {
		prev := b.Data
		for j := 0; j < per && len(out) < n; j++ {
			data := prev
			if r.Intn(3) != 0 {
				data = append([]byte(nil), prev...)
				for range 1 + r.Intn(6) {
					k := 24 + 4*r.Intn((len(data)-28)/4)
					data[k] ^= byte(1 + r.Intn(8))
				}
			}
			prev = data
			e := b.Entry
			e.Release = fmt.Sprintf("%s-%d", e.Release, j)
			dir := filepath.ToSlash(filepath.Dir(e.Path))
			e.Path = fmt.Sprintf("%s/%s.btf", dir, e.Release)
			_ = bi
			out = append(out, batch.BundleFile{Entry: e, Data: data})
		}
	}
	return out
}
