// Package states is the lifecycle of one supervised container, as an
// explicit state machine (github.com/looplab/fsm).
//
//	lookup ──not-found──▶ create ──created──▶ start ──started──▶ migrate-cgroups
//	   │                    ▲                                        │ migrated
//	   ├──stale──▶ cleanup-stale ──cleaned──┘                        ▼
//	   └──adopt──────────────────────────────▶ start           notify ──detached──▶ done
//	                                                                 │ notified
//	                                                                 ▼
//	           exited (from start, migrate-cgroups, notify, watch)  watch
//	   stop ◀── stop / abort (from any state before remove) ─────────┘
//	     │ stopped                      ┌──exited──────────────────────┘
//	     ▼                              ▼
//	   remove ──removed──▶ done      remove
//
//	restarted (docker restart): watch ──▶ start, to migrate and announce the new process
//	fail: from any state that is not terminal ──▶ failed
//
// Each state has one action, in a file named after the state. An action
// does the state's work through narrow ports (Docker, Logs, Cgroups,
// Notifier) and returns the event that leaves the state. Actions never
// fire events themselves: the supervisor owns the machine, runs the
// current state's action, and may interrupt it (a stop request, the
// container's exit) by cancelling the action's context; see
// Machine.Interrupt.
//
// Where a change belongs: what happens *in* a state goes into that state's
// file; which state follows which goes into table.go; how inputs from the
// outside (signals, Docker events, pidfd exits) reach the machine is the
// supervisor's business.
package states
