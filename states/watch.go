package states

import "context"

// watch waits while the container runs. It ends only by interruption: the
// supervisor's watchers report the container's exit (EvExited) or a stop
// request (EvStop).
func (m *Machine) watch(ctx context.Context) (Event, error) {
	<-ctx.Done()
	return "", context.Cause(ctx)
}
