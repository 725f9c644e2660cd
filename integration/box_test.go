//go:build integration

package integration

import (
	"context"
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
		switch b.Flavour {
		case box.Hybrid:
			if errUnifiedDir != nil {
				t.Errorf("hybrid: %s missing", unifiedDir)
			}
			if errControllers == nil {
				t.Errorf("hybrid: %s exists (pure cgroup2?)", controllers)
			}
		case box.Unified:
			wantCgroupVersion = "2"
			if errControllers != nil {
				t.Errorf("unified: %s missing", controllers)
			}
		}
		if v, _, err := b.Docker("info", "-f", "{{.CgroupVersion}}"); err != nil || strings.TrimSpace(v) != wantCgroupVersion {
			t.Errorf("docker info CgroupVersion = %q (%v), want %s", strings.TrimSpace(v), err, wantCgroupVersion)
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
