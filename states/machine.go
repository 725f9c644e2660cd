package states

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/looplab/fsm"
	"go.uber.org/zap"
)

// Ports are the machine's ways to the outside world.
type Ports struct {
	Docker   Docker
	Logs     Logs
	Cgroups  Cgroups
	Notifier Notifier
	PidFile  PidFile
	Log      *zap.Logger
}

// Transition is one step the machine took, for observers (logs, STATUS=,
// metrics).
type Transition struct {
	From, To State
	Event    Event
	At       time.Time
}

// Observer is told of every transition, from the goroutine that owns the
// machine. It must not block.
type Observer func(Transition, *Facts)

// Machine is one container's lifecycle. It is not safe for concurrent use:
// one goroutine (the supervisor's) owns it.
type Machine struct {
	fsm       *fsm.FSM
	spec      Spec
	facts     Facts
	ports     Ports
	observers []Observer
	stale     Container // the container cleanup-stale must remove
	heard     heard     // what inputs said that no transition says
	now       func() time.Time
}

// New returns a machine in the Lookup state.
func New(spec Spec, ports Ports, observers ...Observer) *Machine {
	if ports.Log == nil {
		ports.Log = zap.NewNop()
	}
	return &Machine{
		fsm:       fsm.NewFSM(string(Lookup), fsmEvents(), nil),
		spec:      spec,
		ports:     ports,
		observers: observers,
		now:       time.Now,
	}
}

// State is the current state.
func (m *Machine) State() State { return State(m.fsm.Current()) }

// Facts is what the machine has learnt so far.
func (m *Machine) Facts() *Facts { return &m.facts }

// Spec is what the machine was asked to do.
func (m *Machine) Spec() Spec { return m.spec }

// Can reports whether ev is allowed in the current state.
func (m *Machine) Can(ev Event) bool { return m.fsm.Can(string(ev)) }

// Act runs the current state's action and returns the event it ends with.
// ctx is cancelled by the supervisor to interrupt the action.
func (m *Machine) Act(ctx context.Context) (Event, error) {
	switch m.State() {
	case Lookup:
		return m.lookup(ctx)
	case CleanupStale:
		return m.cleanupStale(ctx)
	case Create:
		return m.create(ctx)
	case Start:
		return m.start(ctx)
	case MigrateCgroups:
		return m.migrateCgroups(ctx)
	case Notify:
		return m.notify(ctx)
	case Watch:
		return m.watch(ctx)
	case Exiting:
		return m.exiting(ctx)
	case Restarting:
		return m.restarting(ctx)
	case Stop:
		return m.stop(ctx)
	case Kill:
		return m.kill(ctx)
	case Remove:
		return m.remove(ctx)
	}
	return "", fmt.Errorf("state %q has no action", m.State())
}

// interrupts are the events that come from inputs, not from actions: an
// input asking for one cuts the current action short, where the table
// allows it.
var interrupts = []Event{EvStop, EvWatchdog, EvExited, EvProcessEnded, EvDiedAfterKill, EvRestarted}

// Interruptible reports whether the current action may be cut short by ev.
func (m *Machine) Interruptible(ev Event) bool {
	return slices.Contains(interrupts, ev) && m.Can(ev)
}

// Resolve chooses the event that ends the current state, given what the
// action returned and the interrupt (one of interrupts, or "") that
// arrived while it ran. An allowed interrupt wins; a failed action aborts
// (stop, then remove) when a container of ours exists, and fails
// otherwise.
func (m *Machine) Resolve(ev Event, err error, interrupt Event) Event {
	if interrupt != "" && m.Can(interrupt) {
		m.note(interrupt)
		return interrupt
	}
	if err != nil {
		if m.facts.Err == nil {
			m.facts.Err = err
			m.facts.FailedIn = m.State()
		}
		if m.facts.ContainerID != "" && m.Can(EvAbort) {
			return EvAbort
		}
		return EvFail
	}
	m.note(ev)
	return ev
}

// note records in the facts what the event that ends the state says.
func (m *Machine) note(ev Event) {
	switch ev {
	case EvExited, EvSettled:
		m.facts.Exited = true
	case EvRestarted:
		m.facts.Restarts++
	case EvStop:
		if m.facts.StopReason == "" {
			m.facts.StopReason = "stop requested"
		}
	case EvWatchdog:
		m.facts.StopReason = "systemd's watchdog fired"
	}
	m.applyHeard(ev)
}

// Fire takes the transition for ev and tells the observers.
func (m *Machine) Fire(ev Event) error {
	from := m.State()
	if err := m.fsm.Event(context.Background(), string(ev)); err != nil {
		return fmt.Errorf("event %q in state %q: %w", ev, from, err)
	}
	m.heard.container, m.heard.pid = m.facts.ContainerID, m.facts.Pid
	if ev == EvRestarted {
		// The old process's pidfd exit, however late, is no exit of the
		// new run: no pid is heard until start learns the new one.
		m.heard.pid = 0
	}
	t := Transition{From: from, To: m.State(), Event: ev, At: m.now()}
	for _, o := range m.observers {
		o(t, &m.facts)
	}
	return nil
}

// ErrInterrupted is the cause the supervisor gives an action's context
// when it cuts the action short (a stop request, the container's exit).
var ErrInterrupted = errors.New("interrupted")
