//go:build integration

// A --metrics-dir whose disk stalls (a frozen ext4 loop mount inside the
// box) delays the metrics file only: the unit keeps its watchdog pings and
// stops its container as without metrics.
package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// stallMount is an ext4 file system on a loop device, mounted at Dir inside
// a box, which the test can freeze (fsfreeze: every write to it blocks).
type stallMount struct {
	b   *box.Box
	Dir string
}

// newStallMount makes a 32 MiB ext4 image on the host, attaches it to a
// loop device and mounts it at a new directory under /run in the box. The
// mount is done in the box's mount namespace from the host's cgroup (the
// box's device policy would refuse the loop device) through a device node
// on the box's root: /run is mounted nodev.
func newStallMount(t *testing.T, b *box.Box) *stallMount {
	t.Helper()
	img := filepath.Join(t.TempDir(), "stall.img")
	hostRun(t, "truncate", "-s", "32M", img)
	hostRun(t, "mkfs.ext4", "-q", "-F", img)
	dev := strings.TrimSpace(hostRun(t, "losetup", "--find", "--show", img))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	// stat prints the device numbers in hex; the shell's $((0x…)) makes them decimal for mknod.
	devNum := strings.Fields(hostRun(t, "stat", "-c", "%t %T", dev))
	m := &stallMount{b: b, Dir: "/run/sdtest-stall-" + randHex(4)}
	node := "/sdtest-stall-" + randHex(4) + ".dev"
	m.inBox(t, "sh", "-c", `mknod "$1" b $((0x$2)) $((0x$3)) && mkdir -p "$4" && mount "$1" "$4"; rc=$?; rm -f "$1"; exit $rc`,
		"sh", node, devNum[0], devNum[1], m.Dir)
	t.Cleanup(func() {
		_ = m.nsenter("fsfreeze", "-u", m.Dir).Run()
		_ = m.nsenter("umount", "-l", m.Dir).Run()
	})
	return m
}

// nsenter runs args in the box's mount namespace, from the host's cgroup.
func (m *stallMount) nsenter(args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"-t", strconv.Itoa(m.b.Leader), "-m", "--"}, args...)...)
}

func (m *stallMount) inBox(t *testing.T, args ...string) {
	t.Helper()
	if out, err := m.nsenter(args...).CombinedOutput(); err != nil {
		t.Fatalf("in the box: %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (m *stallMount) freeze(t *testing.T) { m.inBox(t, "fsfreeze", "-f", m.Dir) }
func (m *stallMount) thaw(t *testing.T)   { m.inBox(t, "fsfreeze", "-u", m.Dir) }

func hostRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s (needs util-linux and e2fsprogs on the host: .ci/setup installs them)", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestMetricsDirStalled: with --metrics-dir on a disk that stops answering,
// the unit keeps pinging the watchdog (WatchdogSec=1 would kill it after a
// second of missed pings), and a stop stops and removes its container and
// says that the last metrics were not written. Our exit itself waits for
// the kernel: a thread blocked in a write to a frozen file system cannot
// leave it, so the process ends when the disk is back.
func TestMetricsDirStalled(t *testing.T) {
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Fatalf("no loop devices on the host (%v): this test needs the loop module", err)
	}
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		m := newStallMount(t, b)
		dir := m.Dir + "/textfile"
		unit := installUnit(t, b, unitSpec{flags: "--metrics-dir=" + dir, docker: "--rm",
			script: unitIdleScript, serviceLines: []string{"WatchdogSec=1", "Restart=no", "TimeoutStopSec=90"}})
		startUnit(t, b, unit)
		mdWaitState(t, b, dir+"/"+unit+".prom", unit, "watch")
		id := containerID(t, b, unit)

		m.freeze(t)
		time.Sleep(4 * time.Second) // a watchdog tick every 0.5 s tries to write
		if st, res := b.Show(unit, "ActiveState"), b.Show(unit, "Result"); st != "active" || res != "success" {
			m.thaw(t)
			t.Fatalf("after 4 s on a frozen --metrics-dir: ActiveState=%s Result=%s, want active, success:\n%s", st, res, b.Journal(unit))
		}
		if _, err := b.Systemctl("stop", "--no-block", unit); err != nil {
			m.thaw(t)
			t.Fatalf("systemctl stop: %v", err)
		}
		ok := waitForBool(shortWait, func() bool {
			return strings.Contains(b.Journal(unit), "the last write did not end in time")
		})
		exists, _ := b.ContainerExists(id)
		m.thaw(t)
		if !ok {
			t.Fatalf("no warning about the last metrics write while the disk was frozen:\n%s", b.Journal(unit))
		}
		if exists {
			t.Errorf("container %s still exists after the stop, with the disk frozen", id)
		}
		if st := hfWaitState(t, b, unit, shortWait, "inactive", "failed"); st != "inactive" {
			t.Errorf("ActiveState = %s once the disk is back, want inactive (Result=%s)", st, b.Show(unit, "Result"))
		}
		if j := b.Journal(unit); strings.Contains(j, "Watchdog timeout") || strings.Contains(j, "watchdog fired") {
			t.Errorf("the watchdog fired:\n%s", j)
		}
	})
}
