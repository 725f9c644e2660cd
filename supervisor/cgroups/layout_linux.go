package cgroups

import (
	"fmt"
	"path/filepath"
	"syscall"
)

// DetectLayout tells the layout from the filesystem types of root (normally
// /sys/fs/cgroup) and root/unified: cgroup2 at root is Unified, cgroup2 at
// root/unified is Hybrid, anything else (tmpfs with v1 mounts) is Legacy.
// It fails when root cannot be statfs'd or is neither tmpfs nor a cgroup fs.
func DetectLayout(root string) (Layout, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(root, &st); err != nil {
		return 0, fmt.Errorf("cgroups: statfs %s: %w", root, err)
	}
	switch int64(st.Type) {
	case cgroup2SuperMagic:
		return Unified, nil
	case cgroupSuperMagic:
		return Legacy, nil
	case tmpfsMagic:
	default:
		return 0, fmt.Errorf("cgroups: %s is not a cgroup mount (filesystem type %#x)", root, st.Type)
	}
	var u syscall.Statfs_t
	if err := syscall.Statfs(filepath.Join(root, "unified"), &u); err == nil && int64(u.Type) == cgroup2SuperMagic {
		return Hybrid, nil
	}
	return Legacy, nil
}
