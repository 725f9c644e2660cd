package states

import (
	"context"
	"fmt"
)

// notify tells systemd which process is the service (MAINPID=container pid)
// and that it is ready, in that order, after the pid file is written.
// With --notify the container sends READY=1 itself (through our proxy).
func (m *Machine) notify(ctx context.Context) (Event, error) {
	pid := m.facts.Pid
	if m.spec.WritePid {
		if err := m.ports.PidFile.Write(pid); err != nil {
			return "", err
		}
	}
	status := fmt.Sprintf("running, pid %d", pid)
	// An adopted container said READY=1 to the invocation that started it.
	ready := !m.spec.Notify || m.facts.Adopted
	if !ready {
		status = fmt.Sprintf("started, pid %d, waiting for the container's READY=1", pid)
	}
	if err := m.ports.Notifier.Ready(pid, ready, status); err != nil {
		return "", fmt.Errorf("notify systemd of container pid %d: %w", pid, err)
	}
	if m.spec.Detach {
		// We exit next: systemd must have taken MAINPID from us first.
		if err := m.ports.Notifier.Barrier(); err != nil {
			m.ports.Log.Warn("wait for systemd to take the container's pid", logError(err))
		}
		return EvDetached, nil
	}
	return EvNotified, nil
}
