package cgroups

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// fakeHost is a fake /proc plus fake cgroup hierarchies under a temp dir.
// Container init is pid 1000; the wrapper is proc/self.
type fakeHost struct {
	t       *testing.T
	root    string
	proc    string
	mounts  []Mount
	src     []Hierarchy // container's
	dst     []Hierarchy // wrapper's
	writes  []string    // "hierarchy-mountpoint-base:pid" in write order
	before  func(dir string, pid int) error
	after   func(dir string, pid int)
	attempt map[int]int
}

// newFakeHost builds the tree from testdata/<layout>; containerCg and
// wrapperCg override the /proc/<pid>/cgroup fixtures when non-empty.
func newFakeHost(t *testing.T, layout, containerCg, wrapperCg string) *fakeHost {
	t.Helper()
	h := &fakeHost{t: t, root: t.TempDir(), attempt: map[int]int{}}
	h.proc = filepath.Join(h.root, "proc")
	if containerCg == "" {
		containerCg = fixture(t, layout+"/cgroup-container")
	}
	if wrapperCg == "" {
		wrapperCg = fixture(t, layout+"/cgroup-wrapper")
	}
	var mi []string
	for _, line := range strings.Split(fixture(t, layout+"/mountinfo"), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 {
			f[4] = h.root + f[4]
			line = strings.Join(f, " ")
		}
		mi = append(mi, line)
	}
	h.file("self/mountinfo", strings.Join(mi, "\n"))
	h.file("self/cgroup", wrapperCg)
	h.file("1000/cgroup", containerCg)
	var err error
	if h.mounts, err = ParseMountinfo(strings.NewReader(strings.Join(mi, "\n"))); err != nil {
		t.Fatal(err)
	}
	if h.src, err = ParseProcCgroup(strings.NewReader(containerCg)); err != nil {
		t.Fatal(err)
	}
	if h.dst, err = ParseProcCgroup(strings.NewReader(wrapperCg)); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *fakeHost) file(rel, content string) {
	h.t.Helper()
	p := filepath.Join(h.proc, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// process writes proc/<pid>/stat.
func (h *fakeHost) process(pid, ppid int, comm string) {
	h.file(strconv.Itoa(pid)+"/stat", fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194560 1 0 0 0\n", pid, comm, ppid, pid, pid))
}

// dir is the directory of cgroup path p in the hierarchy named name.
func (h *fakeHost) dir(name, p string) string {
	h.t.Helper()
	for _, hs := range [][]Hierarchy{h.src, h.dst} {
		for _, x := range hs {
			if x.Name() == name {
				m, err := findMount(h.mounts, x, p)
				if err != nil {
					h.t.Fatal(err)
				}
				d, _ := m.Dir(p)
				return d
			}
		}
	}
	h.t.Fatalf("no hierarchy %s", name)
	return ""
}

func (h *fakeHost) setProcs(dir string, pids ...int) {
	h.t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range pids {
		fmt.Fprintf(&b, "%d\n", p)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(b.String()), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *fakeHost) procs(dir string) []int {
	h.t.Helper()
	pids, err := readPids(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		h.t.Fatal(err)
	}
	sort.Ints(pids)
	return pids
}

// populate creates every destination dir (empty) except those of the
// hierarchies in missing, then every source dir holding pids.
func (h *fakeHost) populate(pids []int, missing ...string) {
	for _, d := range h.dst {
		if !contains(missing, d.Name()) {
			h.setProcs(h.dir(d.Name(), d.Path))
		}
	}
	for _, s := range h.src {
		h.setProcs(h.dir(s.Name(), s.Path), pids...)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// write is the Migrator.Write hook: it moves pid's line from whatever
// cgroup.procs of the same hierarchy holds it into dir/cgroup.procs.
func (h *fakeHost) write(dir string, pid int) error {
	h.attempt[pid]++
	if h.before != nil {
		if err := h.before(dir, pid); err != nil {
			return &fs.PathError{Op: "write", Path: filepath.Join(dir, "cgroup.procs"), Err: err}
		}
	}
	mp := h.mountOf(dir)
	h.removeFrom(mp, pid)
	f, err := os.OpenFile(filepath.Join(dir, "cgroup.procs"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "%d\n", pid)
	f.Close()
	h.writes = append(h.writes, filepath.Base(mp)+":"+strconv.Itoa(pid))
	if h.after != nil {
		h.after(dir, pid)
	}
	return nil
}

func (h *fakeHost) mountOf(dir string) string {
	best := ""
	for _, m := range h.mounts {
		if (dir == m.Mountpoint || strings.HasPrefix(dir, m.Mountpoint+"/")) && len(m.Mountpoint) > len(best) {
			best = m.Mountpoint
		}
	}
	if best == "" {
		h.t.Fatalf("write into %s: not in a fake mount", dir)
	}
	return best
}

// removeFrom deletes pid from every cgroup.procs under mountpoint mp.
func (h *fakeHost) removeFrom(mp string, pid int) {
	filepath.WalkDir(mp, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return err
		}
		if h.mountOf(filepath.Dir(p)) != mp {
			return nil
		}
		pids, _ := readPids(p)
		var keep []string
		for _, x := range pids {
			if x != pid {
				keep = append(keep, strconv.Itoa(x)+"\n")
			}
		}
		return os.WriteFile(p, []byte(strings.Join(keep, "")), 0o644)
	})
}

func (h *fakeHost) migrator(log *zap.Logger) *Migrator {
	return &Migrator{Proc: h.proc, Log: log, Write: h.write, Backoff: time.Nanosecond}
}

func TestMigrate(t *testing.T) {
	type check func(t *testing.T, h *fakeHost, res Result, err error)
	wantNoErr := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	dockerPath := "/docker/" + testID
	tests := []struct {
		name        string
		layout      string
		containerCg string
		wrapperCg   string
		selection   []string
		setup       func(h *fakeHost)
		check       check
	}{
		{
			name: "hybrid all: v1, then name=systemd, then unified; memory unit dir missing", layout: "hybrid",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.process(1001, 1000, "worker")
				h.populate([]int{1000, 1001}, "memory")
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if !reflect.DeepEqual(res.Moved, []int{1000, 1001}) {
					t.Errorf("Moved = %v", res.Moved)
				}
				if len(res.Skipped) != 1 || res.Skipped[0].Hierarchy != "memory" ||
					!strings.Contains(res.Skipped[0].Reason, h.dir("memory", "/system.slice/web.service")) {
					t.Errorf("Skipped = %+v", res.Skipped)
				}
				n := len(res.Hierarchies)
				if n < 3 || res.Hierarchies[n-1] != "unified" || res.Hierarchies[n-2] != "name=systemd" {
					t.Errorf("Hierarchies = %v, want v1..., name=systemd, unified", res.Hierarchies)
				}
				if contains(res.Hierarchies, "misc") || contains(res.Hierarchies, "memory") {
					t.Errorf("Hierarchies = %v: misc (same path) and memory (skipped) must not be written", res.Hierarchies)
				}
				w := h.writes
				if len(w) < 4 || w[len(w)-2] != "unified:1000" || w[len(w)-1] != "unified:1001" || w[len(w)-3] != "systemd:1001" {
					t.Errorf("writes = %v", w)
				}
				for _, name := range []string{"unified", "name=systemd", "pids", "cpu,cpuacct", "cpuset"} {
					if got := h.procs(h.dir(name, dockerPath)); len(got) != 0 {
						t.Errorf("%s: source still holds %v", name, got)
					}
				}
				if got := h.procs(h.dir("unified", "/system.slice/web.service")); !reflect.DeepEqual(got, []int{1000, 1001}) {
					t.Errorf("unified unit cgroup.procs = %v", got)
				}
				if got := h.procs(h.dir("cpu,cpuacct", "/system.slice")); !reflect.DeepEqual(got, []int{1000, 1001}) {
					t.Errorf("cpu unit cgroup.procs = %v", got)
				}
				if got := h.procs(h.dir("memory", dockerPath)); !reflect.DeepEqual(got, []int{1000, 1001}) {
					t.Errorf("memory (skipped) source = %v", got)
				}
			},
		},
		{
			name: "legacy centos7 cpu selection matches cpuacct,cpu", layout: "legacy", selection: []string{"cpu", "name=systemd"},
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.populate([]int{1000})
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if !reflect.DeepEqual(res.Hierarchies, []string{"cpu,cpuacct", "name=systemd"}) {
					t.Errorf("Hierarchies = %v", res.Hierarchies)
				}
				if got := h.procs(h.dir("cpu,cpuacct", "/system.slice")); !reflect.DeepEqual(got, []int{1000}) {
					t.Errorf("cpu dest = %v", got)
				}
			},
		},
		{
			name: "pure v2 systemd driver scope", layout: "unified",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.process(1001, 1000, "x")
				h.populate([]int{1000, 1001})
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if !reflect.DeepEqual(res.Hierarchies, []string{"unified"}) || !reflect.DeepEqual(res.Moved, []int{1000, 1001}) {
					t.Errorf("res = %+v", res)
				}
			},
		},
		{
			name: "nspawn mount root not /", layout: "nspawn",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.populate([]int{1000})
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				want := filepath.Join(h.root, "sys/fs/cgroup/unified/system.slice/web.service")
				if got := h.procs(want); !reflect.DeepEqual(got, []int{1000}) {
					t.Errorf("%s = %v", want, got)
				}
			},
		},
		{
			name: "shared cgroup: only init and descendants move", layout: "unified",
			containerCg: "0::/system.slice/docker.service\n",
			setup: func(h *fakeHost) {
				h.process(1, 0, "systemd")
				h.process(800, 1, "dockerd")
				h.process(900, 1, "containerd-shim")
				h.process(1000, 900, "sh")
				h.process(1001, 1000, "evil) (x y")
				h.process(1002, 1001, "grandchild")
				h.populate([]int{800, 900, 1000, 1001, 1002, 1003})
				// 1003 has no stat: it exited, it is nobody's descendant.
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if !reflect.DeepEqual(res.Moved, []int{1000, 1001, 1002}) {
					t.Errorf("Moved = %v", res.Moved)
				}
				if got := h.procs(h.dir("unified", "/system.slice/docker.service")); !reflect.DeepEqual(got, []int{800, 900, 1003}) {
					t.Errorf("docker.service keeps %v, want dockerd and shim", got)
				}
			},
		},
		{
			name: "container id too short is not trusted", layout: "unified",
			containerCg: "0::/docker/abc\n",
			setup: func(h *fakeHost) {
				h.process(800, 1, "dockerd")
				h.process(1000, 900, "sh")
				h.populate([]int{800, 1000})
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if !reflect.DeepEqual(res.Moved, []int{1000}) {
					t.Errorf("Moved = %v", res.Moved)
				}
			},
		},
		{
			name: "fork during the move is caught in the next round", layout: "unified",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.populate([]int{1000})
				forked := false
				h.after = func(dir string, pid int) {
					if pid == 1000 && !forked {
						forked = true
						h.process(1003, 1000, "child")
						f, _ := os.OpenFile(filepath.Join(h.dir("unified", "/system.slice/docker-"+testID+".scope"), "cgroup.procs"), os.O_WRONLY|os.O_APPEND, 0)
						fmt.Fprintln(f, 1003)
						f.Close()
					}
				}
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if !reflect.DeepEqual(res.Moved, []int{1000, 1003}) {
					t.Errorf("Moved = %v", res.Moved)
				}
			},
		},
		{
			name: "EINVAL retried then success", layout: "unified",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.process(1001, 1000, "new")
				h.populate([]int{1000, 1001})
				h.before = func(dir string, pid int) error {
					if pid == 1001 && h.attempt[pid] <= 2 {
						return syscall.EINVAL
					}
					return nil
				}
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if h.attempt[1001] != 3 || !reflect.DeepEqual(res.Moved, []int{1000, 1001}) {
					t.Errorf("attempts = %d, Moved = %v", h.attempt[1001], res.Moved)
				}
			},
		},
		{
			name: "EINVAL forever is an error naming hierarchy, dir and pid", layout: "unified",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.populate([]int{1000})
				h.before = func(string, int) error { return syscall.EINVAL }
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				if !errors.Is(err, syscall.EINVAL) {
					t.Fatalf("err = %v, want EINVAL", err)
				}
				for _, s := range []string{"hierarchy unified", "pid 1000", h.dir("unified", "/system.slice/web.service")} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("err %q lacks %q", err, s)
					}
				}
				if h.attempt[1000] != 6 {
					t.Errorf("attempts = %d, want 1+5 retries", h.attempt[1000])
				}
			},
		},
		{
			name: "other errno fails at once", layout: "unified",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.populate([]int{1000})
				h.before = func(string, int) error { return syscall.EBUSY }
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				if !errors.Is(err, syscall.EBUSY) || h.attempt[1000] != 1 {
					t.Fatalf("err = %v, attempts %d", err, h.attempt[1000])
				}
			},
		},
		{
			name: "ESRCH ignored", layout: "hybrid",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.process(1001, 1000, "dying")
				h.populate([]int{1000, 1001})
				h.before = func(dir string, pid int) error {
					if pid == 1001 {
						h.removeFrom(h.mountOf(dir), 1001) // it exited
						return syscall.ESRCH
					}
					return nil
				}
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if !reflect.DeepEqual(res.Moved, []int{1000}) {
					t.Errorf("Moved = %v", res.Moved)
				}
			},
		},
		{
			// cgroup v1 accepts a zombie's pid without moving it: the write
			// succeeds and the pid stays listed. It has ended: nothing to
			// move, no error (seen on a container forking `sleep` in a loop).
			name: "zombie accepted but not moved (v1)", layout: "hybrid",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.file("1001/stat", "1001 (sleep) Z 1000 1000 1000 0 -1 4194560 1 0 0 0\n")
				h.populate([]int{1000, 1001})
				h.after = func(dir string, pid int) {
					if pid == 1001 { // stays where it was
						h.setProcs(h.dir("devices", "/docker/"+testID), 1001)
					}
				}
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if slices.Contains(res.Moved, 1001) {
					t.Errorf("Moved = %v: a zombie was counted as moved", res.Moved)
				}
			},
		},
		{
			// The container's init exited during the move and is not reaped
			// yet: it stays listed in cgroup.procs and every write fails
			// with ESRCH. That is an exit, not a failure to move.
			name: "zombie stays listed: not waited for", layout: "unified",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.populate([]int{1000})
				h.before = func(string, int) error { return syscall.ESRCH }
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if len(res.Moved) != 0 {
					t.Errorf("Moved = %v, want nothing", res.Moved)
				}
				if h.attempt[1000] != 1 {
					t.Errorf("attempts = %d, want 1 (a gone process is not retried)", h.attempt[1000])
				}
			},
		},
		{
			// The container's init is running its exit: the kernel skips
			// it, silently, when it is written to cgroup.procs. That is an
			// exit, not a failure to move.
			name: "exiting init (PF_EXITING) is not moved: ended", layout: "unified",
			setup: func(h *fakeHost) {
				h.file("1000/stat", "1000 (true) R 900 1000 1000 0 -1 4194564 1 0 0 0 0 0 0 0 20 0 1 0\n")
				h.populate([]int{1000})
				h.after = func(dir string, pid int) { // not moved
					h.removeFrom(h.mountOf(dir), pid)
					h.setProcs(h.dir("unified", "/system.slice/docker-"+testID+".scope"), pid)
				}
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				if !errors.Is(err, ErrGone) {
					t.Fatalf("err = %v, want ErrGone", err)
				}
				if h.attempt[1000] > 1 {
					t.Errorf("attempts = %d: an exiting process is not retried", h.attempt[1000])
				}
			},
		},
		{
			// A multi-threaded process whose leader exits alone lives on.
			name: "exiting leader of a threaded process is moved", layout: "unified",
			setup: func(h *fakeHost) {
				h.file("1000/stat", "1000 (app) S 900 1000 1000 0 -1 4194564 1 0 0 0 0 0 0 0 20 0 7 0\n")
				h.populate([]int{1000})
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if !slices.Contains(res.Moved, 1000) {
					t.Errorf("Moved = %v, want 1000", res.Moved)
				}
			},
		},
		{
			// systemd removed the emptied docker scope before we looked
			// (its zombie's /proc/<pid>/cgroup then says "(deleted)").
			name: "source cgroup gone, init a zombie: ended", layout: "unified",
			setup: func(h *fakeHost) {
				h.file("1000/stat", "1000 (true) Z 900 1000 1000 0 -1 4194564 1 0 0 0\n")
				h.populate([]int{1000})
				os.Remove(filepath.Join(h.dir("unified", "/system.slice/docker-"+testID+".scope"), "cgroup.procs"))
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				if !errors.Is(err, ErrGone) || !strings.Contains(err.Error(), "1000") {
					t.Fatalf("err = %v, want ErrGone naming pid 1000", err)
				}
			},
		},
		{
			name: "source cgroup gone, init running: an error", layout: "unified",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.populate([]int{1000})
				os.Remove(filepath.Join(h.dir("unified", "/system.slice/docker-"+testID+".scope"), "cgroup.procs"))
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				if err == nil || errors.Is(err, ErrGone) || !strings.Contains(err.Error(), "listing container processes") {
					t.Fatalf("err = %v, want a listing error", err)
				}
			},
		},
		{
			name: "process that never leaves fails after MaxRounds", layout: "unified",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.populate([]int{1000})
				h.after = func(dir string, pid int) { // put it back
					h.removeFrom(h.mountOf(dir), pid)
					h.setProcs(h.dir("unified", "/system.slice/docker-"+testID+".scope"), pid)
				}
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				if err == nil || !strings.Contains(err.Error(), "hierarchy unified") || !strings.Contains(err.Error(), "10 rounds") {
					t.Fatalf("err = %v", err)
				}
				if h.attempt[1000] != 10 {
					t.Errorf("attempts = %d", h.attempt[1000])
				}
			},
		},
		{
			name: "same path is a no-op", layout: "unified",
			containerCg: "0::/system.slice/web.service\n",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.populate([]int{1000})
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if len(h.writes) != 0 || len(res.Moved) != 0 || len(res.Hierarchies) != 0 || len(res.Skipped) != 0 {
					t.Errorf("writes %v, res %+v", h.writes, res)
				}
			},
		},
		{
			name: "source cgroup removed after the first round", layout: "unified",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.populate([]int{1000})
				h.after = func(string, int) {
					os.RemoveAll(h.dir("unified", "/system.slice/docker-"+testID+".scope"))
				}
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
			},
		},
		{
			name: "source cgroup missing", layout: "unified",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.setProcs(h.dir("unified", "/system.slice/web.service"))
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				if err == nil || !strings.Contains(err.Error(), "docker-"+testID) {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			name: "bad selection", layout: "hybrid", selection: []string{"cpux"},
			setup: func(h *fakeHost) { h.populate([]int{1000}) },
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				var se *SelectionError
				if !errors.As(err, &se) || se.Entry != "cpux" {
					t.Fatalf("err = %v", err)
				}
			},
		},
		{
			name: "hierarchy not mounted is skipped", layout: "unified",
			containerCg: "0::/system.slice/docker-" + testID + ".scope\n5:cpu:/docker\n",
			wrapperCg:   "0::/system.slice/web.service\n5:cpu:/\n",
			setup: func(h *fakeHost) {
				h.process(1000, 900, "sh")
				h.setProcs(h.dir("unified", "/system.slice/web.service"))
				h.setProcs(h.dir("unified", "/system.slice/docker-"+testID+".scope"), 1000)
			},
			check: func(t *testing.T, h *fakeHost, res Result, err error) {
				wantNoErr(t, err)
				if len(res.Skipped) != 1 || res.Skipped[0].Hierarchy != "cpu" || !reflect.DeepEqual(res.Hierarchies, []string{"unified"}) {
					t.Errorf("res = %+v", res)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHost(t, tt.layout, tt.containerCg, tt.wrapperCg)
			tt.setup(h)
			res, err := h.migrator(nil).Migrate(context.Background(), Target{Pid: 1000, ContainerID: testID, Selection: tt.selection})
			tt.check(t, h, res, err)
		})
	}
}

func TestMigrateWarnsWithoutTrackingHierarchy(t *testing.T) {
	for _, tt := range []struct {
		layout string
		sel    []string
		warn   bool
	}{
		{"legacy", []string{"memory"}, true},
		{"legacy", []string{"memory", "name=systemd"}, false},
		{"hybrid", []string{"pids"}, true},
		{"hybrid", []string{"name=systemd"}, false},
		{"hybrid", nil, false},
	} {
		t.Run(tt.layout+strings.Join(tt.sel, "+"), func(t *testing.T) {
			h := newFakeHost(t, tt.layout, "", "")
			h.process(1000, 900, "sh")
			h.populate([]int{1000})
			core, logs := observer.New(zapcore.WarnLevel)
			_, err := h.migrator(zap.New(core)).Migrate(context.Background(), Target{Pid: 1000, ContainerID: testID, Into: 0, Selection: tt.sel})
			if err != nil {
				t.Fatal(err)
			}
			got := logs.FilterMessageSnippet("lose track").Len() > 0
			if got != tt.warn {
				t.Errorf("warned = %v, want %v (logs %v)", got, tt.warn, logs.All())
			}
		})
	}
}

func TestMigrateContextCanceledDuringRetry(t *testing.T) {
	h := newFakeHost(t, "unified", "", "")
	h.process(1000, 900, "sh")
	h.populate([]int{1000})
	ctx, cancel := context.WithCancel(context.Background())
	h.before = func(string, int) error { cancel(); return syscall.EINVAL }
	m := h.migrator(nil)
	m.Backoff = time.Hour
	_, err := m.Migrate(ctx, Target{Pid: 1000, ContainerID: testID})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestMigrateBadTarget(t *testing.T) {
	h := newFakeHost(t, "unified", "", "")
	m := h.migrator(nil)
	if _, err := m.Migrate(context.Background(), Target{Pid: 0}); err == nil {
		t.Error("pid 0: want error")
	}
	if _, err := m.Migrate(context.Background(), Target{Pid: 4242}); !errors.Is(err, ErrGone) || !strings.Contains(err.Error(), "4242") {
		t.Errorf("missing pid (ended and reaped): err = %v, want ErrGone naming the pid", err)
	}
	if _, err := m.Migrate(context.Background(), Target{Pid: 1000, Into: 4243}); err == nil || !strings.Contains(err.Error(), "4243") {
		t.Errorf("missing into: err = %v", err)
	}
}

func TestDefaultWrite(t *testing.T) {
	dir := t.TempDir()
	if err := writeProcs(dir, 42); err == nil {
		t.Error("missing cgroup.procs: want error")
	}
	os.WriteFile(filepath.Join(dir, "cgroup.procs"), nil, 0o644)
	if err := writeProcs(dir, 42); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs")); string(b) != "42\n" {
		t.Errorf("cgroup.procs = %q", b)
	}
}

// TestMigrateDestinationOutsideNamespace: a wrapper entered into the box
// with nsenter keeps a cgroup outside the box's cgroup namespace, and its
// /proc/self/cgroup reads "0::/../.." (pure v2) or "/.." per hierarchy: it is
// in no unit, so nothing moves, and each such hierarchy is skipped, marked
// Outside, never an error.
func TestMigrateDestinationOutsideNamespace(t *testing.T) {
	for _, tt := range []struct {
		name, layout, wrapperCg string
		outside                 []string // skipped as outside
	}{
		{"pure v2, two levels up", "unified", "0::/../..\n", []string{"unified"}},
		{"pure v2, one level up", "unified", "0::/..\n", []string{"unified"}},
		{"pure v2, a sibling's subtree", "unified", "0::/../user.slice/x.scope\n", []string{"unified"}},
		{"hybrid, tracking hierarchies outside", "hybrid",
			strings.Replace(strings.Replace(fixture(t, "hybrid/cgroup-wrapper"),
				"1:name=systemd:/system.slice/web.service", "1:name=systemd:/../..", 1),
				"0::/system.slice/web.service", "0::/..", 1),
			[]string{"name=systemd", "unified"}},
		// Without a cgroup namespace (hybrid nspawn box) the path is the
		// host's, outside the subtree the box mounts.
		{"nspawn, host cgroup outside the box's mounts", "nspawn",
			"10:memory:/user.slice\n1:name=systemd:/user.slice/session-1.scope\n0::/user.slice/session-1.scope\n",
			[]string{"memory", "name=systemd", "unified"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newFakeHost(t, tt.layout, "", tt.wrapperCg)
			h.process(1000, 900, "sh")
			for _, s := range h.src {
				h.setProcs(h.dir(s.Name(), s.Path), 1000)
			}
			for _, d := range h.dst {
				if m, err := findMount(h.mounts, d, d.Path); err == nil {
					dir, _ := m.Dir(d.Path)
					h.setProcs(dir)
				}
			}

			res, err := h.migrator(nil).Migrate(context.Background(), Target{Pid: 1000, ContainerID: testID})
			if err != nil {
				t.Fatalf("Migrate: %v, want no error", err)
			}
			var outside []string
			for _, s := range res.Skipped {
				if s.Outside {
					outside = append(outside, s.Hierarchy)
					if !strings.Contains(s.Reason, "outside") {
						t.Errorf("reason %q does not say why", s.Reason)
					}
				}
			}
			if !slices.Equal(outside, tt.outside) {
				t.Errorf("skipped as outside: %v, want %v (result %+v)", outside, tt.outside, res)
			}
			for _, name := range tt.outside {
				if contains(res.Hierarchies, name) {
					t.Errorf("%s was written: %v", name, h.writes)
				}
			}
		})
	}
}
