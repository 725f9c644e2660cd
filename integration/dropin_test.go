//go:build integration

package integration

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// TestDropInInteractiveUnit: a unit file written for the original
// systemd-docker with `-it` and systemd's default StandardInput=null runs,
// as it did there: the container is created with -i and -t, nothing is
// attached to its standard input (so a shell waits on it), and the journal
// says so once.
func TestDropInInteractiveUnit(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{docker: "--rm -it", cmd: "sh"})
		startUnit(t, b, unit)
		if st := b.Show(unit, "ActiveState"); st != "active" {
			t.Fatalf("ActiveState = %s, want active", st)
		}
		pid, err := b.ContainerPid(unit)
		if err != nil {
			t.Fatal(err)
		}
		if mp := b.Show(unit, "MainPID"); mp != strconv.Itoa(pid) {
			t.Errorf("MainPID = %s, want the container's %d", mp, pid)
		}
		for _, field := range []string{"{{.Config.OpenStdin}}", "{{.Config.Tty}}"} {
			out, _, err := b.Docker("inspect", "--format", field, unit)
			if err != nil || strings.TrimSpace(out) != "true" {
				t.Errorf("docker inspect %s = %q (%v), want true", field, out, err)
			}
		}
		const note = "docker run -i: the container is created with an open standard input, and none is attached"
		waitFor(t, shortWait, "the -i note in the journal", func() bool { return strings.Contains(b.Journal(unit), note) })
		if n := strings.Count(b.Journal(unit), note); n != 1 {
			t.Errorf("the -i note is in the journal %d times, want once", n)
		}
		if _, err := b.Systemctl("stop", unit); err != nil {
			t.Fatalf("systemctl stop: %v", err)
		}
		if st := b.Show(unit, "ActiveState"); st != "inactive" {
			t.Errorf("ActiveState after stop = %s, want inactive", st)
		}
		waitFor(t, shortWait, "the --rm container to be removed", func() bool { return containerID(t, b, unit) == "" })
	})
}

// TestDropInRunOnlyFlags: docker run flags that steer an attached client
// (--sig-proxy, --detach-keys), which `docker create` refuses, are left out
// with a note; --help=false is no request for help; -i without a standard
// input is accepted. The container's own code is ours.
func TestDropInRunOnlyFlags(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		name := uniqueName(t)
		// hfRunInBox's standard input is /dev/null, as under StandardInput=null.
		stdout, stderr, code, _ := hfRunInBox(t, b, 60*time.Second, nil,
			"run", "--rm", "--name", name, "--network", "none", "-i", "--sig-proxy=false",
			"--detach-keys", "ctrl-x,x", "--help=false", image, "sh", "-c", "echo ran-it; exit 4")
		if code != 4 {
			t.Errorf("exit %d, want the container's 4\nstderr:\n%s", code, stderr)
		}
		if !hasLine(stdout, "ran-it") {
			t.Errorf("stdout = %q, want the container's line", stdout)
		}
		for _, want := range []string{"--sig-proxy=false", "--detach-keys ctrl-x,x", "are left out",
			"docker run -i: the container is created with an open standard input"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, stderr)
			}
		}
		if id := containerID(t, b, name); id != "" {
			_, _, _ = b.Docker("rm", "-f", name)
			t.Errorf("container %s left behind: %s", name, id)
		}
	})
}
