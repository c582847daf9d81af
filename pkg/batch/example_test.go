package batch_test

import (
	"bytes"
	"fmt"
	"os"

	"github.com/btftool/btftool/pkg/batch"
)

// A loader embeds a bundle (go:embed) and picks the BTF of the running
// kernel by its release and machine (uname -r, uname -m).
func ExampleBundle_Lookup() {
	embedded, err := os.ReadFile("min_core_btfs.tar.zst") // or a go:embed []byte
	if err != nil {
		fmt.Println("no bundle")
		return
	}
	b, err := batch.ReadBundle(bytes.NewReader(embedded))
	if err != nil {
		fmt.Println(err)
		return
	}
	raw, entry, err := b.Lookup("5.4.0-91-generic", "x86_64")
	if err != nil {
		fmt.Println(err) // errors.Is(err, batch.ErrNotFound): the kernel has its own BTF, or none
		return
	}
	fmt.Println(entry.Path, len(raw))
	// Output: no bundle
}
