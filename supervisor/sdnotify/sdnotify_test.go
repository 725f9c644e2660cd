package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeSystemd is the service manager's end of $NOTIFY_SOCKET: a real
// unixgram socket, as in go-systemd's own tests.
type fakeSystemd struct {
	addr string
	conn *net.UnixConn
}

// listen makes a fake systemd at addr (a path, or "@name" for the abstract
// namespace) and points $NOTIFY_SOCKET at it for the test.
func listen(t *testing.T, addr string) *fakeSystemd {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", "") // Send sets it; restore it afterwards
	return &fakeSystemd{addr: addr, conn: conn}
}

func listenTemp(t *testing.T) *fakeSystemd {
	return listen(t, filepath.Join(t.TempDir(), "notify.sock"))
}

// recv reads one datagram and the file descriptors sent with it.
func (s *fakeSystemd) recv(t *testing.T) (string, []int) {
	t.Helper()
	msg, fds, err := s.tryRecv(5 * time.Second)
	if err != nil {
		t.Fatalf("fake systemd: %v", err)
	}
	return msg, fds
}

func (s *fakeSystemd) tryRecv(timeout time.Duration) (string, []int, error) {
	if err := s.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return "", nil, err
	}
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, _, _, err := s.conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return "", nil, fmt.Errorf("read: %w", err)
	}
	var fds []int
	if oobn > 0 {
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return "", nil, fmt.Errorf("parse control message: %w", err)
		}
		for _, m := range msgs {
			rights, err := unix.ParseUnixRights(&m)
			if err != nil {
				return "", nil, fmt.Errorf("parse rights: %w", err)
			}
			fds = append(fds, rights...)
		}
	}
	return string(buf[:n]), fds, nil
}

// expectNothing checks that no datagram is waiting.
func (s *fakeSystemd) expectNothing(t *testing.T) {
	t.Helper()
	if msg, _, err := s.tryRecv(10 * time.Millisecond); err == nil {
		t.Errorf("unexpected datagram %q", msg)
	}
}

func TestMessages(t *testing.T) {
	tests := []struct {
		name string
		send func(n *Notifier) error
		want string
	}{
		{"ready", func(n *Notifier) error { return n.Ready(42, true, "running, pid 42") },
			"MAINPID=42\nREADY=1\nSTATUS=running, pid 42"},
		{"ready, not yet", func(n *Notifier) error { return n.Ready(42, false, "waiting") },
			"MAINPID=42\nSTATUS=waiting"},
		{"ready, no pid", func(n *Notifier) error { return n.Ready(0, true, "") }, "READY=1"},
		{"status is one line", func(n *Notifier) error { return n.Status("a\nb") }, "STATUS=a b"},
		{"stopping", func(n *Notifier) error { return n.Stopping("stopping (SIGTERM)") },
			"STOPPING=1\nSTATUS=stopping (SIGTERM)"},
		{"send", func(n *Notifier) error { return n.Send("EXTEND_TIMEOUT_USEC=1", "X=2") },
			"EXTEND_TIMEOUT_USEC=1\nX=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd := listenTemp(t)
			n := &Notifier{Socket: sd.addr}
			if err := tt.send(n); err != nil {
				t.Fatalf("send: %v", err)
			}
			if got, fds := sd.recv(t); got != tt.want || len(fds) != 0 {
				t.Errorf("datagram %q (fds %v), want %q", got, fds, tt.want)
			}
			sd.expectNothing(t) // one datagram, not several
		})
	}
}

func TestAbstractSocket(t *testing.T) {
	addr := fmt.Sprintf("@systemd-docker-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	sd := listen(t, addr)
	n := &Notifier{Socket: addr, BarrierTimeout: 5 * time.Second}
	if err := n.Status("hello"); err != nil {
		t.Fatalf("Status: %v", err)
	}
	if got, _ := sd.recv(t); got != "STATUS=hello" {
		t.Errorf("datagram %q, want STATUS=hello", got)
	}
	errc := make(chan error, 1)
	go func() { errc <- n.Barrier() }()
	msg, fds := sd.recv(t)
	if msg != "BARRIER=1" || len(fds) != 1 {
		t.Fatalf("barrier datagram %q with fds %v", msg, fds)
	}
	unix.Close(fds[0])
	if err := waitErr(t, errc); err != nil {
		t.Errorf("Barrier: %v", err)
	}
}

func TestNoSocketIsANoOp(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := &Notifier{}
	if n.Enabled() {
		t.Fatal("Enabled() with no socket")
	}
	for name, call := range map[string]func() error{
		"Ready":    func() error { return n.Ready(1, true, "x") },
		"Status":   func() error { return n.Status("x") },
		"Stopping": func() error { return n.Stopping("x") },
		"Send":     func() error { return n.Send("X=1") },
		"Barrier":  n.Barrier,
		"Reclaim":  n.Reclaim,
	} {
		if err := call(); err != nil {
			t.Errorf("%s with no socket: %v", name, err)
		}
	}
}

func TestMissingSocketIsAnError(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	path := filepath.Join(t.TempDir(), "absent.sock")
	n := &Notifier{Socket: path}
	for name, call := range map[string]func() error{
		"Status":  func() error { return n.Status("x") },
		"Barrier": n.Barrier,
	} {
		err := call()
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s to a missing socket: %v, want an error naming %s", name, err, path)
		}
	}
}

func TestFromEnv(t *testing.T) {
	tests := []struct {
		environ []string
		want    string
	}{
		{nil, ""},
		{[]string{"A=1", "NOTIFY_SOCKET=/run/systemd/notify", "B=2"}, "/run/systemd/notify"},
		{[]string{"NOTIFY_SOCKET=@abstract"}, "@abstract"},
		{[]string{"XNOTIFY_SOCKET=/x", "NOTIFY_SOCKETS=/y"}, ""},
	}
	for _, tt := range tests {
		n := FromEnv(tt.environ)
		if n.Socket != tt.want || n.Enabled() != (tt.want != "") {
			t.Errorf("FromEnv(%q) = %q (enabled %t), want %q", tt.environ, n.Socket, n.Enabled(), tt.want)
		}
	}
}

func waitErr(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no answer within 10s")
		return nil
	}
}

func TestBarrier(t *testing.T) {
	sd := listenTemp(t)
	n := &Notifier{Socket: sd.addr, BarrierTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- n.Barrier() }()

	msg, fds := sd.recv(t)
	if msg != "BARRIER=1" {
		t.Errorf("barrier datagram %q, want BARRIER=1", msg)
	}
	if len(fds) != 1 {
		t.Fatalf("barrier came with fds %v, want one", fds)
	}
	select {
	case err := <-errc:
		t.Fatalf("Barrier returned (%v) before systemd closed the fd", err)
	default:
	}
	unix.Close(fds[0])
	if err := waitErr(t, errc); err != nil {
		t.Errorf("Barrier: %v", err)
	}
}

func TestBarrierTimeout(t *testing.T) {
	sd := listenTemp(t)
	n := &Notifier{Socket: sd.addr, BarrierTimeout: 50 * time.Millisecond}
	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- n.Barrier() }()
	_, fds := sd.recv(t) // a systemd that never answers: it keeps the fd
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	err := waitErr(t, errc)
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("Barrier = %v, want a timeout error", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("Barrier gave up after %v, before its timeout", d)
	}
}

func TestReclaim(t *testing.T) {
	sd := listenTemp(t)
	n := &Notifier{Socket: sd.addr, BarrierTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- n.Reclaim() }()

	msg, fds := sd.recv(t)
	if want := fmt.Sprintf("MAINPID=%d", os.Getpid()); msg != want || len(fds) != 0 {
		t.Fatalf("first datagram %q (fds %v), want %q", msg, fds, want)
	}
	msg, fds = sd.recv(t)
	if msg != "BARRIER=1" || len(fds) != 1 {
		t.Fatalf("second datagram %q (fds %v), want BARRIER=1 with one fd", msg, fds)
	}
	unix.Close(fds[0])
	if err := waitErr(t, errc); err != nil {
		t.Errorf("Reclaim: %v", err)
	}
}

func TestReclaimFailsWhenSendFails(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := &Notifier{Socket: filepath.Join(t.TempDir(), "absent.sock"), BarrierTimeout: time.Second}
	if err := n.Reclaim(); err == nil {
		t.Fatal("Reclaim to a missing socket succeeded")
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Reclaim waited for a barrier after a failed send: %v", err)
	}
}
