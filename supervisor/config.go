package supervisor

import (
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor/runargs"
)

// Config is everything one invocation of `systemd-docker run` needs. The
// command line (cmd/systemd-docker) builds it; Run consumes it.
type Config struct {
	// Run is the scanned `docker run` part of the command line.
	Run runargs.Args

	// Logs copies the container's stdout/stderr to ours (the journal).
	Logs bool
	// Env copies our environment (minus systemd's own variables) into the container.
	Env bool
	// Cgroups names the hierarchies to move the container into ("all" when empty).
	Cgroups []string
	// PidFile, when set, receives the container's host pid.
	PidFile string
	// Notify leaves READY=1 to the container itself.
	Notify bool

	// Ready says when systemd hears READY=1: "running" (once the container
	// runs, the default), "healthy" (at its first healthy health check) or
	// "container" (it sends READY=1 itself; the same as Notify).
	Ready string
	// MetricsDir, when set, receives <unit>.prom for node_exporter's
	// textfile collector.
	MetricsDir string

	// PullProgressTimeout: while docker create prints progress, the start
	// timeout is extended; after this long without a new line it is not.
	PullProgressTimeout time.Duration

	// DockerCLI is the docker client binary used for `docker create`.
	DockerCLI string
	// Environ is our environment (os.Environ()); injectable for tests.
	Environ []string
}
