//go:build integration

// Watchdog, readiness (--ready=healthy) and --metrics-dir from real unit
// files under a real systemd PID 1, in both cgroup layouts.
package integration

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// hfStart runs `systemctl start` (bounded) and returns how long it took and its error.
func hfStart(b *box.Box, unit string, noBlock bool) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := []string{"systemctl", "start"}
	if noBlock {
		args = append(args, "--no-block")
	}
	t0 := time.Now()
	_, stderr, err := b.ExecContext(ctx, append(args, unit)...)
	return time.Since(t0), stderr, err
}

// hfWaitState waits until the unit's ActiveState is one of want and returns it.
func hfWaitState(t *testing.T, b *box.Box, unit string, timeout time.Duration, want ...string) string {
	t.Helper()
	var st string
	if !waitForBool(timeout, func() bool {
		st = b.Show(unit, "ActiveState")
		for _, w := range want {
			if st == w {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("%s: ActiveState = %q after %s, want one of %v (Result=%s SubState=%s)",
			unit, st, timeout, want, b.Show(unit, "Result"), b.Show(unit, "SubState"))
	}
	return st
}

// hfRunning tells whether the box's container name exists and runs.
func hfRunning(b *box.Box, name string) bool {
	out, _, err := b.Docker("inspect", "-f", "{{.State.Running}}", name)
	return err == nil && strings.TrimSpace(out) == "true"
}

func TestHealthUnhealthyWatchdog(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{
			docker: `--rm --health-cmd "test -f /tmp/ok" --health-interval 1s --health-retries 1 --health-start-period 0s`,
			// The traps let the watchdog's SIGABRT (and a stop's TERM) end
			// the container's init, which ignores unhandled signals.
			script:       `trap 'exit 0' TERM ABRT; touch /tmp/ok; sleep 3; rm -f /tmp/ok; echo now-unhealthy; while :; do sleep 0.2; done`,
			serviceLines: []string{"WatchdogSec=3", "Restart=no", "TimeoutAbortSec=10"},
		})
		t0 := time.Now()
		if d, stderr, err := hfStart(b, unit, false); err != nil {
			t.Fatalf("systemctl start (%s): %v: %s", d, err, stderr)
		}
		// Unhealthy from ~4 s; the last ping at most 3 s before; a few
		// health intervals of slack.
		var res string
		if !waitForBool(20*time.Second, func() bool { res = b.Show(unit, "Result"); return res == "watchdog" }) {
			t.Fatalf("Result = %q %s after start, want watchdog (ActiveState=%s)", res, time.Since(t0).Round(time.Second), b.Show(unit, "ActiveState"))
		}
		t.Logf("Result=watchdog %s after start", time.Since(t0).Round(100*time.Millisecond))
		if !strings.Contains(b.Journal(unit), "withholding watchdog pings") {
			t.Errorf("journal lacks the \"withholding watchdog pings\" line")
		}
		st := hfWaitState(t, b, unit, 30*time.Second, "failed", "inactive")
		if st != "failed" {
			t.Errorf("ActiveState = %s after the watchdog, want failed", st)
		}
		if r := b.Show(unit, "Result"); r != "watchdog" {
			t.Errorf("final Result = %s, want watchdog", r)
		}
	})
}

// A wedged dockerd (SIGSTOPped: its socket accepts, nothing answers) gets
// no watchdog ping, unlike one that is not running (see
// TestFaultDockerdLiveRestore). Not parallel: it freezes the box's dockerd.
func TestHealthWedgedDockerdWatchdog(t *testing.T) {
	forEachFlavourAlone(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{
			docker:       "--rm",
			script:       `trap 'exit 0' TERM ABRT; while :; do sleep 0.2; done`,
			serviceLines: []string{"WatchdogSec=3", "Restart=no", "TimeoutAbortSec=10"},
		})
		thaw := func() { _, _, _ = b.Exec("systemctl", "kill", "--kill-who=main", "-s", "CONT", box.DockerUnit) }
		t.Cleanup(func() { thaw(); hfEnsureDockerd(t, b) }) // before the unit's cleanup, which needs dockerd
		startUnit(t, b, unit)
		t0 := time.Now()
		if _, stderr, err := b.Exec("systemctl", "kill", "--kill-who=main", "-s", "STOP", box.DockerUnit); err != nil {
			t.Fatalf("SIGSTOP dockerd: %v %s", err, stderr)
		}
		var res string
		ok := waitForBool(20*time.Second, func() bool { res = b.Show(unit, "Result"); return res == "watchdog" })
		took := time.Since(t0)
		thaw()
		if !ok {
			t.Fatalf("Result = %q %s after dockerd froze, want watchdog (ActiveState=%s)", res, took.Round(time.Second), b.Show(unit, "ActiveState"))
		}
		t.Logf("Result=watchdog %s after dockerd froze", took.Round(100*time.Millisecond))
		if j := b.Journal(unit); !strings.Contains(j, "withholding watchdog pings") || strings.Contains(j, "watchdog pings go on") {
			t.Errorf("journal: want pings withheld, never excused:\n%s", j)
		}
	})
}

func TestHealthHealthyWatchdog(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{
			docker:       `--rm --health-cmd "true" --health-interval 1s --health-retries 1 --health-start-period 0s`,
			script:       unitIdleScript,
			serviceLines: []string{"WatchdogSec=2", "Restart=on-failure", "RestartSec=1"},
		})
		startUnit(t, b, unit)
		pid := checkMainPID(t, b, unit)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if st := b.Show(unit, "ActiveState"); st != "active" {
				t.Fatalf("ActiveState = %q (Result=%s) while healthy, want active", st, b.Show(unit, "Result"))
			}
			time.Sleep(500 * time.Millisecond)
		}
		if n := b.Show(unit, "NRestarts"); n != "0" {
			t.Errorf("NRestarts = %s, want 0", n)
		}
		if r := b.Show(unit, "Result"); r != "success" {
			t.Errorf("Result = %s, want success", r)
		}
		if mp := b.Show(unit, "MainPID"); mp != strconv.Itoa(pid) {
			t.Errorf("MainPID = %s, want still the container's pid %d", mp, pid)
		}
		if strings.Contains(b.Journal(unit), "withholding watchdog pings") {
			t.Errorf("journal has \"withholding watchdog pings\" for a healthy container")
		}
	})
}

func TestHealthReadyHealthy(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		t.Run("slow-health", func(t *testing.T) {
			unit := installUnit(t, b, unitSpec{
				flags:  "--ready=healthy",
				docker: `--rm --health-cmd "test -f /tmp/ok" --health-interval 1s --health-start-period 0s`,
				script: `trap 'exit 0' TERM; sleep 3; touch /tmp/ok; while :; do sleep 0.2; done`,
			})
			d, stderr, err := hfStart(b, unit, false)
			if err != nil {
				t.Fatalf("systemctl start (%s): %v: %s", d, err, stderr)
			}
			t.Logf("systemctl start took %s", d.Round(100*time.Millisecond))
			if d < 2500*time.Millisecond {
				t.Errorf("systemctl start returned after %s, want >= 2.5s (READY=1 only once healthy)", d)
			}
			if st := b.Show(unit, "ActiveState"); st != "active" {
				t.Errorf("ActiveState = %q after start, want active", st)
			}
			if h, _, _ := b.Docker("inspect", "-f", "{{.State.Health.Status}}", unit); strings.TrimSpace(h) != "healthy" {
				t.Errorf("container health = %q after start, want healthy", strings.TrimSpace(h))
			}
			checkMainPID(t, b, unit)
		})
		t.Run("no-health-check", func(t *testing.T) {
			unit := installUnit(t, b, unitSpec{
				flags:  "--ready=healthy",
				docker: "--rm",
				script: unitIdleScript,
			})
			d, _, err := hfStart(b, unit, false)
			if err == nil {
				t.Fatalf("systemctl start succeeded (%s), want a failure: the container has no health check", d)
			}
			hfWaitState(t, b, unit, longWait, "failed", "inactive")
			waitFor(t, shortWait, `"no health check" in the journal`, func() bool {
				return strings.Contains(b.Journal(unit), "no health check")
			})
			waitFor(t, shortWait, "the --rm container to be removed", func() bool {
				return containerID(t, b, unit) == ""
			})
		})
	})
}

// hfParseProm reads a Prometheus text file from the box.
func hfParseProm(b *box.Box, path string) (map[string]*dto.MetricFamily, string, error) {
	out, stderr, err := b.Exec("cat", path)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s", err, stderr)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(strings.NewReader(out))
	return mf, out, err
}

// hfGauge returns the value of family name's sample whose labels include want.
func hfGauge(mf map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f := mf[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		ok := true
		for k, v := range want {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			ok = ok && found
		}
		if !ok {
			continue
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func TestHealthMetricsDir(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		if _, stderr, err := b.Exec("mkdir", "-p", "/run/metrics"); err != nil {
			t.Fatalf("mkdir /run/metrics: %v: %s", err, stderr)
		}
		unit := installUnit(t, b, unitSpec{
			flags:  "--metrics-dir=/run/metrics",
			docker: "--rm",
			script: unitIdleScript,
		})
		prom := "/run/metrics/" + unit + ".prom"
		t.Cleanup(func() { _, _, _ = b.Exec("rm", "-f", prom) })
		startUnit(t, b, unit)
		checkMainPID(t, b, unit)

		var (
			mf   map[string]*dto.MetricFamily
			text string
			err  error
		)
		if !waitForBool(shortWait, func() bool {
			mf, text, err = hfParseProm(b, prom)
			if err != nil {
				return false
			}
			v, ok := hfGauge(mf, "systemd_docker_state", map[string]string{"state": "watch", "unit": unit})
			return ok && v == 1
		}) {
			t.Fatalf("while running, %s: err=%v, want systemd_docker_state{state=\"watch\",unit=%q} 1; content:\n%s", prom, err, unit, text)
		}

		if _, err := b.Systemctl("stop", unit); err != nil {
			t.Fatalf("systemctl stop: %v", err)
		}
		hfWaitState(t, b, unit, shortWait, "inactive", "failed")
		if !waitForBool(shortWait, func() bool {
			mf, text, err = hfParseProm(b, prom)
			if err != nil {
				return false
			}
			v, ok := hfGauge(mf, "systemd_docker_state", map[string]string{"state": "done", "unit": unit})
			return ok && v == 1
		}) {
			t.Fatalf("after stop, %s: err=%v, want systemd_docker_state{state=\"done\",unit=%q} 1; content:\n%s", prom, err, unit, text)
		}
		if v, ok := hfGauge(mf, "systemd_docker_state", map[string]string{"state": "watch", "unit": unit}); !ok || v != 0 {
			t.Errorf("after stop, state=\"watch\" = %v (present %v), want 0", v, ok)
		}
		if v, ok := hfGauge(mf, "systemd_docker_exit_code", map[string]string{"unit": unit}); !ok {
			t.Errorf("after stop, systemd_docker_exit_code missing; content:\n%s", text)
		} else {
			t.Logf("systemd_docker_exit_code = %v", v)
		}
	})
}
