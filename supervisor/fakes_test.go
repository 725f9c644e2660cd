package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/watchers"
)

// Fakes of the engine's ports (ports.go), for engine_test.go. They share
// one world: a call log across ports, the methods held until their ctx
// ends, and the container Docker knows. Every test that uses them runs in
// a synctest bubble: the fakes block only on channels and ctx, so the
// bubble's clock moves when the engine waits.

const (
	testID  = "c0ffee00c0ffee00c0ffee00" // the container create makes
	testPid = 42                         // its process once started
)

// errDaemonAway is an error of a daemon that is not running: the fake
// Docker's Unreachable says true for it, as for a refused connection.
var errDaemonAway = errors.New("dial unix /run/docker.sock: connect: connection refused")

// world is one set of fakes and the engine that runs on them.
type world struct {
	t    *testing.T
	s    *supervisor
	done chan Result
	logs *observer.ObservedLogs

	docker   *fakeDocker
	notifier *fakeNotifier
	output   *fakeOutput
	cgroups  *fakeCgroups
	process  *fakeProcess

	mu    sync.Mutex
	calls []string
	held  map[string]bool // methods ("docker.Create") that block until their ctx ends
	steps []states.Transition
}

// option configures the world before the engine runs.
type option func(*world)

// hold makes method block until its ctx ends, so that the machine stays
// in the state that calls it.
func hold(method string) option { return func(w *world) { w.hold(method) } }

// hold makes method block from its next call on.
func (w *world) hold(method string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.held[method] = true
}

// withWatchdog pings systemd's watchdog every interval.
func withWatchdog(interval time.Duration) option {
	return func(w *world) { w.s.unit.Watchdog = interval }
}

// lingering keeps the signal watcher from returning after its ctx ended
// until release is closed.
func lingering(release chan struct{}) option { return func(w *world) { w.process.linger = release } }

// withHealth is the container's health status once it runs.
func withHealth(status string) option { return func(w *world) { w.docker.health = status } }

// withExitCode is what docker wait says once the container is stopped.
func withExitCode(code int) option { return func(w *world) { w.docker.waitCode = code } }

// drained is what the logs port's Drain reports.
func drained(ok bool) option { return func(w *world) { w.output.drained = ok } }

// webSpec is a container named web, with --rm and its output copied.
func webSpec() states.Spec {
	return states.Spec{Name: "web", Remove: true, Logs: true, Invocation: "invocation-1",
		Create: states.CreateSpec{Image: "nginx:1.27"}}
}

// newTestEngine builds the engine on fakes the way prepare builds it on
// the real adapters, and runs it; call it inside synctest.Test.
func newTestEngine(t *testing.T, spec states.Spec, opts ...option) *world {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	w := &world{t: t, logs: logs, done: make(chan Result, 1), held: map[string]bool{}}
	w.docker = &fakeDocker{w: w, name: spec.Name, waitCode: 143, events: make(chan watchers.ContainerEvent, 16)}
	w.notifier = &fakeNotifier{w: w}
	w.output = &fakeOutput{w: w, drained: true}
	w.cgroups = &fakeCgroups{w: w}
	w.process = &fakeProcess{w: w, signals: make(chan watchers.Event, 8), ended: map[int]chan struct{}{}}

	s := &supervisor{drain: 10 * time.Second, log: log,
		inputs: make(chan states.Input, 16), side: make(chan watchers.Event, 16)}
	s.ports = ports{docker: w.docker, notifier: w.notifier, logs: w.output, cgroups: w.cgroups,
		metrics: newMetricsFile(nil, "", log), process: w.process}
	// No PidFile: no spec here asks for one.
	sp := states.Ports{Docker: w.docker, Logs: w.output, Cgroups: w.cgroups, Notifier: w.notifier, Log: log}
	s.machine = states.New(spec, sp, s.observe, w.observe)
	w.s = s
	for _, o := range opts {
		o(w)
	}
	go func() { w.done <- s.run(t.Context()) }()
	return w
}

// observe records a transition, and checks that the table has it.
func (w *world) observe(tr states.Transition, _ *states.Facts) {
	if !inTable(tr) {
		w.t.Errorf("transition %s -%s-> %s is not in states.Transitions", tr.From, tr.Event, tr.To)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.steps = append(w.steps, tr)
}

func inTable(tr states.Transition) bool {
	for _, row := range states.Transitions {
		if row.Event == tr.Event && row.To == tr.To && slices.Contains(row.From, tr.From) {
			return true
		}
	}
	return false
}

// path is the transitions so far, as "lookup -not-found-> create …".
func (w *world) path() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.steps) == 0 {
		return "no transition"
	}
	var b strings.Builder
	b.WriteString(string(w.steps[0].From))
	for _, tr := range w.steps {
		fmt.Fprintf(&b, " -%s-> %s", tr.Event, tr.To)
	}
	return b.String()
}

// took reports whether the machine went from -ev-> to.
func (w *world) took(from states.State, ev states.Event, to states.State) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.ContainsFunc(w.steps, func(tr states.Transition) bool {
		return tr.From == from && tr.Event == ev && tr.To == to
	})
}

// record adds one call to the log and holds it when its method is held.
func (w *world) record(ctx context.Context, format string, args ...any) error {
	call := fmt.Sprintf(format, args...)
	method, _, _ := strings.Cut(call, " ")
	w.mu.Lock()
	w.calls = append(w.calls, call)
	held := w.held[method]
	w.mu.Unlock()
	if !held {
		return nil
	}
	<-ctx.Done()
	return fmt.Errorf("%s: %w", method, context.Cause(ctx))
}

// count is how many calls start with prefix.
func (w *world) count(prefix string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// The test's side: each lets the engine settle before it returns.

// after lets d pass on the bubble's clock.
func (w *world) after(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// signal sends us a signal, as the signal watcher reports it.
func (w *world) signal(kind watchers.Kind, sig syscall.Signal) {
	w.process.signals <- watchers.Event{Kind: kind, Signal: sig, Source: "signal"}
	synctest.Wait()
}

// dockerEvent is one of Docker's events about the container.
func (w *world) dockerEvent(action, exitCode string) {
	w.docker.events <- watchers.ContainerEvent{Action: action, ExitCode: exitCode, Time: time.Now()}
	synctest.Wait()
}

// exit ends process pid: its pidfd watch, if any, reports it.
func (w *world) exit(pid int) {
	w.process.end(pid)
	synctest.Wait()
}

// wantState fails the test unless the machine is in st once settled.
func (w *world) wantState(st states.State) {
	w.t.Helper()
	synctest.Wait()
	if got := w.s.state(); got != st {
		w.t.Fatalf("state %s, want %s; path: %s", got, st, w.path())
	}
}

// result is what run returned; it fails the test when run has not.
func (w *world) result() Result {
	w.t.Helper()
	synctest.Wait()
	select {
	case r := <-w.done:
		return r
	default:
		w.t.Fatalf("run has not returned; state %s, path: %s", w.s.state(), w.path())
		return Result{}
	}
}

// lines are the log lines at level whose message contains msg.
func (w *world) lines(level zapcore.Level, msg string) []observer.LoggedEntry {
	return w.logs.Filter(func(e observer.LoggedEntry) bool {
		return e.Level == level && strings.Contains(e.Message, msg)
	}).All()
}

// fakeDocker is a daemon with at most one container, testID, named name.
type fakeDocker struct {
	w        *world
	name     string
	health   string // the container's health status once started
	waitCode int    // its exit code once stopped, as docker wait says
	events   chan watchers.ContainerEvent

	mu  sync.Mutex
	c   states.Container // ID "" until created, and once removed
	err error            // Inspect fails with it while set
}

// set changes the container as Docker sees it.
func (d *fakeDocker) set(f func(c *states.Container)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(&d.c)
}

// fail makes Inspect fail with err; nil ends the failure.
func (d *fakeDocker) fail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

func (d *fakeDocker) Inspect(ctx context.Context, nameOrID string) (states.Container, error) {
	if err := d.w.record(ctx, "docker.Inspect %s", nameOrID); err != nil {
		return states.Container{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.err != nil:
		return states.Container{}, fmt.Errorf("inspect %s: %w", nameOrID, d.err)
	case d.c.ID == "" || (nameOrID != d.c.ID && nameOrID != d.name):
		return states.Container{}, fmt.Errorf("inspect %s: %w", nameOrID, states.ErrNotFound)
	}
	return d.c, nil
}

// Create makes the container before it answers: a create cut short
// leaves it behind, labelled, as docker create does.
func (d *fakeDocker) Create(ctx context.Context, spec states.CreateSpec) (string, error) {
	d.set(func(c *states.Container) { *c = states.Container{ID: testID, Labels: spec.Labels} })
	if err := d.w.record(ctx, "docker.Create %s", spec.Image); err != nil {
		return "", err
	}
	return testID, nil
}

func (d *fakeDocker) Start(ctx context.Context, id string) error {
	if err := d.w.record(ctx, "docker.Start %s", id); err != nil {
		return err
	}
	d.set(func(c *states.Container) {
		c.Running, c.Pid, c.Health, c.StartedAt = true, testPid, d.health, time.Now()
	})
	return nil
}

// Stop ends the container's process, as docker stop does.
func (d *fakeDocker) Stop(ctx context.Context, id string) error {
	if err := d.w.record(ctx, "docker.Stop %s", id); err != nil {
		return err
	}
	d.end()
	return nil
}

// Kill ends the container's process at once, as docker kill -s KILL does.
func (d *fakeDocker) Kill(ctx context.Context, id, signal string) error {
	if err := d.w.record(ctx, "docker.Kill %s %s", id, signal); err != nil {
		return err
	}
	d.end()
	return nil
}

// end ends the container's process with the code Wait reports.
func (d *fakeDocker) end() {
	var pid int
	d.set(func(c *states.Container) {
		pid = c.Pid
		c.Running, c.Pid, c.ExitCode, c.FinishedAt = false, 0, d.waitCode, time.Now()
	})
	if pid != 0 {
		d.w.process.end(pid)
	}
}

func (d *fakeDocker) WaitHealthy(ctx context.Context, id string) error {
	return d.w.record(ctx, "docker.WaitHealthy %s", id)
}

func (d *fakeDocker) Wait(ctx context.Context, id string) (states.Container, error) {
	if err := d.w.record(ctx, "docker.Wait %s", id); err != nil {
		return states.Container{}, err
	}
	return states.Container{ID: id, ExitCode: d.waitCode}, nil
}

func (d *fakeDocker) Remove(ctx context.Context, id string) error {
	if err := d.w.record(ctx, "docker.Remove %s", id); err != nil {
		return err
	}
	d.set(func(c *states.Container) { *c = states.Container{} })
	return nil
}

func (d *fakeDocker) FindByLabel(ctx context.Context, key, value string) ([]string, error) {
	if err := d.w.record(ctx, "docker.FindByLabel %s=%s", key, value); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.c.ID != "" && d.c.Labels[key] == value {
		return []string{d.c.ID}, nil
	}
	return nil, nil
}

// Events is one stream for the whole run: the test writes to it.
func (d *fakeDocker) Events(ctx context.Context, id string) (<-chan watchers.ContainerEvent, <-chan error) {
	_ = d.w.record(ctx, "docker.Events %s", id)
	return d.events, nil
}

func (d *fakeDocker) PullDuration() time.Duration { return 0 }

func (d *fakeDocker) Unreachable(err error) bool { return errors.Is(err, errDaemonAway) }

// fakeNotifier is systemd's end of sd_notify. Its calls have no ctx:
// never hold them (nor the logs' Drain, nor the kernel's Signal).
type fakeNotifier struct{ w *world }

func (n *fakeNotifier) Ready(pid int, ready bool, status string) error {
	return n.w.record(context.Background(), "notify.Ready %d ready=%t %s", pid, ready, status)
}

func (n *fakeNotifier) Status(status string) error {
	return n.w.record(context.Background(), "notify.Status %s", status)
}

func (n *fakeNotifier) Stopping(status string) error {
	return n.w.record(context.Background(), "notify.Stopping %s", status)
}

func (n *fakeNotifier) Barrier() error { return n.w.record(context.Background(), "notify.Barrier") }
func (n *fakeNotifier) Reclaim() error { return n.w.record(context.Background(), "notify.Reclaim") }
func (n *fakeNotifier) Enabled() bool  { return true }

func (n *fakeNotifier) Send(lines ...string) error {
	for _, l := range lines {
		_ = n.w.record(context.Background(), "notify.Send %s", l)
	}
	return nil
}

// fakeOutput is the logs port.
type fakeOutput struct {
	w       *world
	drained bool
}

func (o *fakeOutput) Attach(ctx context.Context, id string, tty bool, since time.Time) error {
	return o.w.record(ctx, "logs.Attach %s tty=%t since=%s", id, tty, since.Format(time.RFC3339))
}

func (o *fakeOutput) Drain(timeout time.Duration) bool {
	_ = o.w.record(context.Background(), "logs.Drain %s", timeout)
	return o.drained
}

type fakeCgroups struct{ w *world }

func (c *fakeCgroups) Migrate(ctx context.Context, pid int, id string) error {
	return c.w.record(ctx, "cgroups.Migrate %d %s", pid, id)
}

func (c *fakeCgroups) Moved() int { return 0 }

// fakeProcess is the kernel: the signals the test sends us, and the
// container's processes, which end when the test (or docker stop) says.
type fakeProcess struct {
	w       *world
	signals chan watchers.Event
	// linger, when set, keeps CatchSignals from returning after its ctx
	// ended until it is closed: a watcher slow to notice the end.
	linger chan struct{}

	mu    sync.Mutex
	ended map[int]chan struct{} // closed once the process ended
}

// endedChan is closed once process pid has ended.
func (p *fakeProcess) endedChan(pid int) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.endedLocked(pid)
}

func (p *fakeProcess) endedLocked(pid int) chan struct{} {
	ch, ok := p.ended[pid]
	if !ok {
		ch = make(chan struct{})
		p.ended[pid] = ch
	}
	return ch
}

// end ends process pid; ending it again does nothing.
func (p *fakeProcess) end(pid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := p.endedLocked(pid)
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (p *fakeProcess) CatchSignals(ctx context.Context, emit watchers.Emit) {
	for {
		select {
		case <-ctx.Done():
			_ = p.w.record(context.Background(), "process.CatchSignals ended")
			if p.linger != nil {
				<-p.linger
			}
			return
		case e := <-p.signals:
			emit(e)
		}
	}
}

// WatchExit behaves as watchers.PidExit: confirm first, then wait.
func (p *fakeProcess) WatchExit(ctx context.Context, pid int, confirm func(context.Context, int) (bool, error), emit watchers.Emit) {
	_ = p.w.record(ctx, "process.WatchExit %d", pid)
	exit := func() { emit(watchers.Event{Kind: watchers.Exit, Source: "pidfd", Pid: pid}) }
	if ok, err := confirm(ctx, pid); err == nil && !ok {
		exit()
		return
	}
	select {
	case <-ctx.Done():
	case <-p.endedChan(pid):
		exit()
	}
}

func (p *fakeProcess) Signal(pid int, sig syscall.Signal) error {
	return p.w.record(context.Background(), "process.Signal %d %s", pid, sig)
}
