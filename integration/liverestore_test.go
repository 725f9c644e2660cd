//go:build integration

package integration

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// liveRestoreLines is how many numbered lines the container writes to each
// stream, one pair every 50 ms, before it exits with 3: long enough to
// outlast a restart of dockerd.
const liveRestoreLines = 200

// TestFaultDockerdLiveRestore restarts (or crashes and starts) a dockerd
// that runs with --live-restore under a supervised container: the container keeps
// running, the unit keeps its MainPID, every line of both streams reaches
// the journal exactly once (those written while dockerd was away too), and
// the container's own exit, after the restart, ends the unit with its code.
// dockerd stays away longer than the unit's WatchdogSec=: the watchdog is
// fed meanwhile.
// Not parallel, for the same reason as TestFaultDockerdRestart. Not in
// the dockerd 26 box: there the container does not survive the harness's
// restart of dockerd --live-restore (its containerd runs as a unit of its
// own in that box; not yet looked into).
func TestFaultDockerdLiveRestore(t *testing.T) {
	hfDockerdMu.Lock()
	defer hfDockerdMu.Unlock()
	for _, c := range []struct {
		f    box.Flavour
		kill bool // SIGKILL dockerd (a crash) instead of stopping it
	}{{box.Hybrid, false}, {box.Unified, false}, {box.Hybrid, true}} {
		name := string(c.f)
		if c.kill {
			name += "/crash"
		}
		t.Run(name, func(t *testing.T) {
			b := getBox(t, c.f)
			// Cleanups run last-registered first: the unit's (which needs
			// dockerd) before this one, which gives the other tests a dockerd
			// without --live-restore again.
			t.Cleanup(func() {
				if err := hfStopDockerd(b); err != nil {
					t.Errorf("stop dockerd --live-restore: %v", err)
				}
				if err := hfStartDockerd(b); err != nil {
					t.Errorf("start dockerd again without --live-restore: %v", err)
				}
			})
			if err := hfStopDockerd(b); err != nil {
				t.Fatal(err)
			}
			if err := hfStartDockerd(b, "--live-restore"); err != nil {
				t.Fatal(err)
			}
			unit := installUnit(t, b, unitSpec{
				docker: "--rm",
				cmd: `sh -c 'i=0; while [ $$i -lt ` + strconv.Itoa(liveRestoreLines) +
					` ]; do i=$$((i+1)); echo out=$$i; echo err=$$i >&2; sleep 0.05; done; exit 3'`,
				// Shorter than dockerd's absence: the watchdog must be fed
				// while dockerd restarts and the container runs on.
				serviceLines: []string{"WatchdogSec=3"},
			})
			t.Cleanup(func() {
				if t.Failed() {
					j, _, _ := b.Exec("journalctl", "-u", unit, "-u", box.DockerUnit, "-o", "short-precise", "--no-pager", "-n", "80")
					t.Logf("journal of %s and %s:\n%s", unit, box.DockerUnit, j)
				}
				hfEnsureDockerd(t, b, "--live-restore")
			})
			startUnit(t, b, unit)
			pid := checkMainPID(t, b, unit)
			id := containerID(t, b, unit)
			time.Sleep(time.Second)

			t0 := time.Now()
			if c.kill {
				if _, stderr, err := b.Exec("systemctl", "kill", "-s", "KILL", box.DockerUnit); err != nil {
					t.Fatalf("kill dockerd: %v %s", err, stderr)
				}
				if !waitForBool(30*time.Second, func() bool {
					st := b.Show(box.DockerUnit, "ActiveState")
					return st == "failed" || st == "inactive" || st == ""
				}) {
					t.Fatalf("dockerd still %s after SIGKILL", b.Show(box.DockerUnit, "ActiveState"))
				}
			} else if err := hfStopDockerd(b); err != nil {
				t.Fatal(err)
			}
			stopped := time.Since(t0)
			time.Sleep(4 * time.Second) // lines written now wait in the container's pipe
			if st, mp := b.Show(unit, "ActiveState"), b.Show(unit, "MainPID"); st != "active" || mp != strconv.Itoa(pid) {
				t.Errorf("with dockerd away: unit %s, MainPID %s; want active, %d", st, mp, pid)
			}
			if err := hfStartDockerd(b, "--live-restore"); err != nil {
				t.Fatal(err)
			}
			t.Logf("dockerd stopped in %s, back after %s", stopped.Round(10*time.Millisecond), time.Since(t0).Round(10*time.Millisecond))
			if !hfRunning(b, unit) || containerID(t, b, unit) != id {
				t.Fatalf("container %s did not survive the restart of dockerd --live-restore", id[:12])
			}
			if st, mp := b.Show(unit, "ActiveState"), b.Show(unit, "MainPID"); st != "active" || mp != strconv.Itoa(pid) {
				t.Errorf("after the restart: unit %s, MainPID %s; want active, %d", st, mp, pid)
			}

			// The container ends by itself, about 10 s after it started.
			if !waitForBool(longWait, func() bool { return b.Show(unit, "ActiveState") != "active" }) {
				t.Fatalf("unit still %s %s after its container should have exited", b.Show(unit, "ActiveState"), longWait)
			}
			if code := b.Show(unit, "ExecMainStatus"); code != "3" {
				t.Errorf("ExecMainStatus=%s, want the container's 3", code)
			}
			journal := b.Journal(unit)
			var ours []string
			for _, l := range strings.Split(journal, "\n") {
				if !strings.HasPrefix(l, "out=") && !strings.HasPrefix(l, "err=") && l != "" {
					ours = append(ours, l)
				}
			}
			t.Logf("the unit's journal without the container's lines:\n%s", strings.Join(ours, "\n"))
			checkEveryLineOnce(t, journal, "out")
			checkEveryLineOnce(t, journal, "err")
			if m := regexp.MustCompile(`.*following the container's output again.*`).FindString(journal); m == "" {
				t.Errorf("the journal does not say the output was followed again")
			} else {
				t.Logf("journal: %s", m)
			}
		})
	}
}

// checkEveryLineOnce checks that the journal has each of the lines
// prefix=1 … prefix=liveRestoreLines exactly once.
func checkEveryLineOnce(t *testing.T, journal, prefix string) {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + prefix + `=(\d+)$`)
	seen := map[int]int{}
	for _, m := range re.FindAllStringSubmatch(journal, -1) {
		n, _ := strconv.Atoi(m[1])
		seen[n]++
	}
	var missing, twice []int
	for n := 1; n <= liveRestoreLines; n++ {
		switch seen[n] {
		case 0:
			missing = append(missing, n)
		case 1:
		default:
			twice = append(twice, n)
		}
	}
	if len(missing) > 0 || len(twice) > 0 || len(seen) != liveRestoreLines {
		t.Errorf("%s lines: missing %v, more than once %v, %d distinct (want 1…%d once each)",
			prefix, missing, twice, len(seen), liveRestoreLines)
	}
}
