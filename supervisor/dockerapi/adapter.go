// Package dockerapi is the one place that speaks to the Docker daemon: its
// HTTP API (wire.go; API version negotiated, never pinned) and, for create
// only, the docker CLI, so that every `docker run` flag, image pull and
// registry credential works exactly as in docker.
package dockerapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

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
	api *wire
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

// New connects as the docker CLI would ($DOCKER_HOST, $DOCKER_API_VERSION)
// and starts the first contact with the daemon, a ping bounded by timeout
// that negotiates the API version. It does not wait for the answer: docker
// create, which pings for itself, can start meanwhile. Reached tells how
// the contact went; Inspect and Create report a daemon that did not answer
// it as a *DaemonError.
func New(ctx context.Context, cli *CLI, timeout time.Duration) (*Adapter, error) {
	api, err := newWire(os.Getenv)
	if err != nil {
		return nil, err
	}
	a := &Adapter{api: api, cli: cli, reached: make(chan struct{})}
	go a.ping(ctx, timeout)
	return a, nil
}

func (a *Adapter) ping(ctx context.Context, timeout time.Duration) {
	defer close(a.reached)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := a.api.do(ctx, request{method: http.MethodGet, path: "/_ping"})
	if err != nil {
		a.unreached = &DaemonError{Host: a.api.host, Err: err}
		return
	}
	resp.body.Close()
	if a.api.version == "" { // not pinned by DOCKER_API_VERSION
		a.api.version = negotiate(resp.header.Get("Api-Version"))
	}
}

// negotiate is the API version to speak with a daemon that offers
// offered: its own, up to the newest we know; 1.24 (the oldest the CLI
// speaks) when it does not say.
func negotiate(offered string) string {
	switch {
	case offered == "":
		return "1.24"
	case versionLess(maxAPIVersion, offered):
		return maxAPIVersion
	}
	return offered
}

// versionLess compares API versions ("1.9" < "1.41").
func versionLess(a, b string) bool {
	am, an, _ := strings.Cut(a, ".")
	bm, bn, _ := strings.Cut(b, ".")
	if am != bm {
		return len(am) < len(bm) || len(am) == len(bm) && am < bm
	}
	return len(an) < len(bn) || len(an) == len(bn) && an < bn
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
	cause := e.Err
	var ce *connError
	if errors.As(cause, &ce) {
		cause = ce.err // its own message names the host again
	}
	return fmt.Sprintf("docker daemon at %s does not answer: %v; is dockerd running (systemctl status docker), and is DOCKER_HOST right?", e.Host, cause)
}

func (e *DaemonError) Unwrap() error { return e.Err }

// Host is the daemon's address.
func (a *Adapter) Host() string { return a.api.host }

// Close releases the client: each request's connection is closed with
// its answer, so there is nothing left to release.
func (a *Adapter) Close() error { return nil }

// Unreachable reports whether err says nothing answers on the daemon's
// socket (dockerd not running, or restarting), as opposed to a daemon that
// accepts requests but does not answer them in time (wedged).
func Unreachable(err error) bool {
	var ce *connError
	return errors.As(err, &ce)
}

// Unreachable is Unreachable, for those who hold an Adapter.
func (a *Adapter) Unreachable(err error) bool { return Unreachable(err) }

// Refused reports whether err is the daemon's answer that it cannot do
// what was asked (not implemented, invalid), as opposed to a failure that
// may pass (daemon down, restarting, busy).
func Refused(err error) bool {
	return statusIs(err, http.StatusNotImplemented, http.StatusBadRequest)
}

func call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, CallTimeout)
}

func notFound(err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%w: %v", states.ErrNotFound, err)
	}
	return err
}

// isNotFound reports whether err is the daemon's "no such container"
// (or image).
func isNotFound(err error) bool { return statusIs(err, http.StatusNotFound) }

// do makes req once the first contact has ended: with the API version it
// negotiated, or with its failure.
func (a *Adapter) do(ctx context.Context, req request) (*response, error) {
	if err := a.Reached(ctx); err != nil {
		return nil, err
	}
	return a.api.do(ctx, req)
}

// call is fetch within CallTimeout.
func (a *Adapter) call(ctx context.Context, req request, out any) error {
	ctx, cancel := call(ctx)
	defer cancel()
	return a.fetch(ctx, req, out)
}

// fetch makes req and decodes the answer's JSON into out (nil: the answer
// is read and dropped).
func (a *Adapter) fetch(ctx context.Context, req request, out any) error {
	resp, err := a.do(ctx, req)
	if err != nil {
		return err
	}
	defer resp.body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.body)
		return err
	}
	if err := json.NewDecoder(resp.body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: the daemon's answer: %w", req.method, req.path, err)
	}
	return nil
}

// post is a POST to the container's path (start, stop, kill …).
func post(id, verb string, query url.Values) request {
	return request{method: http.MethodPost, path: "/containers/" + id + "/" + verb, query: query}
}

// Inspect implements states.Docker.
func (a *Adapter) Inspect(ctx context.Context, nameOrID string) (states.Container, error) {
	var r inspected
	if err := a.call(ctx, request{method: http.MethodGet, path: "/containers/" + nameOrID + "/json"}, &r); err != nil {
		return states.Container{}, notFound(err)
	}
	return r.container(), nil
}

// inspected is what we read of the daemon's inspect answer.
type inspected struct {
	ID    string `json:"Id"`
	State *struct {
		Running    bool
		Pid        int
		ExitCode   int
		OOMKilled  bool
		StartedAt  string
		FinishedAt string
		Health     *struct{ Status string }
	}
	Config *struct {
		Labels      map[string]string
		StopTimeout *int
	}
}

func (r inspected) container() states.Container {
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
	err := a.call(ctx, request{method: http.MethodGet, path: "/images/" + spec.Image + "/json"}, nil)
	start := time.Now()
	id, cerr := a.cli.Create(ctx, spec)
	if isNotFound(err) {
		a.pulled = time.Since(start)
	}
	return id, a.unanswered(cerr)
}

// PullDuration is how long the last Create took when it had to pull its
// image; zero when the image was present.
func (a *Adapter) PullDuration() time.Duration { return a.pulled }

// Start implements states.Docker. An answer of 304 (already started) is
// success.
func (a *Adapter) Start(ctx context.Context, id string) error {
	return notFound(a.call(ctx, post(id, "start", nil), nil))
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
	err = a.fetch(ctx, post(id, "stop", nil), nil)
	if isNotFound(err) {
		return nil
	}
	return err
}

// Kill sends signal (a name such as "HUP" or a number) to the container.
func (a *Adapter) Kill(ctx context.Context, id, signal string) error {
	return notFound(a.call(ctx, post(id, "kill", url.Values{"signal": {signal}}), nil))
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
		err = a.waitNotRunning(ctx, id)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return c, ctx.Err()
		case isNotFound(err):
			return c, notFound(err)
		case !broken.Wait(ctx): // the stream broke (daemon restart?): look again
			return c, ctx.Err()
		}
	}
}

// waitNotRunning returns once the daemon says the container does not run
// (its wait endpoint, which answers only then), or the request fails.
func (a *Adapter) waitNotRunning(ctx context.Context, id string) error {
	var r struct{ StatusCode int }
	return a.fetch(ctx, post(id, "wait", url.Values{"condition": {"not-running"}}), &r)
}

// WaitHealthy implements states.Docker: it listens to the container's
// health_status events, having looked at its state once they flow.
func (a *Adapter) WaitHealthy(ctx context.Context, id string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	msgs, errs := a.events(ctx, id)
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
			msgs, errs = a.events(ctx, id)
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
	req := request{method: http.MethodDelete, path: "/containers/" + id, query: url.Values{"force": {"1"}, "v": {"1"}}}
	for attempt := 1; ; attempt++ {
		err := a.call(ctx, req, nil)
		switch {
		case err == nil || isNotFound(err):
			return nil
		case !statusIs(err, http.StatusConflict):
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
	var list []struct {
		ID string `json:"Id"`
	}
	q := url.Values{"all": {"1"}, "filters": {filters(map[string]string{"label": key + "=" + value})}}
	if err := a.call(ctx, request{method: http.MethodGet, path: "/containers/json", query: q}, &list); err != nil {
		return nil, err
	}
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	return ids, nil
}

// filters is the API's filters parameter: {"key":{"value":true}}.
func filters(f map[string]string) string {
	m := make(map[string]map[string]bool, len(f))
	for k, v := range f {
		m[k] = map[string]bool{v: true}
	}
	b, _ := json.Marshal(m) // maps of strings always marshal
	return string(b)
}

// Attach connects to the container's stdout and stderr stream. Copy then
// moves the output until the stream ends; Close ends it early.
func (a *Adapter) Attach(ctx context.Context, id string) (*Stream, error) {
	ctx, cancel := call(ctx)
	defer cancel()
	q := url.Values{"stream": {"1"}, "stdout": {"1"}, "stderr": {"1"}}
	resp, err := a.do(ctx, request{method: http.MethodPost, path: "/containers/" + id + "/attach", query: q, hijack: true})
	if err != nil {
		return nil, notFound(err)
	}
	return &Stream{r: resp.body, close: func() { resp.body.Close() }}, nil
}

// Replay streams the lines Docker logged for the container between since
// and until (zero: no bound), each with the time Docker read it; with
// follow it stays open for new lines until the container stops. Read it
// with Entries. ctx ends the stream, as Close does.
func (a *Adapter) Replay(ctx context.Context, id string, since, until time.Time, follow bool) (*Stream, error) {
	q := url.Values{"stdout": {"1"}, "stderr": {"1"}, "timestamps": {"1"}}
	if follow {
		q.Set("follow", "1")
	}
	if !since.IsZero() {
		q.Set("since", apiTime(since))
	}
	if !until.IsZero() {
		q.Set("until", apiTime(until))
	}
	resp, err := a.do(ctx, request{method: http.MethodGet, path: "/containers/" + id + "/logs", query: q})
	if err != nil {
		return nil, notFound(err)
	}
	return &Stream{r: resp.body, close: func() { resp.body.Close() }}, nil
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
	if tty {
		_, err := io.Copy(stdout, s.r)
		return err
	}
	return demux(stdout, stderr, s.r)
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
	msgs, errc := a.events(ctx, id)
	go func() {
		defer close(out)
		for {
			select {
			case m := <-msgs:
				ev := watchers.ContainerEvent{Action: m.Action, ExitCode: m.Actor.Attributes["exitCode"],
					Time: time.Unix(0, m.TimeNano)}
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			case err := <-errc:
				errs <- err
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, errs
}

// event is what we read of one of the daemon's events.
type event struct {
	Action string
	Actor  struct {
		Attributes map[string]string
	}
	TimeNano int64 `json:"timeNano"`
}

// events streams the daemon's events about one container until ctx ends
// or the stream breaks: the error channel then says why (never nil, never
// a plain io.EOF: a stream of events does not end by itself).
func (a *Adapter) events(ctx context.Context, id string) (<-chan event, <-chan error) {
	msgs, errs := make(chan event), make(chan error, 1)
	go func() {
		q := url.Values{"filters": {filters(map[string]string{"type": "container", "container": id})}}
		resp, err := a.do(ctx, request{method: http.MethodGet, path: "/events", query: q})
		if err != nil {
			errs <- err
			return
		}
		defer resp.body.Close()
		dec := json.NewDecoder(resp.body)
		for {
			var m event
			if err := dec.Decode(&m); err != nil {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				errs <- err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				errs <- context.Cause(ctx)
				return
			}
		}
	}()
	return msgs, errs
}
