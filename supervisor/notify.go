package supervisor

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
)

// notifyPort implements states.Notifier: sd_notify to systemd, and with
// --notify the proxy whose held messages (the container's READY=1) go out
// only after our MAINPID. It can start the main-process reclaim early
// (StartReclaim), as soon as the container's process is seen to end, so
// that systemd's round trip is over by the time the exit code is known.
type notifyPort struct {
	*sdnotify.Notifier
	proxy *sdnotify.Proxy

	mu         sync.Mutex
	reclaimed  chan struct{} // closed when the early reclaim is done
	reclaimErr error
}

func (n *notifyPort) Ready(mainPid int, ready bool, status string) error {
	if mainPid > 0 {
		// The container's (new) process is the main one again: a reclaim
		// made for an earlier process does not count.
		n.mu.Lock()
		n.reclaimed = nil
		n.mu.Unlock()
	}
	err := n.Notifier.Ready(mainPid, ready, status)
	if n.proxy != nil {
		n.proxy.Release()
	}
	return err
}

// StartReclaim begins Reclaim in the background, once.
func (n *notifyPort) StartReclaim() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.reclaimed != nil {
		return
	}
	done := make(chan struct{})
	n.reclaimed = done
	go func() {
		err := n.Notifier.Reclaim()
		n.mu.Lock()
		n.reclaimErr = err
		n.mu.Unlock()
		close(done)
	}()
}

// Reclaim implements states.Notifier, finishing an early reclaim if one
// was started.
func (n *notifyPort) Reclaim() error {
	n.mu.Lock()
	done := n.reclaimed
	n.mu.Unlock()
	if done == nil {
		return n.Notifier.Reclaim()
	}
	<-done
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.reclaimErr
}

// otherPidNamespace tells whether pid is a live process outside the pid
// namespace of the container's init process. A sender that has exited
// already (`sdnotify READY=1` as a container's last step does) cannot be
// looked at and is not refused: only the container has the socket mounted.
func otherPidNamespace(pid, initPid int) bool {
	a, err1 := os.Readlink(filepath.Join("/proc", itoa(pid), "ns/pid"))
	b, err2 := os.Readlink(filepath.Join("/proc", itoa(initPid), "ns/pid"))
	return err1 == nil && err2 == nil && a != b
}

func itoa(i int) string { return strconv.Itoa(i) }
