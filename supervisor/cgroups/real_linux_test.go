package cgroups

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMigrateReal moves a real child process out of a scratch v2 cgroup back
// into ours. Root only, opt-in: CGROUPS_REAL_TEST=1.
func TestMigrateReal(t *testing.T) {
	if os.Getuid() != 0 || os.Getenv("CGROUPS_REAL_TEST") == "" {
		t.Skip("needs root and CGROUPS_REAL_TEST=1")
	}
	self, err := readProcCgroup("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	mounts, err := readMountinfo("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	v2, ok := trackingHierarchy(self)
	if !ok || !v2.V2() {
		t.Skip("no cgroup v2 hierarchy")
	}
	m, err := findMount(mounts, v2, "/")
	if err != nil {
		t.Skipf("v2 root not mounted: %v", err)
	}
	id := fmt.Sprintf("cgroups-real-test-%d-0123456789ab", os.Getpid())
	scratch := filepath.Join(m.Mountpoint, id)
	if err := os.Mkdir(scratch, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(scratch)

	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	if err := writeProcs(scratch, pid); err != nil {
		t.Fatal(err)
	}
	res, err := (&Migrator{}).Migrate(context.Background(), Target{Pid: pid, ContainerID: id, Selection: []string{"unified"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("result: %+v", res)
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if !strings.Contains(string(b), "0::"+v2.Path+"\n") {
		t.Errorf("child cgroup = %q, want %q", b, v2.Path)
	}
}
