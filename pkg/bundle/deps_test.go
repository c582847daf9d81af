package bundle_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies: a loader importing pkg/bundle pulls in nothing of the
// generator, no encoder and no command-line code.
func TestDependencies(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"github.com/btftool/btftool/pkg/bundle": true, "github.com/btftool/btftool/internal/xzdec": true}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/btftool/btftool/") && !allowed[p] {
			t.Errorf("pkg/bundle depends on %s", p)
		}
		for _, bad := range []string{"ulikunitz", "cobra", "viper", "golang.org/x/term"} {
			if strings.Contains(p, bad) {
				t.Errorf("pkg/bundle depends on %s", p)
			}
		}
	}
}
