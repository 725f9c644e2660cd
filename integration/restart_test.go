//go:build integration

package integration

import (
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// An operator's `docker restart` is followed: the new process is migrated
// and announced again, its output keeps flowing (no line lost or
// repeated), and the supervisor keeps running.
func TestDockerRestartFollowed(t *testing.T) {
	name := hostTest(t)
	script := `echo "run $(cat /proc/self/stat | cut -d' ' -f22)"; trap 'echo term; exit 0' TERM; while true; do sleep 0.1; done`
	w := startWrapper(t, runArgs(nil, name, nil, "sh", "-c", script), withNotify())
	ready := w.waitReady(longWait)
	firstPid := ready["MAINPID"]
	mustHostDocker(t, "restart", "-t", "5", name)
	waitFor(t, longWait, "a second run's first line", func() bool {
		return strings.Count(w.stdout.String(), "run ") == 2
	})
	if w.exited() {
		t.Fatalf("the supervisor exited after docker restart\nstderr:\n%s", w.stderr.String())
	}
	waitFor(t, shortWait, "MAINPID of the new process", func() bool {
		return w.notify.vars()["MAINPID"] != firstPid && w.notify.vars()["MAINPID"] == strconv.Itoa(hostContainerPid(t, name))
	})
	w.signal(syscall.SIGTERM)
	if code := w.wait(longWait); code != 0 {
		t.Errorf("exit code %d after stop, want 0\nstderr:\n%s", code, w.stderr.String())
	}
	out := w.stdout.String()
	// Each run's lines once: the second run's output is followed from
	// Docker's log since the first run ended, where a last line of the
	// first run (read by Docker's log copier after that moment) is lined up
	// with the first run's stream and not written again.
	if n := strings.Count(out, "term"); n != 2 {
		t.Errorf("stdout has %d \"term\" lines, want 2 (one per run): %q", n, out)
	}
	if n := strings.Count(out, "run "); n != 2 {
		t.Errorf("stdout has %d \"run\" lines, want 2: %q", n, out)
	}
	if !strings.Contains(w.stderr.String(), "docker restarted the container") {
		t.Errorf("stderr does not say the container was restarted:\n%s", w.stderr.String())
	}
}

// Under systemd: after `docker restart`, MainPID follows the new process
// and the unit stays active.
func TestUnitFollowsDockerRestart(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{script: unitIdleScript})
		startUnit(t, b, unit)
		first := b.Show(unit, "MainPID")
		if _, stderr, err := b.Docker("restart", "-t", "5", unit); err != nil {
			t.Fatalf("docker restart: %v %s", err, stderr)
		}
		ok := b.WaitFor(func() bool {
			pid, err := b.ContainerPid(unit)
			return err == nil && b.Show(unit, "MainPID") == strconv.Itoa(pid) && strconv.Itoa(pid) != first
		}, 20*time.Second)
		if !ok {
			t.Fatalf("MainPID %s did not follow the restarted container\n%s", b.Show(unit, "MainPID"), b.Journal(unit))
		}
		if st := b.Show(unit, "ActiveState"); st != "active" {
			t.Errorf("ActiveState = %s, want active", st)
		}
	})
}
