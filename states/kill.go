package states

import (
	"context"
	"errors"
	"fmt"
)

// kill ends the unit when systemd's watchdog fired (it sends the unit its
// WatchdogSignal=, SIGABRT by default): systemd has given up on the
// container (hung, or unhealthy so that pings were withheld), so there is
// no graceful stop: SIGKILL at once, learn the exit code, and with --rm
// remove the container, so that Restart= starts a fresh one at once. The
// unit has failed whatever the container's code.
func (m *Machine) kill(ctx context.Context) (Event, error) {
	if found, err := m.findOurs(ctx); err != nil {
		return "", err
	} else if !found {
		return EvKilled, nil
	}
	id := m.facts.ContainerID
	if err := m.ports.Notifier.Stopping("systemd's watchdog fired: killing the container"); err != nil {
		m.ports.Log.Warn("tell systemd we are stopping", logError(err))
	}
	if err := m.ports.Docker.Kill(ctx, id, "KILL"); err != nil && !m.notRunning(ctx, id) {
		return "", fmt.Errorf("kill container %s: %w", ShortID(id), err)
	}
	if err := m.collectExit(ctx); err != nil {
		return "", err
	}
	m.removePidFile()
	if err := m.removeContainer(ctx); err != nil {
		return "", err
	}
	return EvKilled, nil
}

// notRunning tells whether the container has ended already (a kill then
// has nothing to do: the daemon refuses it).
func (m *Machine) notRunning(ctx context.Context, id string) bool {
	c, err := m.ports.Docker.Inspect(ctx, id)
	return errors.Is(err, ErrNotFound) || (err == nil && !c.Running)
}
