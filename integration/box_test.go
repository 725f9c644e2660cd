//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// TestBoxBoots checks the harness itself: systemd is PID 1 in the box, the
// cgroup layout is the flavour's, dockerd inside runs the test image, and the
// image's sdnotify helper talks to systemd.
func TestBoxBoots(t *testing.T) {
	t.Parallel()
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		if out, _, err := b.Exec("cat", "/proc/1/comm"); err != nil || strings.TrimSpace(out) != "systemd" {
			t.Errorf("PID 1 is %q (%v), want systemd", strings.TrimSpace(out), err)
		}
		unifiedDir := "/sys/fs/cgroup/unified"
		controllers := "/sys/fs/cgroup/cgroup.controllers"
		_, _, errUnifiedDir := b.Exec("test", "-d", unifiedDir)
		_, _, errControllers := b.Exec("test", "-e", controllers)
		wantCgroupVersion := "1"
		if b.Flavour.PureV2() {
			wantCgroupVersion = "2"
			if errControllers != nil {
				t.Errorf("%s: %s missing", b.Flavour, controllers)
			}
		} else {
			if errUnifiedDir != nil {
				t.Errorf("%s: %s missing", b.Flavour, unifiedDir)
			}
			if errControllers == nil {
				t.Errorf("%s: %s exists (pure cgroup2?)", b.Flavour, controllers)
			}
		}
		if v, _, err := b.Docker("info", "-f", "{{.CgroupVersion}}"); err != nil || strings.TrimSpace(v) != wantCgroupVersion {
			t.Errorf("docker info CgroupVersion = %q (%v), want %s", strings.TrimSpace(v), err, wantCgroupVersion)
		}

		// Which client and which daemon the tests talk to: the client is the
		// first docker in the box's PATH (the host's /usr: /usr/local/bin/docker
		// where one was installed, else Debian's /usr/bin/docker).
		cli, _, _ := b.Exec("sh", "-c", "command -v docker")
		versions, stderr, err := b.Docker("version", "-f",
			"client {{.Client.Version}}, server {{.Server.Version}} (API {{.Server.APIVersion}}){{range .Server.Components}}, {{.Name}} {{.Version}}{{end}}")
		if err != nil {
			t.Fatalf("docker version: %v: %s", err, stderr)
		}
		t.Logf("%s: %s", strings.TrimSpace(cli), strings.TrimSpace(versions))
		if b.Flavour == box.UnifiedDocker26 {
			// Its dockerd found Debian 13's containerd and runc first in PATH.
			for _, want := range []string{"server 26.1.", "(API 1.45)", "containerd 1.7.24", "runc 1.1.15"} {
				if !strings.Contains(versions, want) {
					t.Errorf("docker version in the %s box lacks %q: %s", b.Flavour, want, versions)
				}
			}
		}

		out, stderr, err := b.Docker("run", "--rm", "--network", "none", image, "echo", "ok")
		if err != nil || strings.TrimSpace(out) != "ok" {
			t.Errorf("docker run %s echo ok: %q, %v: %s", image, out, err, stderr)
		}
		// sdnotify is in the image and complains without NOTIFY_SOCKET.
		_, stderr, err = b.Docker("run", "--rm", "--network", "none", image, "sdnotify", "READY=1")
		if box.ExitCode(err) != 1 || !strings.Contains(stderr, "NOTIFY_SOCKET is not set") {
			t.Errorf("sdnotify in the image: %v: %s", err, stderr)
		}

		// The sdnotify helper speaks the protocol: a transient Type=notify unit gets READY and STATUS.
		unit := uniqueName(t) + ".service"
		t.Cleanup(func() {
			_, _ = b.Systemctl("stop", unit)
			_, _ = b.Systemctl("reset-failed", unit)
		})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// sdnotify is the main process: systemd maps a datagram to its unit by
		// the sender's pid, which for an unwatched child that already exited fails.
		_, stderr, err = b.ExecContext(ctx, "systemd-run", "--unit="+unit, "-p", "Type=notify", "-p", "RemainAfterExit=yes",
			box.ShareMount+"/sdnotify", "READY=1", "STATUS=sdnotify-ok")
		if err != nil {
			t.Fatalf("systemd-run Type=notify unit with sdnotify: %v: %s", err, stderr)
		}
		if st := b.Show(unit, "StatusText"); st != "sdnotify-ok" {
			t.Errorf("StatusText = %q, want sdnotify-ok", st)
		}
	})
}

// TestBoxExec checks how Box.Exec runs a command: in a scope of the box's
// systemd (never in the test runner's host cgroup, which on pure v2 reads
// 0::/../.. inside), with its own stdout, stderr and exit status and the box's
// environment, and killed with its children when its context ends.
func TestBoxExec(t *testing.T) {
	t.Parallel()
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		out, stderr, err := b.Exec("cat", "/proc/self/cgroup")
		if err != nil {
			t.Fatalf("cat /proc/self/cgroup: %v: %s", err, stderr)
		}
		var v2 string
		for _, l := range lines(out) {
			if p, ok := strings.CutPrefix(l, "0::"); ok {
				v2 = p
			}
		}
		if !strings.HasPrefix(v2, "/system.slice/run-") || !strings.HasSuffix(v2, ".scope") {
			t.Errorf("cgroup2 path of an Exec'd command = %q, want a transient scope in /system.slice:\n%s", v2, out)
		}

		out, stderr, err = b.Exec("sh", "-c", `echo "out $DOCKER_HOST"; echo err >&2; exit 7`)
		if box.ExitCode(err) != 7 || out != "out "+box.DockerHost+"\n" || stderr != "err\n" {
			t.Errorf("sh -c 'echo out; echo err >&2; exit 7': stdout %q, stderr %q, %v; want %q, %q, exit 7",
				out, stderr, err, "out "+box.DockerHost+"\n", "err\n")
		}

		// A timeout kills the command's whole tree, not just nsenter.
		pidFile := "exec-timeout-" + randHex(4) + ".pid"
		t.Cleanup(func() { _ = os.Remove(filepath.Join(b.ShareDir, pidFile)) })
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		t0 := time.Now()
		_, _, err = b.ExecContext(ctx, "sh", "-c", `sh -c 'echo $$ >"$1"; exec sleep 600' sh "$1"; echo unreachable`,
			"sh", box.ShareMount+"/"+pidFile)
		if took := time.Since(t0); err == nil || ctx.Err() == nil || took > 10*time.Second {
			t.Fatalf("Exec of a sleep bounded by 2 s: %v after %s, want a timeout error at once", err, took.Round(time.Millisecond))
		}
		data, err := os.ReadFile(filepath.Join(b.ShareDir, pidFile))
		if err != nil {
			t.Fatalf("the command did not start: %v", err)
		}
		pid := strings.TrimSpace(string(data))
		waitFor(t, shortWait, "the timed-out command's child (pid "+pid+" in the box) to be gone", func() bool {
			_, _, err := b.Exec("test", "-e", "/proc/"+pid)
			return err != nil
		})
	})
}
