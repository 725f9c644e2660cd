package unit

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
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
			got, err := WatchdogInterval(tt.environ)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("WatchdogInterval(%q) = %v, nil; want an error", tt.environ, got)
				}
				msg := err.Error()
				if !strings.Contains(msg, "WATCHDOG_USEC") || !strings.Contains(msg, "WatchdogSec=") {
					t.Errorf("error %q should name WATCHDOG_USEC and WatchdogSec=", msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("WatchdogInterval(%q): %v", tt.environ, err)
			}
			if got != tt.want {
				t.Errorf("WatchdogInterval(%q) = %v, want %v", tt.environ, got, tt.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	for _, tt := range []struct{ name, cgroup, want string }{
		{"pure v2", "0::/system.slice/web.service\n", "web.service"},
		{"hybrid", "1:name=systemd:/system.slice/web@1.service\n0::/system.slice/web@1.service\n", "web@1.service"},
		{"a scope", "0::/user.slice/session-1.scope\n", ""},
		{"a cgroup below the service", "0::/system.slice/web.service/payload\n", ""},
		{"outside the namespace", "0::/../..\n", ""},
		{"malformed", "garbage\n", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "cgroup")
			if err := os.WriteFile(p, []byte(tt.cgroup), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := Name(p); got != tt.want {
				t.Errorf("Name(%q) = %q, want %q", tt.cgroup, got, tt.want)
			}
		})
	}
	if got := Name(filepath.Join(t.TempDir(), "missing")); got != "" {
		t.Errorf("Name of a missing file = %q", got)
	}
}

func TestInvocation(t *testing.T) {
	if got := Invocation([]string{"PATH=/bin", "INVOCATION_ID=0123456789abcdef0123456789abcdef"}); got != "0123456789abcdef0123456789abcdef" {
		t.Errorf("Invocation with INVOCATION_ID = %q, want systemd's", got)
	}
	tests := []struct {
		name    string
		environ []string
	}{
		{name: "unset", environ: []string{"PATH=/bin"}},
		{name: "nil", environ: nil},
		{name: "empty", environ: []string{"INVOCATION_ID="}},
	}
	first := Invocation(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Invocation(tt.environ)
			if len(got) != 32 {
				t.Fatalf("Invocation(%q) = %q, want 32 hex characters", tt.environ, got)
			}
			if _, err := hex.DecodeString(got); err != nil || strings.ToLower(got) != got {
				t.Fatalf("Invocation(%q) = %q, want lowercase hex: %v", tt.environ, got, err)
			}
			if got != first {
				t.Errorf("Invocation(%q) = %q, want the same ID on every call (%q)", tt.environ, got, first)
			}
		})
	}
	if a, b := randomID(), randomID(); a == b {
		t.Errorf("randomID returned %q twice", a)
	}
}
