package states

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// recorder is one call log shared by every fake, so a test can check the
// order of calls across ports (attach before start, pid file before READY).
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
}

// Calls returns the log so far.
func (r *recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// count is how many calls start with prefix.
func (r *recorder) count(prefix string) int {
	n := 0
	for _, c := range r.Calls() {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// fakeDocker answers from scripted containers and errors.
type fakeDocker struct {
	rec *recorder

	// Containers answers Inspect by name or ID; a missing key is ErrNotFound.
	Containers map[string]Container
	InspectErr error
	// AfterStart, when set, replaces Containers[id] once Start succeeds.
	AfterStart *Container

	CreateID   string
	CreateErr  error
	StartErr   error
	StopErr    error
	KillErr    error
	WaitResult Container
	WaitErr    error
	RemoveErr  error
	FindIDs    []string
	FindErr    error
	// HealthyErr is what WaitHealthy returns.
	HealthyErr error

	mu      sync.Mutex
	created []CreateSpec
}

func newFakeDocker(rec *recorder) *fakeDocker {
	return &fakeDocker{rec: rec, Containers: map[string]Container{}}
}

func (d *fakeDocker) Inspect(_ context.Context, nameOrID string) (Container, error) {
	d.rec.add("docker.Inspect %s", nameOrID)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.InspectErr != nil {
		return Container{}, d.InspectErr
	}
	c, ok := d.Containers[nameOrID]
	if !ok {
		return Container{}, fmt.Errorf("inspect %s: %w", nameOrID, ErrNotFound)
	}
	return c, nil
}

func (d *fakeDocker) Create(_ context.Context, spec CreateSpec) (string, error) {
	d.rec.add("docker.Create %s", spec.Image)
	d.mu.Lock()
	defer d.mu.Unlock()
	spec.Labels = maps.Clone(spec.Labels)
	d.created = append(d.created, spec)
	if d.CreateErr != nil {
		return "", d.CreateErr
	}
	return d.CreateID, nil
}

func (d *fakeDocker) Start(_ context.Context, id string) error {
	d.rec.add("docker.Start %s", id)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.StartErr != nil {
		return d.StartErr
	}
	if d.AfterStart != nil {
		d.Containers[id] = *d.AfterStart
	}
	return nil
}

func (d *fakeDocker) Stop(_ context.Context, id string) error {
	d.rec.add("docker.Stop %s", id)
	return d.StopErr
}

func (d *fakeDocker) Kill(_ context.Context, id, signal string) error {
	d.rec.add("docker.Kill %s %s", id, signal)
	return d.KillErr
}

func (d *fakeDocker) Wait(_ context.Context, id string) (Container, error) {
	d.rec.add("docker.Wait %s", id)
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.WaitResult, d.WaitErr
}

func (d *fakeDocker) WaitHealthy(_ context.Context, id string) error {
	d.rec.add("docker.WaitHealthy %s", id)
	return d.HealthyErr
}

func (d *fakeDocker) Remove(_ context.Context, id string) error {
	d.rec.add("docker.Remove %s", id)
	return d.RemoveErr
}

func (d *fakeDocker) FindByLabel(_ context.Context, key, value string) ([]string, error) {
	d.rec.add("docker.FindByLabel %s=%s", key, value)
	return slices.Clone(d.FindIDs), d.FindErr
}

type fakeLogs struct {
	rec *recorder
	Err error
}

func (l *fakeLogs) Attach(_ context.Context, id string, tty bool, since time.Time) error {
	if !since.IsZero() {
		l.rec.add("logs.Attach %s tty=%t since=%s", id, tty, since.UTC().Format(time.RFC3339))
	} else {
		l.rec.add("logs.Attach %s tty=%t", id, tty)
	}
	return l.Err
}

type fakeCgroups struct {
	rec *recorder
	Err error
}

func (c *fakeCgroups) Migrate(_ context.Context, pid int, id string) error {
	c.rec.add("cgroups.Migrate %d %s", pid, id)
	return c.Err
}

type fakeNotifier struct {
	rec                              *recorder
	ReadyErr, StatusErr, StoppingErr error
	ReclaimErr                       error
	BarrierErr                       error
}

func (n *fakeNotifier) Ready(pid int, ready bool, status string) error {
	n.rec.add("notify.Ready %d ready=%t %s", pid, ready, status)
	return n.ReadyErr
}

func (n *fakeNotifier) Status(status string) error {
	n.rec.add("notify.Status %s", status)
	return n.StatusErr
}

func (n *fakeNotifier) Stopping(status string) error {
	n.rec.add("notify.Stopping %s", status)
	return n.StoppingErr
}

func (n *fakeNotifier) Barrier() error {
	n.rec.add("notify.Barrier")
	return n.BarrierErr
}

func (n *fakeNotifier) Reclaim() error {
	n.rec.add("notify.Reclaim")
	return n.ReclaimErr
}

type fakePidFile struct {
	rec *recorder
	Err error
}

func (p *fakePidFile) Write(pid int) error {
	p.rec.add("pidfile.Write %d", pid)
	return p.Err
}

func (p *fakePidFile) Remove(pid int) { p.rec.add("pidfile.Remove %d", pid) }

// world is one set of fakes sharing a call log.
type world struct {
	rec      *recorder
	docker   *fakeDocker
	logs     *fakeLogs
	cgroups  *fakeCgroups
	notifier *fakeNotifier
	pidfile  *fakePidFile
}

func newWorld() *world {
	rec := &recorder{}
	return &world{
		rec:      rec,
		docker:   newFakeDocker(rec),
		logs:     &fakeLogs{rec: rec},
		cgroups:  &fakeCgroups{rec: rec},
		notifier: &fakeNotifier{rec: rec},
		pidfile:  &fakePidFile{rec: rec},
	}
}

func (w *world) ports() Ports {
	return Ports{Docker: w.docker, Logs: w.logs, Cgroups: w.cgroups, Notifier: w.notifier, PidFile: w.pidfile}
}

// machineIn returns a machine for spec, already in state s.
func (w *world) machineIn(spec Spec, s State, observers ...Observer) *Machine {
	m := New(spec, w.ports(), observers...)
	m.fsm.SetState(string(s))
	return m
}
