package states

import "context"

// watch waits while the container runs. It ends only by an input: the
// container's process ending (its pidfd), Docker's die event, a stop
// request, systemd's watchdog.
func (m *Machine) watch(ctx context.Context) (Event, error) {
	<-ctx.Done()
	return "", context.Cause(ctx)
}
