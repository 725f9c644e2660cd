package states

import (
	"context"
	"time"
)

// exiting: the container's init process has ended (its pidfd said so).
// Most likely that is the end, so the main-process role is taken back
// already: systemd's round trip then overlaps Docker's bookkeeping (a
// restart announces the new process again anyway). Then Docker's die
// event, with the exit code, is awaited (an input) for at most DieGrace:
// without it (dockerd gone) the exit stands.
func (m *Machine) exiting(ctx context.Context) (Event, error) {
	if m.facts.Announced {
		if err := m.ports.Notifier.Reclaim(); err != nil {
			m.ports.Log.Warn("hand the main process role back from the container", logError(err))
		}
	}
	return settleAfter(ctx, DieGrace)
}

// restarting: the container died soon after someone asked Docker to
// signal it: `docker restart` starts it again (an input, EvRestarted),
// `docker stop` does not. After RestartWindow the exit stands.
func (m *Machine) restarting(ctx context.Context) (Event, error) {
	return settleAfter(ctx, RestartWindow)
}

// settleAfter is a window: EvSettled once d has passed, unless an input
// ends the state first.
func settleAfter(ctx context.Context, d time.Duration) (Event, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return EvSettled, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}
