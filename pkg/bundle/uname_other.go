//go:build !linux

package bundle

import "errors"

// uname is Linux's: elsewhere there is no kernel to match.
func uname() (release, machine string, err error) {
	return "", "", errors.New("not Linux")
}
