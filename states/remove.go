package states

import (
	"context"
	"fmt"
)

// remove learns the exit code of a container that ended on its own and
// hands the main-process role back to us, so that systemd records our exit
// status (the container's code) as the unit's; then, with --rm, removes the
// container and its anonymous volumes, as `docker run --rm` does.
func (m *Machine) remove(ctx context.Context) (Event, error) {
	id := m.facts.ContainerID
	if m.facts.Exited {
		if err := m.collectExit(ctx); err != nil {
			return "", err
		}
		if m.facts.Pid != 0 {
			if err := m.ports.Notifier.Reclaim(); err != nil {
				m.ports.Log.Warn("hand the main process role back from the container", logError(err))
			}
		}
	}
	if !m.spec.Remove || id == "" {
		return EvRemoved, nil
	}
	if err := m.ports.Docker.Remove(ctx, id); err != nil {
		if m.spec.Name != "" {
			return "", fmt.Errorf("remove container %s: %w; it will be removed at the next start, or run `docker rm -f %s`",
				short(id), err, short(id))
		}
		return "", fmt.Errorf("remove container %s: %w; remove it with `docker rm -f %s`", short(id), err, short(id))
	}
	return EvRemoved, nil
}
