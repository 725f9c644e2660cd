package cgroups

// Layout is the way cgroup hierarchies are mounted on the host.
type Layout int

const (
	// Legacy: only cgroup v1 hierarchies.
	Legacy Layout = iota
	// Hybrid: cgroup v1 controllers plus a controller-less cgroup2 at <root>/unified.
	Hybrid
	// Unified: <root> itself is cgroup2.
	Unified
)

func (l Layout) String() string {
	switch l {
	case Legacy:
		return "legacy"
	case Hybrid:
		return "hybrid"
	case Unified:
		return "unified"
	}
	return "Layout(?)"
}

// Magic numbers from statfs(2).
const (
	cgroup2SuperMagic = 0x63677270
	cgroupSuperMagic  = 0x27e0eb
	tmpfsMagic        = 0x01021994
)
