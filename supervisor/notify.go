package supervisor

import (
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
)

// notifyPort implements states.Notifier: sd_notify to systemd, and with
// --notify the proxy whose held messages (the container's READY=1) go out
// only after our MAINPID. The main-process role is taken back once per
// process of the container: exiting takes it early, remove or stop ask
// again and are answered at once.
type notifyPort struct {
	*sdnotify.Notifier
	proxy *sdnotify.Proxy

	mu        sync.Mutex
	reclaimed bool // since the container's process was last announced
}

func (n *notifyPort) Ready(mainPid int, ready bool, status string) error {
	if mainPid > 0 {
		// The container's (new) process is the main one again: a reclaim
		// made for an earlier process does not count.
		n.mu.Lock()
		n.reclaimed = false
		n.mu.Unlock()
	}
	err := n.Notifier.Ready(mainPid, ready, status)
	if n.proxy != nil {
		n.proxy.Release()
	}
	return err
}

// Reclaim implements states.Notifier, once per announced process.
func (n *notifyPort) Reclaim() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.reclaimed {
		return nil
	}
	err := n.Notifier.Reclaim()
	n.reclaimed = err == nil
	return err
}

// containerOnly sets the --notify proxy's policy on senders (sdnotify
// states the rest: fields, creds, fds). A message is relayed only when its
// sender was seen in the pid namespace of the container's init process,
// initPid() (0 while unknown). Fail closed: a sender whose namespace could
// not be read (it exited before we read its message), or no namespace to
// compare with, and nothing is relayed. The socket is mounted into the
// container only, but a process in its mount namespace alone (nsenter -m)
// or a container sharing the mount is not the container.
//
// The first drop of each kind is a warning that says what to do, later
// ones are debug lines: a container cannot flood the journal.
func containerOnly(proxy *sdnotify.Proxy, initPid func() int, log *zap.Logger) {
	proxy.Allow = func(from sdnotify.Sender) error { return inContainerPidNamespace(from, initPid()) }
	var mu sync.Mutex
	warned := map[error]bool{}
	proxy.OnDrop = func(why error) {
		var kind error
		var msg string
		switch {
		case errors.Is(why, sdnotify.ErrUnverifiedSender):
			kind, msg = sdnotify.ErrUnverifiedSender, "dropped a message to the --notify socket: its sender exited before it was read, "+
				"so nothing shows it was the container's; a sender must live until its message is read "+
				"(systemd-notify 254 and later waits for that, as does sd_notify_barrier(3))"
		case errors.Is(why, errOtherPidNamespace):
			kind, msg = errOtherPidNamespace, "dropped a message to the --notify socket from a process outside the container's pid namespace"
		case errors.Is(why, sdnotify.ErrMalformed), errors.Is(why, sdnotify.ErrTooLarge):
			kind, msg = sdnotify.ErrMalformed, "dropped a malformed message to the --notify socket"
		}
		mu.Lock()
		first := kind != nil && !warned[kind]
		if first {
			warned[kind] = true
		}
		mu.Unlock()
		if first {
			log.Warn(msg+"; later ones are logged at debug level", zap.Error(why))
			return
		}
		log.Debug("dropped a message to the --notify socket", zap.Error(why))
	}
}

var errOtherPidNamespace = errors.New("outside the container's pid namespace")

// inContainerPidNamespace tells whether the sender was in the pid
// namespace of process initPid: nil, or why not. An unknown or exited init
// process has no namespace to compare with.
func inContainerPidNamespace(from sdnotify.Sender, initPid int) error {
	if initPid <= 0 {
		return errors.New("the container's process is not known (yet)")
	}
	ns, err := sdnotify.PidNamespaceOf(initPid)
	if err != nil {
		return fmt.Errorf("the container's process: %w", err)
	}
	if ns != from.PidNS {
		return errOtherPidNamespace
	}
	return nil
}
