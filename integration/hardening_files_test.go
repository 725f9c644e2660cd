//go:build integration

// The files systemd-docker touches, under a real systemd PID 1 in both
// cgroup layouts: a pid file replaced behind its back (a FIFO, a symlink to
// /dev/zero), an empty --pid-file, a container name too long for a lock
// file name, and the run directory of a supervisor that is not root.
package integration

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// hardStop runs `systemctl stop` (bounded) and returns how long it took.
func hardStop(t *testing.T, b *box.Box, unit string) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	t0 := time.Now()
	if _, stderr, err := b.ExecContext(ctx, "systemctl", "stop", unit); err != nil {
		t.Errorf("systemctl stop %s: %v: %s", unit, err, stderr)
	}
	return time.Since(t0)
}

// hardFileType is stat's name for the type of path in the box ("fifo",
// "symbolic link", "regular file"), or "" when there is nothing.
func hardFileType(b *box.Box, path string) string {
	out, _, err := b.Exec("stat", "-c", "%F", path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// consumedLine is systemd's note at the end of a unit's run (with CPUAccounting=).
var consumedLine = regexp.MustCompile(`Consumed ((?:[0-9.]+(?:min|ms|us|µs|s|h) ?)+) CPU time`)

// hardConsumedCPU is the CPU time systemd says the unit's last run
// consumed, from its journal; false when the journal has no such line,
// which systemd writes only above 1 s (MENTIONWORTHY_CPU_NSEC).
func hardConsumedCPU(b *box.Box, unit string) (time.Duration, bool) {
	var m []string
	if !waitForBool(3*time.Second, func() bool {
		all := consumedLine.FindAllStringSubmatch(b.Journal(unit), -1)
		if len(all) > 0 {
			m = all[len(all)-1]
		}
		return m != nil
	}) {
		return 0, false
	}
	d, err := time.ParseDuration(strings.NewReplacer("min", "m", " ", "").Replace(m[1]))
	return d, err == nil
}

// A pid file replaced while the container runs by something that is not a
// regular file is neither read nor removed at stop: the stop ends at once,
// not at TimeoutStopSec= (a FIFO blocked the read) or in an OOM kill (a
// symlink to /dev/zero fed it without end).
func TestHardeningFilesPidFileSwapped(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		for _, tc := range []struct {
			name string
			swap string // sh command; %[1]s is the pid file
			kind string // hardFileType of what is left
		}{
			{"fifo", "mkfifo %[1]s.new && mv -f %[1]s.new %[1]s", "fifo"},
			{"symlink-dev-zero", "ln -sfn /dev/zero %[1]s", "symbolic link"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				pidFile := "/run/sdtest-" + randHex(6) + ".pid"
				t.Cleanup(func() { _, _, _ = b.Exec("rm", "-f", pidFile, pidFile+".new") })
				const stopTimeout = 20 * time.Second
				// TimeoutStopSec= bounds a wrapper that hangs on the FIFO or reads
				// /dev/zero (the boxes enforce no MemoryMax= on units).
				unit := installUnit(t, b, unitSpec{flags: "--pid-file=" + pidFile, docker: "--rm", script: unitIdleScript,
					serviceLines: []string{fmt.Sprintf("TimeoutStopSec=%d", int(stopTimeout.Seconds()))}})
				startUnit(t, b, unit)
				pid := checkMainPID(t, b, unit)
				waitFor(t, shortWait, "the pid file to hold the container's pid", func() bool {
					out, _, err := b.Exec("cat", pidFile)
					return err == nil && strings.TrimSpace(out) == strconv.Itoa(pid)
				})
				if _, stderr, err := b.Exec("sh", "-c", fmt.Sprintf(tc.swap, pidFile)); err != nil {
					t.Fatalf("replace the pid file: %v: %s", err, stderr)
				}
				if k := hardFileType(b, pidFile); k != tc.kind {
					t.Fatalf("pid file is a %q after the swap, want %q", k, tc.kind)
				}
				took := hardStop(t, b, unit)
				t.Logf("systemctl stop took %s; Result=%s ExecMainStatus=%s", took.Round(time.Millisecond),
					b.Show(unit, "Result"), b.Show(unit, "ExecMainStatus"))
				if took > stopTimeout/2 {
					t.Errorf("systemctl stop took %s (TimeoutStopSec=%s): the wrapper hung on the pid file", took, stopTimeout)
				}
				if r := b.Show(unit, "Result"); r != "success" {
					t.Errorf("Result = %s after stop, want success (timeout: hung on the pid file; oom-kill: read it without end)", r)
				}
				// A wrapper reading /dev/zero burns CPU as it grows (23 s of it
				// before TimeoutStopSec=20 with the old code): what the unit
				// consumed says whether anything was read.
				if cpu, ok := hardConsumedCPU(b, unit); ok && cpu > 3*time.Second {
					t.Errorf("the unit consumed %s of CPU: the wrapper read the pid file's target", cpu)
				}
				if j := b.Journal(unit); strings.Contains(strings.ToLower(j), "oom") {
					t.Errorf("the journal mentions an OOM kill:\n%s", j)
				}
				if k := hardFileType(b, pidFile); k != tc.kind {
					t.Errorf("after stop the pid file's path holds %q, want the %s left in place", k, tc.kind)
				}
				waitFor(t, shortWait, "no container named "+unit+" after stop", func() bool {
					return !boxContainerExists(t, b, unit)
				})
			})
		}
	})
}

// A container name of 250 characters (docker sets no limit) runs and stops
// cleanly: its lock file gets a shortened name.
func TestHardeningFilesLongName(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		name := "sdtest-long-" + randHex(4) + "-"
		name += strings.Repeat("x", 250-len(name))
		text := unitSpec{docker: "--rm", script: unitIdleScript}.text()
		if !strings.Contains(text, "--name %n ") {
			t.Fatalf("unit text has no --name %%n:\n%s", text)
		}
		text = strings.Replace(text, "--name %n ", "--name "+name+" ", 1)
		needBinary(t)
		unit := installUnitText(t, b, text)
		t.Cleanup(func() { _, _, _ = b.Docker("rm", "-f", "-v", name) })
		startUnit(t, b, unit)
		pid, err := b.ContainerPid(name)
		if err != nil {
			t.Fatalf("container %s…: %v", name[:30], err)
		}
		if mp := b.Show(unit, "MainPID"); mp != strconv.Itoa(pid) {
			t.Errorf("MainPID = %s, want the container's pid %d", mp, pid)
		}
		lockGlob := "/run/systemd-docker/name-" + name[:64] + "+*.lock"
		out, _, err := b.Exec("sh", "-c", "ls "+lockGlob)
		if err != nil || len(lines(strings.TrimSpace(out))) != 1 {
			t.Errorf("lock file %s while running: %q, %v; want one", lockGlob, out, err)
		}
		took := hardStop(t, b, unit)
		if r := b.Show(unit, "Result"); r != "success" {
			t.Errorf("Result = %s after stop (%s), want success", r, took.Round(time.Millisecond))
		}
		waitFor(t, shortWait, "no container of the long name after stop", func() bool {
			return !boxContainerExists(t, b, name)
		})
		if out, _, err := b.Exec("sh", "-c", "ls "+lockGlob); err == nil {
			t.Errorf("lock file left after stop: %s", out)
		}
	})
}

// A supervisor that is not root never uses the shared /tmp/systemd-docker:
// without RUNTIME_DIRECTORY or XDG_RUNTIME_DIR it says what to set; with
// XDG_RUNTIME_DIR it makes $XDG_RUNTIME_DIR/systemd-docker, mode 0700.
func TestHardeningFilesRunDirNotRoot(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		needBinary(t)
		const nobody = "65534"
		xdg := "/tmp/sdtest-xdg-" + randHex(4)
		t.Cleanup(func() { _, _, _ = b.Exec("rm", "-rf", xdg) })
		if _, stderr, err := b.Exec("sh", "-c", "mkdir -m 0700 "+xdg+" && chown "+nobody+":"+nobody+" "+xdg); err != nil {
			t.Fatalf("make %s: %v: %s", xdg, err, stderr)
		}
		asNobody := func(env ...string) (string, int) {
			t.Helper()
			args := []string{"setpriv", "--reuid=" + nobody, "--regid=" + nobody, "--clear-groups",
				"env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
			args = append(args, env...)
			args = append(args, box.ShareMount+"/systemd-docker", "run", "--rm", "--name", uniqueName(t), "--network", "none", image, "true")
			ctx, cancel := context.WithTimeout(context.Background(), longWait)
			defer cancel()
			_, stderr, err := b.ExecContext(ctx, args...)
			t.Logf("%s → %v\n%s", strings.Join(env, " "), err, stderr)
			if err == nil {
				return stderr, 0
			}
			return stderr, box.ExitCode(err)
		}
		stderr, code := asNobody()
		if code != 125 {
			t.Errorf("without a run directory: exit %d, want 125", code)
		}
		for _, want := range []string{"RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR", "RuntimeDirectory="} {
			if !strings.Contains(stderr, want) {
				t.Errorf("without a run directory, stderr does not say %q:\n%s", want, stderr)
			}
		}
		// Past the run directory: a daemon that is not there, 125 again, for that reason.
		stderr, code = asNobody("XDG_RUNTIME_DIR="+xdg, "DOCKER_HOST=unix:///nonexistent/docker.sock")
		if code != 125 || strings.Contains(stderr, "run directory") || strings.Contains(stderr, "XDG_RUNTIME_DIR") {
			t.Errorf("with XDG_RUNTIME_DIR: exit %d, want 125 for the daemon, not for the run directory:\n%s", code, stderr)
		}
		out, _, err := b.Exec("stat", "-c", "%u %a %F", xdg+"/systemd-docker")
		if got := strings.TrimSpace(out); err != nil || got != nobody+" 700 directory" {
			t.Errorf("%s/systemd-docker: %q, %v; want a directory of uid %s, mode 700", xdg, got, err, nobody)
		}
	})
}
