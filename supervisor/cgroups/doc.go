// Package cgroups moves a Docker container's processes into the cgroups of
// the systemd unit that runs systemd-docker, so that systemd tracks, limits
// and stops the container as part of the unit.
//
// It understands the three layouts described in cgroups(7)
// (https://man7.org/linux/man-pages/man7/cgroups.7.html):
//
//   - legacy: every controller is a cgroup v1 hierarchy under /sys/fs/cgroup/<ctrl>,
//     systemd tracks units through the v1 "name=systemd" hierarchy.
//   - hybrid: v1 controllers as above plus a controller-less cgroup2 hierarchy
//     at /sys/fs/cgroup/unified; systemd tracks units through the latter.
//   - unified: /sys/fs/cgroup is a single cgroup2 hierarchy.
//
// The layout is not detected as such: the work is driven by
// /proc/<pid>/cgroup (ParseProcCgroup) and /proc/self/mountinfo
// (ParseMountinfo), which show it; Migrator.Migrate does the move.
package cgroups
