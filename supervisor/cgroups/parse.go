package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Hierarchy is one line of /proc/<pid>/cgroup: "ID:controllers:path".
type Hierarchy struct {
	// ID is the hierarchy ID; 0 for the cgroup v2 line.
	ID int
	// Controllers is sorted; a named hierarchy keeps its "name=systemd"
	// element. It is empty for the v2 line "0::/...".
	Controllers []string
	// Path is the cgroup path within the hierarchy, e.g. "/docker/<id>".
	Path string
}

// V2 reports whether h is the cgroup v2 (unified) hierarchy.
func (h Hierarchy) V2() bool { return h.ID == 0 && len(h.Controllers) == 0 }

// Name is the hierarchy's human name: the comma-joined controllers
// ("cpu,cpuacct", "name=systemd") or "unified" for the v2 hierarchy.
func (h Hierarchy) Name() string {
	if h.V2() {
		return "unified"
	}
	if len(h.Controllers) == 0 {
		return "hierarchy " + strconv.Itoa(h.ID)
	}
	return strings.Join(h.Controllers, ",")
}

// named reports whether h is a named (controller-less) v1 hierarchy such as name=systemd.
func (h Hierarchy) named() bool {
	for _, c := range h.Controllers {
		if strings.HasPrefix(c, "name=") {
			return true
		}
	}
	return false
}

// ParseProcCgroup parses the contents of /proc/<pid>/cgroup. Empty lines are
// ignored; any other malformed line is an error.
func ParseProcCgroup(r io.Reader) ([]Hierarchy, error) {
	var hs []Hierarchy
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("cgroups: /proc/<pid>/cgroup line %d %q: want ID:controllers:path", n, line)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil || id < 0 {
			return nil, fmt.Errorf("cgroups: /proc/<pid>/cgroup line %d %q: bad hierarchy ID", n, line)
		}
		if !strings.HasPrefix(f[2], "/") {
			return nil, fmt.Errorf("cgroups: /proc/<pid>/cgroup line %d %q: path is not absolute", n, line)
		}
		h := Hierarchy{ID: id, Path: f[2]}
		if f[1] != "" {
			h.Controllers = splitSet(f[1])
			if len(h.Controllers) == 0 {
				return nil, fmt.Errorf("cgroups: /proc/<pid>/cgroup line %d %q: bad controller list", n, line)
			}
		}
		hs = append(hs, h)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cgroups: reading /proc/<pid>/cgroup: %w", err)
	}
	return hs, nil
}

// splitSet splits a comma list into a sorted, de-duplicated set without empty elements.
func splitSet(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	sort.Strings(out)
	j := 0
	for i, e := range out {
		if i == 0 || e != out[j-1] {
			out[j] = e
			j++
		}
	}
	return out[:j]
}

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			if x == y {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func sameSet(a, b []string) bool { return len(a) == len(b) && subset(a, b) && subset(b, a) }

// Mount is one cgroup or cgroup2 mount from /proc/self/mountinfo.
type Mount struct {
	// Mountpoint is where the hierarchy is mounted, e.g. /sys/fs/cgroup/memory.
	Mountpoint string
	// Root is the cgroup path of the hierarchy that is mounted there; "/"
	// unless only a subtree is mounted (containers, nspawn, cgroup namespaces).
	Root string
	// Controllers is the sorted list of controllers (and "name=..." entries)
	// taken from the super options of a v1 mount; nil for cgroup2.
	Controllers []string
	// V2 is true for a cgroup2 mount.
	V2 bool
}

// v1 super options that are not controllers.
var v1Flags = map[string]bool{
	"rw": true, "ro": true, "nosuid": true, "nodev": true, "noexec": true,
	"relatime": true, "noatime": true, "strictatime": true, "xattr": true,
	"clone_children": true, "noprefix": true, "cpuset_v2_mode": true,
	"favordynmods": true, "all": true, "none": true, "sync": true, "dirsync": true,
}

// ParseMountinfo parses /proc/self/mountinfo (see proc(5)) and returns its
// cgroup and cgroup2 mounts in file order. Octal escapes (\040) in the root
// and mountpoint are decoded. A line without the " - " separator is an error.
func ParseMountinfo(r io.Reader) ([]Mount, error) {
	var ms []Mount
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	for sc.Scan() {
		n++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || sep+2 >= len(f) {
			return nil, fmt.Errorf("cgroups: mountinfo line %d: malformed (no \" - fstype source\" part)", n)
		}
		fstype := f[sep+1]
		if fstype != "cgroup" && fstype != "cgroup2" {
			continue
		}
		m := Mount{Root: unescapeOctal(f[3]), Mountpoint: unescapeOctal(f[4]), V2: fstype == "cgroup2"}
		if !m.V2 && sep+3 < len(f) {
			for _, o := range splitSet(f[sep+3]) {
				if v1Flags[o] || (strings.Contains(o, "=") && !strings.HasPrefix(o, "name=")) {
					continue
				}
				m.Controllers = append(m.Controllers, o)
			}
		}
		ms = append(ms, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cgroups: reading mountinfo: %w", err)
	}
	return ms, nil
}

// unescapeOctal decodes the \ooo escapes the kernel uses in mountinfo.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1:i+4]) {
			v, _ := strconv.ParseUint(s[i+1:i+4], 8, 8)
			b.WriteByte(byte(v))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(s string) bool {
	if len(s) != 3 || s[0] > '3' {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}

// Dir returns the directory of cgroupPath under this mount: Mountpoint joined
// with cgroupPath relative to Root. A path outside Root (or containing "..",
// as the kernel prints for cgroups outside a cgroup namespace) is an error.
func (m Mount) Dir(cgroupPath string) (string, error) {
	if !strings.HasPrefix(cgroupPath, "/") {
		return "", fmt.Errorf("cgroups: cgroup path %q is not absolute", cgroupPath)
	}
	for _, e := range strings.Split(cgroupPath, "/") {
		if e == ".." {
			return "", fmt.Errorf("cgroups: cgroup path %q is outside the mount %s (root %s)", cgroupPath, m.Mountpoint, m.Root)
		}
	}
	p := path.Clean(cgroupPath)
	root := path.Clean("/" + m.Root)
	var rel string
	switch {
	case root == "/":
		rel = p
	case p == root:
		rel = "/"
	case strings.HasPrefix(p, root+"/"):
		rel = p[len(root):]
	default:
		return "", fmt.Errorf("cgroups: cgroup path %q is outside the mount %s (root %s)", cgroupPath, m.Mountpoint, m.Root)
	}
	return filepath.Join(m.Mountpoint, filepath.FromSlash(rel)), nil
}

// contains reports whether cgroupPath lies within m.Root.
func (m Mount) contains(cgroupPath string) bool {
	_, err := m.Dir(cgroupPath)
	return err == nil
}

// findMount returns the first mount of hierarchy h whose root contains
// cgroupPath: the cgroup2 mount for the v2 hierarchy, otherwise a v1 mount
// whose controller set includes h's controllers (controllers are unique to
// one hierarchy, so order of names does not matter).
func findMount(ms []Mount, h Hierarchy, cgroupPath string) (Mount, error) {
	if !h.V2() && len(h.Controllers) == 0 {
		return Mount{}, fmt.Errorf("cgroups: hierarchy %d has no controllers", h.ID)
	}
	found := false
	for _, m := range ms {
		if m.V2 != h.V2() || (!m.V2 && !subset(h.Controllers, m.Controllers)) {
			continue
		}
		found = true
		if m.contains(cgroupPath) {
			return m, nil
		}
	}
	if found {
		return Mount{}, fmt.Errorf("cgroups: hierarchy %s: cgroup %q is %w", h.Name(), cgroupPath, errOutsideMounts)
	}
	return Mount{}, errNotMounted
}

var (
	errNotMounted    = errors.New("hierarchy is not mounted")
	errOutsideMounts = errors.New("outside every mount of the hierarchy")
)

// SelectionError is returned by Select when an entry of the selection names
// no hierarchy of the host.
type SelectionError struct {
	Entry     string   // the offending entry as given
	Available []string // names of the host's hierarchies, sorted
}

func (e *SelectionError) Error() string {
	return fmt.Sprintf("--cgroups %q names no cgroup hierarchy on this host; available: %s; use one of them or \"all\"",
		e.Entry, strings.Join(e.Available, ", "))
}

// Select returns the hierarchies of hs (in hs order, without duplicates)
// that a --cgroups selection names.
//
//   - An empty selection (after trimming blanks) or one containing "all"
//     selects every hierarchy.
//   - "unified" selects the v2 hierarchy.
//   - "name=systemd" selects the name=systemd hierarchy and the v2 one when
//     present (systemd tracks units through v2 on hybrid hosts).
//   - Any other entry is a comma list; it selects each hierarchy whose
//     controller set contains all of it ("cpu" and "cpuacct,cpu" both select
//     "cpu,cpuacct").
//
// An entry that selects nothing yields a *SelectionError.
func Select(selection []string, hs []Hierarchy) ([]Hierarchy, error) {
	var entries []string
	for _, e := range selection {
		if e = strings.TrimSpace(e); e == "all" {
			return append([]Hierarchy(nil), hs...), nil
		} else if e != "" {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return append([]Hierarchy(nil), hs...), nil
	}
	picked := make([]bool, len(hs))
	for _, e := range entries {
		set := splitSet(e)
		hit := false
		for i, h := range hs {
			var ok bool
			switch {
			case e == "unified":
				ok = h.V2()
			case e == "name=systemd":
				ok = h.V2() || sameSet(h.Controllers, set)
			default:
				ok = len(set) > 0 && !h.V2() && subset(set, h.Controllers)
			}
			if ok {
				picked[i], hit = true, true
			}
		}
		if !hit {
			return nil, &SelectionError{Entry: e, Available: availableNames(hs)}
		}
	}
	var out []Hierarchy
	for i, h := range hs {
		if picked[i] {
			out = append(out, h)
		}
	}
	return out, nil
}

func availableNames(hs []Hierarchy) []string {
	var names []string
	for _, h := range hs {
		n := h.Name()
		if h.V2() {
			n += " (v2)"
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
