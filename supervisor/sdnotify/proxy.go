package sdnotify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ContainerSocket is where the proxy's socket appears inside the container,
// and what its NOTIFY_SOCKET says.
const ContainerSocket = "/run/systemd-docker/notify.sock"

// MaxDatagram is the largest message relayed; larger ones are dropped.
const MaxDatagram = 4096

// relayed are the sd_notify(3) fields a container may send to systemd
// through us. MAINPID (a pid in the container's namespace), FDSTORE and the
// rest are dropped.
var relayed = map[string]bool{
	"READY": true, "STATUS": true, "RELOADING": true, "STOPPING": true, "ERRNO": true,
	"BUSERROR": true, "EXTEND_TIMEOUT_USEC": true, "WATCHDOG": true, "WATCHDOG_USEC": true,
	"MONOTONIC_USEC": true,
}

// Proxy is the container's own notification socket (--notify). It relays
// what the container says to systemd from our pid, which systemd can
// always attribute to the unit, unlike a message from a container process
// that has already exited. Messages are held until Release, so that
// systemd hears MAINPID from us before the container's READY=1.
type Proxy struct {
	// HostPath is the socket on the host; bind-mount it at ContainerSocket.
	HostPath string
	dir      string
	conn     *net.UnixConn
	to       *Notifier
	// Allow, when set, tells whether a sender pid may speak (the
	// container's processes); others are dropped.
	Allow func(pid int) bool

	watchdog atomic.Bool

	mu       sync.Mutex
	released bool
	held     [][]string
	dropped  int
}

// NewProxy makes a private directory (mode 0700, unique) under runDir and
// listens there. Close removes both.
func NewProxy(runDir string, to *Notifier) (*Proxy, error) {
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, fmt.Errorf("notify proxy: %w", err)
	}
	sweepStale(runDir)
	dir, err := os.MkdirTemp(runDir, "notify-")
	if err != nil {
		return nil, fmt.Errorf("notify proxy: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("notify proxy: %w", err)
	}
	path := filepath.Join(dir, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("notify proxy: listen on %s: %w", path, err)
	}
	// Any user in the container may speak; the directory keeps host users out.
	err = os.Chmod(path, 0o666)
	if err == nil {
		err = setPassCred(conn)
	}
	if err != nil {
		conn.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("notify proxy: %w", err)
	}
	return &Proxy{HostPath: path, dir: dir, conn: conn, to: to}, nil
}

// sweepStale removes the socket directories of proxies whose supervisor
// died without Close (SIGKILL, OOM): nobody is bound to their socket any
// more, so a datagram to it is refused. A directory still being set up
// (no socket yet) or another user's is left alone.
func sweepStale(runDir string) {
	entries, err := os.ReadDir(runDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "notify-") {
			continue
		}
		dir := filepath.Join(runDir, e.Name())
		var st unix.Stat_t
		if unix.Lstat(dir, &st) != nil || int(st.Uid) != os.Geteuid() {
			continue
		}
		path := filepath.Join(dir, "notify.sock")
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
		if err == nil {
			c.Close()
			continue
		}
		if errors.Is(err, unix.ECONNREFUSED) {
			_ = os.RemoveAll(dir)
		}
	}
}

func setPassCred(c *net.UnixConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
	}); err != nil {
		return err
	}
	return serr
}

// Run relays messages until ctx ends.
func (p *Proxy) Run(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { p.conn.Close() })
	defer stop()
	buf := make([]byte, MaxDatagram+1)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4*16))
	for {
		n, oobn, flags, _, err := p.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		closeRights(oob[:oobn]) // never keep fds a container sent
		if n > MaxDatagram || flags&unix.MSG_TRUNC != 0 {
			p.drop()
			continue
		}
		if p.Allow != nil {
			pid, ok := senderPid(oob[:oobn])
			if !ok || !p.Allow(pid) {
				p.drop()
				continue
			}
		}
		lines, ok := ParseMessage(buf[:n])
		if !ok {
			p.drop()
			continue
		}
		p.relay(lines)
	}
}

// ParseMessage splits a datagram into KEY=VALUE lines and keeps the ones
// we relay. A message with a line that is not KEY=VALUE is refused whole.
func ParseMessage(b []byte) ([]string, bool) {
	var out []string
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		k, _, ok := strings.Cut(string(line), "=")
		if !ok || k == "" || strings.ToUpper(k) != k {
			return nil, false
		}
		if relayed[k] {
			out = append(out, string(line))
		}
	}
	return out, len(out) > 0
}

func (p *Proxy) relay(lines []string) {
	if slices.Contains(lines, "WATCHDOG=1") {
		p.watchdog.Store(true)
	}
	// Sending under the lock keeps the order: nothing overtakes the
	// held messages while Release sends them.
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.released {
		p.held = append(p.held, lines)
		return
	}
	_ = p.to.Send(lines...)
}

func (p *Proxy) drop() {
	p.mu.Lock()
	p.dropped++
	p.mu.Unlock()
}

// Dropped counts the messages refused so far.
func (p *Proxy) Dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// WatchdogSeen reports whether the container has sent WATCHDOG=1 itself:
// it then keeps systemd's watchdog fed, and we stop pinging.
func (p *Proxy) WatchdogSeen() bool { return p != nil && p.watchdog.Load() }

// Release sends the held messages and relays the rest as they come.
func (p *Proxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, lines := range p.held {
		_ = p.to.Send(lines...)
	}
	p.held, p.released = nil, true
}

// Close stops listening and removes the socket's directory.
func (p *Proxy) Close() error {
	p.conn.Close()
	return os.RemoveAll(p.dir)
}

func senderPid(oob []byte) (int, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if cred, err := unix.ParseUnixCredentials(&m); err == nil {
			return int(cred.Pid), true
		}
	}
	return 0, false
}

func closeRights(oob []byte) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		if fds, err := unix.ParseUnixRights(&m); err == nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}
	}
}
