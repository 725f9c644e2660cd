//go:build integration

// Tests of systemd-docker from real unit files (Type=notify) under a real
// systemd PID 1, in both cgroup layouts (one box per flavour).
package integration

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// Container scripts for unit files: no '$' or '%' (systemd would expand them).
const (
	unitTermScript = `trap 'echo unit-got-term; exit 0' TERM; echo hello-from-unit; while :; do sleep 0.2; done`
	unitIdleScript = `trap 'exit 0' TERM; while :; do sleep 0.2; done`
	unitExit7      = `echo exiting-with-7; sleep 1; exit 7`
)

// startUnit runs `systemctl start` (which returns once READY=1 arrived) and
// fails the test when it fails.
func startUnit(t *testing.T, b *box.Box, unit string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, stderr, err := b.ExecContext(ctx, "systemctl", "start", unit); err != nil {
		t.Fatalf("systemctl start %s: %v: %s", unit, err, stderr)
	}
}

func boxContainerExists(t *testing.T, b *box.Box, name string) bool {
	t.Helper()
	ok, err := b.ContainerExists(name)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// checkMainPID waits for MainPID to be the container's pid and returns it.
func checkMainPID(t *testing.T, b *box.Box, unit string) int {
	t.Helper()
	pid, err := b.ContainerPid(unit)
	if err != nil {
		t.Fatalf("container of %s: %v", unit, err)
	}
	var mainPID string
	if !waitForBool(shortWait, func() bool {
		mainPID = b.Show(unit, "MainPID")
		return mainPID == strconv.Itoa(pid)
	}) {
		t.Fatalf("MainPID = %s, want the container's pid %d", mainPID, pid)
	}
	return pid
}

func TestUnitStart(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{docker: "--rm", script: unitTermScript})
		startUnit(t, b, unit)
		if st := b.Show(unit, "ActiveState"); st != "active" {
			t.Fatalf("ActiveState = %q after start, want active", st)
		}
		pid := checkMainPID(t, b, unit)

		checkInUnitCgroup(t, b, unit, pid)
		status, _ := b.Systemctl("status", "-l", unit) // exit status 0 only when active; we read the text
		if !strings.Contains(status, strconv.Itoa(pid)) {
			t.Errorf("systemctl status does not list the container pid %d:\n%s", pid, status)
		}
		waitFor(t, shortWait, "the container's output in the journal", func() bool {
			return strings.Contains(b.Journal(unit), "hello-from-unit")
		})
	})
}

func TestUnitStop(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{docker: "--rm", script: unitTermScript})
		startUnit(t, b, unit)
		checkMainPID(t, b, unit)
		waitFor(t, shortWait, "hello-from-unit in the journal", func() bool {
			return strings.Contains(b.Journal(unit), "hello-from-unit")
		})
		if _, err := b.Systemctl("stop", unit); err != nil {
			t.Fatalf("systemctl stop: %v", err)
		}
		waitFor(t, shortWait, "the container's TERM trap output in the journal", func() bool {
			return strings.Contains(b.Journal(unit), "unit-got-term")
		})
		waitFor(t, shortWait, "the --rm container to be removed after stop", func() bool {
			return !boxContainerExists(t, b, unit)
		})
		var st string
		if !waitForBool(shortWait, func() bool { st = b.Show(unit, "ActiveState"); return st == "inactive" }) {
			t.Errorf("ActiveState = %q after stop, want inactive (Result=%s)", st, b.Show(unit, "Result"))
		}
	})
}

func TestUnitExitCode(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{docker: "--rm", script: unitExit7})
		// The container exits a second after start; start itself may or may
		// not see READY=1 first, so its result is not the point.
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		_, stderr, err := b.ExecContext(ctx, "systemctl", "start", unit)
		cancel()
		if err != nil {
			t.Logf("systemctl start: %v: %s", err, stderr)
		}
		var st string
		if !waitForBool(longWait, func() bool { st = b.Show(unit, "ActiveState"); return st == "failed" }) {
			t.Fatalf("ActiveState = %q, want failed", st)
		}
		if s := b.Show(unit, "ExecMainStatus"); s != "7" {
			t.Errorf("ExecMainStatus = %s, want 7 (Result=%s)", s, b.Show(unit, "Result"))
		}
		if r := b.Show(unit, "Result"); r != "exit-code" {
			t.Errorf("Result = %s, want exit-code", r)
		}
		waitFor(t, shortWait, "the container's output in the journal", func() bool {
			return strings.Contains(b.Journal(unit), "exiting-with-7")
		})
		waitFor(t, shortWait, "the --rm container to be removed", func() bool {
			return !boxContainerExists(t, b, unit)
		})
	})
}

func TestUnitDetach(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{flags: "--logs=false", script: unitIdleScript})
		startUnit(t, b, unit)
		pid := checkMainPID(t, b, unit)
		var left []int
		if !waitForBool(shortWait, func() bool {
			var err error
			left, err = b.Pids("systemd-docker")
			return err == nil && len(left) == 0
		}) {
			t.Errorf("systemd-docker processes still running in detach mode: %v", left)
		}
		if st := b.Show(unit, "ActiveState"); st != "active" {
			t.Fatalf("ActiveState = %q once systemd-docker left, want active", st)
		}
		if mp := b.Show(unit, "MainPID"); mp != strconv.Itoa(pid) {
			t.Errorf("MainPID = %s once systemd-docker left, want the container's pid %d", mp, pid)
		}
		if r, _, _ := b.Docker("inspect", "-f", "{{.State.Running}}", unit); strings.TrimSpace(r) != "true" {
			t.Errorf("container not running")
		}
	})
}
