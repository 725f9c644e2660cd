//go:build integration

// --metrics-dir never takes a service down, under a real systemd PID 1 in
// both cgroup layouts: a missing directory is created; one that cannot be
// created or written is one warning in the journal, and the service runs
// without metrics; a directory lost while running is one warning, not one
// per state change and watchdog tick.
package integration

import (
	"strings"
	"testing"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// The journal lines of the supervisor (see supervisor.prepare, writeMetrics).
const (
	mdNoMetrics  = "running without metrics"
	mdNotWritten = "metrics not written"
)

// mdWaitState waits until prom says the unit is in state.
func mdWaitState(t *testing.T, b *box.Box, prom, unit, state string) {
	t.Helper()
	var text string
	var err error
	if !waitForBool(shortWait, func() bool {
		mf, txt, perr := hfParseProm(b, prom)
		text, err = txt, perr
		if err != nil {
			return false
		}
		v, ok := hfGauge(mf, "systemd_docker_state", map[string]string{"state": state, "unit": unit})
		return ok && v == 1
	}) {
		t.Fatalf("%s: err=%v, want systemd_docker_state{state=%q,unit=%q} 1; content:\n%s", prom, err, state, unit, text)
	}
}

// mdStop stops unit and checks that it ended cleanly.
func mdStop(t *testing.T, b *box.Box, unit string) {
	t.Helper()
	if _, err := b.Systemctl("stop", unit); err != nil {
		t.Fatalf("systemctl stop: %v", err)
	}
	if st := hfWaitState(t, b, unit, shortWait, "inactive", "failed"); st != "inactive" {
		t.Errorf("ActiveState = %s after stop, want inactive (Result=%s)", st, b.Show(unit, "Result"))
	}
}

// mdRemoveDir removes dir while the unit may be writing its file in it:
// rm -rf fails (directory not empty) when a temporary file is created
// between its listing and its rmdir, so it is tried again.
func mdRemoveDir(t *testing.T, b *box.Box, dir string) {
	t.Helper()
	var stderr string
	var err error
	for range 5 {
		if _, stderr, err = b.Exec("rm", "-rf", dir); err == nil {
			return
		}
	}
	t.Fatalf("rm -rf %s: %v: %s", dir, err, stderr)
}

// A --metrics-dir that does not exist is created (0755, as mkdir -p does
// under systemd's default UMask=0022) and receives the unit's file.
func TestMetricsDirCreated(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		top := "/run/sdtest-metrics-" + randHex(4)
		dir := top + "/node_exporter/textfile"
		t.Cleanup(func() { _, _, _ = b.Exec("rm", "-rf", top) })
		unit := installUnit(t, b, unitSpec{flags: "--metrics-dir=" + dir, docker: "--rm", script: unitIdleScript})
		startUnit(t, b, unit)
		checkMainPID(t, b, unit)
		prom := dir + "/" + unit + ".prom"
		mdWaitState(t, b, prom, unit, "watch")
		for _, d := range []string{top, dir} {
			if out, _, err := b.Exec("stat", "-c", "%F %a", d); err != nil || strings.TrimSpace(out) != "directory 755" {
				t.Errorf("%s: %q (%v), want a directory, mode 755", d, strings.TrimSpace(out), err)
			}
		}
		if out, _, err := b.Exec("stat", "-c", "%F %a", prom); err != nil || strings.TrimSpace(out) != "regular file 644" {
			t.Errorf("%s: %q (%v), want a regular file, mode 644", prom, strings.TrimSpace(out), err)
		}
		if j := b.Journal(unit); strings.Contains(j, mdNoMetrics) || strings.Contains(j, mdNotWritten) {
			t.Errorf("journal has a metrics warning:\n%s", j)
		}
		mdStop(t, b, unit)
		mdWaitState(t, b, prom, unit, "done")
	})
}

// A --metrics-dir that cannot be created, or cannot be written, is one
// warning naming it; the unit starts, runs (watchdog ticks, state changes)
// and stops as without the option.
func TestMetricsDirUnusable(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		for _, tc := range []struct {
			name  string
			dir   func(t *testing.T) string
			lines []string // extra [Service] lines; %s is the directory
			want  string   // in the warning
		}{
			{"under-a-file", func(*testing.T) string { return "/proc/version/metrics" }, nil, "cannot be created"},
			// ProtectSystem=/ReadOnlyPaths= make a directory read-only for the service, root as it is.
			{"read-only", func(t *testing.T) string {
				dir := "/run/sdtest-metrics-ro-" + randHex(4)
				if _, stderr, err := b.Exec("mkdir", dir); err != nil {
					t.Fatalf("mkdir %s: %v: %s", dir, err, stderr)
				}
				t.Cleanup(func() { _, _, _ = b.Exec("rm", "-rf", dir) })
				return dir
			}, []string{"ReadOnlyPaths=%s"}, "is not writable"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				dir := tc.dir(t)
				svc := []string{"WatchdogSec=1", "Restart=no"}
				for _, l := range tc.lines {
					svc = append(svc, strings.ReplaceAll(l, "%s", dir))
				}
				unit := installUnit(t, b, unitSpec{flags: "--metrics-dir=" + dir, docker: "--rm",
					script: unitIdleScript, serviceLines: svc})
				startUnit(t, b, unit)
				checkMainPID(t, b, unit)
				if st := b.Show(unit, "ActiveState"); st != "active" {
					t.Fatalf("ActiveState = %s, want active", st)
				}
				var warn []string
				for _, l := range lines(b.Journal(unit)) {
					if strings.Contains(l, mdNoMetrics) {
						warn = append(warn, l)
					}
				}
				if len(warn) != 1 || !strings.Contains(warn[0], dir) || !strings.Contains(warn[0], tc.want) {
					t.Errorf("journal lines %q: want one naming %s and saying %q", warn, dir, tc.want)
				} else {
					t.Logf("journal: %s", warn[0])
				}
				mdStop(t, b, unit)
				j := b.Journal(unit)
				if n := strings.Count(j, mdNoMetrics); n != 1 {
					t.Errorf("%q %d times in the journal, want once:\n%s", mdNoMetrics, n, j)
				}
				if strings.Contains(j, mdNotWritten) {
					t.Errorf("journal has %q: metrics were tried without a directory:\n%s", mdNotWritten, j)
				}
				if out, _, err := b.Exec("ls", "-A", dir); err == nil && strings.TrimSpace(out) != "" {
					t.Errorf("%s holds %q, want nothing", dir, out)
				}
			})
		}
	})
}

// A --metrics-dir lost while the unit runs (removed) is one
// warning, though every watchdog tick and state change tries again, and
// though a write under way when it goes fails at another step than the
// writes after it.
func TestMetricsDirLostWhileRunning(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		dir := "/run/sdtest-metrics-" + randHex(4)
		if _, stderr, err := b.Exec("mkdir", dir); err != nil {
			t.Fatalf("mkdir %s: %v: %s", dir, err, stderr)
		}
		t.Cleanup(func() { _, _, _ = b.Exec("rm", "-rf", dir) })
		unit := installUnit(t, b, unitSpec{flags: "--metrics-dir=" + dir, docker: "--rm",
			script: unitIdleScript, serviceLines: []string{"WatchdogSec=1", "Restart=no"}})
		startUnit(t, b, unit)
		checkMainPID(t, b, unit)
		mdWaitState(t, b, dir+"/"+unit+".prom", unit, "watch")
		mdRemoveDir(t, b, dir)
		// A watchdog tick (every 0.5 s with WatchdogSec=1) writes the
		// metrics: the first failure is warned about.
		failed := "metrics: writing " + dir + "/" // in the error of every failed write's line
		waitFor(t, shortWait, "the warning in the journal", func() bool {
			return strings.Contains(b.Journal(unit), failed)
		})
		mdStop(t, b, unit) // more writes (entering stop and remove, the last at exit), besides ticks meanwhile
		j := b.Journal(unit)
		if n := strings.Count(j, failed); n != 1 {
			t.Errorf("%q %d times in the journal, want once:\n%s", failed, n, j)
		}
		if !strings.Contains(j, mdNotWritten) || !strings.Contains(j, "no such file or directory") {
			t.Errorf("the warning does not say what failed and what to do:\n%s", j)
		}
	})
}
