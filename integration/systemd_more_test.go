//go:build integration

// More end-to-end cases of systemd-docker from real unit files under a real
// systemd PID 1, in both cgroup layouts: restarts, stale containers, --env,
// --pid-file, --cgroups name=systemd with docker's own memory limit, signal
// forwarding, concurrent starts, --notify and slow image pulls.
package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// shareFile writes a file into the box's /share (a bound host directory) and
// removes it at cleanup; it returns the path inside the box.
func shareFile(t *testing.T, b *box.Box, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(b.ShareDir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(p) })
	return box.ShareMount + "/" + name
}

// containerID returns the full ID of the box container name, "" if none.
func containerID(t *testing.T, b *box.Box, name string) string {
	t.Helper()
	out, stderr, err := b.Docker("ps", "-a", "-q", "--no-trunc", "--filter", "name=^/"+name+"$")
	if err != nil {
		t.Fatalf("docker ps: %v: %s", err, stderr)
	}
	return strings.TrimSpace(out)
}

func waitState(t *testing.T, b *box.Box, unit, want string, timeout time.Duration) {
	t.Helper()
	var st string
	if !waitForBool(timeout, func() bool { st = b.Show(unit, "ActiveState"); return st == want }) {
		t.Fatalf("ActiveState of %s = %q, want %s (Result=%s)", unit, st, want, b.Show(unit, "Result"))
	}
}

// stopAndCheckGone stops unit and waits until no container of its name is left.
func stopAndCheckGone(t *testing.T, b *box.Box, unit string) {
	t.Helper()
	if _, err := b.Systemctl("stop", unit); err != nil {
		t.Fatalf("systemctl stop %s: %v", unit, err)
	}
	waitFor(t, shortWait, "no container named "+unit+" after stop", func() bool {
		return !boxContainerExists(t, b, unit)
	})
}

var cidLine = regexp.MustCompile(`(?m)^cid=([0-9a-f]{12})$`)

// 1. Restart=on-failure restarts a failed container as a fresh one.
func TestMoreRestartOnFailure(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{
			docker: "--rm",
			// The hostname is the container's short ID.
			script:       `sed s/^/cid=/ /etc/hostname; sleep 1; exit 3`,
			unitLines:    []string{"StartLimitIntervalSec=0"},
			serviceLines: []string{"Restart=on-failure", "RestartSec=1"},
		})
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		_, stderr, err := b.ExecContext(ctx, "systemctl", "start", unit)
		cancel()
		if err != nil {
			t.Logf("systemctl start (the container exits quickly, not the point): %v: %s", err, stderr)
		}
		var n int
		waitFor(t, longWait, "NRestarts >= 2", func() bool {
			n, _ = strconv.Atoi(b.Show(unit, "NRestarts"))
			return n >= 2
		})
		// Catch the unit active with a running container that is not any of the earlier ones.
		var cur string
		waitFor(t, longWait, "the restarted unit active with MainPID = its running container's pid", func() bool {
			if b.Show(unit, "ActiveState") != "active" {
				return false
			}
			out, _, err := b.Docker("inspect", "-f", "{{.Id}} {{.State.Running}} {{.State.Pid}}", unit)
			f := strings.Fields(out)
			if err != nil || len(f) != 3 || f[1] != "true" {
				return false
			}
			cur = f[0]
			return b.Show(unit, "MainPID") == f[2]
		})
		if nn, _ := strconv.Atoi(b.Show(unit, "NRestarts")); nn > n {
			n = nn
		}
		if _, err := b.Systemctl("stop", unit); err != nil {
			t.Fatalf("systemctl stop: %v", err)
		}
		waitFor(t, shortWait, "no container (running or stale) of the unit's name after stop", func() bool {
			return !boxContainerExists(t, b, unit)
		})
		var ids []string
		waitFor(t, shortWait, "cid= lines in the journal", func() bool {
			ids = nil
			for _, m := range cidLine.FindAllStringSubmatch(b.Journal(unit), -1) {
				ids = append(ids, m[1])
			}
			return len(ids) >= 3
		})
		seen := map[string]bool{}
		for _, id := range ids {
			if seen[id] {
				t.Errorf("container ID %s ran twice: restarts reused a container (IDs %v)", id, ids)
			}
			seen[id] = true
		}
		if !slices.Contains(ids, cur[:12]) {
			t.Errorf("running container %s not among the journal's IDs %v", cur[:12], ids)
		}
		t.Logf("NRestarts=%d, container IDs %v", n, ids)
	})
}

// 2. A stale stopped container with the unit's name is replaced.
func TestMoreStaleContainerReplaced(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{docker: "--rm", script: unitIdleScript})
		out, stderr, err := b.Docker("create", "--name", unit, "--network", "none", image, "sh", "-c", "sleep 1000")
		if err != nil {
			t.Fatalf("docker create stale: %v: %s", err, stderr)
		}
		stale := strings.TrimSpace(out)
		startUnit(t, b, unit)
		waitState(t, b, unit, "active", shortWait)
		pid := checkMainPID(t, b, unit)
		cur := containerID(t, b, unit)
		if cur == "" || cur == stale {
			t.Fatalf("running container ID %q, want a new one (stale %s)", cur, stale)
		}
		if r, _, _ := b.Docker("inspect", "-f", "{{.State.Running}} {{.State.Pid}}", unit); strings.TrimSpace(r) != "true "+strconv.Itoa(pid) {
			t.Errorf("container %s: running/pid = %q, want true %d", unit, strings.TrimSpace(r), pid)
		}
		if _, _, err := b.Docker("inspect", stale); err == nil {
			t.Errorf("stale container %s still exists", stale)
		}
		stopAndCheckGone(t, b, unit)
	})
}

// 3. --env passes Environment= and EnvironmentFile= but none of systemd's variables.
func TestMoreEnv(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		envFile := shareFile(t, b, "env-"+randHex(6), "BAZ=qux from file\n", 0o644)
		unit := installUnit(t, b, unitSpec{
			flags: "--env", docker: "--rm", script: unitIdleScript,
			serviceLines: []string{"Environment=FOO=bar", "EnvironmentFile=" + envFile},
		})
		startUnit(t, b, unit)
		checkMainPID(t, b, unit)
		out, stderr, err := b.Docker("exec", unit, "env")
		if err != nil {
			t.Fatalf("docker exec env: %v: %s", err, stderr)
		}
		env := lines(out)
		for _, want := range []string{"FOO=bar", "BAZ=qux from file"} {
			if !slices.Contains(env, want) {
				t.Errorf("container env lacks %q:\n%s", want, out)
			}
		}
		for _, l := range env {
			k, _, _ := strings.Cut(l, "=")
			switch k {
			case "NOTIFY_SOCKET", "INVOCATION_ID", "JOURNAL_STREAM", "MANAGERPID", "SYSTEMD_EXEC_PID",
				"LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC", "WATCHDOG_PID", "DOCKER_HOST":
				t.Errorf("container env has systemd's/our %s: %q", k, l)
			}
		}
	})
}

// 4. --pid-file holds MainPID (the container's pid) and goes away at stop.
func TestMorePidFile(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		pidFile := "/run/sdtest-" + randHex(6) + ".pid"
		unit := installUnit(t, b, unitSpec{flags: "--pid-file=" + pidFile, docker: "--rm", script: unitIdleScript})
		t.Cleanup(func() { _, _, _ = b.Exec("rm", "-f", pidFile) })
		startUnit(t, b, unit)
		pid := checkMainPID(t, b, unit)
		var content string
		waitFor(t, shortWait, "the pid file to hold the container's pid", func() bool {
			out, _, err := b.Exec("cat", pidFile)
			content = strings.TrimSpace(out)
			return err == nil && content == strconv.Itoa(pid)
		})
		if mp := b.Show(unit, "MainPID"); mp != content {
			t.Errorf("pid file %q != MainPID %s", content, mp)
		}
		if mode, _, err := b.Exec("stat", "-c", "%a", pidFile); err != nil || strings.TrimSpace(mode) != "644" {
			t.Errorf("pid file mode %q (%v), want 644", strings.TrimSpace(mode), err)
		}
		stopAndCheckGone(t, b, unit)
		waitFor(t, shortWait, "the pid file to be removed after stop", func() bool {
			_, _, err := b.Exec("test", "-e", pidFile)
			return err != nil
		})
	})
}

// 5. Hybrid: --cgroups name=systemd leaves docker's memory cgroup (and its -m
// limit) alone while systemd still tracks the container.
func TestMoreCgroupsNameSystemdMemoryLimit(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		if b.Flavour.PureV2() {
			t.Skip("pure cgroup v2 has one hierarchy: the container moves into the unit's cgroup, so docker's memory cgroup cannot stay separate")
		}
		unit := installUnit(t, b, unitSpec{flags: "--cgroups name=systemd", docker: "--rm -m 32m", script: unitIdleScript})
		startUnit(t, b, unit)
		pid := checkMainPID(t, b, unit)
		cg := b.Show(unit, "ControlGroup")
		out, stderr, err := b.Exec("cat", fmt.Sprintf("/proc/%d/cgroup", pid))
		if err != nil {
			t.Fatalf("read /proc/%d/cgroup: %v: %s", pid, err, stderr)
		}
		var memPath, sdPath, v2Path string
		for _, l := range lines(out) {
			parts := strings.SplitN(l, ":", 3)
			if len(parts) != 3 {
				continue
			}
			switch {
			case slices.Contains(strings.Split(parts[1], ","), "memory"):
				memPath = parts[2]
			case parts[1] == "name=systemd":
				sdPath = parts[2]
			case parts[0] == "0" && parts[1] == "":
				v2Path = parts[2]
			}
		}
		if !strings.Contains(memPath, "/docker/") && !strings.Contains(memPath, "docker-") {
			t.Errorf("memory cgroup %q is not docker's\n/proc/%d/cgroup:\n%s", memPath, pid, out)
		}
		if sdPath != cg {
			t.Errorf("name=systemd cgroup %q, want the unit's %q", sdPath, cg)
		}
		if v2Path != cg {
			t.Errorf("cgroup2 (unified) cgroup %q, want the unit's %q", v2Path, cg)
		}
		if memPath != "" {
			limit, stderr, err := b.Exec("cat", "/sys/fs/cgroup/memory"+memPath+"/memory.limit_in_bytes")
			if err != nil || strings.TrimSpace(limit) != "33554432" {
				t.Errorf("memory.limit_in_bytes of %s = %q (%v %s), want 33554432", memPath, strings.TrimSpace(limit), err, stderr)
			}
		}
		procs, err := b.CgroupProcs(cg)
		if err != nil {
			t.Fatalf("read %s: %v", b.CgroupProcsFile(cg), err)
		}
		if !slices.Contains(procs, pid) {
			t.Errorf("container pid %d not in %s (has %v)", pid, b.CgroupProcsFile(cg), procs)
		}
		if st := b.Show(unit, "ActiveState"); st != "active" {
			t.Errorf("ActiveState = %q, want active", st)
		}
		stopAndCheckGone(t, b, unit)
	})
}

// 6. systemctl kill -s HUP reaches the container; the unit stays active.
func TestMoreKillHUP(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{docker: "--rm",
			script: `trap 'echo container-got-hup' HUP; trap 'exit 0' TERM; echo ready-for-hup; while :; do sleep 0.2; done`})
		startUnit(t, b, unit)
		pid := checkMainPID(t, b, unit)
		waitFor(t, shortWait, "ready-for-hup in the journal", func() bool {
			return strings.Contains(b.Journal(unit), "ready-for-hup")
		})
		if _, err := b.Systemctl("kill", "-s", "HUP", unit); err != nil {
			t.Fatalf("systemctl kill -s HUP: %v", err)
		}
		waitFor(t, shortWait, "container-got-hup in the journal", func() bool {
			return strings.Contains(b.Journal(unit), "container-got-hup")
		})
		// The case is about time: the unit must stay active for a while after HUP.
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			if st := b.Show(unit, "ActiveState"); st != "active" {
				t.Fatalf("ActiveState = %q after HUP, want active (Result=%s)", st, b.Show(unit, "Result"))
			}
			time.Sleep(200 * time.Millisecond)
		}
		if mp := b.Show(unit, "MainPID"); mp != strconv.Itoa(pid) {
			t.Errorf("MainPID = %s after HUP, want %d", mp, pid)
		}
		if left, err := b.Pids("systemd-docker"); err != nil || len(left) == 0 {
			t.Errorf("systemd-docker no longer runs after HUP (%v)", err)
		}
		stopAndCheckGone(t, b, unit)
	})
}

// 7. Eight units started by one systemctl call.
func TestMoreEightAtOnce(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		const n = 8
		units := make([]string, n)
		for i := range units {
			units[i] = installUnit(t, b, unitSpec{docker: "--rm", script: unitIdleScript})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		start := time.Now()
		_, stderr, err := b.ExecContext(ctx, append([]string{"systemctl", "start"}, units...)...)
		cancel()
		if err != nil {
			t.Fatalf("systemctl start (8 units): %v: %s", err, stderr)
		}
		t.Logf("8 units started in %s", time.Since(start).Round(time.Millisecond))
		pids := map[int]string{}
		for _, u := range units {
			if st := b.Show(u, "ActiveState"); st != "active" {
				t.Errorf("%s: ActiveState = %q, want active", u, st)
				continue
			}
			pid := checkMainPID(t, b, u)
			if other, dup := pids[pid]; dup {
				t.Errorf("%s and %s share pid %d", u, other, pid)
			}
			pids[pid] = u
		}
		var wg sync.WaitGroup
		for _, u := range units {
			wg.Go(func() { _, _ = b.Systemctl("stop", u) })
		}
		wg.Wait()
		for _, u := range units {
			waitFor(t, shortWait, "no container "+u+" after stop", func() bool { return !boxContainerExists(t, b, u) })
		}
	})
}

// 8. --notify: the container's READY=1 decides when start returns; its STATUS
// reaches systemd; MAINPID from inside is dropped.
func TestMoreNotifyReady(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		t.Run("delayed", func(t *testing.T) {
			unit := installUnit(t, b, unitSpec{flags: "--notify", docker: "--rm --stop-timeout 2",
				script: `sleep 2; sdnotify READY=1 STATUS=hi; exec sleep 1000`})
			start := time.Now()
			startUnit(t, b, unit)
			took := time.Since(start)
			t.Logf("systemctl start took %s", took.Round(time.Millisecond))
			if took < 1800*time.Millisecond {
				t.Errorf("systemctl start returned after %s, before the container's READY=1 (sent after 2 s)", took)
			}
			waitState(t, b, unit, "active", shortWait)
			if st := b.Show(unit, "StatusText"); !strings.Contains(st, "hi") {
				t.Errorf("StatusText = %q, want it to contain \"hi\"", st)
			}
			checkMainPID(t, b, unit)
			stopAndCheckGone(t, b, unit)
		})
		t.Run("mainpid-dropped", func(t *testing.T) {
			unit := installUnit(t, b, unitSpec{flags: "--notify", docker: "--rm --stop-timeout 2",
				script: `sdnotify MAINPID=1 READY=1; sdnotify MAINPID=1 STATUS=after; exec sleep 1000`})
			startUnit(t, b, unit)
			pid, err := b.ContainerPid(unit)
			if err != nil {
				t.Fatal(err)
			}
			if mp := b.Show(unit, "MainPID"); mp != strconv.Itoa(pid) {
				t.Errorf("MainPID = %s right after start, want the container's host pid %d", mp, pid)
			}
			waitFor(t, shortWait, "STATUS=after to arrive", func() bool { return strings.Contains(b.Show(unit, "StatusText"), "after") })
			if mp := b.Show(unit, "MainPID"); mp != strconv.Itoa(pid) {
				t.Errorf("MainPID = %s after a second MAINPID=1, want the container's host pid %d", mp, pid)
			}
			if st := b.Show(unit, "ActiveState"); st != "active" {
				t.Errorf("ActiveState = %q, want active", st)
			}
			stopAndCheckGone(t, b, unit)
		})
	})
}

// slowDocker writes a docker CLI wrapper into /share that prints progress
// lines to stderr (script) before exec'ing the real docker; it returns its path.
func slowDocker(t *testing.T, b *box.Box, body string) string {
	t.Helper()
	out, _, err := b.Exec("sh", "-c", "command -v docker")
	docker := strings.TrimSpace(out)
	if err != nil || docker == "" {
		t.Fatalf("no docker in the box's PATH: %v", err)
	}
	script := "#!/bin/sh\n" + body + "\nexec " + docker + ` "$@"` + "\n"
	return shareFile(t, b, "slowdocker-"+randHex(6), script, 0o755)
}

// 9. A long but progressing `docker create` (pull) outlives TimeoutStartSec;
// a stalled one does not.
func TestMoreSlowPull(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		t.Run("progress", func(t *testing.T) {
			cli := slowDocker(t, b, `i=0; while [ "$i" -lt 8 ]; do i=$((i+1)); echo "pulling fake layer $i/8" >&2; sleep 1; done`)
			unit := installUnit(t, b, unitSpec{flags: "--docker-cli=" + cli, docker: "--rm",
				script: unitIdleScript, timeoutStart: "4"})
			// Watch StatusText while start runs.
			stop := make(chan struct{})
			var statusesMu sync.Mutex
			var statuses []string
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(300 * time.Millisecond):
					}
					if s := b.Show(unit, "StatusText"); s != "" {
						statusesMu.Lock()
						if !slices.Contains(statuses, s) {
							statuses = append(statuses, s)
						}
						statusesMu.Unlock()
					}
				}
			}()
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			_, stderr, err := b.ExecContext(ctx, "systemctl", "start", unit)
			cancel()
			took := time.Since(start)
			close(stop)
			statusesMu.Lock()
			t.Logf("systemctl start took %s; StatusText seen: %q", took.Round(time.Millisecond), statuses)
			sawProgress := slices.ContainsFunc(statuses, func(s string) bool { return strings.Contains(s, "pulling fake layer") })
			statusesMu.Unlock()
			if err != nil {
				t.Fatalf("systemctl start with an 8 s progressing create and TimeoutStartSec=4: %v: %s (Result=%s)",
					err, strings.TrimSpace(stderr), b.Show(unit, "Result"))
			}
			waitState(t, b, unit, "active", shortWait)
			checkMainPID(t, b, unit)
			if !sawProgress {
				t.Errorf("no STATUS= with the CLI's progress line seen: %q", statuses)
			}
			stopAndCheckGone(t, b, unit)
		})
		t.Run("stalled", func(t *testing.T) {
			// One line, then silence: after --pull-progress-timeout the start
			// timeout is no longer extended (the last extension is 10 s).
			cli := slowDocker(t, b, `echo "pulling fake layer 1/8" >&2; sleep 30`)
			unit := installUnit(t, b, unitSpec{flags: "--pull-progress-timeout=3s --docker-cli=" + cli, docker: "--rm",
				script: unitIdleScript, timeoutStart: "4"})
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			_, _, err := b.ExecContext(ctx, "systemctl", "start", unit)
			cancel()
			if err == nil {
				t.Errorf("systemctl start succeeded with a stalled create")
			}
			waitFor(t, 30*time.Second-time.Since(start), "the unit to fail within 30 s", func() bool {
				st := b.Show(unit, "ActiveState")
				return st == "failed" || st == "inactive"
			})
			t.Logf("start ended after %s", time.Since(start).Round(time.Millisecond))
			if r := b.Show(unit, "Result"); r != "timeout" {
				t.Errorf("Result = %q, want timeout", r)
			}
			waitFor(t, shortWait, "no container left", func() bool { return !boxContainerExists(t, b, unit) })
		})
	})
}
