// Package repocheck holds tests of the repository rather than of Go code:
// the license and the SPDX headers of files under another license, the
// docs (no path of a build machine), and go.mod's go line. It has no code
// of its own; `go test ./internal/repocheck` runs the checks.
package repocheck
