//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

// Bounds of every wait in the tests.
const (
	shortWait = 15 * time.Second // something that should be (nearly) immediate
	longWait  = 60 * time.Second // a whole wrapper run / a unit start
)

// idleScript runs until SIGTERM, then exits 0.
const idleScript = `trap 'exit 0' TERM; while :; do sleep 0.1; done`

// byeScript prints "ready", then on SIGTERM prints "bye" and exits 0.
const byeScript = `trap 'echo bye; exit 0' TERM; echo ready; while :; do sleep 0.1; done`

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// uniqueName is a container/unit-safe name derived from the test name.
func uniqueName(t testing.TB) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		default:
			sb.WriteByte('-')
		}
	}
	s := strings.Trim(sb.String(), "-")
	if len(s) > 40 {
		s = s[:40]
	}
	return "sdtest-" + s + "-" + randHex(4)
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// wrapper is one systemd-docker child process.
type wrapper struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{}
	code   int
	notify *notifyListener // nil unless started with withNotify
}

type wrapperOpt func(*exec.Cmd, *wrapper)

// withEnv adds KEY=VALUE entries to the wrapper's environment.
func withEnv(kv ...string) wrapperOpt {
	return func(c *exec.Cmd, _ *wrapper) { c.Env = append(c.Env, kv...) }
}

// withNotify gives the wrapper a NOTIFY_SOCKET we listen on.
func withNotify() wrapperOpt {
	return func(c *exec.Cmd, w *wrapper) {
		w.notify = newNotifyListener(w.t)
		c.Env = append(c.Env, "NOTIFY_SOCKET="+w.notify.path)
	}
}

// startWrapper starts the binary under test with args, in our environment
// minus systemd's per-service variables. The process is killed at cleanup.
func startWrapper(t testing.TB, args []string, opts ...wrapperOpt) *wrapper {
	t.Helper()
	bin := needBinary(t)
	w := &wrapper{t: t, done: make(chan struct{}), code: -1}
	cmd := exec.Command(bin, args...)
	cmd.Env = withoutSystemdEnv(os.Environ())
	for _, o := range opts {
		o(cmd, w)
	}
	cmd.Stdout, cmd.Stderr = &w.stdout, &w.stderr
	cmd.WaitDelay = 5 * time.Second
	w.cmd = cmd
	t.Logf("$ systemd-docker %s", strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
			w.code = 0
		case errors.As(err, &ee):
			w.code = ee.ExitCode() // -1 when killed by a signal
		}
		close(w.done)
	}()
	t.Cleanup(func() {
		select {
		case <-w.done:
		default:
			_ = cmd.Process.Kill()
			<-w.done
		}
		if t.Failed() {
			t.Logf("wrapper stdout:\n%s\nwrapper stderr:\n%s", w.stdout.String(), w.stderr.String())
		}
	})
	return w
}

// wait waits for the wrapper to exit and returns its exit code; it fails the
// test (after killing the wrapper) when that takes longer than timeout.
func (w *wrapper) wait(timeout time.Duration) int {
	w.t.Helper()
	select {
	case <-w.done:
		return w.code
	case <-time.After(timeout):
		_ = w.cmd.Process.Kill()
		<-w.done
		w.t.Fatalf("systemd-docker did not exit within %s (killed)\nstdout:\n%s\nstderr:\n%s",
			timeout, w.stdout.String(), w.stderr.String())
		return -1
	}
}

func (w *wrapper) exited() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func (w *wrapper) signal(sig syscall.Signal) {
	w.t.Helper()
	if err := w.cmd.Process.Signal(sig); err != nil {
		w.t.Fatalf("signal %v: %v", sig, err)
	}
}

// waitReady waits for READY=1 on the wrapper's notify socket and returns all
// assignments seen so far (later ones win). Fails on timeout or wrapper exit.
func (w *wrapper) waitReady(timeout time.Duration) map[string]string {
	w.t.Helper()
	if w.notify == nil {
		w.t.Fatal("waitReady needs withNotify()")
	}
	deadline := time.After(timeout)
	for {
		vars := w.notify.vars()
		if vars["READY"] == "1" {
			return vars
		}
		select {
		case <-w.notify.changed():
		case <-w.done:
			// The datagram may have raced the exit.
			if vars := w.notify.vars(); vars["READY"] == "1" {
				return vars
			}
			w.t.Fatalf("systemd-docker exited (code %d) before READY=1; notify: %q\nstdout:\n%s\nstderr:\n%s",
				w.code, w.notify.messages(), w.stdout.String(), w.stderr.String())
		case <-deadline:
			w.t.Fatalf("no READY=1 within %s; notify: %q\nstderr:\n%s", timeout, w.notify.messages(), w.stderr.String())
		}
	}
}

// notifyListener is a NOTIFY_SOCKET (a unixgram socket) recording datagrams.
type notifyListener struct {
	path string
	conn *net.UnixConn

	mu   sync.Mutex
	msgs []string
	ch   chan struct{} // closed and replaced on every datagram
}

func newNotifyListener(t testing.TB) *notifyListener {
	t.Helper()
	// A short directory: sun_path is limited to 108 bytes.
	dir, err := os.MkdirTemp("", "sdn-")
	if err != nil {
		t.Fatal(err)
	}
	l := &notifyListener{path: filepath.Join(dir, "notify"), ch: make(chan struct{})}
	l.conn, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: l.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 64*1024)
		for {
			n, err := l.conn.Read(buf)
			if err != nil {
				return
			}
			l.mu.Lock()
			l.msgs = append(l.msgs, string(buf[:n]))
			close(l.ch)
			l.ch = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.conn.Close()
		_ = os.RemoveAll(dir)
	})
	return l
}

func (l *notifyListener) changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ch
}

func (l *notifyListener) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

func (l *notifyListener) vars() map[string]string {
	m := map[string]string{}
	for _, msg := range l.messages() {
		for _, line := range strings.Split(msg, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				m[k] = v
			}
		}
	}
	return m
}

// systemdVars are the per-service variables systemd sets.
var systemdVars = []string{"NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
	"WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID", "JOURNAL_STREAM", "MAINPID"}

func withoutSystemdEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(systemdVars, k) {
			out = append(out, kv)
		}
	}
	return out
}

// hostDocker runs the docker client against the host daemon (bounded).
func hostDocker(t testing.TB, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), longWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		err = errors.New("docker " + strings.Join(args, " ") + ": " + err.Error() + ": " + strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), err
}

// mustHostDocker is hostDocker failing the test on error.
func mustHostDocker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := hostDocker(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// removeContainerAtCleanup removes the host container name when the test ends.
func removeContainerAtCleanup(t testing.TB, name string) {
	t.Cleanup(func() { _, _ = hostDocker(t, "rm", "-f", "-v", name) })
}

// hostContainerID returns the full ID of container name, "" if there is none.
func hostContainerID(t testing.TB, name string) string {
	t.Helper()
	out := mustHostDocker(t, "ps", "-a", "-q", "--no-trunc", "--filter", "name=^/"+name+"$")
	return strings.TrimSpace(out)
}

// hostInspect returns docker inspect -f FORMAT of container name.
func hostInspect(t testing.TB, name, format string) string {
	t.Helper()
	return mustHostDocker(t, "inspect", "-f", format, name)
}

func hostContainerPid(t testing.TB, name string) int {
	t.Helper()
	s := hostInspect(t, name, "{{.State.Pid}}")
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 {
		t.Fatalf("container %s has pid %q", name, s)
	}
	return pid
}

// waitFor polls pred; it fails the test with what when pred stays false.
func waitFor(t testing.TB, timeout time.Duration, what string, pred func() bool) {
	t.Helper()
	if !box.WaitFor(pred, timeout) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}

// waitForBool polls pred until true or timeout; it reports the outcome.
func waitForBool(timeout time.Duration, pred func() bool) bool { return box.WaitFor(pred, timeout) }

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		out = append(out, strings.TrimRight(l, "\r"))
	}
	return out
}

func hasLine(s, line string) bool { return slices.Contains(lines(s), line) }

// checkInUnitCgroup fails t unless pid is in unit's cgroup.
func checkInUnitCgroup(t *testing.T, b *box.Box, unit string, pid int) {
	t.Helper()
	cg := b.Show(unit, "ControlGroup")
	if cg == "" {
		t.Fatalf("%s has no ControlGroup", unit)
	}
	procs, err := b.CgroupProcs(cg)
	if err != nil {
		t.Fatalf("read %s: %v", b.CgroupProcsFile(cg), err)
	}
	if !slices.Contains(procs, pid) {
		t.Errorf("%s: container pid %d not in %s (has %v)", unit, pid, b.CgroupProcsFile(cg), procs)
	}
}
