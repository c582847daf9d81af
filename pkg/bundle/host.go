package bundle

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// VmlinuxPath is where a kernel built with CONFIG_DEBUG_INFO_BTF exposes
// its own BTF.
const VmlinuxPath = "/sys/kernel/btf/vmlinux"

// osReleasePaths are where os-release(5) is looked for, in order.
var osReleasePaths = []string{"/etc/os-release", "/usr/lib/os-release"}

// maxOSRelease bounds the os-release file read.
const maxOSRelease = 64 << 10

// HostTarget returns the running machine's target: the release and
// machine of the running kernel (uname(2)), and its os-release, read from
// root + /etc/os-release or else root + /usr/lib/os-release. root is ""
// for the machine's own root, or where a container mounts the host's
// ("/host"): the kernel is the host's, and so is the os-release that names
// it. OS is nil when neither file can be read; a file that cannot be
// parsed is an error.
func HostTarget(root string) (Target, error) {
	release, machine, err := uname()
	if err != nil {
		return Target{}, fmt.Errorf("uname: %w", err)
	}
	t := Target{Release: release, Machine: machine}
	t.OS, err = ReadOSRelease(root)
	return t, err
}

// ReadOSRelease reads root + /etc/os-release, or else root +
// /usr/lib/os-release. It returns nil and no error when neither exists.
func ReadOSRelease(root string) (*OSRelease, error) {
	for _, p := range osReleasePaths {
		full := filepath.Join(root, p)
		data, err := readSmall(full, maxOSRelease)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		osr, err := ParseOSRelease(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", full, err)
		}
		return osr, nil
	}
	return nil, nil
}

// HostVmlinux returns root + VmlinuxPath when that file exists: the
// running kernel has BTF of its own and needs none from a bundle.
func HostVmlinux(root string) (string, bool) {
	p := filepath.Join(root, VmlinuxPath)
	fi, err := os.Stat(p)
	return p, err == nil && fi.Mode().IsRegular()
}

func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return buf.Bytes(), nil
}

// ParseOSRelease parses os-release(5) data: KEY=VALUE lines, values
// optionally quoted with shell quoting, comments and blank lines ignored.
// It needs an ID; VERSION_ID may be missing (rolling releases).
func ParseOSRelease(data []byte) (*OSRelease, error) {
	var osr OSRelease
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 4096), maxOSRelease)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: no KEY=VALUE", line)
		}
		v, err := unquote(val)
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", line, key, err)
		}
		switch key {
		case "ID":
			osr.ID = v
		case "VERSION_ID":
			osr.VersionID = v
		case "ID_LIKE":
			osr.IDLike = strings.Fields(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if osr.ID == "" {
		return nil, errors.New("no ID")
	}
	for _, v := range append([]string{osr.ID, osr.VersionID}, osr.IDLike...) {
		if err := checkName(v); err != nil || strings.ContainsAny(v, "/ ") {
			return nil, fmt.Errorf("value %q: not a name", v)
		}
	}
	return &osr, nil
}

// unquote undoes os-release's shell-style quoting of a value.
func unquote(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	switch q := v[0]; q {
	case '"', '\'':
		if len(v) < 2 || v[len(v)-1] != q {
			return "", errors.New("unterminated quote")
		}
		v = v[1 : len(v)-1]
		if q == '\'' {
			return v, nil
		}
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) && strings.IndexByte("\"\\$`", v[i+1]) >= 0 {
				i++
			}
			b.WriteByte(v[i])
		}
		return b.String(), nil
	}
	return v, nil
}
