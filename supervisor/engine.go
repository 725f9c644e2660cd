package supervisor

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/states"
	"github.com/systemd-docker/systemd-docker/supervisor/unit"
	"github.com/systemd-docker/systemd-docker/watchers"
)

// supervisor is the engine: it runs the machine (states.Machine.Run) on
// the inputs its watchers turn the world into, and does the side jobs
// that are no lifecycle (watchdog pings, STATUS= lines, metrics,
// forwarded signals). Data flows one way: watchers → inputs → machine →
// action → ports.
type supervisor struct {
	log     *zap.Logger
	drain   time.Duration // how long to wait for the container's last output
	ports   ports
	machine *states.Machine
	unit    unit.Facts
	closers []func() // what prepare opened, closed last

	inputs   chan states.Input   // for the machine
	side     chan watchers.Event // for the side jobs: ticks, health, forwarded signals
	jobs     jobGroup            // the side jobs
	watching context.Context     // the watchers': ends when run returns
	now      atomic.Pointer[view]
	dog      watchdogFeeder     // the side goroutine's
	pullDone context.CancelFunc // ends the create's side jobs
}

// jobGroup is the side jobs (the --notify proxy, watchdog pings and
// forwarded signals, the pull keeper, settle): they write to the journal,
// the metrics and systemd's socket, so they end, and are joined, before
// the end is reported.
type jobGroup struct {
	ctx context.Context // theirs: ends once the machine is done
	wg  sync.WaitGroup
}

// view is what the side jobs may know of the machine: a copy made at each
// transition, in the machine's goroutine.
type view struct {
	state states.State
	pid   int
}

func (s *supervisor) run(ctx context.Context) Result {
	wctx, stopWatchers := context.WithCancel(ctx)
	defer stopWatchers()
	jctx, stopJobs := context.WithCancel(ctx)
	s.watching, s.jobs.ctx = wctx, jctx
	s.startWatcher("", s.ports.process.CatchSignals)
	if p := s.ports.proxy; p != nil {
		s.startJob(func() { p.Run(jctx) })
	}
	s.startJob(func() { s.sideJobs(jctx) })
	s.ports.metrics.start() // ended by finish (flush)

	m := s.machine
	if err := m.Run(ctx, s.inputs); err != nil {
		// A defect of the table, not of the world: say so and stop.
		s.log.Error("state machine", zap.Error(err))
		m.Facts().Err = err
	}
	f := m.Facts()
	detached := m.State() == states.Done && m.Spec().Detach
	if !detached && !s.ports.logs.Drain(s.drain) {
		s.log.Warn("the container's output did not end in time; the last lines may be missing",
			zap.Duration("waited", s.drain))
	}
	stopJobs()
	s.jobs.wg.Wait()
	s.finish(f, detached)
	return exitResult(f, detached)
}

// finish says how the container ended and has the final metrics written.
func (s *supervisor) finish(f *states.Facts, detached bool) {
	s.report(f)
	if f.Started && !detached {
		s.ports.metrics.m.Exited(f.ExitCode, f.OOMKilled)
	}
	s.ports.metrics.flush(lastWriteWait)
}

// startWatcher runs a watcher until run returns; its events about
// container become inputs. Watchers are not joined: once the machine is
// done nothing they see matters, and all they hold (a pidfd, the events
// stream, the signal catcher) is let go by our exit. Waiting for each of
// them to wake up and end took 1-3 ms of our exit on a busy machine. The
// signal catcher stays until then: a stop signal in those last
// milliseconds is caught, not fatal, and the exit code stays the
// container's.
func (s *supervisor) startWatcher(container string, run func(context.Context, watchers.Emit)) {
	ctx := s.watching
	go run(ctx, func(e watchers.Event) { s.emit(ctx, container, e) })
}

func (s *supervisor) startJob(f func()) {
	s.jobs.wg.Add(1)
	go func() {
		defer s.jobs.wg.Done()
		f()
	}()
}

// close closes what prepare opened, last first.
func (s *supervisor) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// containerPid is the container's process as the machine last said; 0
// before it is known.
func (s *supervisor) containerPid() int {
	if v := s.now.Load(); v != nil {
		return v.pid
	}
	return 0
}

// state is the machine's state as it last said.
func (s *supervisor) state() states.State {
	if v := s.now.Load(); v != nil {
		return v.state
	}
	return s.machine.State()
}

// emit hands a watcher's event to the machine (lifecycle) or to the side
// jobs (the rest).
func (s *supervisor) emit(ctx context.Context, container string, e watchers.Event) {
	in, lifecycle := input(container, e)
	if lifecycle {
		s.logInput(in, e.Source)
		select {
		case s.inputs <- in:
		case <-ctx.Done():
		}
		return
	}
	select {
	case s.side <- e:
	case <-ctx.Done():
	}
}

// input turns a watcher's event into the machine's input, when it is one.
func input(container string, e watchers.Event) (states.Input, bool) {
	in := states.Input{Container: container, Pid: e.Pid, ExitCode: e.ExitCode, Signal: e.Signal}
	switch e.Kind {
	case watchers.Stop:
		in.Kind = states.InStop
	case watchers.WatchdogFired:
		in.Kind = states.InWatchdog
	case watchers.Exit:
		in.Kind = states.InProcessEnded
		if e.HasExitCode {
			in.Kind = states.InDied
		}
	case watchers.Killed:
		in.Kind = states.InKillSeen
	case watchers.Started:
		in.Kind = states.InDockerStarted
	case watchers.OOM:
		in.Kind = states.InOOM
	default:
		return in, false
	}
	return in, true
}

// logInput says what needs saying of an input when it arrives.
func (s *supervisor) logInput(in states.Input, source string) {
	switch in.Kind {
	case states.InProcessEnded, states.InDied:
		s.log.Debug("container exit seen", zap.String("by", source))
	case states.InOOM:
		s.log.Warn("the kernel killed a process of the container: out of memory (oom)")
	case states.InWatchdog:
		s.log.Error("systemd's watchdog fired (WatchdogSec=): killing the container at once; the unit has failed",
			zap.String("signal", in.Signal.String()), zap.String("pings_withheld_because", s.dog.why()),
			zap.String("state", string(s.state())))
	}
}

// observe is told of every transition, in the machine's goroutine: it
// starts the watchers the new state needs, and reports the step.
func (s *supervisor) observe(t states.Transition, f *states.Facts) {
	s.log.Debug("transition", zap.String("from", string(t.From)), zap.String("to", string(t.To)),
		zap.String("event", string(t.Event)))
	s.now.Store(&view{state: t.To, pid: f.Pid})
	s.startWatchers(t, f)
	s.announce(t, f)
	if msg := statusText(t.To, s.machine.Spec(), f); msg != "" {
		if err := s.ports.notifier.Status(msg); err != nil {
			s.log.Debug("STATUS=", zap.Error(err))
		}
	}
	s.ports.metrics.transition(t, f, s.ports)
}

// startWatchers starts, on entering a state, what watches it: the pull
// keeper while creating, Docker's events from the start, the pidfd and
// the watchdog for each new process.
func (s *supervisor) startWatchers(t states.Transition, f *states.Facts) {
	if t.From == states.Create {
		s.pullDone()
	}
	switch t.To {
	case states.Create:
		// The pull keeper's work ends with create.
		ctx, done := context.WithCancel(s.jobs.ctx)
		s.pullDone = done
		if p := s.ports.pull; p != nil {
			s.startJob(func() { p.Run(ctx) })
		}
	case states.Start:
		if f.Restarts == 0 { // one event stream for every run
			s.startWatcher(f.ContainerID, watchers.DockerEvents{Source: s.ports.docker, ID: f.ContainerID}.Run)
		}
	case states.MigrateCgroups:
		s.watchExit(f.ContainerID, f.Pid)
		if f.Restarts == 0 && s.unit.Watchdog > 0 {
			id := f.ContainerID
			s.startWatcher(id, watchers.Watchdog{Interval: s.unit.Watchdog, Check: func(ctx context.Context) watchers.Health {
				return s.health(ctx, id)
			}}.Run)
		}
	}
}

// watchExit watches the container's process pid, once Docker confirms
// the pid is still the container's.
func (s *supervisor) watchExit(id string, pid int) {
	confirm := func(ctx context.Context, pid int) (bool, error) {
		c, err := s.ports.docker.Inspect(ctx, id)
		if err != nil {
			return true, err
		}
		return c.Running && c.Pid == pid, nil
	}
	s.startWatcher(id, func(ctx context.Context, emit watchers.Emit) {
		s.ports.process.WatchExit(ctx, pid, confirm, emit)
	})
}

// announce says what a transition means for people: the journal, and the
// metrics of a run.
func (s *supervisor) announce(t states.Transition, f *states.Facts) {
	switch {
	case t.Event == states.EvStop:
		s.log.Info("stopping the container", zap.String("signal", f.StopSignal.String()), zap.String("state", string(t.From)))
	case t.Event == states.EvRestarted:
		s.log.Info("docker restarted the container: supervising its new process")
	case t.To == states.Watch:
		s.log.Info("container running", zap.String("container", states.ShortID(f.ContainerID)), zap.Int("pid", f.Pid))
		if t.From == states.Notify && f.Restarts == 0 {
			s.startJob(s.settle)
		}
	}
}

// settle does, once the unit is ready, what start-up leaves: the check
// of TimeoutStopSec= (a D-Bus call to PID 1: after READY=1, not beside
// docker create, whose CPU it took), then the return of start-up's
// garbage to the kernel, so the scavenger does not wake us for it while
// the container idles. The check has a deadline of its own.
func (s *supervisor) settle() {
	s.unit.CheckStopTimeout(s.jobs.ctx, s.log, s.machine.Spec().StopTimeout)
	debug.FreeOSMemory()
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

// exitResult maps what the machine learnt to our exit.
func exitResult(f *states.Facts, detached bool) Result {
	switch {
	case f.Err != nil:
		return Result{Code: ExitFailure}
	case detached:
		return Result{Code: 0}
	case f.StopSignal != 0 && !f.Announced:
		// Stopped while we were still systemd's main process: end by the
		// signal, a clean stop for systemd, whatever the container said.
		return Result{Code: 128 + int(f.StopSignal), Signal: f.StopSignal}
	case f.Started:
		return Result{Code: f.ExitCode}
	}
	return Result{Code: ExitFailure}
}

// statusText is the STATUS= line for entering a state; "" where the
// state's action says more itself (notify, stop, kill).
func statusText(to states.State, spec states.Spec, f *states.Facts) string {
	switch to {
	case states.CleanupStale:
		return "removing a stale container named " + spec.Name
	case states.Create:
		return "creating the container from " + spec.Create.Image + " (pulling it if needed)"
	case states.Start:
		return "starting container " + states.ShortID(f.ContainerID)
	case states.MigrateCgroups:
		return fmt.Sprintf("moving container pid %d into the unit's cgroups", f.Pid)
	case states.Exiting:
		return fmt.Sprintf("container pid %d ended; waiting for docker's word on it", f.Pid)
	case states.Restarting:
		return "container stopped after a docker kill/stop/restart; waiting for docker to start it again"
	case states.Remove:
		if spec.Remove {
			return "removing container " + states.ShortID(f.ContainerID)
		}
	case states.Failed:
		if f.Err != nil {
			return "failed: " + f.Err.Error()
		}
	}
	return ""
}
