package supervisor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/dockerapi"
	"github.com/systemd-docker/systemd-docker/supervisor/sdnotify"
	"github.com/systemd-docker/systemd-docker/watchers"
)

// supervisor owns the machine. Data flows one way: watchers → inputs →
// run loop → machine → action → adapters.
type supervisor struct {
	cfg      Config
	opts     Options
	log      *zap.Logger
	docker   *dockerapi.Adapter
	notifier *sdnotify.Notifier
	proxy    *sdnotify.Proxy // --notify
	logs     *logCopier
	cgroups  *cgroupMover
	machine  *states.Machine

	inputs     chan inputEvent
	watchers   sync.WaitGroup
	watchCtx   context.Context
	stopSignal syscall.Signal // the signal that asked us to stop
	initPid    atomic.Int64   // the container's init pid, for the proxy's goroutine
	eventsOn   bool
	pidOn      bool
}

// inputEvent is a watcher's event, tagged with the container it is about,
// so an event about an earlier container is not mistaken for this one's.
type inputEvent struct {
	watchers.Event
	container string
}

type actionResult struct {
	ev  states.Event
	err error
}

func (s *supervisor) run(ctx context.Context) Result {
	wctx, cancelWatchers := context.WithCancel(ctx)
	s.watchCtx = wctx
	s.startWatcher("", watchers.Signals{}.Run)
	if s.proxy != nil {
		defer s.proxy.Close()
		s.startWatcher("", func(ctx context.Context, _ watchers.Emit) { s.proxy.Run(ctx) })
	}

	m := s.machine
	for !m.State().Terminal() {
		r, interrupt := s.step(ctx)
		ev := m.Resolve(r.ev, r.err, interrupt)
		if err := m.Fire(ev); err != nil {
			// A defect of the table, not of the world: say so and stop.
			s.log.Error("state machine", zap.Error(err))
			m.Facts().Err = err
			break
		}
	}

	f := m.Facts()
	detached := m.State() == states.Done && m.Spec().Detach
	if !detached {
		if !s.logs.Drain(s.opts.DrainTimeout) {
			s.log.Warn("the container's output did not end in time; the last lines may be missing",
				zap.Duration("waited", s.opts.DrainTimeout))
		}
	}
	cancelWatchers()
	s.watchers.Wait()
	if s.cfg.PidFile != "" && !detached && f.Pid != 0 {
		pidFile{s.cfg.PidFile}.Remove(f.Pid)
	}
	s.report(f)
	return exitResult(f, detached, s.stopSignal)
}

// step runs the current state's action until it ends or an input
// interrupts it.
func (s *supervisor) step(ctx context.Context) (actionResult, states.Event) {
	m := s.machine
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan actionResult, 1)
	go func() {
		ev, err := m.Act(actx)
		done <- actionResult{ev, err}
	}()
	var interrupt states.Event
	for {
		select {
		case r := <-done:
			return r, interrupt
		case in := <-s.inputs:
			if ev := s.handle(in); ev != "" && interrupt == "" && m.Interruptible(ev) {
				interrupt = ev
				cancel(fmt.Errorf("%s: %w", ev, errInterrupted))
			}
		}
	}
}

var errInterrupted = errors.New("interrupted")

// handle acts on one input and returns the event it asks the machine for,
// if any.
func (s *supervisor) handle(in inputEvent) states.Event {
	f := s.machine.Facts()
	switch in.Kind {
	case watchers.Stop:
		if s.stopSignal == 0 {
			s.stopSignal = in.Signal
			s.log.Info("stopping the container", zap.String("signal", in.Signal.String()),
				zap.String("state", string(s.machine.State())))
		}
		return states.EvStop
	case watchers.Forward:
		if f.ContainerID != "" && f.Started {
			id, sig := f.ContainerID, in.Signal
			go func() {
				if err := s.docker.Kill(s.watchCtx, id, fmt.Sprint(int(sig))); err != nil {
					s.log.Warn("forward signal to the container", zap.String("signal", sig.String()), zap.Error(err))
				}
			}()
		}
	case watchers.Exit:
		if in.container == f.ContainerID {
			s.log.Debug("container exit seen", zap.String("by", in.Source))
			return states.EvExited
		}
	case watchers.OOM:
		if in.container == f.ContainerID {
			f.OOMKilled = true
			s.log.Warn("the kernel killed a process of the container: out of memory (oom)")
		}
	}
	return ""
}

// observe is told of every transition; it starts the watchers that the
// new state needs.
func (s *supervisor) observe(t states.Transition, f *states.Facts) {
	s.log.Debug("transition", zap.String("from", string(t.From)), zap.String("to", string(t.To)),
		zap.String("event", string(t.Event)))
	switch t.To {
	case states.Start:
		if !s.eventsOn {
			s.eventsOn = true
			s.startWatcher(f.ContainerID, watchers.DockerEvents{Source: s.docker, ID: f.ContainerID}.Run)
		}
	case states.MigrateCgroups:
		if !s.pidOn {
			s.pidOn = true
			s.initPid.Store(int64(f.Pid))
			id := f.ContainerID
			s.startWatcher(id, watchers.PidExit{Pid: f.Pid, Confirm: func(ctx context.Context, pid int) (bool, error) {
				c, err := s.docker.Inspect(ctx, id)
				if err != nil {
					return true, err
				}
				return c.Running && c.Pid == pid, nil
			}}.Run)
		}
	case states.Watch:
		s.log.Info("container running", zap.String("container", short(f.ContainerID)), zap.Int("pid", f.Pid))
	}
}

func (s *supervisor) startWatcher(container string, run func(context.Context, watchers.Emit)) {
	s.watchers.Add(1)
	ctx := s.watchCtx
	go func() {
		defer s.watchers.Done()
		run(ctx, func(e watchers.Event) {
			select {
			case s.inputs <- inputEvent{Event: e, container: container}:
			case <-ctx.Done():
			}
		})
	}()
}

// report logs how the container ended, once.
func (s *supervisor) report(f *states.Facts) {
	switch {
	case f.Err != nil:
		s.log.Error(f.Err.Error(), zap.String("state", string(f.FailedIn)))
	case f.OOMKilled:
		s.log.Warn("container ended: killed for lack of memory (oom)", zap.Int("exit_code", f.ExitCode))
	case f.Started:
		s.log.Info("container ended", zap.Int("exit_code", f.ExitCode), zap.Bool("stopped", f.StopReason != ""))
	}
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
