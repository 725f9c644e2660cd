package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
)

// CleanupDocker is what Cleanup needs of the daemon.
type CleanupDocker interface {
	Inspect(ctx context.Context, nameOrID string) (states.Container, error)
	Remove(ctx context.Context, id string) error
}

// ConnectForCleanup connects to the daemon as Run does.
func ConnectForCleanup(ctx context.Context) (CleanupDocker, func(), error) {
	a, err := dockerapi.New(ctx, nil, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	return a, func() { a.Close() }, nil
}

// Cleanup removes the container called name when it still exists and its
// io.systemd-docker.unit label names unit. It is the ExecStopPost= of
// generated units: systemd stops a killed supervisor's container (it is in
// the unit's cgroup), but only we remove it. A container of another unit,
// or one not made by systemd-docker, is left alone; removed says whether
// one was removed.
func Cleanup(ctx context.Context, d CleanupDocker, name, unit string) (removed bool, err error) {
	c, err := d.Inspect(ctx, name)
	switch {
	case errors.Is(err, states.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("inspect container %s: %w", name, err)
	case c.Labels[states.LabelUnit] != unit:
		return false, nil
	}
	if err := d.Remove(ctx, c.ID); err != nil {
		return false, fmt.Errorf("remove container %s (%s) of %s: %w", name, states.ShortID(c.ID), unit, err)
	}
	return true, nil
}
