// Package unit is what systemd-docker knows of the systemd unit it runs
// in: its name, the invocation, the watchdog interval systemd asks for
// (sd_watchdog_enabled(3)), and whether TimeoutStopSec= leaves the
// container's stop time (systemd.service(5)). Everything here is read from
// the environment systemd gives the service, /proc/self/cgroup and
// `systemctl show`; nothing is written.
package unit

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/systemd-docker/systemd-docker/supervisor/cgroups"
)

// Facts is what we know of the unit we run in.
type Facts struct {
	Name     string        // the unit's name; "" outside a unit
	Watchdog time.Duration // how often to ping the watchdog; zero without WatchdogSec=
}

// Read learns the facts from environ and /proc/self/cgroup.
func Read(environ []string) (Facts, error) {
	wd, err := WatchdogInterval(environ)
	if err != nil {
		return Facts{}, err
	}
	return Facts{Name: Name("/proc/self/cgroup"), Watchdog: wd}, nil
}

// Getenv is the value of name in environ, "" when unset.
func Getenv(environ []string, name string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

var processInvocation = randomID()

// Invocation names this run: systemd's INVOCATION_ID, else a random ID.
func Invocation(environ []string) string {
	if id := Getenv(environ, "INVOCATION_ID"); id != "" {
		return id
	}
	return processInvocation
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// WatchdogInterval is how often to ping systemd's watchdog: half of
// WATCHDOG_USEC when it is meant for us (WATCHDOG_PID unset or ours), see
// sd_watchdog_enabled(3); zero when there is no watchdog.
func WatchdogInterval(environ []string) (time.Duration, error) {
	usec := Getenv(environ, "WATCHDOG_USEC")
	if usec == "" {
		return 0, nil
	}
	if pid := Getenv(environ, "WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return 0, nil
	}
	n, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("WATCHDOG_USEC=%q is not a positive number of microseconds; check WatchdogSec= in the unit", usec)
	}
	return time.Duration(n) * time.Microsecond / 2, nil
}

// Name is the systemd service we run in, from the cgroups of the process
// whose /proc/PID/cgroup file is given: the last path element that is a
// .service; "" when there is none.
func Name(procCgroup string) string {
	f, err := os.Open(procCgroup)
	if err != nil {
		return ""
	}
	defer f.Close()
	hs, err := cgroups.ParseProcCgroup(f)
	if err != nil {
		return ""
	}
	for _, h := range hs {
		base := h.Path[strings.LastIndex(h.Path, "/")+1:]
		if strings.HasSuffix(base, ".service") {
			return base
		}
	}
	return ""
}
