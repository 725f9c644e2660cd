//go:build integration

// Faults around systemd-docker under a real systemd PID 1: the wrapper
// killed, dockerd restarted or absent, containers that exit at once or run
// out of memory, a second supervisor for one name, a stop during start and
// bad input.
package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
)

// hfRunInBox runs the binary under test inside the box (not in a unit) with
// extra environment entries, bounded by timeout; code is -1 when it did not exit.
func hfRunInBox(t *testing.T, b *box.Box, timeout time.Duration, env []string, args ...string) (stdout, stderr string, code int, took time.Duration) {
	t.Helper()
	needBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append([]string{"env"}, env...)
	full = append(full, box.ShareMount+"/systemd-docker")
	full = append(full, args...)
	t0 := time.Now()
	stdout, stderr, err := b.ExecContext(ctx, full...)
	took = time.Since(t0)
	code = 0
	if err != nil {
		code = box.ExitCode(err)
		if ctx.Err() != nil {
			code = -1
		}
	}
	t.Logf("$ %s → exit %d in %s\nstderr: %s", strings.Join(full, " "), code, took.Round(time.Millisecond), strings.TrimSpace(stderr))
	return stdout, stderr, code, took
}

// hfWrapperPids lists the systemd-docker processes in the unit's cgroup.
func hfWrapperPids(t *testing.T, b *box.Box, unit string) []int {
	t.Helper()
	cg := b.Show(unit, "ControlGroup")
	if cg == "" {
		t.Fatalf("unit %s has no ControlGroup", unit)
	}
	procs, err := b.CgroupProcs(cg)
	if err != nil {
		t.Fatalf("cgroup procs of %s: %v", unit, err)
	}
	var out []int
	for _, p := range procs {
		comm, _, err := b.Exec("cat", "/proc/"+strconv.Itoa(p)+"/comm")
		if err == nil && strings.TrimSpace(comm) == "systemd-docker" {
			out = append(out, p)
		}
	}
	return out
}

// killSupervisor SIGKILLs the one systemd-docker process in unit's cgroup
// and waits until it is gone.
func killSupervisor(t *testing.T, b *box.Box, unit string) {
	t.Helper()
	wp := hfWrapperPids(t, b, unit)
	if len(wp) != 1 {
		t.Fatalf("systemd-docker processes in %s's cgroup: %v, want one", unit, wp)
	}
	if _, stderr, err := b.Exec("kill", "-9", strconv.Itoa(wp[0])); err != nil {
		t.Fatalf("kill -9 %d: %v: %s", wp[0], err, stderr)
	}
	waitFor(t, shortWait, "the killed systemd-docker to be gone", func() bool {
		_, _, err := b.Exec("test", "-e", "/proc/"+strconv.Itoa(wp[0]))
		return err != nil
	})
}

// hfNotifyDir is the host directory of the --notify socket mounted into the container.
func hfNotifyDir(t *testing.T, b *box.Box, name string) string {
	t.Helper()
	out, stderr, err := b.Docker("inspect", "--format", `{{range .Mounts}}{{if eq .Destination "`+sdnotify.ContainerSocket+`"}}{{.Source}}{{end}}{{end}}`, name)
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("the --notify socket of %s: %q, %v: %s", name, out, err, stderr)
	}
	return filepath.Dir(strings.TrimSpace(out))
}

// hfGone fails t if path exists in the box.
func hfGone(t *testing.T, b *box.Box, path, what string) {
	t.Helper()
	if _, _, err := b.Exec("test", "-e", path); err == nil {
		t.Errorf("%s left behind: %s", what, path)
	}
}

func TestFaultWrapperKilled(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{flags: "--notify", docker: "--rm", script: "sdnotify READY=1; " + unitIdleScript})
		startUnit(t, b, unit)
		pid := checkMainPID(t, b, unit)
		id := containerID(t, b, unit)
		oldNotify := hfNotifyDir(t, b, unit)
		killSupervisor(t, b, unit)
		time.Sleep(3 * time.Second) // give systemd and docker a chance to react wrongly
		if st := b.Show(unit, "ActiveState"); st != "active" {
			t.Fatalf("ActiveState = %q after SIGKILL of systemd-docker, want active (Result=%s)", st, b.Show(unit, "Result"))
		}
		if !hfRunning(b, unit) || containerID(t, b, unit) != id {
			t.Fatalf("container %s not running any more (or replaced) after SIGKILL of systemd-docker", unit)
		}
		if mp := b.Show(unit, "MainPID"); mp != strconv.Itoa(pid) {
			t.Errorf("MainPID = %s, want still the container's pid %d", mp, pid)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if _, stderr, err := b.ExecContext(ctx, "systemctl", "restart", unit); err != nil {
			t.Fatalf("systemctl restart: %v: %s", err, stderr)
		}
		if st := b.Show(unit, "ActiveState"); st != "active" {
			t.Fatalf("ActiveState = %q after restart, want active", st)
		}
		out, stderr, err := b.Docker("ps", "-a", "--no-trunc", "--filter", "name=^/"+unit+"$", "--format", "{{.ID}} {{.State}}")
		if err != nil {
			t.Fatalf("docker ps: %v: %s", err, stderr)
		}
		rows := strings.Fields(strings.TrimSpace(out))
		if len(rows) != 2 || rows[1] != "running" {
			t.Fatalf("containers named %s after restart: %q, want exactly one, running", unit, strings.TrimSpace(out))
		}
		newPid := checkMainPID(t, b, unit)
		if wp := hfWrapperPids(t, b, unit); len(wp) != 1 {
			t.Errorf("systemd-docker processes after restart: %v, want one", wp)
		}
		t.Logf("container before %s (pid %d), after %s (pid %d)", id[:12], pid, rows[0][:12], newPid)

		// What the killed supervisor left in /run is cleaned up by the next
		// one (its notify socket directory), or by a clean stop (the rest).
		hfGone(t, b, oldNotify, "the killed supervisor's notify directory")
		newNotify := hfNotifyDir(t, b, unit)
		ctx, cancel = context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if _, stderr, err := b.ExecContext(ctx, "systemctl", "stop", unit); err != nil {
			t.Fatalf("systemctl stop: %v: %s", err, stderr)
		}
		hfGone(t, b, newNotify, "the notify directory")
		hfGone(t, b, "/run/systemd-docker/name-"+unit+".lock", "the name lock")
	})
}

// hfDockerdMu serializes tests that stop the box's dockerd. Such a test must
// also be a non-parallel top-level test, so that no other test (of any
// file) runs while dockerd is down.
var hfDockerdMu sync.Mutex

func hfDockerdAnswers(b *box.Box) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := b.DockerContext(ctx, "version")
	return err == nil
}

func hfStopDockerd(b *box.Box) error {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	return b.StopDockerd(ctx)
}

func hfStartDockerd(b *box.Box, extra ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return b.StartDockerd(ctx, extra...)
}

// forEachFlavourAlone runs fn for each flavour in turn while holding
// hfDockerdMu: for tests that stop or freeze the box's dockerd. The caller
// must be a non-parallel top-level test.
func forEachFlavourAlone(t *testing.T, fn func(t *testing.T, b *box.Box)) {
	hfDockerdMu.Lock()
	defer hfDockerdMu.Unlock()
	for _, f := range box.Flavours {
		t.Run(string(f), func(t *testing.T) { fn(t, getBox(t, f)) })
	}
}

// hfEnsureDockerd brings the box's dockerd back (with extra flags) when it
// does not answer.
func hfEnsureDockerd(t *testing.T, b *box.Box, extra ...string) {
	if hfDockerdAnswers(b) {
		return
	}
	t.Logf("restoring the box's dockerd")
	if st := b.Show(box.DockerUnit, "ActiveState"); st == "active" || st == "activating" || st == "deactivating" {
		if err := hfStopDockerd(b); err != nil {
			t.Errorf("restore dockerd: %v", err)
		}
	}
	if err := hfStartDockerd(b, extra...); err != nil {
		t.Errorf("restore dockerd: %v", err)
	}
}

// TestFaultDockerdRestart is deliberately not parallel (nor are its
// subtests): dockerd is shared by every test in a box.
func TestFaultDockerdRestart(t *testing.T) {
	forEachFlavourAlone(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{
			// No TERM trap: the container must not end with 0 when
			// dockerd stops it, or Restart=on-failure would not apply.
			docker:       "--rm --stop-timeout 3",
			script:       `while :; do sleep 0.2; done`,
			serviceLines: []string{"Restart=on-failure", "RestartSec=2"},
			unitLines:    []string{"StartLimitIntervalSec=0"},
		})
		// Registered after installUnit: runs before its cleanup, which needs dockerd.
		t.Cleanup(func() {
			if t.Failed() {
				j, _, _ := b.Exec("journalctl", "-u", unit, "-u", box.DockerUnit, "-o", "short-precise", "--no-pager", "-n", "60")
				t.Logf("journal of %s and %s with timestamps:\n%s", unit, box.DockerUnit, j)
			}
			hfEnsureDockerd(t, b)
		})
		startUnit(t, b, unit)
		pid := checkMainPID(t, b, unit)
		id := containerID(t, b, unit)
		restarts := b.Show(unit, "NRestarts")

		// A restart: stop dockerd (it stops the container, killing it
		// after --stop-timeout) and start it again at once, as
		// `systemctl restart docker` would.
		t0 := time.Now()
		t.Logf("stopping dockerd at %s", t0.UTC().Format("15:04:05.000"))
		if err := hfStopDockerd(b); err != nil {
			t.Fatal(err)
		}
		t.Logf("dockerd stopped after %s; unit %s/%s, Result=%s, NRestarts=%s", time.Since(t0).Round(100*time.Millisecond),
			b.Show(unit, "ActiveState"), b.Show(unit, "SubState"), b.Show(unit, "Result"), b.Show(unit, "NRestarts"))
		if err := hfStartDockerd(b); err != nil {
			t.Fatalf("start dockerd again: %v", err)
		}
		t.Logf("dockerd back after %s", time.Since(t0).Round(100*time.Millisecond))
		// Left: inactive/failed/auto-restart, or already restarted.
		if !waitForBool(20*time.Second-time.Since(t0), func() bool {
			return b.Show(unit, "ActiveState") != "active" || b.Show(unit, "NRestarts") != restarts ||
				b.Show(unit, "MainPID") != strconv.Itoa(pid)
		}) {
			t.Errorf("unit still active with the old (dead) container pid %d %s after dockerd's restart began", pid, time.Since(t0).Round(time.Second))
		} else {
			t.Logf("unit left the old container after %s (%s/%s, Result=%s, NRestarts=%s)", time.Since(t0).Round(100*time.Millisecond),
				b.Show(unit, "ActiveState"), b.Show(unit, "SubState"), b.Show(unit, "Result"), b.Show(unit, "NRestarts"))
		}
		var newID string
		if !waitForBool(longWait, func() bool {
			if b.Show(unit, "ActiveState") != "active" {
				return false
			}
			newID = containerID(t, b, unit)
			return newID != "" && newID != id && hfRunning(b, unit)
		}) {
			t.Fatalf("unit not active again with a fresh running container within %s of dockerd's return (ActiveState=%s, container %q, old %q)",
				longWait, b.Show(unit, "ActiveState"), newID, id)
		}
		checkMainPID(t, b, unit)
		t.Logf("active again with container %s after %s (NRestarts=%s)", newID[:12], time.Since(t0).Round(100*time.Millisecond), b.Show(unit, "NRestarts"))
	})
}

func TestFaultDockerdDown(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		name := uniqueName(t)
		_, stderr, code, _ := hfRunInBox(t, b, 60*time.Second, []string{"DOCKER_HOST=unix:///nonexistent.sock"},
			"run", "--rm", "--name", name, "--network", "none", image, "true")
		if code != 125 {
			t.Errorf("exit code %d, want 125", code)
		}
		if !strings.Contains(stderr, "unix:///nonexistent.sock") {
			t.Errorf("stderr does not name unix:///nonexistent.sock:\n%s", stderr)
		}
		if containerID(t, b, name) != "" {
			t.Errorf("a container %s was created", name)
		}
	})
}

func TestFaultImmediateExit(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		for _, tc := range []struct {
			name, cmd, state, status, result string
		}{
			{"true", "true", "inactive", "0", "success"},
			{"exit-4", `sh -c "exit 4"`, "failed", "4", "exit-code"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				unit := installUnit(t, b, unitSpec{docker: "--rm", cmd: tc.cmd, serviceLines: []string{"Restart=no"}})
				d, stderr, err := hfStart(b, unit, false)
				t.Logf("systemctl start: %s, %v %s", d.Round(time.Millisecond), err, strings.TrimSpace(stderr))
				st := hfWaitState(t, b, unit, longWait, "inactive", "failed")
				if st != tc.state {
					t.Errorf("ActiveState = %s, want %s (Result=%s)", st, tc.state, b.Show(unit, "Result"))
				}
				if s := b.Show(unit, "ExecMainStatus"); s != tc.status {
					t.Errorf("ExecMainStatus = %s, want %s", s, tc.status)
				}
				if r := b.Show(unit, "Result"); r != tc.result {
					t.Errorf("Result = %s, want %s", r, tc.result)
				}
				waitFor(t, shortWait, "no container left", func() bool { return containerID(t, b, unit) == "" })
			})
		}
		// The exit races the move into the unit's cgroups: the process may
		// be gone (reaped) while Docker still says it runs. That is an
		// exit with the container's code, never a 125.
		t.Run("true, repeatedly", func(t *testing.T) {
			needBinary(t)
			for i := range 12 {
				unit := fmt.Sprintf("%s-%d.service", uniqueName(t), i)
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				_, stderr, err := b.ExecContext(ctx, "systemd-run", "--wait", "--quiet", "--unit", unit,
					"-p", "Type=notify", "-p", "NotifyAccess=all", box.ShareMount+"/systemd-docker",
					"run", "--rm", "--network", "none", image, "true")
				cancel()
				if err != nil {
					t.Errorf("run %d: %v %s\n%s", i, err, stderr, b.Journal(unit))
				}
			}
		})
	})
}

func TestFaultOOM(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		if b.Flavour.PureV2() {
			t.Skip("cgroup v2: the container moves into the unit's own cgroup, so docker's -m (memory.max of docker's cgroup) no longer applies")
		}
		unit := installUnit(t, b, unitSpec{
			flags:        "--cgroups name=systemd",
			docker:       "--rm -m 16m --memory-swap 16m",
			script:       `x=a; while true; do x=$$x$$x; done`,
			serviceLines: []string{"Restart=no"},
		})
		d, stderr, err := hfStart(b, unit, false)
		t.Logf("systemctl start: %s, %v %s", d.Round(time.Millisecond), err, strings.TrimSpace(stderr))
		st := hfWaitState(t, b, unit, longWait, "inactive", "failed")
		if st != "failed" {
			t.Errorf("ActiveState = %s, want failed", st)
		}
		if s := b.Show(unit, "ExecMainStatus"); s != "137" {
			t.Errorf("ExecMainStatus = %s, want 137 (Result=%s)", s, b.Show(unit, "Result"))
		}
		waitFor(t, shortWait, `"oom" in the journal`, func() bool {
			return strings.Contains(strings.ToLower(b.Journal(unit)), "oom")
		})
		waitFor(t, shortWait, "no container left", func() bool { return containerID(t, b, unit) == "" })
	})
}

func TestFaultNameAlreadySupervised(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{docker: "--rm", script: unitIdleScript})
		startUnit(t, b, unit)
		pid := checkMainPID(t, b, unit)
		id := containerID(t, b, unit)
		_, stderr, code, took := hfRunInBox(t, b, 60*time.Second, nil,
			"run", "--rm", "--name", unit, "--network", "none", image, "sleep", "100")
		if code != 125 {
			t.Errorf("second supervisor: exit %d, want 125", code)
		}
		if took > 10*time.Second {
			t.Errorf("second supervisor took %s to give up, want quickly", took)
		}
		if !strings.Contains(stderr, "already supervised") {
			t.Errorf("stderr lacks \"already supervised\":\n%s", stderr)
		}
		if got := containerID(t, b, unit); got != id {
			t.Errorf("container ID %q after the second run, want untouched %q", got, id)
		}
		if !hfRunning(b, unit) {
			t.Errorf("container %s not running after the second run", unit)
		}
		if p, err := b.ContainerPid(unit); err != nil || p != pid {
			t.Errorf("container pid %d (%v), want %d", p, err, pid)
		}
		if st := b.Show(unit, "ActiveState"); st != "active" {
			t.Errorf("ActiveState = %s, want active", st)
		}
	})
}

func TestFaultStopDuringStart(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		dockerPath, stderr, err := b.Exec("sh", "-c", "command -v docker")
		if err != nil {
			t.Fatalf("command -v docker: %v: %s", err, stderr)
		}
		// The create says when it starts and when its sleep is over: the
		// stop must come in between, while the unit is activating.
		const slow = 10 * time.Second
		started, slept := box.ShareMount+"/slowcreate.started", box.ShareMount+"/slowcreate.slept"
		exists := func(path string) bool { _, _, err := b.Exec("test", "-e", path); return err == nil }
		removeMarks := func() { _, _, _ = b.Exec("rm", "-f", started, slept) }
		removeMarks()
		t.Cleanup(removeMarks)
		script := shareFile(t, b, "slowcreate", fmt.Sprintf("#!/bin/sh\ntouch %s\nsleep %d\ntouch %s\nexec %s \"$@\"\n",
			started, int(slow/time.Second), slept, strings.TrimSpace(dockerPath)), 0o755)
		unit := installUnit(t, b, unitSpec{
			flags:  "--docker-cli=" + script,
			docker: "--rm",
			script: unitIdleScript,
		})
		if d, stderr, err := hfStart(b, unit, true); err != nil {
			t.Fatalf("systemctl start --no-block (%s): %v: %s", d, err, stderr)
		}
		waitFor(t, longWait, "the slow docker create to begin", func() bool { return exists(started) })
		sleepEnds := time.Now().Add(slow)
		if st := b.Show(unit, "ActiveState"); st != "activating" {
			t.Fatalf("ActiveState = %s while docker create runs, want activating: the stop would not come during start", st)
		}
		t0 := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		_, stderr, err = b.ExecContext(ctx, "systemctl", "stop", unit)
		cancel()
		if err != nil {
			t.Errorf("systemctl stop: %v: %s", err, stderr)
		}
		st := hfWaitState(t, b, unit, 10*time.Second-time.Since(t0), "inactive", "failed")
		t.Logf("%s %s after stop; Result=%s ExecMainStatus=%s", st, time.Since(t0).Round(100*time.Millisecond),
			b.Show(unit, "Result"), b.Show(unit, "ExecMainStatus"))
		if st != "inactive" {
			t.Errorf("ActiveState = %s after a stop during start, want inactive (a clean stop; Result=%s, ExecMainStatus=%s)",
				st, b.Show(unit, "Result"), b.Show(unit, "ExecMainStatus"))
		}
		if id := containerID(t, b, unit); id != "" {
			t.Errorf("container %s exists after stop during start: %s", unit, id)
		}
		// A create that survived the stop would land once slowcreate's sleep is over.
		time.Sleep(time.Until(sleepEnds) + 2*time.Second)
		if exists(slept) {
			t.Errorf("slowcreate's sleep ran to its end: the stop came after the create (the premise of this test) or did not end it")
		}
		if id := containerID(t, b, unit); id != "" {
			t.Errorf("container %s appeared after the stop: %s", unit, id)
		}
	})
}

// TestFaultBadInput runs the binary directly in the box, in both flavours.
func TestFaultBadInput(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		for _, tc := range []struct {
			name   string
			flags  []string // before "run"
			opts   []string // docker run flags
			img    string
			noRun  bool     // leave "run" (and the docker run flags) out
			want   string   // the input the message must name
			docker []string // lines the docker CLI prints itself, besides our one
		}{
			{name: "restart", opts: []string{"--restart=always"}, want: "--restart=always"},
			{name: "cgroups", flags: []string{"--cgroups=nosuch"}, want: "nosuch"},
			{name: "pid-file", flags: []string{"--pid-file=/nonexistent/dir/x.pid"}, want: "/nonexistent/dir/x.pid"},
			{name: "image", img: "UPPER/Case", want: "UPPER/Case"},
			{name: "docker-cli", flags: []string{"--docker-cli=/nonexistent/docker"}, want: "/nonexistent/docker"},
			{name: "unknown-flag", flags: []string{"--frobnicate"}, want: "--frobnicate"},
			{name: "missing-run", flags: []string{"--logs=false"}, noRun: true, want: "run"},
			{name: "malformed-flag", flags: []string{"--logs=maybe"}, want: "--logs=maybe"},
			// The box has no network: the pull fails at once. Docker's own "Unable to
			// find image" line comes before ours.
			{name: "help", opts: []string{"--help"}, want: "docker run --help does not describe a container"},
			{name: "template-name", opts: []string{"--name", "web@1.service"}, want: "use --name %p-%i"},
			{name: "missing-image", img: "systemd-docker-test/nosuch:1", want: "systemd-docker-test/nosuch:1",
				docker: []string{"Unable to find image 'systemd-docker-test/nosuch:1' locally"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				name := uniqueName(t)
				img := image
				if tc.img != "" {
					img = tc.img
				}
				args := append([]string{}, tc.flags...)
				if !tc.noRun {
					args = append(args, "run", "--rm", "--name", name, "--network", "none")
					args = append(args, tc.opts...)
					args = append(args, img, "true")
				} else {
					args = append(args, img, "true")
				}
				_, stderr, code, _ := hfRunInBox(t, b, 60*time.Second, nil, args...)
				if code != 125 {
					t.Errorf("exit %d, want 125", code)
				}
				var nonEmpty []string
				for _, l := range lines(strings.TrimSpace(stderr)) {
					if strings.TrimSpace(l) != "" && !slices.Contains(tc.docker, l) {
						nonEmpty = append(nonEmpty, l)
					}
				}
				if len(nonEmpty) != 1 {
					t.Errorf("stderr has %d lines, want one:\n%s", len(nonEmpty), stderr)
				}
				if !strings.Contains(stderr, tc.want) {
					t.Errorf("stderr does not name %s:\n%s", tc.want, stderr)
				}
				if id := containerID(t, b, name); id != "" {
					_, _, _ = b.Docker("rm", "-f", name)
					t.Errorf("a container %s was created: %s", name, id)
				}
			})
		}
	})
}

// TestFaultBadInputInUnit: refused input under systemd ends the unit failed
// with 125 and the reason in its journal, before any container exists.
func TestFaultBadInputInUnit(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		for _, tc := range []struct{ name, flags, docker, want string }{
			{"restart", "", "--rm --restart=always", "Restart=on-failure"},
			// An empty --pid-file, in every spelling (the original ignored it).
			{"pid-file-equals", "--pid-file=", "--rm", "empty path; write e.g. --pid-file=/run/NAME.pid"},
			{"pid-file-short-quoted", "-p ''", "--rm", "empty path; write e.g. --pid-file=/run/NAME.pid"},
			{"pid-file-long-double-quoted", `--pid-file ""`, "--rm", "empty path; write e.g. --pid-file=/run/NAME.pid"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				unit := installUnit(t, b, unitSpec{flags: tc.flags, docker: tc.docker, cmd: "true", serviceLines: []string{"Restart=no"}})
				_, _, err := hfStart(b, unit, false)
				if err == nil {
					t.Errorf("systemctl start %s succeeded", unit)
				}
				if st := hfWaitState(t, b, unit, longWait, "inactive", "failed"); st != "failed" {
					t.Errorf("ActiveState = %s, want failed", st)
				}
				if s := b.Show(unit, "ExecMainStatus"); s != "125" {
					t.Errorf("ExecMainStatus = %s, want 125", s)
				}
				waitFor(t, shortWait, "the reason in the journal", func() bool {
					return strings.Contains(b.Journal(unit), tc.want)
				})
				if id := containerID(t, b, unit); id != "" {
					t.Errorf("a container %s was created: %s", unit, id)
				}
			})
		}
		// A template unit's %n (NAME@INSTANCE.service) is no docker name.
		t.Run("template --name %n", func(t *testing.T) {
			needBinary(t)
			tmpl := uniqueName(t) + "@.service"
			unit := strings.Replace(tmpl, "@", "@1", 1)
			if err := b.WriteUnit(tmpl, unitSpec{docker: "--rm", cmd: "true", serviceLines: []string{"Restart=no"}}.text()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_, _, _ = b.Exec("systemctl", "stop", unit)
				_, _, _ = b.Exec("systemctl", "reset-failed", unit)
				_ = b.RemoveUnit(tmpl)
			})
			_, _, _ = hfStart(b, unit, false)
			if st := hfWaitState(t, b, unit, longWait, "inactive", "failed"); st != "failed" {
				t.Errorf("ActiveState = %s, want failed", st)
			}
			if s := b.Show(unit, "ExecMainStatus"); s != "125" {
				t.Errorf("ExecMainStatus = %s, want 125", s)
			}
			waitFor(t, shortWait, "the hint in the journal", func() bool {
				return strings.Contains(b.Journal(unit), "use --name %p-%i")
			})
		})
	})
}

// TestFaultDetachIgnored: docker run -d under the wrapper is ignored with a
// note; the container runs in the foreground and its code is ours.
func TestFaultDetachIgnored(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		name := uniqueName(t)
		stdout, stderr, code, _ := hfRunInBox(t, b, 60*time.Second, nil,
			"run", "--rm", "-d", "--name", name, "--network", "none", image, "sh", "-c", "echo in-the-foreground; exit 3")
		if code != 3 {
			t.Errorf("exit %d, want the container's 3", code)
		}
		if !strings.Contains(stderr, "docker run -d is ignored") {
			t.Errorf("stderr has no note that -d is ignored:\n%s", stderr)
		}
		if !strings.Contains(stdout, "in-the-foreground") {
			t.Errorf("the container's output is not ours: stdout %q", stdout)
		}
		if id := containerID(t, b, name); id != "" {
			_, _, _ = b.Docker("rm", "-f", name)
			t.Errorf("container %s left behind: %s", name, id)
		}
	})
}

// TestFaultStopTimeoutWarning: a TimeoutStopSec= not longer than the
// container's stop timeout is named in the journal at start, with both values.
func TestFaultStopTimeoutWarning(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		for _, tc := range []struct {
			name, docker, timeoutStop string
			want                      string // "" for no warning
		}{
			{"shorter than --stop-timeout", "--rm --stop-timeout 10", "5", "TimeoutStopSec=5s of %s is not longer than the container's stop timeout (10s)"},
			{"shorter than docker's default", "--rm", "8", "TimeoutStopSec=8s of %s is not longer than the container's stop timeout (10s)"},
			{"longer", "--rm --stop-timeout 5", "40", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				unit := installUnit(t, b, unitSpec{docker: tc.docker, script: unitIdleScript,
					serviceLines: []string{"TimeoutStopSec=" + tc.timeoutStop}})
				startUnit(t, b, unit)
				if tc.want != "" {
					want := fmt.Sprintf(tc.want, unit)
					waitFor(t, shortWait, "the TimeoutStopSec warning in the journal", func() bool {
						return strings.Contains(b.Journal(unit), want)
					})
					return
				}
				// The check runs beside create, with a 3 s deadline of its own.
				time.Sleep(3 * time.Second)
				if j := b.Journal(unit); strings.Contains(j, "TimeoutStopSec=") {
					t.Errorf("a TimeoutStopSec warning for TimeoutStopSec=%s, --stop-timeout 5:\n%s", tc.timeoutStop, j)
				}
			})
		}
	})
}
