package states

import (
	"context"
	"fmt"
)

// remove hands the main-process role of a container that ended on its own
// back to us, so that systemd records our exit status as the unit's, and
// learns the container's exit code for it (a container that completed
// before it was announced gets READY=1, so exit 0 is a clean end); then,
// with --rm, removes the container and its anonymous volumes, as `docker
// run --rm` does.
func (m *Machine) remove(ctx context.Context) (Event, error) {
	m.removePidFile()
	if m.facts.Exited {
		// Reclaim first: systemd's round trip overlaps Docker's own
		// bookkeeping of the exit, which Wait has to wait for.
		if m.facts.Announced {
			if err := m.ports.Notifier.Reclaim(); err != nil {
				m.ports.Log.Warn("hand the main process role back from the container", logError(err))
			}
		}
		if err := m.collectExit(ctx); err != nil {
			return "", err
		}
		if !m.facts.Announced && m.facts.ExitCode == 0 {
			// It ran to completion before it was announced. Under
			// Type=notify a main process that exits 0 without READY=1 is
			// a protocol failure; say READY so the unit ends cleanly.
			err := m.ports.Notifier.Ready(0, true, "the container ran to completion before it was ready")
			if err == nil {
				err = m.ports.Notifier.Barrier()
			}
			if err != nil {
				m.ports.Log.Warn("tell systemd the container completed", logError(err))
			}
		}
	}
	if err := m.removeContainer(ctx); err != nil {
		return "", err
	}
	return EvRemoved, nil
}

// removePidFile removes the --pid-file, which names a process that no
// longer runs.
func (m *Machine) removePidFile() {
	if m.spec.WritePid && m.facts.Pid != 0 {
		m.ports.PidFile.Remove(m.facts.Pid)
	}
}

// removeContainer removes the container with --rm, as `docker run --rm`
// does; without --rm, or without a container, it does nothing.
func (m *Machine) removeContainer(ctx context.Context) error {
	id := m.facts.ContainerID
	if !m.spec.Remove || id == "" {
		return nil
	}
	if err := m.ports.Docker.Remove(ctx, id); err != nil {
		if m.spec.Name != "" {
			return fmt.Errorf("remove container %s: %w; it will be removed at the next start, or run `docker rm -f %s`",
				ShortID(id), err, ShortID(id))
		}
		return fmt.Errorf("remove container %s: %w; remove it with `docker rm -f %s`", ShortID(id), err, ShortID(id))
	}
	return nil
}
