package unit

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.uber.org/zap"
)

// CheckStopTimeout warns when systemd would SIGKILL the unit before the
// container's own stop timeout has run out: `systemctl stop` then cuts
// the graceful stop short. TimeoutStopSec= is read with systemctl show.
func (u Facts) CheckStopTimeout(ctx context.Context, log *zap.Logger, container *int) {
	unit := u.Name
	if unit == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemctl", "show", "--property=TimeoutStopUSec", "--value", unit).Output()
	if err != nil {
		log.Debug("read TimeoutStopSec", zap.String("unit", unit), zap.Error(err))
		return
	}
	systemd, err := parseTimespan(strings.TrimSpace(string(out)))
	if err != nil || systemd == 0 {
		return
	}
	stop := 10 * time.Second // docker's default
	if container != nil {
		stop = time.Duration(*container) * time.Second
	}
	if msg := stopTimeoutWarning(unit, systemd, stop); msg != "" {
		log.Warn(msg)
	}
}

// stopTimeoutWarning says what is wrong when systemd's stop timeout is not
// longer than the container's; "" when all is well.
func stopTimeoutWarning(unit string, systemd, container time.Duration) string {
	if container < 0 || systemd > container {
		return ""
	}
	return fmt.Sprintf("TimeoutStopSec=%s of %s is not longer than the container's stop timeout (%s): systemd may kill the container before docker stop has finished; raise TimeoutStopSec= above %s, or lower --stop-timeout",
		systemd, unit, container, container)
}

// parseTimespan reads systemd's time spans as systemctl show prints them
// ("1min 30s", "500ms", "infinity"); see systemd.time(7). infinity is 0.
func parseTimespan(s string) (time.Duration, error) {
	if s == "infinity" || s == "" {
		return 0, nil
	}
	units := map[string]time.Duration{
		"us": time.Microsecond, "usec": time.Microsecond, "µs": time.Microsecond,
		"ms": time.Millisecond, "msec": time.Millisecond,
		"s": time.Second, "sec": time.Second, "second": time.Second, "seconds": time.Second,
		"m": time.Minute, "min": time.Minute, "minute": time.Minute, "minutes": time.Minute,
		"h": time.Hour, "hr": time.Hour, "hour": time.Hour, "hours": time.Hour,
		"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	}
	var total time.Duration
	rest := strings.TrimSpace(s)
	for rest != "" {
		i := strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
		if i <= 0 {
			if i == 0 {
				return 0, fmt.Errorf("time span %q: number expected at %q", s, rest)
			}
			// A bare number is seconds.
			i = len(rest)
		}
		num, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("time span %q: %w", s, err)
		}
		rest = strings.TrimLeft(rest[i:], " ")
		j := strings.IndexFunc(rest, func(r rune) bool { return unicode.IsDigit(r) || r == ' ' })
		if j < 0 {
			j = len(rest)
		}
		unit := rest[:j]
		mul := time.Second
		if unit != "" {
			var ok bool
			if mul, ok = units[unit]; !ok {
				return 0, fmt.Errorf("time span %q: unknown unit %q", s, unit)
			}
		}
		total += time.Duration(num * float64(mul))
		rest = strings.TrimLeft(rest[j:], " ")
	}
	return total, nil
}
