package supervisor

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/watchers"
)

func TestWatchdogInterval(t *testing.T) {
	us := "WATCHDOG_PID=" + strconv.Itoa(os.Getpid())
	other := "WATCHDOG_PID=" + strconv.Itoa(os.Getpid()+1)
	tests := []struct {
		name    string
		environ []string
		want    time.Duration
		wantErr bool
	}{
		{name: "unset", environ: []string{"PATH=/bin"}, want: 0},
		{name: "empty environment", environ: nil, want: 0},
		{name: "empty value", environ: []string{"WATCHDOG_USEC="}, want: 0},
		{name: "half of WATCHDOG_USEC", environ: []string{"WATCHDOG_USEC=2000000"}, want: time.Second},
		{name: "odd microseconds", environ: []string{"WATCHDOG_USEC=3"}, want: 1500 * time.Nanosecond},
		{name: "our pid", environ: []string{"WATCHDOG_USEC=2000000", us}, want: time.Second},
		{name: "pid first", environ: []string{us, "WATCHDOG_USEC=500000"}, want: 250 * time.Millisecond},
		{name: "another pid", environ: []string{"WATCHDOG_USEC=2000000", other}, want: 0},
		{name: "another pid, bad value", environ: []string{"WATCHDOG_USEC=abc", other}, want: 0},
		{name: "name prefix is not the variable", environ: []string{"WATCHDOG_USEC_X=5"}, want: 0},
		{name: "not a number", environ: []string{"WATCHDOG_USEC=abc"}, wantErr: true},
		{name: "zero", environ: []string{"WATCHDOG_USEC=0"}, wantErr: true},
		{name: "negative", environ: []string{"WATCHDOG_USEC=-5"}, wantErr: true},
		{name: "fraction", environ: []string{"WATCHDOG_USEC=1.5"}, wantErr: true},
		{name: "overflow", environ: []string{"WATCHDOG_USEC=18446744073709551615"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := watchdogInterval(tt.environ)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("watchdogInterval(%q) = %v, nil; want an error", tt.environ, got)
				}
				msg := err.Error()
				if !strings.Contains(msg, "WATCHDOG_USEC") || !strings.Contains(msg, "WatchdogSec=") {
					t.Errorf("error %q should name WATCHDOG_USEC and WatchdogSec=", msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("watchdogInterval(%q): %v", tt.environ, err)
			}
			if got != tt.want {
				t.Errorf("watchdogInterval(%q) = %v, want %v", tt.environ, got, tt.want)
			}
		})
	}
}

func TestDaemonAwayExcuse(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 17, 0, 0, 0, time.UTC)
	away := watchers.Health{Reason: "the docker daemon did not answer: refused", DaemonAway: true}
	wedged := watchers.Health{Reason: "the docker daemon did not answer: context deadline exceeded"}
	unhealthy := watchers.Health{Status: "unhealthy", Reason: "unhealthy"}
	ok := watchers.Health{OK: true, Status: "none"}
	type tick struct {
		h           watchers.Health
		processRuns bool
		at          time.Duration // after t0
		want        bool
	}
	tests := []struct {
		name  string
		ticks []tick
	}{
		{"a present daemon is never excused", []tick{{ok, true, 0, false}, {unhealthy, true, time.Second, false}}},
		{"a wedged daemon is not excused", []tick{{wedged, true, 0, false}}},
		{"away while the process runs: excused within the grace", []tick{
			{away, true, 0, true}, {away, true, 29 * time.Second, true}, {away, true, 30 * time.Second, false}}},
		{"away after the process ended: not excused", []tick{{away, false, 0, false}}},
		{"back, then away again: the grace starts over", []tick{
			{away, true, 0, true}, {ok, true, 20 * time.Second, false}, {away, true, 40 * time.Second, true},
			{away, true, 69 * time.Second, true}, {away, true, 70 * time.Second, false}}},
		{"unhealthy in between ends the absence too", []tick{
			{away, true, 0, true}, {unhealthy, true, 10 * time.Second, false}, {away, true, 45 * time.Second, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d daemonAway
			for i, tk := range tt.ticks {
				if got := d.excuse(tk.h, tk.processRuns, t0.Add(tk.at), 30*time.Second); got != tk.want {
					t.Errorf("tick %d (%s after start): excused %v, want %v", i, tk.at, got, tk.want)
				}
			}
		})
	}
}
