//go:build integration

package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// hostCgroup2Root is where the host mounts its cgroup2 hierarchy: /sys/fs/cgroup
// on a pure v2 host, /sys/fs/cgroup/unified on a hybrid one.
func hostCgroup2Root(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		if _, err := os.Stat(filepath.Join(p, "cgroup.procs")); err == nil {
			if _, err := os.Stat(filepath.Join(p, "cgroup.controllers")); err == nil || p != "/sys/fs/cgroup" {
				return p
			}
		}
	}
	t.Fatal("the host has no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified")
	return ""
}

// runFromHostCgroup runs args inside the box with nsenter from a process that
// first moved itself into the host cgroup2 directory dir: the way a shell on
// the host enters the box, keeping its own (host) cgroup. Returns stdout,
// stderr and the exit code.
func runFromHostCgroup(t *testing.T, b *box.Box, dir string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	script := `echo $$ > "$1/cgroup.procs" && shift && exec nsenter -t "$@"`
	full := append([]string{"-c", script, "sh", dir, strconv.Itoa(b.Leader), "-a", "--",
		"env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DOCKER_HOST=" + box.DockerHost}, args...)
	cmd := exec.CommandContext(ctx, "sh", full...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	if err != nil {
		code = box.ExitCode(err)
	}
	return o.String(), e.String(), code
}

// TestOutsideCgroupNamespace: systemd-docker started in the box from a host
// cgroup that lies outside the box's cgroup namespace (its /proc/self/cgroup
// reads "0::/../…" on pure v2) is in no unit: it says so in one warning,
// leaves the container where docker put it, and ends with the container's
// code, never 125. The result must not depend on where the caller sits.
func TestOutsideCgroupNamespace(t *testing.T) {
	needBinary(t)
	root := hostCgroup2Root(t)
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		dir := filepath.Join(root, "sdtest-outside-"+randHex(6))
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Remove(dir) })

		cg, _, _ := runFromHostCgroup(t, b, dir, "cat", "/proc/self/cgroup")
		outside := strings.Contains(cg, "::/..")
		if b.Flavour.PureV2() && !outside {
			t.Fatalf("premise: on pure v2 a process from host cgroup %s is outside the box's cgroup namespace, but it reads:\n%s", dir, cg)
		}
		name := uniqueName(t)
		stdout, stderr, code := runFromHostCgroup(t, b, dir, box.ShareMount+"/systemd-docker",
			"run", "--rm", "--name", name, "--network", "none", image, "sh", "-c", "sleep 1; echo from-outside; exit 3")
		t.Logf("/proc/self/cgroup from there:\n%sstderr:\n%s", cg, stderr)
		if code != 3 {
			t.Errorf("exit %d, want the container's 3", code)
		}
		if !hasLine(stdout, "from-outside") {
			t.Errorf("stdout = %q, want the container's line", stdout)
		}
		const warning = "own cgroup lies outside its cgroup namespace"
		if n := strings.Count(stderr, warning); outside && n != 1 {
			t.Errorf("the warning %q is there %d times, want once", warning, n)
		}
		if strings.Contains(stderr, "ERROR") {
			t.Errorf("an error was logged:\n%s", stderr)
		}
		if id := containerID(t, b, name); id != "" {
			_, _, _ = b.Docker("rm", "-f", name)
			t.Errorf("container %s left behind: %s", name, id)
		}
	})
}
