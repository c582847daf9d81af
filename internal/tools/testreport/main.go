// Command testreport reads `go test -json` and prints what go test prints
// without -json (a line per package, the output of the tests that fail,
// build errors), then the slowest tests, so that a test run shows where
// its time goes. make test pipes its go test runs through it:
//
//	go test -json ./... 2>&1 | testreport [-save FILE] [-slowest N]
//	testreport -slowest N FILE...   # the slowest tests of saved runs
//
// Lines that are not JSON (go: downloading ...) are printed as they are.
// The exit status is 1 when a package or test failed, or when the input
// has no package result at all (go test failed before running anything).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one line of go test -json (cmd/test2json's TestEvent, and the
// build events of Go 1.24+).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// result is one finished top-level test.
type result struct {
	pkg, test string
	elapsed   time.Duration
}

// report turns events into go test's short output and collects the
// top-level test times.
type report struct {
	out      io.Writer
	quiet    bool                // print nothing but the summary
	buf      map[string][]string // output of a running test, by package and test
	started  map[string][]string // tests started under a top-level test, in order
	failed   map[string]bool     // failed tests, by package and test
	results  []result
	packages int // package results seen
	fails    int // failed packages
	tests    int
	skipped  int
}

func newReport(out io.Writer, quiet bool) *report {
	return &report{out: out, quiet: quiet, buf: map[string][]string{}, started: map[string][]string{}, failed: map[string]bool{}}
}

func (r *report) print(s string) {
	if !r.quiet {
		io.WriteString(r.out, s)
	}
}

// line handles one line of input.
func (r *report) line(l string) {
	var e event
	if !strings.HasPrefix(l, "{") || json.Unmarshal([]byte(l), &e) != nil {
		r.print(l + "\n")
		return
	}
	top, _, sub := strings.Cut(e.Test, "/")
	key := e.Package + " " + top
	id := e.Package + " " + e.Test
	switch {
	case e.Action == "build-output":
		r.print(e.Output)
	case e.Test == "" && e.Action == "output":
		if e.Output != "PASS\n" {
			r.print(e.Output)
		}
	case e.Test == "":
		switch e.Action {
		case "pass", "skip":
			r.packages++
		case "fail":
			r.packages++
			r.fails++
		}
	case e.Action == "run":
		r.started[key] = append(r.started[key], e.Test)
	case e.Action == "output":
		o := strings.TrimLeft(e.Output, " ")
		if !strings.HasPrefix(o, "=== RUN") && !strings.HasPrefix(o, "=== PAUSE") && !strings.HasPrefix(o, "=== CONT") && !strings.HasPrefix(o, "=== NAME") {
			r.buf[id] = append(r.buf[id], e.Output)
		}
	case e.Action == "fail" || e.Action == "pass" || e.Action == "skip":
		if e.Action == "fail" {
			r.failed[id] = true
		}
		if sub {
			return
		}
		r.tests++
		if e.Action == "skip" {
			r.skipped++
		}
		r.results = append(r.results, result{e.Package, e.Test, time.Duration(e.Elapsed * float64(time.Second))})
		r.finish(e.Package, key)
	}
}

// finish prints, as go test does, the output of each test that failed
// under the top-level test key, its "--- FAIL" line first, subtests
// indented below their parent, and forgets the tree.
func (r *report) finish(pkg, key string) {
	var b strings.Builder // one write: another report may share the terminal
	for _, name := range r.started[key] {
		id := pkg + " " + name
		if r.failed[id] {
			indent := strings.Repeat("    ", strings.Count(name, "/"))
			lines := r.buf[id]
			sort.SliceStable(lines, func(i, j int) bool {
				return strings.HasPrefix(lines[i], "--- FAIL") && !strings.HasPrefix(lines[j], "--- FAIL")
			})
			for _, l := range lines {
				b.WriteString(indent + l)
			}
		}
		delete(r.buf, id)
		delete(r.failed, id)
	}
	delete(r.started, key)
	r.print(b.String())
}

// slowest writes the n slowest top-level tests.
func (r *report) slowest(w io.Writer, n int) {
	if n <= 0 || len(r.results) == 0 {
		return
	}
	var total time.Duration
	for _, t := range r.results {
		total += t.elapsed
	}
	sort.SliceStable(r.results, func(i, j int) bool { return r.results[i].elapsed > r.results[j].elapsed })
	fmt.Fprintf(w, "slowest tests (of %d top-level tests, %d skipped; %.1f s in all):\n", r.tests, r.skipped, total.Seconds())
	for _, t := range r.results[:min(n, len(r.results))] {
		fmt.Fprintf(w, "%7.1f s  %s %s\n", t.elapsed.Seconds(), strings.TrimPrefix(t.pkg, "github.com/btftool/btftool/"), t.test)
	}
}

// read feeds every line of in to r, and to save when it is not nil.
func (r *report) read(in io.Reader, save io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if save != nil {
			if _, err := fmt.Fprintln(save, sc.Text()); err != nil {
				return err
			}
		}
		r.line(sc.Text())
	}
	return sc.Err()
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the command with its arguments and streams; it returns the exit
// status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	save := fs.String("save", "", "also write the input to `FILE`")
	n := fs.Int("slowest", 10, "list the `N` slowest tests at the end")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go test -json ... | testreport [-save FILE] [-slowest N]\n       testreport [-slowest N] FILE...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "testreport:", err)
		return 1
	}
	if fs.NArg() > 0 {
		r := newReport(stdout, true)
		for _, f := range fs.Args() {
			in, err := os.Open(f)
			if err != nil {
				return fail(err)
			}
			err = r.read(in, nil)
			in.Close()
			if err != nil {
				return fail(fmt.Errorf("%s: %w", f, err))
			}
		}
		r.slowest(stdout, *n)
		if r.fails > 0 {
			return 1
		}
		return 0
	}
	r := newReport(stdout, false)
	var saved *bufio.Writer
	if *save != "" {
		f, err := os.Create(*save)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		saved = bufio.NewWriter(f)
	}
	var w io.Writer
	if saved != nil {
		w = saved
	}
	if err := r.read(stdin, w); err != nil {
		return fail(err)
	}
	if saved != nil {
		if err := saved.Flush(); err != nil {
			return fail(err)
		}
	}
	r.slowest(stdout, *n)
	switch {
	case r.packages == 0:
		return fail(fmt.Errorf("no package result in the input: did go test run?"))
	case r.fails > 0:
		return 1
	}
	return 0
}
