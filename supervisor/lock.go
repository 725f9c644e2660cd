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
type nameLock struct {
	f    *os.File
	path string
}

func lockName(dir, name string) (*nameLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock container name %q: %w", name, err)
	}
	path := filepath.Join(dir, "name-"+safeFileName(name)+".lock")
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock container name %q: %w", name, err)
		}
		locked, err := lockOpened(f, path, name)
		if err != nil {
			return nil, err
		}
		if locked {
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			return &nameLock{f: f, path: path}, nil
		}
	}
}

// lockOpened locks f, opened at path. It is false, and closes f, when the
// lock is ours but f is no longer the file at path: the holder before us
// removed it before letting go, and the caller should open path again.
func lockOpened(f *os.File, path, name string) (bool, error) {
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return false, fmt.Errorf("container name %q is already supervised by another systemd-docker (pid %s); stop that one first, or give this container another --name",
				name, strings.TrimSpace(string(holder)))
		}
		return false, fmt.Errorf("lock container name %q: %w", name, err)
	}
	if !samePath(f, path) {
		f.Close()
		return false, nil
	}
	return true, nil
}

// samePath tells whether f is still the file at path.
func samePath(f *os.File, path string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Lstat(path, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// Unlock releases the name and removes its file: first the file, while
// the lock is still held, so a newcomer that opened it meanwhile sees that
// it lost its path and opens a fresh one (lockOpened). A SIGKILLed
// holder leaves the file, which the next holder of the name reuses.
func (l *nameLock) Unlock() {
	if l != nil {
		_ = os.Remove(l.path)
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
