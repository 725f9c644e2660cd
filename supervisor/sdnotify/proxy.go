package sdnotify

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// The proxy's policy, in one place:
//
//   - fields: only those in relayed; MAINPID (a pid in the container's
//     namespace), FDSTORE, BARRIER and the rest are left out. A message is
//     refused whole when it is larger than MaxDatagram, holds a NUL byte or a
//     line that is not KEY=VALUE, or a number field out of its bounds
//     (numeric); one with nothing left to relay is dropped.
//   - creds: the sender is known by SCM_CREDENTIALS (its pid) and, on Linux
//     6.5+, SCM_PIDFD. Its pid namespace is read from /proc while it still
//     exists; the pidfd proves the pid was not reused meanwhile. A sender
//     whose namespace cannot be read (it has exited and was reaped: not even
//     its pidfd tells the namespace then) is dropped: fail closed. Allow then
//     judges the namespace, when the message is relayed.
//   - fds: every file descriptor that comes with a message is closed, after
//     the message was handled (relayed, held or dropped). A sender that
//     waits for that close (BARRIER=1 with a pipe, as systemd-notify 254+
//     and sd_notify_barrier(3) do) stays alive, and so verifiable, until its
//     message was read, and knows when it was.

// relayed are the sd_notify(3) fields a container may send to systemd
// through us.
var relayed = map[string]bool{
	"READY": true, "STATUS": true, "RELOADING": true, "STOPPING": true, "ERRNO": true,
	"BUSERROR": true, "EXTEND_TIMEOUT_USEC": true, "WATCHDOG": true, "WATCHDOG_USEC": true,
	"MONOTONIC_USEC": true,
}

// MaxUsec bounds the durations a container may give: WATCHDOG_USEC= and
// EXTEND_TIMEOUT_USEC= (a week).
const MaxUsec = 7 * 24 * 3600 * 1_000_000

// numeric are the relayed fields whose value must be a decimal number
// (digits only) within [min, max].
var numeric = map[string]struct{ min, max uint64 }{
	"WATCHDOG_USEC":       {1, MaxUsec},
	"EXTEND_TIMEOUT_USEC": {1, MaxUsec},
	// CLOCK_MONOTONIC when the message was made (sent with RELOADING=1);
	// the clock is the host's, not namespaced by Docker. systemd reads
	// all-ones as infinity.
	"MONOTONIC_USEC": {1, math.MaxUint64 - 1},
	"ERRNO":          {0, 4095},
}

// Why a message was dropped; OnDrop gets an error wrapping one of them.
var (
	ErrTooLarge       = errors.New("larger than " + strconv.Itoa(MaxDatagram) + " bytes")
	ErrMalformed      = errors.New("malformed")
	ErrNothingRelayed = errors.New("no field we relay")
	// ErrUnverifiedSender: the sender's pid namespace could not be read,
	// mostly because it exited before we read its message.
	ErrUnverifiedSender = errors.New("sender not verifiable")
	// ErrRefusedSender: Allow said no; the error wraps its reason too.
	ErrRefusedSender = errors.New("sender refused")
)

// Sender is who sent a message, as the kernel told us at the time we read it.
type Sender struct {
	// Pid is the sender's pid in our pid namespace, when it sent.
	Pid int
	// PidNS is its pid namespace.
	PidNS PidNamespace
}

// PidNamespace identifies a pid namespace: the device and inode of a
// process's /proc/PID/ns/pid (namespaces(7)).
type PidNamespace struct{ Dev, Ino uint64 }

// PidNamespaceOf returns the pid namespace of process pid, also of one that
// has exited but was not reaped yet.
func PidNamespaceOf(pid int) (PidNamespace, error) {
	if pid <= 0 {
		return PidNamespace{}, fmt.Errorf("no pid namespace for pid %d", pid)
	}
	var st unix.Stat_t
	path := "/proc/" + strconv.Itoa(pid) + "/ns/pid"
	if err := unix.Stat(path, &st); err != nil {
		return PidNamespace{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return PidNamespace{Dev: st.Dev, Ino: st.Ino}, nil
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
	// Allow, when set, tells whether a sender may speak (the container's
	// processes): nil, or why not; the others are dropped. It is asked
	// when a message is relayed: at once, or for held messages at Release.
	// Without it the sender is not looked at.
	Allow func(Sender) error
	// OnDrop, when set, hears why a message was dropped (an error wrapping
	// one of the Err values above). It is called from Run or Release.
	OnDrop func(error)

	watchdog atomic.Bool

	mu       sync.Mutex
	released bool
	held     []heldMessage
	dropped  int
}

type heldMessage struct {
	lines []string
	from  Sender
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

// soPassPidfd is SO_PASSPIDFD (Linux 6.5+; x/sys/unix lacks it), the same
// number on every architecture but alpha, mips, parisc and sparc.
const soPassPidfd = 76

// setPassCred asks for the sender's credentials with every message, and
// for its pidfd where the kernel has SO_PASSPIDFD (older kernels refuse
// the option: then the pid alone is used).
func setPassCred(c *net.UnixConn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
		if serr == nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, soPassPidfd, 1)
		}
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
	// Credentials and pidfd come before the rights (scm_recv); rights that
	// do not fit are closed by the kernel (MSG_CTRUNC).
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4)+unix.CmsgSpace(4*16))
	for {
		n, oobn, flags, _, err := p.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		ctl := parseControl(oob[:oobn])
		if err := p.handle(buf[:n], flags, ctl); err != nil {
			p.drop(err)
		}
		// Only now: a sender waiting for this close (BARRIER=1) knows its
		// message was handled. We never keep fds a container sent.
		ctl.close()
	}
}

// handle relays (or holds) one message, or says why it is dropped.
func (p *Proxy) handle(b []byte, flags int, ctl control) error {
	if len(b) > MaxDatagram || flags&unix.MSG_TRUNC != 0 {
		return ErrTooLarge
	}
	var from Sender
	if p.Allow != nil {
		// First, while the sender most likely still exists.
		var err error
		if from, err = ctl.sender(); err != nil {
			return fmt.Errorf("%w: %w", ErrUnverifiedSender, err)
		}
	}
	lines, err := parseMessage(b)
	if err != nil {
		return err
	}
	return p.relay(lines, from)
}

// ParseMessage splits a datagram into KEY=VALUE lines and keeps the ones
// we relay. A malformed message (see the policy above) is refused whole.
func ParseMessage(b []byte) ([]string, bool) {
	lines, err := parseMessage(b)
	return lines, err == nil
}

func parseMessage(b []byte) ([]string, error) {
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, fmt.Errorf("%w: a NUL byte", ErrMalformed)
	}
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ToUpper(k) != k {
			return nil, fmt.Errorf("%w: line %d is not KEY=VALUE", ErrMalformed, i+1)
		}
		if lim, ok := numeric[k]; ok {
			if n, err := strconv.ParseUint(v, 10, 64); err != nil || n < lim.min || n > lim.max {
				return nil, fmt.Errorf("%w: %s= wants a decimal number from %d to %d", ErrMalformed, k, lim.min, lim.max)
			}
		}
		if relayed[k] {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		return nil, ErrNothingRelayed
	}
	return out, nil
}

// relay sends lines to systemd, or holds them until Release.
func (p *Proxy) relay(lines []string, from Sender) error {
	// Sending under the lock keeps the order: nothing overtakes the
	// held messages while Release sends them.
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.released {
		p.held = append(p.held, heldMessage{lines, from})
		return nil
	}
	return p.send(lines, from)
}

// send relays one message that Allow accepts; p.mu is held.
func (p *Proxy) send(lines []string, from Sender) error {
	if p.Allow != nil {
		if err := p.Allow(from); err != nil {
			return fmt.Errorf("%w: pid %d: %w", ErrRefusedSender, from.Pid, err)
		}
	}
	if slices.Contains(lines, "WATCHDOG=1") {
		p.watchdog.Store(true)
	}
	_ = p.to.Send(lines...)
	return nil
}

func (p *Proxy) drop(why error) {
	p.mu.Lock()
	p.dropped++
	p.mu.Unlock()
	if p.OnDrop != nil {
		p.OnDrop(why)
	}
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

// Release sends the held messages that Allow accepts now, and relays the
// rest as they come.
func (p *Proxy) Release() {
	p.mu.Lock()
	var refused []error
	for _, m := range p.held {
		if err := p.send(m.lines, m.from); err != nil {
			p.dropped++
			refused = append(refused, err)
		}
	}
	p.held, p.released = nil, true
	p.mu.Unlock()
	if p.OnDrop != nil {
		for _, err := range refused {
			p.OnDrop(err)
		}
	}
}

// Close stops listening and removes the socket's directory.
func (p *Proxy) Close() error {
	p.conn.Close()
	return os.RemoveAll(p.dir)
}

// control is what came with a message: the sender's pid (0: none), its
// pidfd (-1: none) and the file descriptors it sent.
type control struct {
	pid    int
	pidfd  int
	rights []int
}

func parseControl(oob []byte) control {
	c := control{pidfd: -1}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return c
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET {
			continue
		}
		switch m.Header.Type {
		case unix.SCM_CREDENTIALS:
			if cred, err := unix.ParseUnixCredentials(&m); err == nil {
				c.pid = int(cred.Pid)
			}
		case unix.SCM_PIDFD:
			if len(m.Data) >= 4 && c.pidfd < 0 {
				c.pidfd = int(int32(binary.NativeEndian.Uint32(m.Data)))
			}
		case unix.SCM_RIGHTS:
			if fds, err := unix.ParseUnixRights(&m); err == nil {
				c.rights = append(c.rights, fds...)
			}
		}
	}
	return c
}

// sender reads the sender's pid namespace. Measured on Linux 6.18: once
// the sender is reaped, /proc/PID is gone, and its pidfd (SCM_PIDFD still
// hands one out) answers PIDFD_GET_PID_NAMESPACE with ESRCH, also while it
// is a zombie; PIDFD_GET_INFO then tells only its exit status and cgroup.
// So an exited sender cannot be verified, and is not. A zombie's /proc
// entry still shows its namespace.
func (c control) sender() (Sender, error) {
	if c.pid <= 0 {
		return Sender{}, errors.New("no credentials")
	}
	ns, err := PidNamespaceOf(c.pid)
	if err != nil {
		return Sender{}, fmt.Errorf("pid %d: %w (exited before its message was read?)", c.pid, err)
	}
	if c.pidfd >= 0 {
		// Still there (alive or a zombie) after the read: the pid was not
		// reused, the namespace is the sender's. Without a pidfd (before
		// 6.5) the pid is trusted not to be reused within that moment.
		if err := unix.PidfdSendSignal(c.pidfd, 0, nil, 0); err != nil && !errors.Is(err, unix.EPERM) {
			return Sender{}, fmt.Errorf("pid %d: %w (exited while its message was read)", c.pid, err)
		}
	}
	return Sender{Pid: c.pid, PidNS: ns}, nil
}

// close closes every descriptor that came with the message.
func (c control) close() {
	if c.pidfd >= 0 {
		unix.Close(c.pidfd)
	}
	for _, fd := range c.rights {
		unix.Close(fd)
	}
}
