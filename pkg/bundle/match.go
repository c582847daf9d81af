package bundle

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Target describes the kernel whose BTF is wanted.
type Target struct {
	// Release is the kernel release, as uname -r prints it.
	Release string
	// Machine is the architecture, as uname -m prints it (the Go and
	// Debian spellings work too: amd64, arm64, i386, armhf...). Empty
	// matches any.
	Machine string
	// OS is what os-release says, nil when it could not be read.
	OS *OSRelease
}

// String describes the target in one line: "5.4.0-91-generic x86_64
// (ubuntu 20.04)".
func (t Target) String() string {
	s := t.Release
	if t.Machine != "" {
		s += " " + t.Machine
	}
	if t.OS != nil {
		s += " (" + strings.TrimSpace(t.OS.ID+" "+t.OS.VersionID) + ")"
	}
	return s
}

// OSRelease holds the fields of os-release(5) that matching uses.
type OSRelease struct {
	// ID and VersionID are os-release's ID and VERSION_ID ("ubuntu",
	// "20.04"), the names of btfhub's DISTRO and VERSION directories.
	ID, VersionID string
	// IDLike is ID_LIKE: the distributions this one derives from.
	IDLike []string
}

// Match is the entry chosen for a target, and why.
type Match struct {
	// Entry is the entry chosen.
	Entry *Entry
	// Rule says which rule chose it, for a person to read: "release,
	// machine and os-release (debian 12)".
	Rule string
	// Same lists the other entries that matched as well and hold the
	// same BTF (the same kernel built for several distributions).
	Same []*Entry
}

// NoMatchError is the error of Match when no entry fits the target. It
// wraps ErrNotFound.
type NoMatchError struct {
	Target Target
	// Closest lists up to five entries of the target's architecture
	// whose releases are the closest to the target's, most similar
	// first. They are not used: matching never guesses.
	Closest []*Entry
}

func (e *NoMatchError) Error() string {
	var names []string
	for _, c := range e.Closest {
		names = append(names, c.Path)
	}
	msg := fmt.Sprintf("%s: %v", e.Target, ErrNotFound)
	if len(names) > 0 {
		msg += "; closest: " + strings.Join(names, ", ")
	}
	return msg
}

func (e *NoMatchError) Unwrap() error { return ErrNotFound }

// AmbiguousError is the error of Match when several entries with
// different BTF fit the target and nothing tells them apart. It wraps
// ErrAmbiguous.
type AmbiguousError struct {
	Target     Target
	Candidates []*Entry
}

func (e *AmbiguousError) Error() string {
	var names []string
	for _, c := range e.Candidates {
		names = append(names, c.Path)
	}
	return fmt.Sprintf("%s: %v with different BTF: %s (give the os-release to choose)", e.Target, ErrAmbiguous, strings.Join(names, ", "))
}

func (e *AmbiguousError) Unwrap() error { return ErrAmbiguous }

// Match chooses the entry for t by these rules, in order:
//
//  1. Machine: an entry's Arch must name t.Machine's architecture, in any
//     spelling (x86_64 and amd64; aarch64 and arm64; i386 to i686; armv7l,
//     armhf and arm...); entries without an Arch fit every machine.
//  2. Release: an entry's Release must be t.Release. Only when no entry
//     has it, a SUSE entry (distribution sles, opensuse* or unknown) whose
//     release has the package's build counter, as btfhub named SUSE
//     kernels until 2023 (5.3.18-59.37.1-default), fits the release uname
//     prints (5.3.18-59.37-default).
//  3. os-release, when t.OS is known: among those, entries of distribution
//     t.OS.ID are kept, with Version equal to VERSION_ID or to its major
//     version (btfhub's rhel/8 and ol/7 for VERSION_ID 8.4 and 7.9); when
//     none is of that distribution, entries of a distribution in ID_LIKE.
//     When no entry fits the os-release at all, or t.OS is nil, the
//     release alone decides, across distributions.
//  4. Several entries left are one match if they hold the same BTF (one
//     stored member; the same SHA-256 in format 1); otherwise the result
//     is an *AmbiguousError.
//
// No entry left gives a *NoMatchError naming the closest entries. Match
// never picks a kernel of another release.
func (b *Bundle) Match(t Target) (*Match, error) {
	return match(b.index.Kernels, t)
}

func match(entries []Entry, t Target) (*Match, error) {
	arch := CanonicalArch(t.Machine)
	var sameArch []*Entry
	for i := range entries {
		e := &entries[i]
		if arch == "" || e.Arch == "" || CanonicalArch(e.Arch) == arch {
			sameArch = append(sameArch, e)
		}
	}
	var why []string
	var cands []*Entry
	for _, e := range sameArch {
		if e.Release == t.Release {
			cands = append(cands, e)
		}
	}
	if len(cands) > 0 {
		why = append(why, "release")
	} else {
		for _, e := range sameArch {
			if suseRelease(e) == t.Release {
				cands = append(cands, e)
			}
		}
		if len(cands) > 0 {
			why = append(why, fmt.Sprintf("release (btfhub's SUSE name %s, with the package build counter)", cands[0].Release))
		}
	}
	if len(cands) == 0 {
		return nil, &NoMatchError{Target: t, Closest: closest(sameArch, t.Release)}
	}
	if arch != "" {
		why = append(why, "machine")
	}
	if t.OS != nil {
		if kept, how := byOS(cands, t.OS); len(kept) > 0 {
			cands = kept
			why = append(why, how)
		} else {
			why = append(why, fmt.Sprintf("no entry for os-release %s %s, so by release alone", t.OS.ID, t.OS.VersionID))
		}
	} else if distinctDistros(cands) > 1 {
		why = append(why, "no os-release, so by release alone across distributions")
	}
	first := cands[0]
	var same []*Entry
	for _, c := range cands[1:] {
		if !c.sameContent(first) {
			return nil, &AmbiguousError{Target: t, Candidates: cands}
		}
		same = append(same, c)
	}
	if len(same) > 0 {
		why = append(why, fmt.Sprintf("%d other entries hold the same BTF", len(same)))
	}
	return &Match{Entry: first, Rule: strings.Join(why, ", "), Same: same}, nil
}

// byOS keeps the candidates that fit os-release, and says how.
func byOS(cands []*Entry, osr *OSRelease) ([]*Entry, string) {
	major, _, _ := strings.Cut(osr.VersionID, ".")
	fits := func(id string) []*Entry {
		var exact, byMajor []*Entry
		for _, c := range cands {
			if c.Distro != id {
				continue
			}
			switch c.Version {
			case osr.VersionID:
				exact = append(exact, c)
			case major:
				byMajor = append(byMajor, c)
			}
		}
		if len(exact) > 0 {
			return exact
		}
		return byMajor
	}
	if kept := fits(osr.ID); len(kept) > 0 {
		how := "os-release " + osr.ID + " " + osr.VersionID
		if kept[0].Version != osr.VersionID {
			how += " (major version " + major + ")"
		}
		return kept, how
	}
	for _, like := range osr.IDLike {
		if kept := fits(like); len(kept) > 0 {
			return kept, fmt.Sprintf("os-release %s %s, like %s", osr.ID, osr.VersionID, like)
		}
	}
	return nil, ""
}

func distinctDistros(es []*Entry) int {
	seen := map[string]bool{}
	for _, e := range es {
		seen[e.Distro+"/"+e.Version] = true
	}
	return len(seen)
}

// suseBuild matches a SUSE kernel release with the package's build
// counter, VERSION-RELEASE.BUILD-FLAVOR: 5.3.18-150300.59.93.1-default,
// 5.3.18-lp152.106.1-default. The counter is one digit (it counts rebuilds
// of the same sources, almost always 1), which keeps a name without one
// (5.3.18-150300.59.90-default) from being taken for one.
var suseBuild = regexp.MustCompile(`^([0-9]+\.[0-9]+\.[0-9]+-[a-z]*[0-9]+(?:\.[0-9]+)*)\.[0-9](-[a-z][a-z0-9_]*)$`)

// suseRelease returns the release uname -r prints for an entry named with
// SUSE's build counter, or "" when e is not one.
func suseRelease(e *Entry) string {
	switch d := e.Distro; {
	case d == "", d == "sles", d == "sled", d == "suse", strings.HasPrefix(d, "opensuse"):
	default:
		return ""
	}
	m := suseBuild.FindStringSubmatch(e.Release)
	if m == nil {
		return ""
	}
	return m[1] + m[2]
}

// closest returns up to five entries whose releases share the longest
// prefix with release, then the nearest in sort order.
func closest(es []*Entry, release string) []*Entry {
	type scored struct {
		e      *Entry
		prefix int
	}
	var s []scored
	for _, e := range es {
		n := 0
		for n < len(e.Release) && n < len(release) && e.Release[n] == release[n] {
			n++
		}
		if n > 0 {
			s = append(s, scored{e, n})
		}
	}
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].prefix != s[j].prefix {
			return s[i].prefix > s[j].prefix
		}
		return s[i].e.Path < s[j].e.Path
	})
	var out []*Entry
	seen := map[string]bool{}
	for _, c := range s {
		if len(out) == 5 {
			break
		}
		if !seen[c.e.Release] {
			seen[c.e.Release] = true
			out = append(out, c.e)
		}
	}
	return out
}

// archAliases maps the names architectures go by (uname -m, Debian, Go,
// btfhub) to one canonical name.
var archAliases = map[string]string{
	"x86_64": "x86_64", "amd64": "x86_64", "x86-64": "x86_64", "x64": "x86_64",
	"aarch64": "arm64", "arm64": "arm64", "armv8l": "arm",
	"i386": "x86", "i486": "x86", "i586": "x86", "i686": "x86", "386": "x86", "x86": "x86",
	"arm": "arm", "armhf": "arm", "armel": "arm", "armv5l": "arm", "armv5tel": "arm", "armv6l": "arm", "armv7l": "arm", "armv7": "arm",
	"ppc64le": "ppc64le", "ppc64el": "ppc64le",
	"s390x":       "s390x",
	"riscv64":     "riscv64",
	"loongarch64": "loong64", "loong64": "loong64",
	"mips64": "mips64", "mips64el": "mips64le", "mips64le": "mips64le",
}

// CanonicalArch returns one name for each architecture, whatever its
// spelling: "x86_64" for x86_64 and amd64, "arm64" for aarch64 and arm64,
// "x86" for i386 to i686, "arm" for armv7l, armhf and the like. Unknown
// names are returned as they are.
func CanonicalArch(arch string) string {
	if c, ok := archAliases[arch]; ok {
		return c
	}
	return arch
}
