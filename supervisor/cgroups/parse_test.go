package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const testID = "3f5c1b0e9a7d4c2e8b6f1a0d9c8e7b6a5f4e3d2c1b0a99887766554433221100"

func fixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustHierarchies(t testing.TB, name string) []Hierarchy {
	t.Helper()
	hs, err := ParseProcCgroup(strings.NewReader(fixture(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

func TestParseProcCgroup(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		n      int
		checks map[int]Hierarchy // index -> expected
	}{
		{"legacy centos7", fixture(t, "legacy/cgroup-container"), 11, map[int]Hierarchy{
			8:  {ID: 3, Controllers: []string{"cpu", "cpuacct"}, Path: "/docker/" + testID},
			6:  {ID: 5, Controllers: []string{"net_cls", "net_prio"}, Path: "/docker/" + testID},
			10: {ID: 1, Controllers: []string{"name=systemd"}, Path: "/docker/" + testID},
		}},
		{"hybrid debian12", fixture(t, "hybrid/cgroup-container"), 14, map[int]Hierarchy{
			0:  {ID: 13, Controllers: []string{"misc"}, Path: "/"},
			13: {ID: 0, Path: "/docker/" + testID},
		}},
		{"unified", fixture(t, "unified/cgroup-container"), 1, map[int]Hierarchy{
			0: {ID: 0, Path: "/system.slice/docker-" + testID + ".scope"},
		}},
		{"colon in path, blank lines", "\n1:name=systemd:/a:b\n\n0::/\n", 2, map[int]Hierarchy{
			0: {ID: 1, Controllers: []string{"name=systemd"}, Path: "/a:b"},
			1: {ID: 0, Path: "/"},
		}},
		{"empty", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs, err := ParseProcCgroup(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(hs) != tt.n {
				t.Fatalf("got %d hierarchies, want %d: %+v", len(hs), tt.n, hs)
			}
			for i, want := range tt.checks {
				if !reflect.DeepEqual(hs[i], want) {
					t.Errorf("hs[%d] = %+v, want %+v", i, hs[i], want)
				}
			}
		})
	}
}

func TestParseProcCgroupErrors(t *testing.T) {
	for _, in := range []string{"x:cpu:/", "1:cpu", "1:cpu:relative", "-1:cpu:/", "1:,:/", "0::", "garbage"} {
		if hs, err := ParseProcCgroup(strings.NewReader(in)); err == nil {
			t.Errorf("ParseProcCgroup(%q) = %+v, want error", in, hs)
		}
	}
}

func TestHierarchyName(t *testing.T) {
	for _, tt := range []struct {
		h    Hierarchy
		want string
	}{
		{Hierarchy{ID: 0}, "unified"},
		{Hierarchy{ID: 3, Controllers: []string{"cpu", "cpuacct"}}, "cpu,cpuacct"},
		{Hierarchy{ID: 1, Controllers: []string{"name=systemd"}}, "name=systemd"},
		{Hierarchy{ID: 4}, "hierarchy 4"},
	} {
		if got := tt.h.Name(); got != tt.want {
			t.Errorf("%+v.Name() = %q, want %q", tt.h, got, tt.want)
		}
	}
}

func TestParseMountinfo(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		n     int
		check map[int]Mount
	}{
		{"legacy", fixture(t, "legacy/mountinfo"), 11, map[int]Mount{
			0: {Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", Controllers: []string{"name=systemd"}},
			2: {Mountpoint: "/sys/fs/cgroup/cpu,cpuacct", Root: "/", Controllers: []string{"cpu", "cpuacct"}},
		}},
		{"hybrid", fixture(t, "hybrid/mountinfo"), 14, map[int]Mount{
			0: {Mountpoint: "/sys/fs/cgroup/unified", Root: "/", V2: true},
			1: {Mountpoint: "/sys/fs/cgroup/systemd", Root: "/", Controllers: []string{"name=systemd"}},
		}},
		{"unified", fixture(t, "unified/mountinfo"), 1, map[int]Mount{
			0: {Mountpoint: "/sys/fs/cgroup", Root: "/", V2: true},
		}},
		{"nspawn", fixture(t, "nspawn/mountinfo"), 3, map[int]Mount{
			0: {Mountpoint: "/sys/fs/cgroup/unified", Root: "/machine.slice/machine-test.scope", V2: true},
			2: {Mountpoint: "/sys/fs/cgroup/memory", Root: "/machine.slice/machine-test.scope", Controllers: []string{"memory"}},
		}},
		{"escapes and optional fields", "40 1 0:5 /a\\040b /mnt/c\\134g rw shared:1 master:2 - cgroup none rw,nosuid,cpuset,clone_children\n", 1, map[int]Mount{
			0: {Mountpoint: `/mnt/c\g`, Root: "/a b", Controllers: []string{"cpuset"}},
		}},
		{"no super options", "40 1 0:5 / /x rw - cgroup2 none\n", 1, map[int]Mount{
			0: {Mountpoint: "/x", Root: "/", V2: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := ParseMountinfo(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != tt.n {
				t.Fatalf("got %d mounts, want %d: %+v", len(ms), tt.n, ms)
			}
			for i, want := range tt.check {
				if !reflect.DeepEqual(ms[i], want) {
					t.Errorf("ms[%d] = %+v, want %+v", i, ms[i], want)
				}
			}
		})
	}
	for _, bad := range []string{"1 2 3 4 5 6 7 8 9", "40 1 0:5 / /x rw - cgroup"} {
		if _, err := ParseMountinfo(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseMountinfo(%q): want error", bad)
		}
	}
}

func TestMountDir(t *testing.T) {
	root := Mount{Mountpoint: "/sys/fs/cgroup/memory", Root: "/"}
	sub := Mount{Mountpoint: "/sys/fs/cgroup/memory", Root: "/machine.slice/m.scope"}
	tests := []struct {
		m       Mount
		path    string
		want    string
		wantErr bool
	}{
		{root, "/", "/sys/fs/cgroup/memory", false},
		{root, "/docker/" + testID, "/sys/fs/cgroup/memory/docker/" + testID, false},
		{sub, "/machine.slice/m.scope", "/sys/fs/cgroup/memory", false},
		{sub, "/machine.slice/m.scope/system.slice/x.service", "/sys/fs/cgroup/memory/system.slice/x.service", false},
		{sub, "/machine.slice/m.scopeX/y", "", true},
		{sub, "/docker/x", "", true},
		{root, "/../../x", "", true},
		{root, "relative", "", true},
	}
	for _, tt := range tests {
		got, err := tt.m.Dir(tt.path)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("%+v.Dir(%q) = %q, %v; want %q, err=%v", tt.m, tt.path, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFindMount(t *testing.T) {
	ms, err := ParseMountinfo(strings.NewReader(fixture(t, "legacy/mountinfo")))
	if err != nil {
		t.Fatal(err)
	}
	hs := mustHierarchies(t, "legacy/cgroup-container")
	for _, h := range hs {
		m, err := findMount(ms, h, h.Path)
		if err != nil {
			t.Errorf("%s: %v", h.Name(), err)
			continue
		}
		if !sameSet(m.Controllers, h.Controllers) {
			t.Errorf("%s: found mount %+v", h.Name(), m)
		}
	}
	if _, err := findMount(ms, Hierarchy{ID: 0, Path: "/"}, "/"); !errors.Is(err, errNotMounted) {
		t.Errorf("v2 on legacy: err = %v, want errNotMounted", err)
	}
	nms, _ := ParseMountinfo(strings.NewReader(fixture(t, "nspawn/mountinfo")))
	if _, err := findMount(nms, Hierarchy{ID: 10, Controllers: []string{"memory"}}, "/other"); err == nil || errors.Is(err, errNotMounted) {
		t.Errorf("path outside mount root: err = %v, want outside error", err)
	}
}

func names(hs []Hierarchy) []string {
	out := []string{}
	for _, h := range hs {
		out = append(out, h.Name())
	}
	return out
}

func TestSelect(t *testing.T) {
	legacy := mustHierarchies(t, "legacy/cgroup-container")
	hybrid := mustHierarchies(t, "hybrid/cgroup-container")
	unified := mustHierarchies(t, "unified/cgroup-container")
	small := []Hierarchy{
		{ID: 3, Controllers: []string{"cpu", "cpuacct"}, Path: "/"},
		{ID: 2, Controllers: []string{"memory"}, Path: "/"},
		{ID: 1, Controllers: []string{"name=systemd"}, Path: "/"},
		{ID: 0, Path: "/"},
	}
	tests := []struct {
		name    string
		hs      []Hierarchy
		sel     []string
		want    []string
		wantErr string
	}{
		{"nil is all", legacy, nil, names(legacy), ""},
		{"blank entries are all", legacy, []string{"", " "}, names(legacy), ""},
		{"all", hybrid, []string{"memory", "all"}, names(hybrid), ""},
		{"cpu matches cpu,cpuacct", legacy, []string{"cpu"}, []string{"cpu,cpuacct"}, ""},
		{"reversed set", legacy, []string{"cpuacct,cpu"}, []string{"cpu,cpuacct"}, ""},
		{"exact set", hybrid, []string{"cpu,cpuacct"}, []string{"cpu,cpuacct"}, ""},
		{"net_cls", legacy, []string{"net_cls"}, []string{"net_cls,net_prio"}, ""},
		{"trim and dedupe", legacy, []string{" memory ", "memory"}, []string{"memory"}, ""},
		{"hs order kept", hybrid, []string{"unified", "memory", "pids"}, []string{"memory", "pids", "unified"}, ""},
		{"name=systemd legacy", legacy, []string{"name=systemd"}, []string{"name=systemd"}, ""},
		{"name=systemd hybrid adds v2", hybrid, []string{"name=systemd"}, []string{"name=systemd", "unified"}, ""},
		{"name=systemd pure v2", unified, []string{"name=systemd"}, []string{"unified"}, ""},
		{"unified hybrid", hybrid, []string{"unified"}, []string{"unified"}, ""},
		{"unified pure v2", unified, []string{"unified"}, []string{"unified"}, ""},
		{"unknown", small, []string{"cpux"}, nil,
			`--cgroups "cpux" names no cgroup hierarchy on this host; available: cpu,cpuacct, memory, name=systemd, unified (v2); use one of them or "all"`},
		{"unified on legacy", legacy, []string{"unified"}, nil, `--cgroups "unified" names no`},
		{"cpu on pure v2", unified, []string{"cpu"}, nil, `available: unified (v2);`},
		{"set across hierarchies", legacy, []string{"cpu,memory"}, nil, `"cpu,memory"`},
		{"only commas", legacy, []string{","}, nil, `","`},
		{"one bad entry fails all", hybrid, []string{"memory", "bogus"}, nil, `"bogus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(tt.sel, tt.hs)
			if tt.wantErr != "" {
				var se *SelectionError
				if !errors.As(err, &se) {
					t.Fatalf("err = %v, want *SelectionError", err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %q, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := names(got); !reflect.DeepEqual(g, tt.want) {
				t.Errorf("Select(%q) = %v, want %v", tt.sel, g, tt.want)
			}
		})
	}
}

func TestParseStatPpid(t *testing.T) {
	tests := []struct {
		in   string
		want int
		err  bool
	}{
		{"1000 (sh) S 900 1000 1000 0 -1", 900, false},
		{"1001 (evil) (x y) R 1000 1 2", 1000, false},
		{"1002 (a)b) S 7 1", 7, false},
		{"1003 (sh S 900", 0, true},
		{"1004 (sh) S", 0, true},
		{"1005 (sh) S x", 0, true},
	}
	for _, tt := range tests {
		got, err := parseStatPpid(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseStatPpid(%q) = %d, %v; want %d, err=%v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzParseProcCgroup(f *testing.F) {
	for _, l := range []string{"legacy", "hybrid", "unified", "nspawn"} {
		f.Add(fixture(f, l+"/cgroup-container"))
		f.Add(fixture(f, l+"/cgroup-wrapper"))
	}
	f.Fuzz(func(t *testing.T, in string) {
		hs, err := ParseProcCgroup(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, h := range hs {
			if !strings.HasPrefix(h.Path, "/") || h.ID < 0 {
				t.Fatalf("bad hierarchy %+v", h)
			}
			for i := 1; i < len(h.Controllers); i++ {
				if h.Controllers[i-1] >= h.Controllers[i] {
					t.Fatalf("controllers not a sorted set: %q", h.Controllers)
				}
			}
			_ = h.Name()
		}
		_, _ = Select([]string{in}, hs)
		_, _ = Select(strings.Split(in, "\n"), hs)
	})
}

func FuzzParseMountinfo(f *testing.F) {
	for _, l := range []string{"legacy", "hybrid", "unified", "nspawn"} {
		f.Add(fixture(f, l+"/mountinfo"), "/docker/"+testID)
	}
	f.Fuzz(func(t *testing.T, in, cgPath string) {
		ms, err := ParseMountinfo(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.V2 && m.Controllers != nil {
				t.Fatalf("v2 mount with controllers: %+v", m)
			}
			if d, err := m.Dir(cgPath); err == nil && filepath.IsAbs(m.Mountpoint) && !strings.HasPrefix(d, filepath.Clean(m.Mountpoint)) {
				t.Fatalf("Dir(%q) = %q escapes mount %+v", cgPath, d, m)
			}
		}
	})
}
