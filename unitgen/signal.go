package unitgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// signalNames are Linux's signal numbers 1–31.
var signalNames = []string{"", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
	"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD",
	"SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM",
	"SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"}

// NormalizeSignal turns docker's spellings of a signal (QUIT, sigquit, 3,
// SIGRTMIN+3) into the SIGNAME systemd's KillSignal= takes; "" stays "".
func NormalizeSignal(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		switch {
		case n > 0 && n < len(signalNames):
			return signalNames[n], nil
		case n >= 34 && n <= 64:
			return fmt.Sprintf("SIGRTMIN+%d", n-34), nil
		}
		return "", fmt.Errorf("%q is not a signal number", s)
	}
	u := strings.ToUpper(s)
	if !strings.HasPrefix(u, "SIG") {
		u = "SIG" + u
	}
	for _, n := range signalNames[1:] {
		if u == n {
			return u, nil
		}
	}
	for _, rt := range []string{"SIGRTMIN", "SIGRTMAX"} {
		if rest, ok := strings.CutPrefix(u, rt); ok {
			if rest == "" {
				return u, nil
			}
			if n, err := strconv.Atoi(rest); err == nil && n >= -30 && n <= 30 && len(rest) > 1 &&
				(rest[0] == '+' || rest[0] == '-') && rest[1] != '0' {
				return u, nil
			}
		}
	}
	return "", fmt.Errorf("%q is not a signal name: write e.g. SIGQUIT", s)
}

// Timespan writes d in systemd's time span syntax.
func Timespan(d time.Duration) string {
	if d%time.Second == 0 {
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return fmt.Sprintf("%dms", d/time.Millisecond)
}

// ParseWatchdog reads a watchdog interval: a Go duration (30s, 1m30s) or
// whole seconds (30), at least 1 ms.
func ParseWatchdog(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		n, nerr := strconv.ParseUint(s, 10, 32)
		if nerr != nil {
			return 0, fmt.Errorf("%q is not a duration: write e.g. 30s", s)
		}
		d = time.Duration(n) * time.Second
	}
	if d < time.Millisecond {
		return 0, fmt.Errorf("watchdog interval %q is too short: write e.g. 30s (systemd-docker pings every half interval)", s)
	}
	return d, nil
}
