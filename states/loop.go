package states

import (
	"context"
	"errors"
	"fmt"
)

// Run drives the machine to a terminal state: each state's action runs
// while inputs arrive, and an input the table lets interrupt the state
// cuts the action short. The error is a defect of the table, never one of
// the world (that one is in Facts().Err).
func (m *Machine) Run(ctx context.Context, inputs <-chan Input) error {
	for !m.State().Terminal() {
		if err := m.Step(ctx, inputs); err != nil {
			return err
		}
	}
	return nil
}

// Step runs the current state's action until it ends or an input
// interrupts it, and takes the transition: Act, Resolve, Fire.
func (m *Machine) Step(ctx context.Context, inputs <-chan Input) error {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type result struct {
		ev  Event
		err error
	}
	done := make(chan result, 1)
	go func() {
		ev, err := m.Act(actx)
		done <- result{ev, err}
	}()
	var interrupt Event
	for {
		select {
		case r := <-done:
			// Inputs that came with the result count: a stop requested
			// as the action ended still stops.
			for interrupt == "" && len(inputs) > 0 {
				interrupt = m.interruptFor(<-inputs)
			}
			if interrupt == "" && errors.Is(r.err, ErrKilled) {
				interrupt = m.awaitStop(ctx, inputs)
			}
			return m.Fire(m.Resolve(r.ev, r.err, interrupt))
		case in, ok := <-inputs:
			if !ok {
				inputs = nil
				continue
			}
			if ev := m.interruptFor(in); ev != "" && interrupt == "" {
				interrupt = ev
				cancel(fmt.Errorf("%s: %w", ev, ErrInterrupted))
			}
		}
	}
}

// interruptFor takes in and returns the event it interrupts the current
// state with, or "".
func (m *Machine) interruptFor(in Input) Event {
	if ev := m.eventFor(in); ev != "" && m.Interruptible(ev) {
		return ev
	}
	return ""
}

// awaitStop waits up to KilledGrace for a stop request among the inputs,
// after a helper of the action was killed by a signal: under systemd that
// is the stop reaching every process of the unit, which then is no failure.
func (m *Machine) awaitStop(ctx context.Context, inputs <-chan Input) Event {
	ctx, cancel := context.WithTimeout(ctx, KilledGrace)
	defer cancel()
	for {
		select {
		case in, ok := <-inputs:
			if !ok {
				inputs = nil
				continue
			}
			if ev := m.interruptFor(in); ev == EvStop {
				return ev
			}
		case <-ctx.Done():
			return ""
		}
	}
}
