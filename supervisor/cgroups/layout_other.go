//go:build !linux

package cgroups

import "errors"

// DetectLayout is only implemented on Linux.
func DetectLayout(root string) (Layout, error) {
	return 0, errors.New("cgroups: only supported on Linux")
}
