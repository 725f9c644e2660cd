// Package dockerapi is the one place that speaks to the Docker daemon: its
// HTTP API through github.com/docker/docker/client (API version
// negotiated, never pinned) and, for create only, the docker CLI, so that
// every `docker run` flag, image pull and registry credential works exactly
// as in docker.
package dockerapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/watchers"
)

// CallTimeout bounds every daemon call that is not a stream: long enough
// for a daemon busy starting many containers at once, short enough that a
// wedged one ends in an error. A variable only so that tests can shorten it.
var CallTimeout = 60 * time.Second

// Adapter implements states.Docker, watchers.EventSource and what the
// supervisor needs.
type Adapter struct {
	api *client.Client
	cli *CLI
	// MeasurePull makes Create find out whether it pulls the image (one
	// more daemon call), for the image_pull_seconds metric.
	MeasurePull bool
	// pulled is how long the last Create took when its image was not
	// present before: the time the pull cost.
	pulled time.Duration
	// reached is closed once the first contact (a ping) has ended;
	// unreached is then its failure, a *DaemonError, or nil.
	reached   chan struct{}
	unreached error
}

// New connects as the docker CLI would ($DOCKER_HOST, $DOCKER_CERT_PATH …)
// and starts the first contact with the daemon, a ping bounded by timeout
// that negotiates the API version. It does not wait for the answer: docker
// create, which pings for itself, can start meanwhile. Reached tells how
// the contact went; Inspect and Create report a daemon that did not answer
// it as a *DaemonError.
func New(ctx context.Context, cli *CLI, timeout time.Duration) (*Adapter, error) {
	api, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w; check DOCKER_HOST", err)
	}
	a := &Adapter{api: api, cli: cli, reached: make(chan struct{})}
	go a.ping(ctx, timeout)
	return a, nil
}

func (a *Adapter) ping(ctx context.Context, timeout time.Duration) {
	defer close(a.reached)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p, err := a.api.Ping(ctx)
	if err != nil {
		a.unreached = &DaemonError{Host: a.api.DaemonHost(), Err: err}
		return
	}
	// Negotiate from this answer, or the first request would ping again.
	a.api.NegotiateAPIVersionPing(p)
}

// Reached waits for the first contact with the daemon and returns its
// failure (a *DaemonError), or nil once the daemon answered.
func (a *Adapter) Reached(ctx context.Context) error {
	select {
	case <-a.reached:
		return a.unreached
	case <-ctx.Done():
		return ctx.Err()
	}
}

// unanswered returns err, or the *DaemonError of a first contact that
// failed: what went wrong with the daemon, not with one request to it.
func (a *Adapter) unanswered(err error) error {
	if err == nil {
		return nil
	}
	<-a.reached // within the ping's timeout
	if a.unreached != nil {
		return a.unreached
	}
	return err
}

// DaemonError says that the daemon did not answer.
type DaemonError struct {
	Host string
	Err  error
}

func (e *DaemonError) Error() string {
	return fmt.Sprintf("docker daemon at %s does not answer: %v; is dockerd running (systemctl status docker), and is DOCKER_HOST right?", e.Host, e.Err)
}

func (e *DaemonError) Unwrap() error { return e.Err }

// Host is the daemon's address.
func (a *Adapter) Host() string { return a.api.DaemonHost() }

// Close releases the client.
func (a *Adapter) Close() error { return a.api.Close() }

// Unreachable reports whether err says nothing answers on the daemon's
// socket (dockerd not running, or restarting), as opposed to a daemon that
// accepts requests but does not answer them in time (wedged).
func Unreachable(err error) bool { return client.IsErrConnectionFailed(err) }

// Unreachable is Unreachable, for those who hold an Adapter.
func (a *Adapter) Unreachable(err error) bool { return Unreachable(err) }

// Refused reports whether err is the daemon's answer that it cannot do
// what was asked (not implemented, invalid), as opposed to a failure that
// may pass (daemon down, restarting, busy).
func Refused(err error) bool {
	return cerrdefs.IsNotImplemented(err) || cerrdefs.IsInvalidArgument(err)
}

func call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, CallTimeout)
}

func notFound(err error) error {
	if err != nil && cerrdefs.IsNotFound(err) {
		return fmt.Errorf("%w: %v", states.ErrNotFound, err)
	}
	return err
}

// Inspect implements states.Docker.
func (a *Adapter) Inspect(ctx context.Context, nameOrID string) (states.Container, error) {
	ctx, cancel := call(ctx)
	defer cancel()
	if err := a.Reached(ctx); err != nil {
		return states.Container{}, err
	}
	r, err := a.api.ContainerInspect(ctx, nameOrID)
	if err != nil {
		return states.Container{}, notFound(err)
	}
	return fromInspect(r), nil
}

func fromInspect(r container.InspectResponse) states.Container {
	c := states.Container{ID: r.ID}
	if r.State != nil {
		c.Running = r.State.Running
		c.Pid = r.State.Pid
		c.ExitCode = r.State.ExitCode
		c.OOMKilled = r.State.OOMKilled
		c.StartedAt, _ = time.Parse(time.RFC3339Nano, r.State.StartedAt)
		c.FinishedAt, _ = time.Parse(time.RFC3339Nano, r.State.FinishedAt)
		if r.State.Health != nil {
			c.Health = r.State.Health.Status
		}
	}
	if r.Config != nil {
		c.Labels = r.Config.Labels
		c.StopTimeout = r.Config.StopTimeout
	}
	return c
}

// Create implements states.Docker through the docker CLI. The CLI starts
// at once, beside our first contact with the daemon; if that contact
// fails, the CLI is stopped and the failure is the error.
func (a *Adapter) Create(ctx context.Context, spec states.CreateSpec) (string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		if err := a.Reached(ctx); err != nil {
			cancel(err)
		}
	}()
	if !a.MeasurePull {
		id, err := a.cli.Create(ctx, spec)
		return id, a.unanswered(err)
	}
	ictx, icancel := call(ctx)
	_, err := a.api.ImageInspect(ictx, spec.Image)
	icancel()
	start := time.Now()
	id, cerr := a.cli.Create(ctx, spec)
	if err != nil && cerrdefs.IsNotFound(err) {
		a.pulled = time.Since(start)
	}
	return id, a.unanswered(cerr)
}

// PullDuration is how long the last Create took when it had to pull its
// image; zero when the image was present.
func (a *Adapter) PullDuration() time.Duration { return a.pulled }

// Start implements states.Docker.
func (a *Adapter) Start(ctx context.Context, id string) error {
	ctx, cancel := call(ctx)
	defer cancel()
	return notFound(a.api.ContainerStart(ctx, id, container.StartOptions{}))
}

// Stop implements states.Docker. The daemon sends the signal, waits, then
// kills; our deadline leaves it the whole stop timeout.
func (a *Adapter) Stop(ctx context.Context, id string) error {
	c, err := a.Inspect(ctx, id)
	if errors.Is(err, states.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err // a daemon that cannot say how long the stop takes will not stop it either
	}
	wait := 10 * time.Second // docker's default
	if c.StopTimeout != nil {
		wait = time.Duration(*c.StopTimeout) * time.Second
	}
	if wait < 0 { // -1: wait forever, as docker does
		wait = 365 * 24 * time.Hour
	}
	ctx, cancel := context.WithTimeout(ctx, wait+CallTimeout)
	defer cancel()
	err = a.api.ContainerStop(ctx, id, container.StopOptions{})
	if err != nil && cerrdefs.IsNotFound(err) {
		return nil
	}
	return err
}

// Kill sends signal (a name such as "HUP" or a number) to the container.
func (a *Adapter) Kill(ctx context.Context, id, signal string) error {
	ctx, cancel := call(ctx)
	defer cancel()
	return notFound(a.api.ContainerKill(ctx, id, signal))
}

// DaemonRestartGrace is how long Wait keeps asking a daemon that does not
// answer: dockerd restarting (without live-restore it has just killed the
// container) is back within seconds, and then knows the exit code.
var DaemonRestartGrace = 30 * time.Second

// Wait implements states.Docker: it returns once the container does not
// run, with its final state.
func (a *Adapter) Wait(ctx context.Context, id string) (states.Container, error) {
	var unreachable time.Time
	away := watchers.Backoff{First: 500 * time.Millisecond, Max: 500 * time.Millisecond}
	broken := watchers.Backoff{First: 200 * time.Millisecond, Max: 200 * time.Millisecond}
	for {
		c, err := a.Inspect(ctx, id)
		if err != nil && Unreachable(err) {
			if unreachable.IsZero() {
				unreachable = time.Now()
			}
			if time.Since(unreachable) < DaemonRestartGrace {
				if !away.Wait(ctx) {
					return c, ctx.Err()
				}
				continue
			}
			return c, &DaemonError{Host: a.Host(), Err: err}
		}
		if err != nil || !c.Running {
			return c, err
		}
		okC, errC := a.api.ContainerWait(ctx, id, container.WaitConditionNotRunning)
		select {
		case <-okC:
		case err := <-errC:
			if ctx.Err() != nil {
				return c, ctx.Err()
			}
			if cerrdefs.IsNotFound(err) {
				return c, notFound(err)
			}
			// The stream broke (daemon restart?): look again.
			if !broken.Wait(ctx) {
				return c, ctx.Err()
			}
		}
	}
}

// WaitHealthy implements states.Docker: it listens to the container's
// health_status events, having looked at its state once they flow.
func (a *Adapter) WaitHealthy(ctx context.Context, id string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, errs := a.api.Events(ctx, containerEvents(id))
	broken := watchers.Backoff{First: 500 * time.Millisecond, Max: 500 * time.Millisecond}
	check := func() (bool, error) {
		c, err := a.Inspect(ctx, id)
		switch {
		case err != nil:
			return false, err
		case !c.Running:
			return false, fmt.Errorf("the container stopped before it was healthy (exit code %d)", c.ExitCode)
		}
		return c.Health == "healthy", nil
	}
	for {
		if ok, err := check(); ok || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-msgs:
		case <-errs:
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			// The stream broke: subscribe again after a pause.
			if !broken.Wait(ctx) {
				return context.Cause(ctx)
			}
			msgs, errs = a.api.Events(ctx, containerEvents(id))
		}
	}
}

// Remove implements states.Docker: force, with anonymous volumes, as
// `docker run --rm` does. A missing container (NotFound), or one already
// being removed (Conflict: the daemon's answer to a forced removal while
// another removal of the container is under way), is success.
func (a *Adapter) Remove(ctx context.Context, id string) error {
	ctx, cancel := call(ctx)
	defer cancel()
	// A conflict is a removal already in progress (someone's docker rm),
	// or, on old daemons, a container that stopped between the daemon's
	// check and its kill: asked again, the daemon removes it or says it
	// is gone.
	pause := watchers.Backoff{First: 100 * time.Millisecond, Max: 400 * time.Millisecond}
	for attempt := 1; ; attempt++ {
		err := a.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
		switch {
		case err == nil || cerrdefs.IsNotFound(err):
			return nil
		case !cerrdefs.IsConflict(err):
			return err
		case attempt == removeAttempts || !pause.Wait(ctx):
			return nil // still in progress: someone else's removal will end it
		}
	}
}

// removeAttempts bounds the removals asked for while the daemon answers
// with a conflict.
const removeAttempts = 4

// FindByLabel implements states.Docker.
func (a *Adapter) FindByLabel(ctx context.Context, key, value string) ([]string, error) {
	ctx, cancel := call(ctx)
	defer cancel()
	list, err := a.api.ContainerList(ctx, container.ListOptions{
		All:     true,
		Filters: filters.NewArgs(filters.Arg("label", key+"="+value)),
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	return ids, nil
}

// Attach connects to the container's stdout and stderr stream. Copy then
// moves the output until the stream ends; Close ends it early.
func (a *Adapter) Attach(ctx context.Context, id string) (*Stream, error) {
	ctx, cancel := call(ctx)
	defer cancel()
	r, err := a.api.ContainerAttach(ctx, id, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return nil, notFound(err)
	}
	return &Stream{r: r.Reader, close: r.Close}, nil
}

// Replay streams the lines Docker logged for the container between since
// and until (zero: no bound), each with the time Docker read it; with
// follow it stays open for new lines until the container stops. Read it
// with Entries. ctx ends the stream, as Close does.
func (a *Adapter) Replay(ctx context.Context, id string, since, until time.Time, follow bool) (*Stream, error) {
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: follow, Timestamps: true}
	if !since.IsZero() {
		opts.Since = apiTime(since)
	}
	if !until.IsZero() {
		opts.Until = apiTime(until)
	}
	rc, err := a.api.ContainerLogs(ctx, id, opts)
	if err != nil {
		return nil, notFound(err)
	}
	return &Stream{r: rc, close: func() { rc.Close() }}, nil
}

// apiTime is t as the logs API's since and until take it.
func apiTime(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// NewStream makes a Stream of r (tests use it for a daemon's answer).
func NewStream(r io.Reader, close func()) *Stream { return &Stream{r: r, close: close} }

// Stream is a container's output: attached, or followed from its logs.
type Stream struct {
	r     io.Reader
	close func()
}

// Copy moves the output to stdout and stderr until the stream ends: one raw
// stream for a tty, else Docker's multiplexed stdout/stderr frames.
func (s *Stream) Copy(stdout, stderr io.Writer, tty bool) error {
	var err error
	if tty {
		_, err = io.Copy(stdout, s.r)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, s.r)
	}
	return err
}

// Close ends the stream.
func (s *Stream) Close() { s.close() }

var _ watchers.EventSource = (*Adapter)(nil)

// Events implements watchers.EventSource: it streams every event about the
// container (each action: create, start, kill, die, oom, health_status: …,
// destroy …) until ctx ends or the stream breaks (the error channel then
// says why).
func (a *Adapter) Events(ctx context.Context, id string) (<-chan watchers.ContainerEvent, <-chan error) {
	out := make(chan watchers.ContainerEvent)
	errs := make(chan error, 1)
	msgs, errc := a.api.Events(ctx, containerEvents(id))
	go func() {
		defer close(out)
		for {
			select {
			case m := <-msgs:
				ev := watchers.ContainerEvent{Action: string(m.Action), ExitCode: m.Actor.Attributes["exitCode"],
					Time: time.Unix(0, m.TimeNano)}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case err := <-errc:
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				errs <- err
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errs
}

// containerEvents selects the events about one container.
func containerEvents(id string) events.ListOptions {
	return events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("container", id),
	)}
}
