package supervisor

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// pidFile writes the container's host pid to Path atomically: a new file
// (mode 0644) in the same directory, renamed over Path, so readers never
// see a partial pid and a symlink placed at Path is replaced, not followed.
type pidFile struct{ Path string }

func (p pidFile) Write(pid int) error {
	dir := filepath.Dir(p.Path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(p.Path)+".*")
	if err != nil {
		return fmt.Errorf("write pid file %s: %w; check that the directory exists and is writable", p.Path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(strconv.Itoa(pid) + "\n")
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p.Path)
	}
	if err != nil {
		return fmt.Errorf("write pid file %s: %w", p.Path, err)
	}
	return nil
}

// maxPidFile bounds what Remove reads: a pid and its newline take at most
// 21 bytes; anything longer is not our file.
const maxPidFile = 32

// Remove deletes the pid file if it is still the regular file we wrote,
// holding pid. Whatever else is at Path (another pid, a FIFO, a symlink, a
// device, a directory) is left alone and never read: the directory may be
// writable by others, and a FIFO would block the read, a symlink to
// /dev/zero would feed it without end.
//
// The directory is opened once, so the name is looked up, checked and
// unlinked in the same directory. One race remains: between the check
// (the lstat that must match the file read) and the unlink, someone who
// may write in that directory can put another file at the name, and it is
// that file we remove. Linux has no "unlink if this inode" call; that
// someone could remove or replace the entry anyway.
func (p pidFile) Remove(pid int) {
	dir, base := filepath.Split(p.Path)
	if dir == "" {
		dir = "."
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(dfd)
	st, ok := readOwnPid(dfd, base, pid)
	if !ok {
		return
	}
	var now unix.Stat_t
	if unix.Fstatat(dfd, base, &now, unix.AT_SYMLINK_NOFOLLOW) != nil || now.Dev != st.Dev || now.Ino != st.Ino {
		return
	}
	_ = unix.Unlinkat(dfd, base, 0)
}

// readOwnPid opens name in dfd without following a symlink or blocking on
// a FIFO, and tells whether it is a regular file holding exactly pid and a
// newline; st is what it opened.
func readOwnPid(dfd int, name string, pid int) (st unix.Stat_t, ok bool) {
	fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return st, false
	}
	defer unix.Close(fd)
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > maxPidFile {
		return st, false
	}
	buf := make([]byte, maxPidFile+1)
	n, err := unix.Read(fd, buf)
	if err != nil || n < 0 {
		return st, false
	}
	return st, bytes.Equal(buf[:n], []byte(strconv.Itoa(pid)+"\n"))
}

// check fails early (before anything is created) when Path cannot become
// the pid file: it names a directory, or its directory cannot take it.
func (p pidFile) check() error {
	if strings.HasSuffix(p.Path, "/") {
		return fmt.Errorf("--pid-file %s names a directory; give a file path in it, such as %sNAME.pid", p.Path, p.Path)
	}
	if fi, err := os.Lstat(p.Path); err == nil && fi.IsDir() {
		return fmt.Errorf("--pid-file %s is a directory; give a file path in it, such as %s", p.Path, filepath.Join(p.Path, "NAME.pid"))
	}
	dir := filepath.Dir(p.Path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(p.Path)+".*")
	if err != nil {
		return fmt.Errorf("--pid-file %s: cannot write in %s: %w", p.Path, dir, err)
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}
