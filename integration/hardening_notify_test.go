//go:build integration

// The --notify proxy and the journal under a real systemd PID 1, in every
// box flavour: a process in the container's mount namespace but not its
// pid namespace is not relayed, alive or already gone when its message is
// read; a container's last line without a newline does not swallow our
// "container ended" line.
package integration

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
)

// hnSendFromMountNS runs the image's sdnotify in the mount namespace of
// process pid only (nsenter -m: the socket at its path, but the box's pid
// namespace), with args.
func hnSendFromMountNS(b *box.Box, pid int, args ...string) (string, error) {
	full := append([]string{"nsenter", "-m", "-t", strconv.Itoa(pid), "--",
		"env", "NOTIFY_SOCKET=" + sdnotify.ContainerSocket, "sdnotify"}, args...)
	_, stderr, err := b.Exec(full...)
	return stderr, err
}

// hnDropped waits until the journal of unit says why the proxy dropped a
// message (said), or the unit became active after all; it fails t unless
// the unit still waits for READY=1 and its status is not the sender's.
func hnDropped(t *testing.T, b *box.Box, unit, said, forged string) {
	t.Helper()
	if !waitForBool(shortWait, func() bool {
		return strings.Contains(b.Journal(unit), said) || b.Show(unit, "ActiveState") != "activating"
	}) {
		t.Errorf("the journal does not say %q", said)
	}
	if st := b.Show(unit, "ActiveState"); st != "activating" {
		t.Errorf("ActiveState = %q, want activating: the forged READY=1 (%s) was relayed", st, forged)
	}
	if st := b.Show(unit, "StatusText"); strings.Contains(st, forged) {
		t.Errorf("StatusText = %q: the forged STATUS=%s was relayed", st, forged)
	}
}

func TestHardeningNotifyForeignSender(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		unit := installUnit(t, b, unitSpec{flags: "--notify", docker: "--rm --stop-timeout 2", script: unitIdleScript})
		if d, stderr, err := hfStart(b, unit, true); err != nil {
			t.Fatalf("systemctl start --no-block: %v (%s): %s", err, d, stderr)
		}
		// Our MAINPID is out, the proxy released: it relays from now on.
		waitFor(t, longWait, "the unit to wait for the container's READY=1", func() bool {
			return strings.Contains(b.Show(unit, "StatusText"), "waiting for the container's READY=1")
		})
		pid := checkMainPID(t, b, unit)

		// 1. Alive, in the container's mount namespace only. sdnotify waits
		// (BARRIER=1) until the proxy has handled its message.
		if stderr, err := hnSendFromMountNS(b, pid, "READY=1", "STATUS=forged-alive"); err != nil {
			t.Fatalf("sdnotify from the container's mount namespace: %v: %s", err, stderr)
		}
		hnDropped(t, b, unit, "from a process outside the container's pid namespace", "forged-alive")

		// 2. Gone before its message is read: the supervisor is stopped
		// while the sender sends and exits, so the proxy reads afterwards,
		// when /proc no longer has the sender.
		wp := hfWrapperPids(t, b, unit)
		if len(wp) != 1 {
			t.Fatalf("systemd-docker processes in %s's cgroup: %v, want one", unit, wp)
		}
		wrapper := wp[0]
		if _, stderr, err := b.Exec("kill", "-STOP", strconv.Itoa(wrapper)); err != nil {
			t.Fatalf("kill -STOP %d: %v: %s", wrapper, err, stderr)
		}
		stopped := true
		cont := func() {
			if stopped {
				if _, stderr, err := b.Exec("kill", "-CONT", strconv.Itoa(wrapper)); err != nil {
					t.Errorf("kill -CONT %d: %v: %s", wrapper, err, stderr)
				}
				stopped = false
			}
		}
		t.Cleanup(cont)
		stderr, err := hnSendFromMountNS(b, pid, "--no-barrier", "READY=1", "STATUS=forged-exited")
		cont()
		if err != nil {
			t.Fatalf("sdnotify --no-barrier from the container's mount namespace: %v: %s", err, stderr)
		}
		hnDropped(t, b, unit, "its sender exited before it was read", "forged-exited")

		// 3. The container itself is heard: sdnotify in its pid namespace,
		// alive until the proxy has handled its message.
		if _, stderr, err := b.Docker("exec", unit, "sdnotify", "READY=1", "STATUS=from-the-container"); err != nil {
			t.Fatalf("docker exec sdnotify: %v: %s", err, stderr)
		}
		waitState(t, b, unit, "active", shortWait)
		if st := b.Show(unit, "StatusText"); st != "from-the-container" {
			t.Errorf("StatusText = %q, want from-the-container", st)
		}
		if j := b.Journal(unit); strings.Contains(j, "forged") {
			t.Errorf("the journal shows a forged message:\n%s", j)
		}
		stopAndCheckGone(t, b, unit)
	})
}

// hnEntry is one journal entry of a unit (journalctl -o json).
type hnEntry struct {
	Message  string `json:"MESSAGE"`
	Priority string `json:"PRIORITY"`
}

func hnJournal(t *testing.T, b *box.Box, unit string) []hnEntry {
	t.Helper()
	out, stderr, err := b.Exec("journalctl", "-u", unit, "-o", "json", "--no-pager")
	if err != nil {
		t.Fatalf("journalctl -u %s: %v: %s", unit, err, stderr)
	}
	var entries []hnEntry
	for _, l := range lines(out) {
		var e hnEntry
		if json.Unmarshal([]byte(l), &e) == nil { // a MESSAGE that is not text is no line of ours
			entries = append(entries, e)
		}
	}
	return entries
}

// A container whose output ends without a newline: its last line and our
// "container ended" line are separate journal entries, ours with its
// priority. Per stream, and with -t (one stream).
func TestHardeningNotifyPartialLastLine(t *testing.T) {
	forEachFlavour(t, func(t *testing.T, b *box.Box) {
		for _, tc := range []struct {
			name, docker, script, line string
		}{
			{"stdout", "--rm", "printf partial-tail-no-newline; sleep 1", "partial-tail-no-newline"},
			{"stderr", "--rm", "printf partial-err-no-newline >&2; sleep 1", "partial-err-no-newline"},
			{"tty", "--rm -t", "printf partial-tty-no-newline; sleep 1", "partial-tty-no-newline"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				unit := installUnit(t, b, unitSpec{docker: tc.docker, script: tc.script})
				startUnit(t, b, unit)
				hfWaitState(t, b, unit, longWait, "inactive", "failed")
				var entries []hnEntry
				ended := -1
				if !waitForBool(shortWait, func() bool {
					entries = hnJournal(t, b, unit)
					for i, e := range entries {
						if strings.Contains(e.Message, "container ended") {
							ended = i
							return true
						}
					}
					return false
				}) {
					t.Fatalf("no \"container ended\" in the journal of %s:\n%s", unit, b.Journal(unit))
				}
				own := -1
				for i, e := range entries[:ended] {
					if e.Message == tc.line {
						own = i
					}
				}
				if own < 0 {
					t.Errorf("no journal entry %q (the container's last line, whole and alone) before ours", tc.line)
				}
				if e := entries[ended]; !strings.HasPrefix(e.Message, "INFO container ended") || e.Priority != "6" {
					t.Errorf("our line is %q with PRIORITY=%s, want \"INFO container ended …\" with 6", e.Message, e.Priority)
				}
				if t.Failed() {
					for _, e := range entries {
						t.Logf("journal: [%s] %q", e.Priority, e.Message)
					}
				}
			})
		}
	})
}
