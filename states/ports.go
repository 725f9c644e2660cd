package states

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by a Docker port when the container does not exist.
var ErrNotFound = errors.New("no such container")

// ErrKilled is returned (wrapped) by a port whose helper process was killed
// by a signal: under systemd that is usually the stop that reaches us too,
// a moment later (systemctl stop signals every process of the unit).
var ErrKilled = errors.New("killed by a signal")

// ErrProcessGone is returned (wrapped) by the Cgroups port when the
// container's process has ended before it could be moved: Docker may not
// know yet, but the container has exited.
var ErrProcessGone = errors.New("the container's process has ended")

// Container is what the machine needs to know of a container.
type Container struct {
	ID          string
	Running     bool
	Pid         int // host pid of its init process; 0 when not running
	ExitCode    int
	OOMKilled   bool
	Labels      map[string]string
	StopTimeout *int // seconds; nil: Docker's default
	StartedAt   time.Time
	FinishedAt  time.Time // when its previous run ended
	// Health is Docker's health status: "starting", "healthy",
	// "unhealthy", or "" when the container has no health check.
	Health string
}

// CreateSpec is what `docker create` is asked to make.
type CreateSpec struct {
	Extra   []string // options of ours (mounts, environment), before the user's
	Options []string // docker run options, ours removed
	Labels  map[string]string
	Env     []string // KEY=VALUE to pass without exposing values on a command line
	Image   string
	Command []string
}

// Docker is the container engine, as the states use it.
type Docker interface {
	// Inspect returns ErrNotFound (wrapped) when there is no such container.
	Inspect(ctx context.Context, nameOrID string) (Container, error)
	// Create makes the container and returns its ID.
	Create(ctx context.Context, spec CreateSpec) (string, error)
	Start(ctx context.Context, id string) error
	// Stop sends the container's own stop signal, waits its own stop
	// timeout, then kills. A missing container is success.
	Stop(ctx context.Context, id string) error
	// Kill sends signal (a name such as "KILL") at once. ErrNotFound
	// (wrapped) when there is no such container.
	Kill(ctx context.Context, id string, signal string) error
	// WaitHealthy blocks until the container's health status is
	// "healthy"; it fails when the container stops first.
	WaitHealthy(ctx context.Context, id string) error
	// Wait blocks until the container is not running and returns its state.
	Wait(ctx context.Context, id string) (Container, error)
	// Remove force-removes the container and its anonymous volumes. A
	// missing container is success.
	Remove(ctx context.Context, id string) error
	// FindByLabel lists the IDs of containers (running or not) with label key=value.
	FindByLabel(ctx context.Context, key, value string) ([]string, error)
}

// Logs copies a container's output to ours.
type Logs interface {
	// Attach starts copying id's stdout and stderr (one raw stream when
	// tty). It returns once attached, so nothing printed after it is lost.
	// A non-zero since (a container Docker restarted, which runs already)
	// follows its logs from that time instead, so its first lines are not
	// lost either.
	Attach(ctx context.Context, id string, tty bool, since time.Time) error
}

// Cgroups moves the container's processes into the unit's cgroups. It
// returns ErrProcessGone (wrapped) when pid has ended.
type Cgroups interface {
	Migrate(ctx context.Context, pid int, containerID string) error
}

// Notifier speaks sd_notify(3) to systemd. Every method is a no-op when
// there is no NOTIFY_SOCKET.
type Notifier interface {
	// Ready tells systemd the container's pid (MAINPID) and, when ready,
	// READY=1, and a STATUS= line.
	Ready(mainPid int, ready bool, status string) error
	// Status sends STATUS=.
	Status(status string) error
	// Stopping sends STOPPING=1 and STATUS=.
	Stopping(status string) error
	// Barrier waits until systemd has processed every message sent so far.
	Barrier() error
	// Reclaim makes this process the main process again (MAINPID=self) and
	// waits until systemd has seen it, so that our exit status is the unit's.
	Reclaim() error
}

// PidFile records the container's pid for others.
type PidFile interface {
	Write(pid int) error
	// Remove removes the file if it still holds pid; it never fails the
	// lifecycle (it says what it could not do itself).
	Remove(pid int)
}
