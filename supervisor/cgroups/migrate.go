package cgroups

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/watchers"
)

// Migrator moves a container's processes into the cgroups of another
// process (normally systemd-docker itself, i.e. the unit's cgroups).
// The zero value is ready to use on a real host.
type Migrator struct {
	// Proc is the procfs mount; "" means "/proc". Tests point it at a fixture tree.
	// Mounts are read from Proc/self/mountinfo.
	Proc string
	// Log receives a warning when the selection leaves systemd's tracking
	// hierarchy out, and debug messages per move; nil means no logging.
	Log *zap.Logger
	// Write puts pid into the cgroup whose directory is dir. nil means
	// writing "<pid>\n" to dir/cgroup.procs. Errors must wrap the errno
	// (EINVAL is retried, ESRCH means the process is gone).
	Write func(dir string, pid int) error
	// MaxRounds bounds the re-read/move rounds per hierarchy (forks during
	// the move are caught by the next round); 0 means 10.
	MaxRounds int
	// Retries is how often a write failing with EINVAL (task still being
	// created) is retried; 0 means 5.
	Retries int
	// Backoff is the first EINVAL retry delay, doubled each retry; 0 means 10ms.
	Backoff time.Duration
}

// Target says what to move where.
type Target struct {
	// Pid is the container's init process (host pid).
	Pid int
	// ContainerID is the full container ID. A source cgroup whose path
	// contains it is treated as the container's own: every process in it is
	// moved. Any other source cgroup (e.g. "/") is treated as shared: only
	// Pid and its descendants are moved. IDs shorter than 12 characters
	// are never trusted to name a cgroup.
	ContainerID string
	// Into is the process whose cgroups are the destination; 0 means the
	// calling process (Proc/self).
	Into int
	// Selection is the --cgroups list, see Select.
	Selection []string
}

// Skip is a selected hierarchy that Migrate left alone; the caller should
// log it as a warning.
type Skip struct {
	Hierarchy string // Hierarchy.Name()
	Dir       string // the directory concerned, if any
	Reason    string
	// Outside: the destination process's cgroup lies outside our cgroup
	// namespace (its path begins with "/.."), so it is in no cgroup we
	// could name: not in a unit of the systemd we see.
	Outside bool
}

// Result reports what Migrate did.
type Result struct {
	// Moved lists each pid written successfully at least once, in order of first move.
	Moved []int
	// Hierarchies names the hierarchies (Hierarchy.Name()) into which at least one pid was written.
	Hierarchies []string
	// Skipped lists selected hierarchies that were not migrated.
	Skipped []Skip
}

// ErrGone is returned (wrapped) by Migrate when the container's process
// ended before or while it was moved.
var ErrGone = errors.New("the process has ended")

// Migrate moves the container's processes, hierarchy by hierarchy, from the
// cgroups of t.Pid into the cgroups of t.Into. Hierarchies come from
// /proc/<t.Pid>/cgroup filtered by Select(t.Selection); they are processed
// v1 controllers first, then named ones (name=systemd), then the v2 one, so
// systemd sees a process in the unit only once it has been moved everywhere.
//
// Per hierarchy: identical source and destination paths need nothing; a
// hierarchy that is not mounted or whose destination directory does not exist
// (systemd creates no unit directory in v1 controllers it does not manage) is
// reported in Result.Skipped; otherwise the container's processes are
// written to the destination, retrying EINVAL, ignoring ESRCH, and the
// source is re-read until no container process is left (at most MaxRounds).
//
// On error, the returned Result describes what was done before it; errors
// name the hierarchy, the directories and the pid.
func (m *Migrator) Migrate(ctx context.Context, t Target) (Result, error) {
	var res Result
	if t.Pid <= 0 {
		return res, fmt.Errorf("cgroups: invalid container pid %d", t.Pid)
	}
	proc := m.Proc
	if proc == "" {
		proc = "/proc"
	}
	log := m.Log
	if log == nil {
		log = zap.NewNop()
	}
	into := "self"
	if t.Into > 0 {
		into = strconv.Itoa(t.Into)
	}
	sel, dst, mounts, err := read(proc, t, into)
	if err != nil {
		return res, err
	}
	if tr, ok := trackingHierarchy(sel.all); ok && !containsHierarchy(sel.chosen, tr) {
		log.Warn("cgroup selection leaves out systemd's tracking hierarchy; systemd will lose track of the container (add name=systemd to --cgroups)",
			zap.String("hierarchy", tr.Name()), zap.Strings("selection", t.Selection))
	}

	moved := map[int]bool{}
	for _, h := range sel.chosen {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		name := h.Name()
		d, ok := matchHierarchy(dst, h)
		if !ok {
			return res, fmt.Errorf("cgroups: hierarchy %s: destination process %s is not in it", name, into)
		}
		if d.Path == h.Path {
			log.Debug("container already in destination cgroup", zap.String("hierarchy", name), zap.String("path", h.Path))
			continue
		}
		srcDir, dstDir, skip, err := dirsOf(mounts, h, d, into)
		if err != nil {
			return res, err
		}
		if skip != nil {
			res.Skipped = append(res.Skipped, *skip)
			continue
		}
		byID := len(t.ContainerID) >= 12 && strings.Contains(h.Path, t.ContainerID)
		wrote, err := m.moveHierarchy(ctx, log, name, srcDir, dstDir, byID, t.Pid, proc, func(pid int) {
			if !moved[pid] {
				moved[pid] = true
				res.Moved = append(res.Moved, pid)
			}
		})
		if wrote {
			res.Hierarchies = append(res.Hierarchies, name)
		}
		if err != nil {
			return res, err
		}
	}
	if exited(proc, t.Pid) {
		// Moved or not, it ended meanwhile: say so, rather than have it
		// announced as the main process.
		return res, fmt.Errorf("cgroups: container pid %d: %w", t.Pid, ErrGone)
	}
	return res, nil
}

// selection is the container's hierarchies, and those chosen by
// --cgroups, in the order they are migrated (see rank).
type selection struct{ all, chosen []Hierarchy }

// read reads the cgroups of the container and of the destination process
// into, and the mounts, from proc.
func read(proc string, t Target, into string) (selection, []Hierarchy, []Mount, error) {
	src, err := readProcCgroup(filepath.Join(proc, strconv.Itoa(t.Pid), "cgroup"))
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
		return selection{}, nil, nil, fmt.Errorf("cgroups: container pid %d: %w (%w)", t.Pid, ErrGone, err)
	}
	if err != nil {
		return selection{}, nil, nil, fmt.Errorf("cgroups: cgroups of container pid %d: %w", t.Pid, err)
	}
	dst, err := readProcCgroup(filepath.Join(proc, into, "cgroup"))
	if err != nil {
		return selection{}, nil, nil, fmt.Errorf("cgroups: cgroups of destination process %s: %w", into, err)
	}
	mounts, err := readMountinfo(filepath.Join(proc, "self", "mountinfo"))
	if err != nil {
		return selection{}, nil, nil, err
	}
	chosen, err := Select(t.Selection, src)
	if err != nil {
		return selection{}, nil, nil, err
	}
	sort.SliceStable(chosen, func(i, j int) bool { return rank(chosen[i]) < rank(chosen[j]) })
	return selection{all: src, chosen: chosen}, dst, mounts, nil
}

// dirsOf finds the directories of the container's cgroup h and of the
// destination's d, in this mount namespace. A hierarchy the destination
// cannot be moved into is a Skip: not mounted here, the destination
// outside our cgroup namespace or every mount of it (it is in no unit
// here), or no directory for the unit (systemd manages no such
// controller for it).
func dirsOf(mounts []Mount, h, d Hierarchy, into string) (src, dst string, skip *Skip, err error) {
	name := h.Name()
	if outsideNamespace(d.Path) {
		return "", "", &Skip{Hierarchy: name, Outside: true,
			Reason: fmt.Sprintf("the destination process %s is in cgroup %s, outside this cgroup namespace; the container stays in %s", into, d.Path, h.Path)}, nil
	}
	sm, err := findMount(mounts, h, h.Path)
	if errors.Is(err, errNotMounted) {
		return "", "", &Skip{Hierarchy: name, Reason: "hierarchy " + name + " is not mounted in this mount namespace"}, nil
	} else if err != nil {
		return "", "", nil, err
	}
	dm, err := findMount(mounts, h, d.Path)
	if errors.Is(err, errOutsideMounts) {
		return "", "", &Skip{Hierarchy: name, Outside: true,
			Reason: fmt.Sprintf("the destination process %s is in cgroup %s, outside every mount of %s here; the container stays in %s", into, d.Path, name, h.Path)}, nil
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("cgroups: hierarchy %s: destination: %w", name, err)
	}
	src, _ = sm.Dir(h.Path)
	dst, _ = dm.Dir(d.Path)
	if fi, err := os.Stat(dst); err != nil || !fi.IsDir() {
		return "", "", &Skip{Hierarchy: name, Dir: dst,
			Reason: fmt.Sprintf("destination cgroup directory %s does not exist (systemd does not manage %s for this unit); the container stays in %s", dst, name, h.Path)}, nil
	}
	return src, dst, nil, nil
}

// outsideNamespace tells whether a /proc/PID/cgroup path names a cgroup
// outside the reader's cgroup namespace (cgroup_namespaces(7)): "/..",
// "/../..", "/../x" and so on. Such a process was put into its cgroup from
// outside (nsenter keeps the caller's), and no mount here holds it.
func outsideNamespace(p string) bool {
	return p == "/.." || strings.HasPrefix(p, "/../")
}

// rank orders hierarchies: v1 controllers, named v1 hierarchies, v2.
func rank(h Hierarchy) int {
	switch {
	case h.V2():
		return 2
	case h.named():
		return 1
	}
	return 0
}

// trackingHierarchy is the hierarchy systemd uses to track units: v2 when
// present, else name=systemd.
func trackingHierarchy(hs []Hierarchy) (Hierarchy, bool) {
	for _, h := range hs {
		if h.V2() {
			return h, true
		}
	}
	for _, h := range hs {
		if sameSet(h.Controllers, []string{"name=systemd"}) {
			return h, true
		}
	}
	return Hierarchy{}, false
}

func containsHierarchy(hs []Hierarchy, x Hierarchy) bool {
	_, ok := matchHierarchy(hs, x)
	return ok
}

func matchHierarchy(hs []Hierarchy, x Hierarchy) (Hierarchy, bool) {
	for _, h := range hs {
		if h.V2() == x.V2() && sameSet(h.Controllers, x.Controllers) {
			return h, true
		}
	}
	return Hierarchy{}, false
}

// moveHierarchy runs the move rounds for one hierarchy. wrote reports
// whether at least one write succeeded.
func (m *Migrator) moveHierarchy(ctx context.Context, log *zap.Logger, name, srcDir, dstDir string, byID bool, initPid int, proc string, onMoved func(int)) (wrote bool, err error) {
	maxRounds := m.MaxRounds
	if maxRounds <= 0 {
		maxRounds = 10
	}
	// A process that exited but is not reaped yet (a zombie) stays listed
	// in cgroup.procs, and writing it fails with ESRCH: it is not to be
	// moved again, and not to be waited for.
	gone := map[int]bool{}
	for round := 0; ; round++ {
		pids, err := containerPids(proc, srcDir, byID, initPid)
		pids = slices.DeleteFunc(pids, func(p int) bool {
			if gone[p] {
				return true
			}
			// A zombie stays listed, and writing it may succeed without
			// moving it (cgroup v1): it has ended, there is nothing to move.
			if exited(proc, p) {
				gone[p] = true
			}
			return gone[p]
		})
		if err != nil {
			// A source cgroup removed once empty (systemd drops an emptied
			// docker-<id>.scope) reads as ENOENT, or as ENODEV while it dies.
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENODEV) {
				if round > 0 {
					return wrote, nil
				}
				if exited(proc, initPid) { // empty before we came: it has ended
					return wrote, fmt.Errorf("cgroups: hierarchy %s: container pid %d: %w (%w)", name, initPid, ErrGone, err)
				}
			}
			return wrote, fmt.Errorf("cgroups: hierarchy %s: listing container processes in %s: %w", name, srcDir, err)
		}
		if len(pids) == 0 {
			return wrote, nil
		}
		if round >= maxRounds {
			return wrote, fmt.Errorf("cgroups: hierarchy %s: container processes %v still in %s after %d rounds of moving them into %s", name, pids, srcDir, maxRounds, dstDir)
		}
		for _, pid := range pids {
			err := m.write(ctx, dstDir, pid)
			if errors.Is(err, syscall.ESRCH) {
				log.Debug("process gone before move", zap.String("hierarchy", name), zap.Int("pid", pid))
				gone[pid] = true
				continue
			}
			if err != nil {
				return wrote, fmt.Errorf("cgroups: hierarchy %s: moving pid %d from %s into %s: %w", name, pid, srcDir, dstDir, err)
			}
			wrote = true
			onMoved(pid)
			log.Debug("moved process", zap.String("hierarchy", name), zap.Int("pid", pid), zap.String("from", srcDir), zap.String("to", dstDir))
		}
	}
}

// write writes pid into dir, retrying EINVAL with exponential backoff.
func (m *Migrator) write(ctx context.Context, dir string, pid int) error {
	w := m.Write
	if w == nil {
		w = writeProcs
	}
	retries := m.Retries
	if retries <= 0 {
		retries = 5
	}
	pause := watchers.Backoff{First: m.Backoff} // no Max: Retries bounds it
	if pause.First <= 0 {
		pause.First = 10 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		err := w(dir, pid)
		if err == nil || !errors.Is(err, syscall.EINVAL) || attempt >= retries {
			return err
		}
		if !pause.Wait(ctx) {
			return fmt.Errorf("%w (while retrying after %v)", ctx.Err(), err)
		}
	}
}

// writeProcs is the default Write: "<pid>\n" into dir/cgroup.procs.
func writeProcs(dir string, pid int) error {
	f, err := os.OpenFile(filepath.Join(dir, "cgroup.procs"), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strconv.Itoa(pid) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// containerPids lists the container processes in srcDir: all of them when
// the cgroup is the container's own, else initPid and its descendants.
func containerPids(proc, srcDir string, byID bool, initPid int) ([]int, error) {
	all, err := readPids(filepath.Join(srcDir, "cgroup.procs"))
	if err != nil || byID {
		return all, err
	}
	ppids := map[int]int{}
	var out []int
	for _, p := range all {
		if isDescendant(proc, p, initPid, ppids) {
			out = append(out, p)
		}
	}
	return out, nil
}

// isDescendant reports whether p is root or one of its descendants,
// following the ppid chain in proc/<p>/stat. A process whose stat cannot be
// read (it exited) is not a descendant.
func isDescendant(proc string, p, root int, cache map[int]int) bool {
	for i := 0; i < 4096; i++ {
		if p == root {
			return true
		}
		if p <= 1 {
			return false
		}
		pp, ok := cache[p]
		if !ok {
			var err error
			pp, err = readPpid(filepath.Join(proc, strconv.Itoa(p), "stat"))
			if err != nil {
				pp = 0
			}
			cache[p] = pp
		}
		if pp == p {
			return false
		}
		p = pp
	}
	return false
}

// readPpid returns field 4 of /proc/<pid>/stat. comm (field 2) may contain
// spaces and ')', so fields are counted after the last ')'.
func readPpid(file string) (int, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	return parseStatPpid(string(b))
}

// exited reports whether pid has ended: no /proc entry, or a zombie (state
// Z or X in /proc/<pid>/stat). A stat without a state field is not taken
// as an exit.
func exited(proc string, pid int) bool {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return false
	}
	f := strings.Fields(s[i+1:])
	if len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
		return true
	}
	// Still running its exit (PF_EXITING in flags, field 9): cgroups
	// skip such a task when moving it, silently. Only a single-threaded
	// one: a leader that exits alone leaves its threads running.
	const pfExiting = 0x4
	if len(f) > 6 {
		flags, err := strconv.ParseUint(f[6], 10, 64)
		single := len(f) < 18 || f[17] == "1"
		return err == nil && flags&pfExiting != 0 && single
	}
	return false
}

func parseStatPpid(s string) (int, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("cgroups: malformed stat: no ')'")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, errors.New("cgroups: malformed stat: too few fields")
	}
	pp, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, fmt.Errorf("cgroups: malformed stat ppid %q", f[1])
	}
	return pp, nil
}

func readPids(file string) ([]int, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pids []int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		p, err := strconv.Atoi(line)
		if err != nil {
			return nil, fmt.Errorf("%s: bad pid %q", file, line)
		}
		pids = append(pids, p)
	}
	return pids, sc.Err()
}

func readProcCgroup(file string) ([]Hierarchy, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	hs, err := ParseProcCgroup(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return hs, nil
}

func readMountinfo(file string) ([]Mount, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	defer f.Close()
	ms, err := ParseMountinfo(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return ms, nil
}
