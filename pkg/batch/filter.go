package batch

import (
	"fmt"
	"path"
	"strings"

	"github.com/btftool/btftool/pkg/kbtf"
)

// archAliases maps the names architectures go by (uname -m, Debian, Go) to
// one canonical name.
var archAliases = map[string]string{
	"aarch64": "arm64",
	"amd64":   "x86_64",
	"x86-64":  "x86_64",
	"ppc64el": "ppc64le",
}

// canonicalArch returns arch's canonical name.
func canonicalArch(arch string) string {
	if c, ok := archAliases[arch]; ok {
		return c
	}
	return arch
}

// filter selects kernels by architecture and path patterns.
type filter struct {
	arch             map[string]bool
	include, exclude []string
}

func newFilter(arch, include, exclude []string) (*filter, error) {
	f := &filter{include: include, exclude: exclude}
	for _, p := range append(append([]string(nil), include...), exclude...) {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("%w: pattern %q: %w", ErrBadOptions, p, err)
		}
	}
	if len(arch) > 0 {
		f.arch = map[string]bool{}
		for _, a := range arch {
			f.arch[canonicalArch(a)] = true
		}
	}
	return f, nil
}

func (f *filter) keep(e kbtf.Entry) bool {
	if f.arch != nil && !f.arch[canonicalArch(e.Arch)] {
		return false
	}
	if len(f.include) > 0 && !matchAny(f.include, e.Rel) {
		return false
	}
	return !matchAny(f.exclude, e.Rel)
}

// matchAny reports whether one of the patterns matches rel or one of its
// leading directories.
func matchAny(patterns []string, rel string) bool {
	for _, p := range patterns {
		for prefix := rel; ; {
			if ok, _ := path.Match(p, prefix); ok {
				return true
			}
			i := strings.LastIndexByte(prefix, '/')
			if i < 0 {
				break
			}
			prefix = prefix[:i]
		}
	}
	return false
}
