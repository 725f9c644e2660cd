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
	if m.spec.WaitHealthy && !m.facts.Adopted {
		return m.notifyWhenHealthy(ctx)
	}
	if err := m.ports.Notifier.Ready(pid, ready, status); err != nil {
		return "", fmt.Errorf("notify systemd of container pid %d: %w", pid, err)
	}
	m.facts.Announced = true
	if m.spec.Detach {
		// We exit next: systemd must have taken MAINPID from us first.
		if err := m.ports.Notifier.Barrier(); err != nil {
			m.ports.Log.Warn("wait for systemd to take the container's pid", logError(err))
		}
		return EvDetached, nil
	}
	return EvNotified, nil
}

// notifyWhenHealthy (--ready=healthy) reports MAINPID at once and READY=1
// at the container's first healthy health check.
func (m *Machine) notifyWhenHealthy(ctx context.Context) (Event, error) {
	id, pid := m.facts.ContainerID, m.facts.Pid
	c, err := m.ports.Docker.Inspect(ctx, id)
	if err != nil {
		return "", fmt.Errorf("inspect container %s for its health check: %w", ShortID(id), err)
	}
	if c.Health == "" {
		return "", fmt.Errorf("--ready=healthy, but container %s has no health check; add --health-cmd to the docker run arguments (or a HEALTHCHECK to the image), or use --ready=running", ShortID(id))
	}
	waiting := fmt.Sprintf("running, pid %d, waiting for a healthy health check", pid)
	if err := m.ports.Notifier.Ready(pid, false, waiting); err != nil {
		return "", fmt.Errorf("notify systemd of container pid %d: %w", pid, err)
	}
	m.facts.Announced = true
	if err := m.ports.Docker.WaitHealthy(ctx, id); err != nil {
		return "", fmt.Errorf("wait for container %s to be healthy: %w", ShortID(id), err)
	}
	if err := m.ports.Notifier.Ready(0, true, fmt.Sprintf("running, healthy, pid %d", pid)); err != nil {
		return "", fmt.Errorf("notify systemd that container %s is ready: %w", ShortID(id), err)
	}
	return EvNotified, nil
}
