package e2e

import (
	"sync"
	"testing"

	"github.com/btftool/btftool/pkg/kbtf"
	"github.com/btftool/btftool/pkg/rawbtf"
)

// readKernel reads and parses a kernel BTF in any form kbtf reads.
func readKernel(tb testing.TB, path string) ([]byte, *rawbtf.BTF) {
	tb.Helper()
	data, _, err := kbtf.ReadFile(path, nil)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := rawbtf.Parse(data)
	if err != nil {
		tb.Fatal(err)
	}
	return data, b
}

// parallel calls fn(i) for i from 0 to n-1, four at a time (the oracle
// runs are processes of their own), and returns when all are done.
func parallel(n int, fn func(i int)) {
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}
