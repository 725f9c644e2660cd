//go:build integration

package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// TestWatchdogSignalEndsTheUnit: when WatchdogSec= expires (pings withheld
// for an unhealthy container), systemd sends its WatchdogSignal= (SIGABRT)
// to the unit. systemd-docker takes it as the end of the unit: one line
// saying why, the container killed at once (its init ignores SIGABRT),
// removed (--rm), final metrics (failed, the container's code), exit. The
// unit is failed within seconds, not after TimeoutStopSec=, and the
// journal holds no Go crash dump.
func TestWatchdogSignalEndsTheUnit(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		dir := "/run/metrics-" + randHex(4)
		if _, stderr, err := b.Exec("mkdir", "-p", dir); err != nil {
			t.Fatalf("mkdir %s: %v: %s", dir, err, stderr)
		}
		unit := installUnit(t, b, unitSpec{
			flags:  "--metrics-dir=" + dir,
			docker: `--rm --health-cmd "test -f /tmp/ok" --health-interval 1s --health-retries 1 --health-start-period 0s`,
			// No trap for SIGABRT: the container's init ignores it, as most do.
			script:       `trap 'exit 0' TERM; touch /tmp/ok; sleep 2; rm -f /tmp/ok; echo now-unhealthy; while :; do sleep 0.2; done`,
			serviceLines: []string{"WatchdogSec=3", "Restart=no", "TimeoutStopSec=60", "TimeoutAbortSec=60"},
		})
		prom := dir + "/" + unit + ".prom"
		if d, stderr, err := hfStart(b, unit, false); err != nil {
			t.Fatalf("systemctl start (%s): %v: %s", d, err, stderr)
		}
		var res string
		if !waitForBool(30*time.Second, func() bool { res = b.Show(unit, "Result"); return res == "watchdog" }) {
			t.Fatalf("Result = %q, want watchdog (ActiveState=%s)", res, b.Show(unit, "ActiveState"))
		}
		fired := time.Now()
		// Before: the unit sat in stop-watchdog until TimeoutAbortSec= (60 s).
		var st string
		if !waitForBool(10*time.Second, func() bool {
			st = b.Show(unit, "ActiveState")
			return st == "failed" || st == "inactive"
		}) {
			t.Fatalf("ActiveState = %s (SubState %s) %s after the watchdog fired, want failed within seconds",
				st, b.Show(unit, "SubState"), time.Since(fired).Round(time.Second))
		}
		t.Logf("unit %s %s after Result=watchdog", st, time.Since(fired).Round(100*time.Millisecond))
		if st != "failed" {
			t.Errorf("ActiveState = %s, want failed", st)
		}
		if r := b.Show(unit, "Result"); r != "watchdog" {
			t.Errorf("final Result = %s, want watchdog", r)
		}
		j := b.Journal(unit)
		for _, dump := range []string{"SIGABRT: abort", "goroutine ", "runtime."} {
			if strings.Contains(j, dump) {
				t.Errorf("journal holds a Go crash dump (%q):\n%s", dump, j)
				break
			}
		}
		if n := strings.Count(j, "systemd's watchdog fired"); n != 1 {
			t.Errorf("journal says %d times that the watchdog fired, want once:\n%s", n, j)
		}
		if !strings.Contains(j, "the container's health check says unhealthy") {
			t.Errorf("journal does not say why pings were withheld:\n%s", j)
		}
		waitFor(t, shortWait, "the --rm container to be removed", func() bool { return containerID(t, b, unit) == "" })
		mf, text, err := hfParseProm(b, prom)
		if err != nil {
			t.Fatalf("read %s: %v", prom, err)
		}
		if v, ok := hfGauge(mf, "systemd_docker_state", map[string]string{"state": "failed", "unit": unit}); !ok || v != 1 {
			t.Errorf("final metrics: state=\"failed\" = %v (present %v), want 1:\n%s", v, ok, text)
		}
		for _, tr := range []map[string]string{
			{"from": "watch", "to": "kill", "event": "watchdog", "unit": unit},
			{"from": "kill", "to": "failed", "event": "killed", "unit": unit},
		} {
			if v, ok := hfGauge(mf, "systemd_docker_transitions_total", tr); !ok || v != 1 {
				t.Errorf("final metrics: transition %v = %v (present %v), want 1:\n%s", tr, v, ok, text)
			}
		}
		if v, ok := hfGauge(mf, "systemd_docker_exit_code", map[string]string{"unit": unit}); !ok || v != 137 {
			t.Errorf("final metrics: exit_code = %v (present %v), want 137 (killed):\n%s", v, ok, text)
		}
	})
}
