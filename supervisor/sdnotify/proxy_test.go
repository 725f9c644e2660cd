package sdnotify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// proxyWait bounds every wait in these tests.
const proxyWait = 5 * time.Second

// pxSystemd is the service manager's end: a real unixgram socket in
// t.TempDir(), read by the test.
type pxSystemd struct {
	conn     *net.UnixConn
	notifier *Notifier
}

func newPxSystemd(t *testing.T) *pxSystemd {
	t.Helper()
	path := filepath.Join(t.TempDir(), "systemd.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", path, err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", "") // Notifier.Send sets it; restore it afterwards
	return &pxSystemd{conn: conn, notifier: &Notifier{Socket: path}}
}

// recv reads the next datagram systemd got.
func (s *pxSystemd) recv(t *testing.T) string {
	t.Helper()
	if err := s.conn.SetReadDeadline(time.Now().Add(proxyWait)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 128<<10)
	n, err := s.conn.Read(buf)
	if err != nil {
		t.Fatalf("fake systemd: nothing received: %v", err)
	}
	return string(buf[:n])
}

// expectNothing checks that no datagram is queued. Callers first settle
// the proxy, so anything it sent is already in the socket's queue.
func (s *pxSystemd) expectNothing(t *testing.T) {
	t.Helper()
	if err := s.conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 128<<10)
	if n, err := s.conn.Read(buf); err == nil {
		t.Fatalf("fake systemd got %q, want nothing", buf[:n])
	}
}

// startProxy makes a proxy relaying to n and runs it until the test ends.
// configure, when set, runs before Run (Allow must not change after).
func startProxy(t *testing.T, n *Notifier, configure func(*Proxy)) *Proxy {
	t.Helper()
	p := newProxy(t, n, configure)
	runProxy(t, p)
	return p
}

// newProxy makes a proxy that does not read yet: what is sent to it waits
// in its socket until runProxy.
func newProxy(t *testing.T, n *Notifier, configure func(*Proxy)) *Proxy {
	t.Helper()
	p, err := NewProxy(t.TempDir(), n)
	if err != nil {
		t.Fatalf("NewProxy: %v", err)
	}
	if configure != nil {
		configure(p)
	}
	return p
}

// runProxy runs p until the test ends.
func runProxy(t *testing.T, p *Proxy) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(proxyWait):
			t.Errorf("Run did not return within %s of cancel", proxyWait)
		}
		p.Close()
	})
}

// pxContainer is a process in the container speaking to the proxy: a plain
// unbound datagram socket, as sd_notify(3) uses.
type pxContainer struct {
	fd int
	to *unix.SockaddrUnix
}

func container(t *testing.T, p *Proxy) *pxContainer {
	t.Helper()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &pxContainer{fd: fd, to: &unix.SockaddrUnix{Name: p.HostPath}}
}

func send(t *testing.T, c *pxContainer, msg string, fds ...int) {
	t.Helper()
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	if err := unix.Sendmsg(c.fd, []byte(msg), oob, c.to, 0); err != nil {
		t.Fatalf("send %.40q: %v", msg, err)
	}
}

// waitDropped polls until the proxy has dropped want messages.
func waitDropped(t *testing.T, p *Proxy, want int) {
	t.Helper()
	deadline := time.Now().Add(proxyWait)
	for p.Dropped() < want {
		if time.Now().After(deadline) {
			t.Fatalf("Dropped() = %d, want %d within %s", p.Dropped(), want, proxyWait)
		}
		time.Sleep(time.Millisecond)
	}
	if got := p.Dropped(); got != want {
		t.Fatalf("Dropped() = %d, want %d", got, want)
	}
}

// settle sends a message the proxy drops and waits for the drop: datagrams
// are read in order, so every earlier one has then been handled.
func settle(t *testing.T, p *Proxy, c *pxContainer) {
	t.Helper()
	before := p.Dropped()
	send(t, c, "X_SETTLE=1")
	waitDropped(t, p, before+1)
}

func TestProxyHoldsUntilRelease(t *testing.T) {
	sd := newPxSystemd(t)
	p := startProxy(t, sd.notifier, nil)
	c := container(t, p)

	held := []string{"STATUS=one", "READY=1\nSTATUS=two", "STATUS=three"}
	for _, m := range held {
		send(t, c, m)
	}
	settle(t, p, c)
	sd.expectNothing(t)

	p.Release()
	for _, want := range held {
		if got := sd.recv(t); got != want {
			t.Fatalf("after Release got %q, want %q", got, want)
		}
	}
	sd.expectNothing(t)

	// Released: relayed at once.
	send(t, c, "STATUS=four")
	if got := sd.recv(t); got != "STATUS=four" {
		t.Fatalf("after Release got %q, want STATUS=four", got)
	}
	if got := p.Dropped(); got != 1 { // the settle marker
		t.Errorf("Dropped() = %d, want 1", got)
	}
}

func TestProxyReleaseWithNothingHeld(t *testing.T) {
	sd := newPxSystemd(t)
	p := startProxy(t, sd.notifier, nil)
	p.Release()
	p.Release() // twice is harmless
	send(t, container(t, p), "READY=1")
	if got := sd.recv(t); got != "READY=1" {
		t.Fatalf("got %q, want READY=1", got)
	}
}

// A message that arrives while Release is still sending the held ones must
// not overtake them: systemd would see e.g. STOPPING=1 before READY=1.
func TestProxyReleaseKeepsOrder(t *testing.T) {
	var mu sync.Mutex
	var got []string
	releasing := make(chan struct{})
	newSent := make(chan struct{})
	n := &Notifier{Socket: "unused"}
	n.send = func(state string) error {
		if state == "READY=1" { // the held message, sent by Release
			close(releasing)
			select { // give a racing relay the chance to overtake
			case <-newSent:
			case <-time.After(500 * time.Millisecond):
			}
		}
		mu.Lock()
		got = append(got, state)
		mu.Unlock()
		if state == "STOPPING=1" {
			close(newSent)
		}
		return nil
	}
	p := startProxy(t, n, nil)
	c := container(t, p)
	send(t, c, "READY=1")
	settle(t, p, c)

	released := make(chan struct{})
	go func() { defer close(released); p.Release() }()
	select {
	case <-releasing:
	case <-time.After(proxyWait):
		t.Fatal("Release did not send the held message")
	}
	send(t, c, "STOPPING=1")
	select {
	case <-released:
	case <-time.After(proxyWait):
		t.Fatal("Release did not return")
	}
	deadline := time.Now().Add(proxyWait)
	for {
		mu.Lock()
		sent := slices.Clone(got)
		mu.Unlock()
		if len(sent) == 2 {
			if want := []string{"READY=1", "STOPPING=1"}; !slices.Equal(sent, want) {
				t.Fatalf("systemd got %q, want %q: a message sent during Release overtook the held ones", sent, want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("systemd got %q, want 2 messages", sent)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestProxyFilters(t *testing.T) {
	all := "READY=1\nSTATUS=s\nRELOADING=1\nSTOPPING=1\nERRNO=2\nBUSERROR=org.x.Err\n" +
		"EXTEND_TIMEOUT_USEC=1\nWATCHDOG=1\nWATCHDOG_USEC=5\nMONOTONIC_USEC=7"
	maxUsec := strconv.FormatUint(MaxUsec, 10)
	overUsec := strconv.FormatUint(MaxUsec+1, 10)
	tests := []struct {
		name string
		in   string
		want string // "" means dropped whole
		why  error  // for a dropped message: what OnDrop hears
	}{
		{name: "every relayed field", in: all, want: all},
		{name: "MAINPID and FDSTORE removed", in: "MAINPID=1\nREADY=1\nFDSTORE=1\nSTATUS=up", want: "READY=1\nSTATUS=up"},
		{name: "value with equals sign", in: "STATUS=a=b", want: "STATUS=a=b"},
		{name: "blank lines", in: "\nREADY=1\n\nSTATUS=a\n", want: "READY=1\nSTATUS=a"},
		{name: "only unknown fields", in: "MAINPID=1\nFDSTORE=1\nFDNAME=x", why: ErrNothingRelayed},
		{name: "BARRIER only", in: "BARRIER=1", why: ErrNothingRelayed},
		{name: "line without equals", in: "READY=1\ngarbage", why: ErrMalformed},
		{name: "lowercase key", in: "READY=1\nstatus=x", why: ErrMalformed},
		{name: "mixed-case key", in: "Ready=1", why: ErrMalformed},
		{name: "empty key", in: "=1\nREADY=1", why: ErrMalformed},
		{name: "empty", in: "", why: ErrNothingRelayed},
		{name: "exactly MaxDatagram", in: "STATUS=" + strings.Repeat("x", MaxDatagram-len("STATUS=")),
			want: "STATUS=" + strings.Repeat("x", MaxDatagram-len("STATUS="))},
		{name: "MaxDatagram+1", in: "STATUS=" + strings.Repeat("x", MaxDatagram+1-len("STATUS=")), why: ErrTooLarge},
		{name: "64KiB", in: "STATUS=" + strings.Repeat("x", 64<<10), why: ErrTooLarge},

		// No NUL anywhere: systemd would cut the line there.
		{name: "NUL in a value", in: "READY=1\nSTATUS=a\x00b", why: ErrMalformed},
		{name: "NUL in a field we drop", in: "READY=1\nX_FOO=\x00", why: ErrMalformed},
		{name: "NUL at the end", in: "READY=1\x00", why: ErrMalformed},
		{name: "NUL alone", in: "\x00", why: ErrMalformed},

		// Number fields: decimal digits within bounds, else the message is refused.
		{name: "WATCHDOG_USEC at the bound", in: "WATCHDOG_USEC=" + maxUsec, want: "WATCHDOG_USEC=" + maxUsec},
		{name: "WATCHDOG_USEC leading zeros", in: "WATCHDOG_USEC=0030", want: "WATCHDOG_USEC=0030"},
		{name: "WATCHDOG_USEC over the bound", in: "READY=1\nWATCHDOG_USEC=" + overUsec, why: ErrMalformed},
		{name: "WATCHDOG_USEC zero", in: "READY=1\nWATCHDOG_USEC=0", why: ErrMalformed},
		{name: "WATCHDOG_USEC negative", in: "WATCHDOG_USEC=-5", why: ErrMalformed},
		{name: "WATCHDOG_USEC plus sign", in: "WATCHDOG_USEC=+5", why: ErrMalformed},
		{name: "WATCHDOG_USEC empty", in: "WATCHDOG_USEC=", why: ErrMalformed},
		{name: "WATCHDOG_USEC with unit", in: "WATCHDOG_USEC=5s", why: ErrMalformed},
		{name: "WATCHDOG_USEC with space", in: "WATCHDOG_USEC= 5", why: ErrMalformed},
		{name: "WATCHDOG_USEC hex", in: "WATCHDOG_USEC=0x10", why: ErrMalformed},
		{name: "WATCHDOG_USEC underscore", in: "WATCHDOG_USEC=1_000", why: ErrMalformed},
		{name: "WATCHDOG_USEC infinity", in: "WATCHDOG_USEC=18446744073709551615", why: ErrMalformed},
		{name: "WATCHDOG_USEC beyond 64 bits", in: "WATCHDOG_USEC=99999999999999999999999", why: ErrMalformed},
		{name: "EXTEND_TIMEOUT_USEC at the bound", in: "EXTEND_TIMEOUT_USEC=" + maxUsec, want: "EXTEND_TIMEOUT_USEC=" + maxUsec},
		{name: "EXTEND_TIMEOUT_USEC over the bound", in: "STATUS=x\nEXTEND_TIMEOUT_USEC=" + overUsec, why: ErrMalformed},
		{name: "EXTEND_TIMEOUT_USEC zero", in: "EXTEND_TIMEOUT_USEC=0", why: ErrMalformed},
		{name: "EXTEND_TIMEOUT_USEC not a number", in: "EXTEND_TIMEOUT_USEC=forever", why: ErrMalformed},
		{name: "MONOTONIC_USEC large", in: "RELOADING=1\nMONOTONIC_USEC=18446744073709551614",
			want: "RELOADING=1\nMONOTONIC_USEC=18446744073709551614"},
		{name: "MONOTONIC_USEC infinity", in: "RELOADING=1\nMONOTONIC_USEC=18446744073709551615", why: ErrMalformed},
		{name: "MONOTONIC_USEC zero", in: "RELOADING=1\nMONOTONIC_USEC=0", why: ErrMalformed},
		{name: "MONOTONIC_USEC not a number", in: "RELOADING=1\nMONOTONIC_USEC=now", why: ErrMalformed},
		{name: "ERRNO zero", in: "ERRNO=0", want: "ERRNO=0"},
		{name: "ERRNO beyond errnos", in: "ERRNO=4096", why: ErrMalformed},
		{name: "ERRNO negative", in: "ERRNO=-2", why: ErrMalformed},
		{name: "ERRNO name", in: "ERRNO=ENOENT", why: ErrMalformed},
		// A field we do not relay is not judged by its value.
		{name: "unrelayed number field", in: "READY=1\nX_USEC=abc", want: "READY=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd := newPxSystemd(t)
			whys := make(chan error, 16)
			p := startProxy(t, sd.notifier, func(p *Proxy) { p.OnDrop = func(err error) { whys <- err } })
			p.Release()
			c := container(t, p)
			send(t, c, tt.in)
			if tt.want != "" {
				if got := sd.recv(t); got != tt.want {
					t.Fatalf("relayed %.80q, want %.80q", got, tt.want)
				}
				if got := p.Dropped(); got != 0 {
					t.Errorf("Dropped() = %d, want 0", got)
				}
				return
			}
			waitDropped(t, p, 1)
			if why := <-whys; !errors.Is(why, tt.why) {
				t.Errorf("dropped because %v, want %v", why, tt.why)
			}
			// Nothing of the dropped message was relayed: the next one is first.
			send(t, c, "STATUS=next")
			if got := sd.recv(t); got != "STATUS=next" {
				t.Fatalf("after a dropped message systemd got %.80q, want STATUS=next", got)
			}
		})
	}
}

func TestProxyAllow(t *testing.T) {
	tests := []struct {
		name  string
		allow bool
	}{
		{name: "allowed", allow: true},
		{name: "refused", allow: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd := newPxSystemd(t)
			senders := make(chan Sender, 16)
			p := startProxy(t, sd.notifier, func(p *Proxy) {
				p.Allow = func(from Sender) error {
					senders <- from
					if tt.allow {
						return nil
					}
					return errors.New("no")
				}
			})
			p.Release()
			c := container(t, p)
			send(t, c, "READY=1")
			select {
			case from := <-senders:
				if from.Pid != os.Getpid() {
					t.Errorf("Allow asked about pid %d, want the sender's, %d", from.Pid, os.Getpid())
				}
				if ns := ourPidNS(t); from.PidNS != ns {
					t.Errorf("Allow was told the pid namespace %v, want the sender's, %v", from.PidNS, ns)
				}
			case <-time.After(proxyWait):
				t.Fatal("Allow was not called")
			}
			if tt.allow {
				if got := sd.recv(t); got != "READY=1" {
					t.Fatalf("got %q, want READY=1", got)
				}
				return
			}
			waitDropped(t, p, 1)
			sd.expectNothing(t)
		})
	}
}

func TestProxyWatchdogSeen(t *testing.T) {
	if (*Proxy)(nil).WatchdogSeen() {
		t.Error("nil proxy: WatchdogSeen() = true")
	}
	sd := newPxSystemd(t)
	p := startProxy(t, sd.notifier, nil)
	c := container(t, p)
	if p.WatchdogSeen() {
		t.Fatal("WatchdogSeen() = true before any message")
	}
	send(t, c, "READY=1\nWATCHDOG_USEC=5")
	settle(t, p, c)
	if p.WatchdogSeen() {
		t.Fatal("WatchdogSeen() = true without WATCHDOG=1")
	}
	send(t, c, "STATUS=x\nWATCHDOG=1") // held: not relayed yet
	settle(t, p, c)
	if p.WatchdogSeen() {
		t.Fatal("WatchdogSeen() = true while WATCHDOG=1 is held: systemd has not heard it")
	}
	p.Release()
	if !p.WatchdogSeen() {
		t.Fatal("WatchdogSeen() = false after WATCHDOG=1 was relayed")
	}
}

// A WATCHDOG=1 that Allow refuses does not feed systemd's watchdog, so it
// does not stop our own pings either.
func TestProxyWatchdogRefused(t *testing.T) {
	sd := newPxSystemd(t)
	p := startProxy(t, sd.notifier, func(p *Proxy) {
		p.Allow = func(Sender) error { return errors.New("not the container") }
	})
	p.Release()
	send(t, container(t, p), "WATCHDOG=1")
	waitDropped(t, p, 1)
	if p.WatchdogSeen() {
		t.Fatal("WatchdogSeen() = true after a refused WATCHDOG=1")
	}
}

// pipes returns n pipes' read and write ends.
func pipes(t *testing.T, n int) (r, w []int) {
	t.Helper()
	for range n {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(p[0]) })
		r, w = append(r, p[0]), append(w, p[1])
	}
	return r, w
}

// waitHangup polls the read end until every write end is closed.
func waitHangup(t *testing.T, r int) {
	t.Helper()
	deadline := time.Now().Add(proxyWait)
	for {
		fds := []unix.PollFd{{Fd: int32(r), Events: unix.POLLIN}}
		_, err := unix.Poll(fds, int(time.Until(deadline).Milliseconds())+1)
		if err != nil && !errors.Is(err, unix.EINTR) {
			t.Fatalf("poll: %v", err)
		}
		if fds[0].Revents&unix.POLLHUP != 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the proxy kept a file descriptor the container sent")
		}
	}
}

func TestProxyClosesSentFds(t *testing.T) {
	tests := []struct {
		name  string
		msg   string
		fds   int
		allow bool
	}{
		{name: "relayed", msg: "READY=1", fds: 1, allow: true},
		{name: "FDSTORE", msg: "FDSTORE=1\nFDNAME=x", fds: 2, allow: true},
		{name: "malformed", msg: "garbage", fds: 1, allow: true},
		{name: "too large", msg: strings.Repeat("x", MaxDatagram+1), fds: 1, allow: true},
		{name: "refused by Allow", msg: "READY=1", fds: 1, allow: false},
		{name: "more than the control buffer holds", msg: "READY=1", fds: 20, allow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd := newPxSystemd(t)
			p := startProxy(t, sd.notifier, func(p *Proxy) {
				p.Allow = func(Sender) error {
					if tt.allow {
						return nil
					}
					return errors.New("no")
				}
			})
			p.Release()
			c := container(t, p)
			r, w := pipes(t, tt.fds)
			send(t, c, tt.msg, w...)
			for _, fd := range w {
				unix.Close(fd)
			}
			for _, fd := range r {
				waitHangup(t, fd)
			}
		})
	}
}

func TestNewProxyDirectory(t *testing.T) {
	runDir := filepath.Join(t.TempDir(), "run", "systemd-docker") // created on demand
	n := &Notifier{}
	p1, err := NewProxy(runDir, n)
	if err != nil {
		t.Fatalf("NewProxy: %v", err)
	}
	defer p1.Close()
	p2, err := NewProxy(runDir, n)
	if err != nil {
		t.Fatalf("NewProxy: %v", err)
	}
	defer p2.Close()

	d1, d2 := filepath.Dir(p1.HostPath), filepath.Dir(p2.HostPath)
	if d1 == d2 {
		t.Fatalf("two proxies share the directory %s", d1)
	}
	for _, p := range []*Proxy{p1, p2} {
		dir := filepath.Dir(p.HostPath)
		if filepath.Dir(dir) != runDir {
			t.Errorf("socket directory %s is not under %s", dir, runDir)
		}
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); !fi.IsDir() || got != 0o700 {
			t.Errorf("%s: mode %v, want a directory with 0700", dir, fi.Mode())
		}
		fi, err = os.Stat(p.HostPath)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o666 {
			t.Errorf("%s: mode %v, want a socket with 0666", p.HostPath, fi.Mode())
		}
	}

	if err := p1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(d1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close, stat %s: %v, want not exist", d1, err)
	}
	if _, err := os.Stat(p2.HostPath); err != nil {
		t.Errorf("closing one proxy touched the other: %v", err)
	}
}

// A proxy whose supervisor was SIGKILLed leaves its directory; the next
// proxy removes it, and nothing that is still in use.
func TestNewProxySweepsStaleDirectories(t *testing.T) {
	runDir := t.TempDir()
	n := &Notifier{}
	live, err := NewProxy(runDir, n)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	dead, err := NewProxy(runDir, n)
	if err != nil {
		t.Fatal(err)
	}
	dead.conn.Close() // as a SIGKILL would: the socket file stays, nobody is bound
	settingUp := filepath.Join(runDir, "notify-settingup")
	other := filepath.Join(runDir, "other")
	for _, d := range []string{settingUp, other} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}

	p, err := NewProxy(runDir, n)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := os.Lstat(filepath.Dir(dead.HostPath)); !os.IsNotExist(err) {
		t.Errorf("the dead proxy's directory is still there: %v", err)
	}
	for _, path := range []string{live.HostPath, settingUp, other, p.HostPath} {
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("%s was removed: %v", path, err)
		}
	}
}

func TestNewProxyBadRunDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewProxy(filepath.Join(file, "run"), &Notifier{}); err == nil {
		t.Fatal("NewProxy under a regular file: got nil error")
	}
}

func TestProxyRunReturns(t *testing.T) {
	tests := []struct {
		name string
		stop func(cancel context.CancelFunc, p *Proxy)
	}{
		{name: "ctx cancelled", stop: func(cancel context.CancelFunc, _ *Proxy) { cancel() }},
		{name: "closed", stop: func(_ context.CancelFunc, p *Proxy) { p.Close() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd := newPxSystemd(t)
			p, err := NewProxy(t.TempDir(), sd.notifier)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan struct{})
			go func() { defer close(done); p.Run(ctx) }()
			// Run is reading: a relayed message proves it.
			p.Release()
			send(t, container(t, p), "READY=1")
			sd.recv(t)

			tt.stop(cancel, p)
			select {
			case <-done:
			case <-time.After(proxyWait):
				t.Fatalf("Run did not return within %s", proxyWait)
			}
		})
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{
		"READY=1",
		"READY=1\nSTATUS=up\nMAINPID=1",
		"FDSTORE=1\nFDNAME=x",
		"garbage",
		"status=x",
		"=1",
		"\n\nWATCHDOG=1\n",
		"STATUS=a=b\nERRNO=2",
		"",
		"READY=1\nWATCHDOG_USEC=0",
		"EXTEND_TIMEOUT_USEC=604800000001",
		"RELOADING=1\nMONOTONIC_USEC=12345",
		"STATUS=a\x00b",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, ok := ParseMessage(b)
		if ok != (len(out) > 0) {
			t.Fatalf("ParseMessage(%q) = %q, %v: ok must mean a non-empty result", b, out, ok)
		}
		if ok && bytes.IndexByte(b, 0) >= 0 {
			t.Fatalf("ParseMessage(%q) accepted a message with a NUL byte", b)
		}
		in := strings.Split(string(b), "\n")
		last := -1
		for _, line := range out {
			k, v, found := strings.Cut(line, "=")
			if !found || !relayed[k] {
				t.Fatalf("ParseMessage(%q) returned %q: not KEY=VALUE with a relayed key", b, line)
			}
			if lim, isNum := numeric[k]; isNum {
				n, err := strconv.ParseUint(v, 10, 64)
				if err != nil || n < lim.min || n > lim.max {
					t.Fatalf("ParseMessage(%q) returned %q: not a decimal number in [%d, %d]", b, line, lim.min, lim.max)
				}
			}
			// A subsequence of the input's lines, in order.
			i := slices.Index(in[last+1:], line)
			if i < 0 {
				t.Fatalf("ParseMessage(%q) returned %q, not an input line (in order)", b, line)
			}
			last += 1 + i
		}
		if ok && bytes.Contains(b, []byte("\n")) {
			// Every line of an accepted message is KEY=VALUE with an uppercase key.
			for _, line := range in {
				if line == "" {
					continue
				}
				k, _, found := strings.Cut(line, "=")
				if !found || k == "" || strings.ToUpper(k) != k {
					t.Fatalf("ParseMessage(%q) accepted a message with the line %q", b, line)
				}
			}
		}
	})
}

// The sender child: the test binary run again with these set in its
// environment sends to the proxy and exits (see TestMain).
const (
	envSendTo   = "SDNOTIFY_TEST_SEND_TO"
	envSendMsg  = "SDNOTIFY_TEST_SEND_MSG"
	envSendMode = "SDNOTIFY_TEST_SEND_MODE" // "" (send and exit) or "barrier"
)

func TestMain(m *testing.M) {
	if to := os.Getenv(envSendTo); to != "" {
		os.Exit(senderChild(to, os.Getenv(envSendMsg), os.Getenv(envSendMode)))
	}
	os.Exit(m.Run())
}

// senderChild sends msg to the socket at path; with mode "barrier" it then
// sends BARRIER=1 with a pipe and waits for its close, as systemd-notify
// 254+ does (sd_notify_barrier(3)).
func senderChild(path, msg, mode string) int {
	n := &Notifier{Socket: path}
	if err := n.Send(msg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if mode == "barrier" {
		if err := n.Barrier(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	return 0
}

// sender returns the sender child for p (not started).
func sender(t *testing.T, p *Proxy, msg, mode string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envSendTo+"="+p.HostPath, envSendMsg+"="+msg, envSendMode+"="+mode)
	cmd.Stderr = os.Stderr
	return cmd
}

func ourPidNS(t *testing.T) PidNamespace {
	t.Helper()
	ns, err := PidNamespaceOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func allowAll(Sender) error { return nil }

// A sender that has exited (and was reaped) before its message is read
// cannot be placed in a pid namespace: dropped, fail closed. Allow, which
// would accept anything, is not even asked.
func TestProxyDropsAnExitedSender(t *testing.T) {
	sd := newPxSystemd(t)
	whys := make(chan error, 4)
	asked := make(chan Sender, 4)
	p := newProxy(t, sd.notifier, func(p *Proxy) {
		p.Allow = func(from Sender) error { asked <- from; return nil }
		p.OnDrop = func(err error) { whys <- err }
	})
	p.Release()
	if err := sender(t, p, "READY=1\nSTATUS=from an exited sender", "").Run(); err != nil {
		t.Fatalf("sender: %v", err)
	}
	// The sender is gone; its message waits in the socket.
	runProxy(t, p)
	waitDropped(t, p, 1)
	if why := <-whys; !errors.Is(why, ErrUnverifiedSender) {
		t.Errorf("dropped because %v, want %v", why, ErrUnverifiedSender)
	}
	select {
	case from := <-asked:
		t.Errorf("Allow was asked about the exited sender %+v", from)
	default:
	}
	sd.expectNothing(t)
	// A live sender is still heard.
	send(t, container(t, p), "STATUS=live")
	if got := sd.recv(t); got != "STATUS=live" {
		t.Fatalf("got %q, want STATUS=live", got)
	}
}

// A sender that has exited but is not reaped yet (a zombie) still shows
// its pid namespace: its message is relayed.
func TestProxyHearsAZombieSender(t *testing.T) {
	sd := newPxSystemd(t)
	asked := make(chan Sender, 4)
	p := newProxy(t, sd.notifier, func(p *Proxy) {
		p.Allow = func(from Sender) error { asked <- from; return nil }
	})
	p.Release()
	cmd := sender(t, p, "READY=1", "")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	stat := fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)
	for deadline := time.Now().Add(proxyWait); ; {
		b, err := os.ReadFile(stat)
		if err != nil {
			t.Fatal(err)
		}
		if _, after, _ := strings.Cut(string(b), ") "); strings.HasPrefix(after, "Z") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sender did not exit: %s", b)
		}
		time.Sleep(time.Millisecond)
	}
	runProxy(t, p)
	if got := sd.recv(t); got != "READY=1" {
		t.Fatalf("got %q, want READY=1", got)
	}
	if from := <-asked; from.Pid != cmd.Process.Pid || from.PidNS != ourPidNS(t) {
		t.Errorf("Allow asked about %+v, want pid %d in %v", from, cmd.Process.Pid, ourPidNS(t))
	}
}

// A sender that passes a pipe with its message and waits for the pipe's
// close (the BARRIER=1 way) finds its message handled by then: fds are
// closed after the message was relayed, not before.
func TestProxyClosesFdsAfterRelaying(t *testing.T) {
	r, w := pipes(t, 1)
	relayed := make(chan string, 4)
	n := &Notifier{Socket: "unused"}
	n.send = func(state string) error {
		// systemd hears the message now: the sender must not know yet.
		fds := []unix.PollFd{{Fd: int32(r[0]), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, 0); err != nil {
			t.Errorf("poll: %v", err)
		}
		if fds[0].Revents&unix.POLLHUP != 0 {
			state = "closed before relayed: " + state
		}
		relayed <- state
		return nil
	}
	p := newProxy(t, n, func(p *Proxy) { p.Allow = allowAll })
	p.Release()
	send(t, container(t, p), "READY=1\nSTATUS=up", w[0])
	unix.Close(w[0]) // before the proxy reads: its copy is the last one
	runProxy(t, p)
	waitHangup(t, r[0])
	select {
	case got := <-relayed:
		if got != "READY=1\nSTATUS=up" {
			t.Fatalf("systemd heard %q, want READY=1 then STATUS=up, relayed before the fd was closed", got)
		}
	default:
		t.Fatal("the fd was closed before the message was relayed")
	}
}

// systemd-notify 254+ sends its message, then BARRIER=1 with a pipe, and
// exits once the pipe is closed. Relayed at once or held until Release,
// its message reaches systemd although the sender is gone by then.
func TestProxyBarrierSender(t *testing.T) {
	for _, held := range []bool{false, true} {
		t.Run(fmt.Sprintf("held=%v", held), func(t *testing.T) {
			sd := newPxSystemd(t)
			whys := make(chan error, 4)
			p := startProxy(t, sd.notifier, func(p *Proxy) {
				p.Allow = allowAll
				p.OnDrop = func(err error) { whys <- err }
			})
			if !held {
				p.Release()
			}
			done := make(chan error, 1)
			go func() { done <- sender(t, p, "READY=1\nSTATUS=barrier", "barrier").Run() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("sender: %v (its barrier was not answered?)", err)
				}
			case <-time.After(2 * proxyWait):
				t.Fatal("the sender still waits for its barrier")
			}
			// The sender has exited and was reaped.
			if held {
				p.Release()
			}
			if got := sd.recv(t); got != "READY=1\nSTATUS=barrier" {
				t.Fatalf("got %q, want the barrier sender's message", got)
			}
			// The BARRIER=1 message itself has nothing to relay.
			if why := <-whys; !errors.Is(why, ErrNothingRelayed) {
				t.Errorf("the barrier message was dropped because %v, want %v", why, ErrNothingRelayed)
			}
			if got := p.Dropped(); got != 1 {
				t.Errorf("Dropped() = %d, want 1 (the barrier message)", got)
			}
		})
	}
}

// Held messages are judged at Release, when the container is known.
func TestProxyAllowAtRelease(t *testing.T) {
	sd := newPxSystemd(t)
	var mu sync.Mutex
	known := false
	whys := make(chan error, 4)
	p := startProxy(t, sd.notifier, func(p *Proxy) {
		p.Allow = func(from Sender) error {
			mu.Lock()
			defer mu.Unlock()
			if !known {
				return errors.New("container not known")
			}
			if from.Pid != os.Getpid() {
				return errors.New("not the container")
			}
			return nil
		}
		p.OnDrop = func(err error) { whys <- err }
	})
	c := container(t, p)
	send(t, c, "READY=1")
	settle(t, p, c)
	<-whys // the settle marker
	mu.Lock()
	known = true
	mu.Unlock()
	p.Release()
	if got := sd.recv(t); got != "READY=1" {
		t.Fatalf("got %q, want READY=1", got)
	}

	// Refused at Release: dropped, and OnDrop says why.
	sd2 := newPxSystemd(t)
	p2 := startProxy(t, sd2.notifier, func(p *Proxy) {
		p.Allow = func(Sender) error { return errors.New("not the container") }
		p.OnDrop = func(err error) { whys <- err }
	})
	c2 := container(t, p2)
	send(t, c2, "READY=1")
	settle(t, p2, c2)
	<-whys
	p2.Release()
	if got := p2.Dropped(); got != 2 {
		t.Errorf("Dropped() = %d, want 2 (the settle marker and the refused message)", got)
	}
	if why := <-whys; !errors.Is(why, ErrRefusedSender) || !strings.Contains(why.Error(), "not the container") {
		t.Errorf("dropped because %v, want %v with Allow's reason", why, ErrRefusedSender)
	}
	sd2.expectNothing(t)
}
