package supervisor

import (
	"context"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
)

// dockerPort is the Docker port of the states. Its Wait also takes the exit
// code from Docker's "die" event, which the events watcher sees some
// milliseconds before Docker answers a wait request: a container's exit is
// reported, and we are gone, that much sooner.
type dockerPort struct {
	*dockerapi.Adapter
	died <-chan int // filled by the supervisor from "die" events
}

func (d dockerPort) Wait(ctx context.Context, id string) (states.Container, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		c   states.Container
		err error
	}
	answer := make(chan result, 1)
	go func() {
		c, err := d.Adapter.Wait(ctx, id)
		answer <- result{c, err}
	}()
	select {
	case r := <-answer:
		return r.c, r.err
	case code := <-d.died:
		return states.Container{ID: id, ExitCode: code}, nil
	}
}
