package supervisor

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
)

// notifyPort implements states.Notifier: sd_notify to systemd, and with
// --notify the proxy whose held messages (the container's READY=1) go out
// only after our MAINPID.
type notifyPort struct {
	*sdnotify.Notifier
	proxy *sdnotify.Proxy
}

func (n notifyPort) Ready(mainPid int, ready bool, status string) error {
	err := n.Notifier.Ready(mainPid, ready, status)
	if n.proxy != nil {
		n.proxy.Release()
	}
	return err
}

// runDir is where private sockets go: /run/systemd-docker as root, else
// the temporary directory.
func runDir() string {
	if os.Geteuid() == 0 {
		return "/run/systemd-docker"
	}
	return filepath.Join(os.TempDir(), "systemd-docker")
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
