// Package sdnotify tells systemd about the service's state, as described in
// sd_notify(3): MAINPID=, READY=1, STATUS=, STOPPING=1 and BARRIER=1.
//
// Plain messages go through go-systemd's daemon.SdNotify; the barrier
// (which go-systemd lacks) passes a pipe with SCM_RIGHTS and waits until
// systemd closes it, i.e. has processed every message sent before.
package sdnotify

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/coreos/go-systemd/v22/journal"
	"golang.org/x/sys/unix"

	"github.com/systemd-docker/systemd-docker/supervisor/unit"
)

// Notifier sends to the socket named by $NOTIFY_SOCKET. With no socket,
// every method does nothing and returns nil.
type Notifier struct {
	// Socket is the address; "" disables notification. An address starting
	// with "@" is in the abstract namespace.
	Socket string
	// BarrierTimeout bounds Barrier; zero means 5 seconds.
	BarrierTimeout time.Duration
	// send is daemon.SdNotify unless a test replaces it.
	send func(state string) error
}

// FromEnv returns a Notifier for $NOTIFY_SOCKET in environ.
func FromEnv(environ []string) *Notifier {
	return &Notifier{Socket: unit.Getenv(environ, "NOTIFY_SOCKET")}
}

// Enabled reports whether a socket is set.
func (n *Notifier) Enabled() bool { return n.Socket != "" }

// Send sends one datagram made of the given KEY=VALUE lines.
func (n *Notifier) Send(lines ...string) error {
	if !n.Enabled() {
		return nil
	}
	state := strings.Join(lines, "\n")
	if n.send != nil {
		return n.send(state)
	}
	// go-systemd reads the address from the environment; keep it in step
	// with ours (tests point it elsewhere).
	if os.Getenv("NOTIFY_SOCKET") != n.Socket {
		if err := os.Setenv("NOTIFY_SOCKET", n.Socket); err != nil {
			return err
		}
	}
	sent, err := daemon.SdNotify(false, state)
	if err != nil {
		return fmt.Errorf("sd_notify to %s: %w", n.Socket, err)
	}
	if !sent {
		return fmt.Errorf("sd_notify to %s: not sent", n.Socket)
	}
	return nil
}

// Ready sends MAINPID= (when mainPid > 0), then READY=1 (when ready), then
// STATUS=, in one datagram: systemd applies MAINPID before READY.
func (n *Notifier) Ready(mainPid int, ready bool, status string) error {
	var lines []string
	if mainPid > 0 {
		lines = append(lines, fmt.Sprintf("MAINPID=%d", mainPid))
	}
	if ready {
		lines = append(lines, daemon.SdNotifyReady)
	}
	if status != "" {
		lines = append(lines, "STATUS="+oneLine(status))
	}
	return n.Send(lines...)
}

// Status sends STATUS=.
func (n *Notifier) Status(status string) error { return n.Send("STATUS=" + oneLine(status)) }

// Stopping sends STOPPING=1 and STATUS=.
func (n *Notifier) Stopping(status string) error {
	return n.Send(daemon.SdNotifyStopping, "STATUS="+oneLine(status))
}

// Reclaim makes this process the service's main process again and waits
// until systemd has processed it, so that our exit status is the unit's.
func (n *Notifier) Reclaim() error {
	if err := n.Send(fmt.Sprintf("MAINPID=%d", os.Getpid())); err != nil {
		return err
	}
	return n.Barrier()
}

// Barrier sends BARRIER=1 with a pipe and waits until systemd closes it:
// every earlier message has then been processed.
func (n *Notifier) Barrier() error {
	if !n.Enabled() {
		return nil
	}
	timeout := n.BarrierTimeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("barrier: pipe: %w", err)
	}
	r, w := p[0], p[1]
	defer unix.Close(r)
	err := n.sendWithFd("BARRIER=1", w)
	unix.Close(w)
	if err != nil {
		return err
	}
	// systemd closes its copy of w; the read end then sees POLLHUP.
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("barrier: systemd did not answer within %s", timeout)
		}
		fds := []unix.PollFd{{Fd: int32(r), Events: unix.POLLIN}}
		_, err := unix.Poll(fds, int(left.Milliseconds())+1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("barrier: poll: %w", err)
		}
		if fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
			return nil
		}
	}
}

func (n *Notifier) sendWithFd(state string, fd int) error {
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("sd_notify to %s: socket: %w", n.Socket, err)
	}
	defer unix.Close(sock)
	// x/sys/unix maps a leading "@" to the abstract namespace.
	to := &unix.SockaddrUnix{Name: n.Socket}
	if err := unix.Sendmsg(sock, []byte(state), unix.UnixRights(fd), to, 0); err != nil {
		return fmt.Errorf("sd_notify to %s: %w", n.Socket, err)
	}
	return nil
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// StderrIsJournal reports whether our stderr is connected to the journal
// (systemd.exec(5), $JOURNAL_STREAM), where a line may start with an
// sd-daemon(3) priority prefix such as "<3>".
func StderrIsJournal() bool {
	ok, _ := journal.StderrIsJournalStream()
	return ok
}
