package supervisor

import (
	"errors"
	"syscall"
	"testing"

	"github.com/systemd-docker/systemd-docker/states"
)

func TestExitResult(t *testing.T) {
	tests := []struct {
		name     string
		facts    states.Facts
		detached bool
		signal   syscall.Signal
		want     Result
	}{
		{name: "failure", facts: states.Facts{Err: errors.New("x"), Started: true, ExitCode: 3}, want: Result{Code: ExitFailure}},
		{name: "failure beats a stop signal", facts: states.Facts{Err: errors.New("x")}, signal: syscall.SIGTERM,
			want: Result{Code: ExitFailure}},
		{name: "detached", facts: states.Facts{Started: true, ExitCode: 3}, detached: true, want: Result{Code: 0}},
		{name: "container's own code", facts: states.Facts{Started: true, ExitCode: 42}, want: Result{Code: 42}},
		{name: "container's zero", facts: states.Facts{Started: true}, want: Result{Code: 0}},
		{name: "stopped after MAINPID went to the container: container's code",
			facts: states.Facts{Started: true, Announced: true, ExitCode: 143}, signal: syscall.SIGTERM, want: Result{Code: 143}},
		{name: "stopped while still the main process: the signal, whatever the container said",
			facts: states.Facts{Started: true, ExitCode: 143}, signal: syscall.SIGTERM, want: Result{Code: 143, Signal: syscall.SIGTERM}},
		{name: "stopped before start: SIGTERM", signal: syscall.SIGTERM, want: Result{Code: 128 + 15, Signal: syscall.SIGTERM}},
		{name: "stopped before start: SIGINT", signal: syscall.SIGINT, want: Result{Code: 128 + 2, Signal: syscall.SIGINT}},
		{name: "nothing happened", want: Result{Code: ExitFailure}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.facts
			f.StopSignal = tt.signal
			if got := exitResult(&f, tt.detached); got != tt.want {
				t.Errorf("exitResult = %+v, want %+v", got, tt.want)
			}
		})
	}
	if ExitFailure != 125 {
		t.Errorf("ExitFailure = %d, want docker run's 125", ExitFailure)
	}
}
