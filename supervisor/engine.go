package supervisor

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/systemd-docker/systemd-docker/metrics"
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
	notify   *notifyPort     // the states' notifier
	pull     *pullKeeper
	pullStop context.CancelFunc
	logs     *logCopier
	cgroups  *cgroupMover
	machine  *states.Machine
	metrics  *metrics.Metrics // nil without --metrics-dir
	lock     *nameLock        // nil for an unnamed container
	watchdog time.Duration    // ping interval; zero without WatchdogSec=

	inputs      chan inputEvent
	watchers    sync.WaitGroup
	watchCtx    context.Context
	stopSignal  syscall.Signal // the signal that asked us to stop
	initPid     atomic.Int64   // the container's init pid, for the proxy's goroutine
	eventsOn    bool
	pidOn       bool
	dogOn       bool
	died        chan int  // exit codes from "die" events, newest only
	lastKill    time.Time // the last "kill" event about the container, not ours
	ownKills    int       // signals we forwarded whose "kill" event is still due
	exitPhase   int       // exitNone, exitAwaitDie, exitRestartWindow
	exitGen     int       // numbers the timers of exitOrRestart
	stopChecked bool
	unit        string // the systemd unit we run in; "" outside one
	withheld    string // why watchdog pings are withheld; "" while they flow
	away        daemonAway
}

// inputEvent is a watcher's event, tagged with the container it is about,
// so an event about an earlier container is not mistaken for this one's.
type inputEvent struct {
	watchers.Event
	container string
	// settled: a timer of exitOrRestart fired; gen says which.
	settled bool
	gen     int
}

// restartWindow is how long an exit that follows a `docker kill/stop`
// (a "kill" event) waits for Docker to start the container again, as
// `docker restart` does, before it counts as the container's end. A busy
// daemon takes seconds to start a container.
const restartWindow = 10 * time.Second

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
	res := exitResult(f, detached, s.stopSignal)
	if s.metrics != nil {
		if f.Started && !detached {
			s.metrics.Exited(f.ExitCode, f.OOMKilled)
		}
		s.writeMetrics()
	}
	return res
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
			if interrupt == "" && errors.Is(r.err, states.ErrKilled) {
				interrupt = s.awaitStop(killedGrace)
			}
			return r, interrupt
		case in := <-s.inputs:
			if ev := s.handle(in); ev != "" && interrupt == "" && m.Interruptible(ev) {
				interrupt = ev
				cancel(fmt.Errorf("%s: %w", ev, states.ErrInterrupted))
			}
		}
	}
}

// killedGrace is how long a helper killed by a signal waits for the stop
// request that usually comes with it.
const killedGrace = time.Second

// awaitStop waits up to d for a stop request among the inputs and returns
// EvStop if one came; other inputs are handled as usual.
func (s *supervisor) awaitStop(d time.Duration) states.Event {
	deadline := time.After(d)
	for {
		select {
		case in := <-s.inputs:
			if ev := s.handle(in); ev == states.EvStop && s.machine.Interruptible(ev) {
				return ev
			}
		case <-deadline:
			return ""
		}
	}
}

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
	case watchers.WatchdogFired:
		why := s.withheld
		if why == "" {
			why = "no ping was withheld: the container asked for it (WATCHDOG=trigger), or systemd-docker was starved of CPU"
		}
		s.log.Error("systemd's watchdog fired (WatchdogSec=): killing the container at once; the unit has failed",
			zap.String("signal", in.Signal.String()), zap.String("pings_withheld_because", why),
			zap.String("state", string(s.machine.State())))
		return states.EvWatchdog
	case watchers.Forward:
		if f.ContainerID != "" && f.Started {
			id, sig := f.ContainerID, in.Signal
			s.ownKills++ // its "kill" event is ours, not an operator's
			go func() {
				if err := s.docker.Kill(s.watchCtx, id, fmt.Sprint(int(sig))); err != nil {
					s.log.Warn("forward signal to the container", zap.String("signal", sig.String()), zap.Error(err))
				}
			}()
		}
	case watchers.Exit:
		if in.container != f.ContainerID || (in.Pid != 0 && in.Pid != f.Pid) {
			return "" // about a process or container that is gone already
		}
		s.log.Debug("container exit seen", zap.String("by", in.Source))
		if in.HasExitCode {
			s.noteDied(in.ExitCode)
		}
		return s.exitOrRestart(in)
	case watchers.Killed:
		switch {
		case in.container != f.ContainerID:
		case s.ownKills > 0:
			s.ownKills--
		default:
			s.lastKill = time.Now()
		}
	case watchers.Started:
		if in.container == f.ContainerID && s.exitPhase == exitRestartWindow {
			s.exitPhase = exitNone
			s.log.Info("docker restarted the container: supervising its new process")
			s.metrics.Restart()
			s.pidOn = false
			s.drainDied()
			return states.EvRestarted
		}
	case watchers.OOM:
		if in.container == f.ContainerID {
			f.OOMKilled = true
			s.log.Warn("the kernel killed a process of the container: out of memory (oom)")
		}
	case watchers.HealthChanged:
		if in.container == f.ContainerID {
			s.log.Info("container health", zap.String("status", in.Health.Status))
			s.metrics.Health(in.Health.Status)
		}
	case watchers.Tick:
		s.tick(in.Health)
	}
	return ""
}

// noteDied keeps the exit code of the latest "die" event for Wait.
func (s *supervisor) noteDied(code int) {
	s.drainDied()
	s.died <- code
}

func (s *supervisor) drainDied() {
	select {
	case <-s.died:
	default:
	}
}

// exitOrRestart decides what an exit means, in watch. Docker's "die" event
// decides: it comes after any "kill" event in the same stream, so an exit
// right after someone asked Docker to signal the container may be `docker
// restart`, and then waits restartWindow for Docker's "start". A pidfd
// exit (seen first, often by tens of milliseconds) waits for the "die"
// event, which also carries the exit code, for at most dieGrace: without
// the event stream (dockerd gone) the pidfd alone ends the watch.
func (s *supervisor) exitOrRestart(in inputEvent) states.Event {
	if s.machine.State() != states.Watch {
		return states.EvExited // no restart before the watch: the container ended
	}
	switch {
	case in.settled:
		if in.gen != s.exitGen || s.exitPhase == exitNone {
			return "" // a timer of an exit that was decided already
		}
		s.exitPhase = exitNone
		return states.EvExited
	case in.HasExitCode: // Docker's die event
		if s.exitPhase == exitRestartWindow {
			return ""
		}
		if time.Since(s.lastKill) > time.Minute {
			s.exitPhase = exitNone
			return states.EvExited
		}
		s.exitPhase = exitRestartWindow
		s.settleAfter(in.container, restartWindow)
		return ""
	default: // the pidfd
		if s.exitPhase != exitNone {
			return ""
		}
		// Most likely the end: take the main-process role back already
		// (a restart announces the new process again anyway).
		if s.notify != nil && s.machine.Facts().Announced {
			s.notify.StartReclaim()
		}
		s.exitPhase = exitAwaitDie
		s.settleAfter(in.container, dieGrace)
		return ""
	}
}

// Phases of an exit in watch (see exitOrRestart).
const (
	exitNone          = iota
	exitAwaitDie      // the pidfd saw it; Docker's die event is due
	exitRestartWindow // Docker was asked to signal it: a restart may follow
)

// dieGrace bounds the wait for Docker's die event after the pidfd: the
// event stream of a busy daemon lags by seconds; a dead one never sends it.
const dieGrace = 10 * time.Second

// settleAfter makes the current exit count after d, unless decided before.
func (s *supervisor) settleAfter(id string, d time.Duration) {
	s.exitGen++
	settled := inputEvent{Event: watchers.Event{Kind: watchers.Exit, Source: "timer"}, container: id,
		settled: true, gen: s.exitGen}
	s.startWatcher(id, func(ctx context.Context, _ watchers.Emit) {
		select {
		case <-ctx.Done():
		case <-time.After(d):
			select {
			case s.inputs <- settled:
			case <-ctx.Done():
			}
		}
	})
}

// observe is told of every transition; it starts the watchers that the
// new state needs.
func (s *supervisor) observe(t states.Transition, f *states.Facts) {
	s.log.Debug("transition", zap.String("from", string(t.From)), zap.String("to", string(t.To)),
		zap.String("event", string(t.Event)))
	if t.From == states.Create && s.pullStop != nil {
		s.pullStop()
	}
	switch t.To {
	case states.Create:
		if !s.stopChecked {
			s.stopChecked = true
			timeout := s.machine.Spec().StopTimeout
			// Concurrent with create, which mostly waits for the daemon:
			// done before the container idles, so it never wakes us then.
			s.startWatcher("", func(ctx context.Context, _ watchers.Emit) {
				s.checkStopTimeout(ctx, s.unit, timeout)
			})
		}
		if s.notifier.Enabled() {
			ctx, cancel := context.WithCancel(s.watchCtx)
			s.pullStop = cancel
			s.startWatcher("", func(context.Context, watchers.Emit) { s.pull.Run(ctx) })
		}
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
		if s.watchdog > 0 && !s.dogOn {
			s.dogOn = true
			id := f.ContainerID
			s.startWatcher(id, watchers.Watchdog{Interval: s.watchdog, Check: func(ctx context.Context) watchers.Health {
				return s.health(ctx, id)
			}}.Run)
		}
	case states.Watch:
		s.log.Info("container running", zap.String("container", short(f.ContainerID)), zap.Int("pid", f.Pid))
		// Starting up is over; what it allocated is garbage. Return it to
		// the kernel now, rather than have the scavenger wake us for it
		// while the container idles.
		debug.FreeOSMemory()
		s.metrics.ContainerStarted(f.StartedAt)
	}
	if msg := statusText(t.To, s.machine.Spec(), f); msg != "" {
		if err := s.notifier.Status(msg); err != nil {
			s.log.Debug("STATUS=", zap.Error(err))
		}
	}
	if s.metrics != nil {
		s.metrics.Transition(t)
		if t.To == states.Notify {
			s.metrics.PidsMigrated(s.cgroups.moved)
		}
		if t.From == states.Create {
			s.metrics.PullSeconds(s.docker.PullDuration())
		}
		s.writeMetrics()
	}
}

// statusText is the STATUS= line for entering a state; "" where the
// state's action says more itself (notify, stop).
func statusText(to states.State, spec states.Spec, f *states.Facts) string {
	switch to {
	case states.CleanupStale:
		return "removing a stale container named " + spec.Name
	case states.Create:
		return "creating the container from " + spec.Create.Image + " (pulling it if needed)"
	case states.Start:
		return "starting container " + short(f.ContainerID)
	case states.MigrateCgroups:
		return fmt.Sprintf("moving container pid %d into the unit's cgroups", f.Pid)
	case states.Remove:
		if spec.Remove {
			return "removing container " + short(f.ContainerID)
		}
	case states.Failed:
		if f.Err != nil {
			return "failed: " + f.Err.Error()
		}
	}
	return ""
}

// health is a watchdog tick's look at the container, within ctx's deadline.
func (s *supervisor) health(ctx context.Context, id string) watchers.Health {
	c, err := s.docker.Inspect(ctx, id)
	switch {
	case err != nil:
		return watchers.Health{Reason: "the docker daemon did not answer: " + err.Error(), DaemonAway: dockerapi.Unreachable(err)}
	case !c.Running:
		return watchers.Health{Reason: "the container is not running"}
	case c.Health == "unhealthy":
		return watchers.Health{Status: c.Health, Reason: "the container's health check says unhealthy"}
	case c.Health == "":
		return watchers.Health{OK: true, Status: "none"}
	}
	return watchers.Health{OK: true, Status: c.Health}
}

// tick pings systemd's watchdog when the container deserves it: it runs,
// is not unhealthy, and the daemon answers, or is restarting (see
// daemonAway). A container that sends its own WATCHDOG=1 (--notify) feeds
// the watchdog itself.
func (s *supervisor) tick(h watchers.Health) {
	if s.proxy.WatchdogSeen() {
		return
	}
	if h.Status != "" {
		s.metrics.Health(h.Status)
	}
	st := s.machine.State()
	running := st == states.MigrateCgroups || st == states.Notify || st == states.Watch
	if !running {
		return
	}
	processRuns := s.pidOn && s.exitPhase == exitNone
	if s.away.excuse(h, processRuns, time.Now(), dockerapi.DaemonRestartGrace) {
		if !s.away.said {
			s.away.said = true
			s.log.Info("dockerd is not running (restarting?) while the container's process runs: watchdog pings go on meanwhile",
				zap.Duration("at_most", dockerapi.DaemonRestartGrace))
		}
		h.OK = true
	}
	if h.OK {
		if err := s.notifier.Send("WATCHDOG=1"); err != nil {
			s.log.Warn("watchdog ping", zap.Error(err))
		}
		s.metrics.WatchdogPing(true)
		if s.withheld != "" {
			s.withheld = ""
			s.log.Info("watchdog pings resume", zap.String("health", h.Status))
			_ = s.notifier.Status(fmt.Sprintf("running, pid %d, %s", s.machine.Facts().Pid, h.Status))
		}
	} else {
		s.metrics.WatchdogPing(false)
		if s.withheld != h.Reason {
			s.withheld = h.Reason
			s.log.Warn("withholding watchdog pings: systemd will act on WatchdogSec=", zap.String("reason", h.Reason))
			_ = s.notifier.Status("watchdog pings withheld: " + h.Reason)
		}
	}
	s.writeMetrics()
}

func (s *supervisor) writeMetrics() {
	if s.metrics == nil {
		return
	}
	if err := s.metrics.WriteFile(s.cfg.MetricsDir); err != nil {
		s.log.Warn("write metrics", zap.Error(err))
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

// daemonAway excuses watchdog ticks that failed only because dockerd is
// not running: restarted with --live-restore, the container runs on, and
// its process (watched through a pidfd) is what the watchdog is about. A
// daemon that accepts requests but does not answer (wedged) is not
// excused, nor one away for longer than the grace.
type daemonAway struct {
	since time.Time // when the current absence began; zero while present
	said  bool      // the absence was logged
}

// excuse reports whether the tick h is to count as OK.
func (d *daemonAway) excuse(h watchers.Health, processRuns bool, now time.Time, grace time.Duration) bool {
	if h.OK || !h.DaemonAway {
		d.since, d.said = time.Time{}, false
		return false
	}
	if d.since.IsZero() {
		d.since = now
	}
	return processRuns && now.Sub(d.since) < grace
}
