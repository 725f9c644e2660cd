// Package states is the lifecycle of one supervised container, as an
// explicit state machine (github.com/looplab/fsm).
//
//	lookup ──not-found──▶ create ──created──▶ start ──started──▶ migrate-cgroups
//	   │                    ▲                   ▲                    │ migrated
//	   ├──stale──▶ cleanup-stale ──cleaned──┘   │                    ▼
//	   └──adopt─────────────────────────────────┤  done ◀──detached── notify
//	                                            │                    │ notified
//	                                  restarted │                    ▼
//	                                       restarting ◀─died-after-kill─ watch
//	                                            │  ▲                 │ process-ended
//	                                            │  └─died-after-kill─ exiting
//	                                    settled │                    │ exited, settled
//	exited (from start, migrate-cgroups,        ▼                    ▼
//	notify, watch) ───────────────────────▶  remove ──removed──▶ done
//	stop / abort (before remove) ──▶ stop ──stopped──▶ remove
//	watchdog (before remove) ──▶ kill ──killed──▶ failed
//	fail: from any state that is not terminal ──▶ failed
//
// In watch, an exit may be `docker restart`: the pidfd sees the process end
// first (exiting: the main-process role is taken back while Docker's die
// event, with the code, is due for at most DieGrace); a die event soon after
// someone's docker kill/stop/restart waits RestartWindow for Docker's start
// (restarting). Both windows are actions that end with settled.
//
// Each state has one action, in a file named after the state (exiting and
// restarting share exiting.go). An action does the state's work through
// narrow ports (Docker, Logs, Cgroups, Notifier) and returns the event that
// leaves the state. Actions never fire events themselves: Run (loop.go)
// runs the current state's action while inputs (input.go: signals, Docker
// events, pidfd exits, each with its payload) arrive, and an input whose
// event the table allows in the current state cuts the action short.
//
// Where a change belongs: what happens *in* a state goes into that state's
// file; which state follows which goes into table.go; what an input means
// in which state goes into input.go; how the world becomes inputs is the
// supervisor's business.
package states
