package bundle

import (
	"path"
	"regexp"
	"strings"
)

// releaseArch finds an architecture at the end of a kernel release, as
// Red Hat (.x86_64, .aarch64) and Debian (-amd64, -arm64) name them.
var releaseArch = regexp.MustCompile(`[.-](x86_64|aarch64|amd64|arm64|i686|i386|686|ppc64le|s390x|armv7hl|armhf)$`)

// Describe fills in what e's Path says of its kernel, for the fields of e
// that are empty, and returns e:
//
//   - DISTRO/VERSION/ARCH/RELEASE.btf (btfhub's layout) gives all four;
//   - otherwise the file name gives the release (RELEASE.btf, or
//     vmlinux-RELEASE[.btf]); a directory named after an architecture
//     gives the architecture, and the two directories above it the
//     distribution and version; failing that, an architecture at the end
//     of the release does (4.18.0-80.el8.x86_64, 5.10.0-9-amd64).
//
// A file named plain vmlinux gives no release: no rule can match it.
func Describe(e Entry) Entry {
	dir, name := path.Split(e.Path)
	stem := strings.TrimSuffix(name, ".btf")
	if strings.HasPrefix(stem, "vmlinux") {
		stem = strings.TrimPrefix(strings.TrimPrefix(stem, "vmlinux"), "-")
	}
	parts := strings.Split(strings.TrimSuffix(dir, "/"), "/")
	if dir == "" {
		parts = nil
	}
	var distro, version, arch string
	if len(parts) == 3 && strings.HasSuffix(name, ".btf") {
		distro, version, arch = parts[0], parts[1], parts[2]
	} else {
		for i := len(parts) - 1; i >= 0; i-- {
			if _, ok := archAliases[parts[i]]; ok {
				arch = parts[i]
				if i >= 2 {
					distro, version = parts[i-2], parts[i-1]
				}
				break
			}
		}
		if m := releaseArch.FindStringSubmatch(stem); arch == "" && m != nil {
			arch = map[string]string{"686": "i686", "armv7hl": "armv7l"}[m[1]]
			if arch == "" {
				arch = m[1]
			}
		}
	}
	fill := func(f *string, v string) {
		if *f == "" {
			*f = v
		}
	}
	fill(&e.Release, stem)
	fill(&e.Distro, distro)
	fill(&e.Version, version)
	fill(&e.Arch, arch)
	return e
}
