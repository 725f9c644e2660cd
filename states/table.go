package states

import "github.com/looplab/fsm"

// State is one step of a container's lifecycle.
type State string

// The states, in lifecycle order.
const (
	Lookup         State = "lookup"
	CleanupStale   State = "cleanup-stale"
	Create         State = "create"
	Start          State = "start"
	MigrateCgroups State = "migrate-cgroups"
	Notify         State = "notify"
	Watch          State = "watch"
	Exiting        State = "exiting"    // the process ended; Docker's word on it is due
	Restarting     State = "restarting" // it died after a docker kill/stop/restart: a new start may follow
	Stop           State = "stop"
	Kill           State = "kill"
	Remove         State = "remove"
	Done           State = "done"
	Failed         State = "failed"
)

// AllStates lists every state, in lifecycle order.
var AllStates = []State{Lookup, CleanupStale, Create, Start, MigrateCgroups, Notify, Watch, Exiting, Restarting,
	Stop, Kill, Remove, Done, Failed}

// Terminal reports whether the machine stops in s.
func (s State) Terminal() bool { return s == Done || s == Failed }

// Event moves the machine from one state to the next.
type Event string

// The events.
const (
	EvNotFound  Event = "not-found" // lookup: no container of that name
	EvStale     Event = "stale"     // lookup: a container that must go first
	EvAdopt     Event = "adopt"     // lookup: a running container from the same arguments
	EvCleaned   Event = "cleaned"   // cleanup-stale: the old container is gone
	EvCreated   Event = "created"   // create: the container exists
	EvStarted   Event = "started"   // start: the container runs, its pid is known
	EvMigrated  Event = "migrated"  // migrate-cgroups: it is in the unit's cgroups
	EvNotified  Event = "notified"  // notify: systemd was told MAINPID and READY
	EvDetached  Event = "detached"  // notify: detach mode, systemd follows the container alone
	EvExited    Event = "exited"    // the container ended on its own (Docker's die event, with its code)
	EvRestarted Event = "restarted" // restarting: Docker started the container again (docker restart)
	// EvProcessEnded: watch: the container's init process ended (its
	// pidfd); Docker's die event, with the exit code, is due.
	EvProcessEnded Event = "process-ended"
	// EvDiedAfterKill: watch, exiting: the die event came within a minute
	// of someone asking Docker to signal the container (docker
	// kill/stop/restart, not ours): Docker may start it again.
	EvDiedAfterKill Event = "died-after-kill"
	// EvSettled: exiting, restarting: the window passed with no word from
	// Docker (no die event: dockerd is gone; no start: it was a stop). The
	// exit stands.
	EvSettled  Event = "settled"
	EvStop     Event = "stop"     // a stop was requested (SIGTERM/SIGINT)
	EvAbort    Event = "abort"    // an action failed while a container exists: stop it
	EvStopped  Event = "stopped"  // stop: the container is no longer running
	EvWatchdog Event = "watchdog" // systemd's watchdog fired (its WatchdogSignal=, SIGABRT): kill at once
	EvKilled   Event = "killed"   // kill: the container is killed and, with --rm, removed
	EvRemoved  Event = "removed"  // remove: removal done (or not wanted)
	EvFail     Event = "fail"     // an action failed and there is nothing to clean up
)

// AllEvents lists every event.
var AllEvents = []Event{EvNotFound, EvStale, EvAdopt, EvCleaned, EvCreated, EvStarted, EvMigrated,
	EvNotified, EvDetached, EvExited, EvProcessEnded, EvDiedAfterKill, EvSettled, EvRestarted,
	EvStop, EvAbort, EvStopped, EvWatchdog, EvKilled, EvRemoved, EvFail}

// Transitions is the whole table: for each event, the states it leaves
// and the state it enters.
var Transitions = []struct {
	Event Event
	From  []State
	To    State
}{
	{EvNotFound, []State{Lookup}, Create},
	{EvStale, []State{Lookup}, CleanupStale},
	{EvAdopt, []State{Lookup}, Start},
	{EvCleaned, []State{CleanupStale}, Create},
	{EvCreated, []State{Create}, Start},
	{EvStarted, []State{Start}, MigrateCgroups},
	{EvMigrated, []State{MigrateCgroups}, Notify},
	{EvNotified, []State{Notify}, Watch},
	{EvDetached, []State{Notify}, Done},
	// Before watch an exit is the end; in watch it may be a docker restart.
	{EvExited, []State{Start, MigrateCgroups, Notify, Watch, Exiting}, Remove},
	{EvProcessEnded, []State{Watch}, Exiting},
	{EvDiedAfterKill, []State{Watch, Exiting}, Restarting},
	{EvSettled, []State{Exiting, Restarting}, Remove},
	{EvRestarted, []State{Restarting}, Start},
	{EvStop, []State{Lookup, CleanupStale, Create, Start, MigrateCgroups, Notify, Watch, Exiting, Restarting}, Stop},
	{EvAbort, []State{Create, Start, MigrateCgroups, Notify, Watch, Exiting, Restarting}, Stop},
	{EvStopped, []State{Stop}, Remove},
	// systemd gave up on the unit: no graceful stop, the unit has failed.
	{EvWatchdog, []State{Lookup, CleanupStale, Create, Start, MigrateCgroups, Notify, Watch, Exiting, Restarting, Stop}, Kill},
	{EvKilled, []State{Kill}, Failed},
	{EvRemoved, []State{Remove}, Done},
	{EvFail, []State{Lookup, CleanupStale, Create, Start, MigrateCgroups, Notify, Watch, Exiting, Restarting,
		Stop, Kill, Remove}, Failed},
}

func fsmEvents() fsm.Events {
	evs := make(fsm.Events, 0, len(Transitions))
	for _, t := range Transitions {
		src := make([]string, len(t.From))
		for i, s := range t.From {
			src[i] = string(s)
		}
		evs = append(evs, fsm.EventDesc{Name: string(t.Event), Src: src, Dst: string(t.To)})
	}
	return evs
}
