package unit

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"go.uber.org/zap"
)

// CheckStopTimeout warns when systemd would SIGKILL the unit before the
// container's own stop timeout has run out: `systemctl stop` then cuts
// the graceful stop short. TimeoutStopSec= is read from systemd over
// D-Bus (readStopTimeout).
func (u Facts) CheckStopTimeout(ctx context.Context, log *zap.Logger, container *int) {
	unit := u.Name
	if unit == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	systemd, err := readStopTimeout(ctx, unit)
	if err != nil {
		log.Debug("read TimeoutStopSec", zap.String("unit", unit), zap.Error(err))
		return
	}
	if systemd == 0 {
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

// readStopTimeout asks systemd for the unit's TimeoutStopUSec: one
// property Get on one connection, where `systemctl show` was a process
// that had PID 1 serialise every property of the unit — at each start,
// while other units start too. 0 is infinity.
func readStopTimeout(ctx context.Context, unit string) (time.Duration, error) {
	conn, err := systemdBus(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	path := dbus.ObjectPath("/org/freedesktop/systemd1/unit/" + busLabel(unit))
	var v dbus.Variant
	err = conn.Object("org.freedesktop.systemd1", path).CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
		"org.freedesktop.systemd1.Service", "TimeoutStopUSec").Store(&v)
	if err != nil {
		return 0, fmt.Errorf("TimeoutStopUSec of %s: %w", unit, err)
	}
	usec, ok := v.Value().(uint64)
	if !ok {
		return 0, fmt.Errorf("TimeoutStopUSec of %s: a %s, not a number of microseconds", unit, v.Signature())
	}
	if usec == math.MaxUint64 || usec > math.MaxInt64/1000 {
		return 0, nil
	}
	return time.Duration(usec) * time.Microsecond, nil
}

// systemdBus connects to the service manager as systemctl does: root to
// its private socket, anyone else through the system bus.
func systemdBus(ctx context.Context) (*dbus.Conn, error) {
	if os.Geteuid() != 0 {
		return dbus.ConnectSystemBus(dbus.WithContext(ctx))
	}
	conn, err := dbus.Dial("unix:path=/run/systemd/private", dbus.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	if err := conn.Auth([]dbus.Auth{dbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// busLabel escapes a unit name for an object path as sd_bus_path_encode
// does: every byte but a letter or a digit (a digit first too) is _ and
// two hex digits.
func busLabel(name string) string {
	if name == "" {
		return "_"
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}
