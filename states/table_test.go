package states

import (
	"errors"
	"slices"
	"testing"

	"github.com/looplab/fsm"
)

// allowed is the table as a map: (from, event) → to.
func allowed(t *testing.T) map[State]map[Event]State {
	t.Helper()
	out := map[State]map[Event]State{}
	for _, tr := range Transitions {
		for _, from := range tr.From {
			if out[from] == nil {
				out[from] = map[Event]State{}
			}
			if prev, dup := out[from][tr.Event]; dup {
				t.Fatalf("table: %q in %q listed twice (to %q and %q)", tr.Event, from, prev, tr.To)
			}
			out[from][tr.Event] = tr.To
		}
	}
	return out
}

// TestTransitionsExhaustive fires every event in every state: it succeeds
// exactly when the table allows it, landing in the table's target, and
// otherwise fails and leaves the state alone.
func TestTransitionsExhaustive(t *testing.T) {
	table := allowed(t)
	for _, from := range AllStates {
		for _, ev := range AllEvents {
			to, ok := table[from][ev]
			t.Run(string(from)+"/"+string(ev), func(t *testing.T) {
				w := newWorld()
				var seen []Transition
				m := w.machineIn(Spec{}, from, func(tr Transition, _ *Facts) { seen = append(seen, tr) })
				if got := m.Can(ev); got != ok {
					t.Errorf("Can(%q) in %q = %t, table says %t", ev, from, got, ok)
				}
				err := m.Fire(ev)
				if ok {
					if err != nil {
						t.Fatalf("Fire(%q) in %q: %v", ev, from, err)
					}
					if m.State() != to {
						t.Fatalf("Fire(%q) in %q: state %q, want %q", ev, from, m.State(), to)
					}
					want := []Transition{{From: from, To: to, Event: ev}}
					if len(seen) != 1 || seen[0].From != from || seen[0].To != to || seen[0].Event != ev {
						t.Fatalf("observed %+v, want %+v", seen, want)
					}
					return
				}
				if err == nil {
					t.Fatalf("Fire(%q) in %q succeeded (now %q); the table does not allow it", ev, from, m.State())
				}
				var invalid fsm.InvalidEventError
				if !errors.As(err, &invalid) {
					t.Errorf("Fire(%q) in %q: error %v (%T), want fsm.InvalidEventError", ev, from, err, err)
				}
				if m.State() != from {
					t.Errorf("after a refused %q: state %q, want %q", ev, m.State(), from)
				}
				if len(seen) != 0 {
					t.Errorf("observers told of a refused transition: %+v", seen)
				}
			})
		}
	}
}

func TestTableCoversEveryStateAndEvent(t *testing.T) {
	usedStates := map[State]bool{}
	usedEvents := map[Event]bool{}
	for _, tr := range Transitions {
		usedEvents[tr.Event] = true
		usedStates[tr.To] = true
		for _, s := range tr.From {
			usedStates[s] = true
		}
	}
	for _, s := range AllStates {
		if !usedStates[s] {
			t.Errorf("state %q is in AllStates but not in the table", s)
		}
	}
	for _, ev := range AllEvents {
		if !usedEvents[ev] {
			t.Errorf("event %q is in AllEvents but no transition uses it", ev)
		}
	}
	// And the other way round: the table names only listed states and events.
	for s := range usedStates {
		if !slices.Contains(AllStates, s) {
			t.Errorf("table names state %q, which AllStates lacks", s)
		}
	}
	for ev := range usedEvents {
		if !slices.Contains(AllEvents, ev) {
			t.Errorf("table names event %q, which AllEvents lacks", ev)
		}
	}
}

func TestTerminalStates(t *testing.T) {
	table := allowed(t)
	for _, s := range AllStates {
		terminal := s == Done || s == Failed
		if s.Terminal() != terminal {
			t.Errorf("%q.Terminal() = %t, want %t", s, s.Terminal(), terminal)
		}
		if terminal && len(table[s]) != 0 {
			t.Errorf("terminal state %q has outgoing transitions %v", s, table[s])
		}
		if !terminal && len(table[s]) == 0 {
			t.Errorf("state %q is not terminal but nothing leaves it", s)
		}
		if !terminal {
			if _, ok := table[s][EvFail]; !ok {
				t.Errorf("state %q cannot fail: an error in its action would be a dead end", s)
			}
		}
	}
}

// looplab/fsm silently ignores names it does not know; check that every
// name we hand it is one of our constants, and that an unknown event is an
// error, not a silent no-op.
func TestFSMKeysAreKnown(t *testing.T) {
	for _, d := range fsmEvents() {
		if !slices.Contains(AllEvents, Event(d.Name)) {
			t.Errorf("fsm event %q is not in AllEvents", d.Name)
		}
		if !slices.Contains(AllStates, State(d.Dst)) {
			t.Errorf("fsm event %q: destination %q is not in AllStates", d.Name, d.Dst)
		}
		if len(d.Src) == 0 {
			t.Errorf("fsm event %q has no source state", d.Name)
		}
		for _, src := range d.Src {
			if !slices.Contains(AllStates, State(src)) {
				t.Errorf("fsm event %q: source %q is not in AllStates", d.Name, src)
			}
			if src == d.Dst {
				t.Errorf("fsm event %q loops on %q: looplab/fsm answers NoTransitionError", d.Name, src)
			}
		}
	}
	if got, want := len(fsmEvents()), len(Transitions); got != want {
		t.Errorf("fsmEvents() has %d entries, the table %d", got, want)
	}

	m := newWorld().machineIn(Spec{}, Lookup)
	if m.State() != Lookup {
		t.Fatalf("new machine in %q, want %q", m.State(), Lookup)
	}
	if m.Can("no-such-event") {
		t.Error(`Can("no-such-event") = true`)
	}
	err := m.Fire("no-such-event")
	var unknown fsm.UnknownEventError
	if !errors.As(err, &unknown) {
		t.Errorf("Fire(unknown) = %v, want fsm.UnknownEventError", err)
	}
	if m.State() != Lookup {
		t.Errorf("after an unknown event: state %q, want %q", m.State(), Lookup)
	}
	if got := State(New(Spec{}, Ports{}).fsm.Current()); got != Lookup || !slices.Contains(AllStates, got) {
		t.Errorf("New starts in %q, want %q", got, Lookup)
	}
}
