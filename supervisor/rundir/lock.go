package rundir

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// NameLock makes sure one supervisor at a time owns a container name: a
// second `systemd-docker run --name X` (a manual run beside the unit, or
// two units with one name) fails instead of adopting, or removing, a
// container another supervisor watches. The kernel drops the lock when its
// holder dies, even by SIGKILL, so a restarted unit adopts as it should.
type NameLock struct {
	f    *os.File
	path string
}

// lockName takes the lock of a container name in dir, the run directory
// (see runDir), which must exist.
func Lock(dir, name string) (*NameLock, error) {
	path := filepath.Join(dir, lockFileName(name))
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
			// 0644 whatever the umask (UMask=0077 would make it 0600), like
			// the pid file: anyone may read which pid holds the name.
			_ = f.Chmod(0o644)
			_ = f.Truncate(0)
			_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
			return &NameLock{f: f, path: path}, nil
		}
	}
}

// maxFileName is NAME_MAX of Linux file systems (tmpfs, ext4, xfs, btrfs).
const maxFileName = 255

// lockFileName is the name of the lock file of a container name:
// name-NAME.lock. Docker sets no length limit on names; one too long for
// that (over 245 bytes) becomes name-<its first 64 bytes>+<128 bits of
// its SHA-256 in hex>.lock. '+' is not allowed in container names, so
// that form never meets the file of a shorter name, and the names that
// fit keep the file they have always had. Docker's optional leading '/'
// is no part of the name ("/web" is "web").
func lockFileName(name string) string {
	name = strings.TrimPrefix(name, "/")
	file := "name-" + safeFileName(name) + ".lock"
	if len(file) <= maxFileName {
		return file
	}
	sum := sha256.Sum256([]byte(name))
	return "name-" + safeFileName(name[:64]) + "+" + hex.EncodeToString(sum[:16]) + ".lock"
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
func (l *NameLock) Unlock() {
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
