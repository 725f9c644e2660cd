package states

import (
	"context"
	"fmt"
)

// notify tells systemd which process is the service (MAINPID=container pid)
// and that it is ready, in that order, after the pid file is written.
// With --notify the container sends READY=1 itself.
func (m *Machine) notify(ctx context.Context) (Event, error) {
	pid := m.facts.Pid
	if m.spec.WritePid {
		if err := m.ports.PidFile.Write(pid); err != nil {
			return "", err
		}
	}
	status := fmt.Sprintf("running, pid %d", pid)
	if m.spec.Notify {
		status = fmt.Sprintf("started, pid %d, waiting for the container's READY=1", pid)
	}
	if err := m.ports.Notifier.Ready(pid, !m.spec.Notify, status); err != nil {
		return "", fmt.Errorf("notify systemd of container pid %d: %w", pid, err)
	}
	if m.spec.Detach {
		return EvDetached, nil
	}
	return EvNotified, nil
}
