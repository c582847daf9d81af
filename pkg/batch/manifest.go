package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/btftool/btftool/internal/atomicfile"
)

// ManifestName is the file, in the output directory, recording what each
// output was made from, so that the next run skips kernels whose inputs are
// unchanged. For a bundle the manifest is a sidecar: BUNDLE + "." +
// ManifestName without its leading dot (out.tar.xz.btftool-manifest.json).
//
// A kernel is unchanged when its input's SHA-256 is (size and mtime equal
// to the recorded ones are taken to mean the same content, without reading
// it), so is that of its module BTF archive (if any), the objects'
// contents hash the same, the generator version is the
// same, and the output recorded is still there with the recorded size (for
// a bundle: the recorded content).
const ManifestName = ".btftool-manifest.json"

// manifestFormat is the manifest's format version.
const manifestFormat = 1

type manifest struct {
	Format    int    `json:"format"`
	Generator string `json:"generator"`
	Objects   string `json:"objects_sha256"`
	// Kernels is keyed by output path (relative, slash-separated).
	Kernels map[string]manifestEntry `json:"kernels"`
}

// inputKey identifies a kernel input file's content.
type inputKey struct {
	Size    int64  `json:"size"`
	MtimeNS int64  `json:"mtime_ns"`
	SHA256  string `json:"sha256"`
}

type manifestEntry struct {
	Input string `json:"input"`
	inputKey
	// Modules identifies the kernel's module BTF archive, if it had one.
	Modules   *inputKey `json:"modules,omitempty"`
	OutSize   int64     `json:"output_size"`
	OutSHA256 string    `json:"output_sha256"`
}

func newManifest(version, objects string) *manifest {
	return &manifest{Format: manifestFormat, Generator: version, Objects: objects, Kernels: map[string]manifestEntry{}}
}

func manifestPath(output string, bundle bool) string {
	if bundle {
		return output + "." + ManifestName[1:]
	}
	return filepath.Join(output, ManifestName)
}

// readManifest returns the manifest at p if it is usable for a run with
// this version and objects, and nil otherwise (missing, unreadable, other
// version or objects: everything is redone).
func readManifest(p, version, objects string) *manifest {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	var m manifest
	if json.Unmarshal(data, &m) != nil || m.Format != manifestFormat || m.Generator != version || m.Objects != objects || m.Kernels == nil {
		return nil
	}
	return &m
}

func writeManifest(p string, m *manifest) error {
	data, err := json.MarshalIndent(m, "", "  ") // maps marshal sorted
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(p, append(data, '\n'), 0o644)
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// writeOutput writes data to path atomically (a temporary file in the same
// directory, renamed over path; readers never see a partial file) but,
// unlike atomicfile.WriteFile, without syncing it: Run syncs the output
// file system once, before the manifest records the outputs, instead of
// paying an fsync per kernel.
func writeOutput(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
