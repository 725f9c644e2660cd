package supervisor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// nameLock makes sure one supervisor at a time owns a container name: a
// second `systemd-docker run --name X` (a manual run beside the unit, or
// two units with one name) fails instead of adopting, or removing, a
// container another supervisor watches. The kernel drops the lock when its
// holder dies, even by SIGKILL, so a restarted unit adopts as it should.
type nameLock struct{ f *os.File }

func lockName(dir, name string) (*nameLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock container name %q: %w", name, err)
	}
	path := filepath.Join(dir, "name-"+safeFileName(name)+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock container name %q: %w", name, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("container name %q is already supervised by another systemd-docker (pid %s); stop that one first, or give this container another --name",
				name, strings.TrimSpace(string(holder)))
		}
		return nil, fmt.Errorf("lock container name %q: %w", name, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &nameLock{f: f}, nil
}

// Unlock releases the name. The file stays: removing it would race with
// a newcomer that opened it already.
func (l *nameLock) Unlock() {
	if l != nil {
		l.f.Close()
	}
}

// safeFileName keeps a container name usable as a file name.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == 0 {
			return '_'
		}
		return r
	}, s)
}
