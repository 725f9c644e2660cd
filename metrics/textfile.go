package metrics

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// The textfile directory (--metrics-dir) is commonly writable by another
// user, node_exporter's, who can replace any name in it at any moment. So
// after its directory is opened, a file is only ever reached through
// descriptors: the temporary file is created with O_EXCL|O_NOFOLLOW
// relative to the directory's descriptor, then written, chmodded, synced
// through its own descriptor, and renamed with renameat. No chmod, chown
// or open by path follows its creation (prometheus.WriteToTextfile chmods
// the temporary file by path after closing it: swapped for a symlink
// meanwhile, it would make root chmod any file 0644).
//
// The directory itself is trusted, as any path in a unit file: it is
// opened following symlinks, so DIR and its parents must be writable by
// root only.

// fileMode is the textfile's mode, set with fchmod so that the umask does
// not narrow it: node_exporter, another user, reads the file.
const fileMode = 0o644

// Hooks for tests.
var (
	// openat creates the temporary file; tests make it fail, since root
	// (who runs these tests in CI) writes any directory.
	openat = unix.Openat
	// afterCreate, when set, runs once the temporary file tmp exists in
	// the directory, before anything is written to it: the moment another
	// user could swap its name for a symlink.
	afterCreate func(tmp string)
)

// errReplaced: the temporary file's name no longer leads to the file we
// wrote.
var errReplaced = errors.New("the temporary file was replaced by someone else: check who else writes to the directory")

// stepError is the failure of one step of writing a textfile; step names
// it ("open directory", "create", "write", "chmod", "sync", "rename", ...).
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// failureKind is what makes two write failures "the same": their errno
// ("ENOSPC"), whichever step failed, or the step for an error that
// carries no errno. The errno is what the operator acts on; the step
// depends on timing: a directory removed while a write is under way fails
// that write at its rename (ENOENT) and the next at opening the directory
// (ENOENT again), and that is one problem.
func failureKind(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	var se *stepError
	if errors.As(err, &se) {
		return se.step
	}
	return "other"
}

// openDir opens dir, following symlinks (see above), for the *at calls.
func openDir(dir string) (int, error) {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &stepError{"open directory", err}
	}
	return fd, nil
}

// createTemp creates a new, hidden file for name in the directory dfd,
// named ".NAME.RANDOM.tmp" (the textfile collector reads only *.prom). It
// never opens an existing file nor follows a symlink: a name someone else
// took is skipped.
func createTemp(dfd int, name string) (*os.File, string, error) {
	err := error(unix.EEXIST)
	for range 100 {
		tmp := "." + name + "." + strconv.FormatUint(rand.Uint64(), 36) + ".tmp"
		var fd int
		fd, err = openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, fileMode)
		if err == nil {
			return os.NewFile(uintptr(fd), tmp), tmp, nil
		}
		if err != unix.EEXIST {
			break
		}
	}
	return nil, "", &stepError{"create", err}
}

// writeTextfile replaces name in dir with what encode writes: a temporary
// file is written, given fileMode, synced, and renamed over name, so that a
// reader sees the old file or the new one, never a partial one, and a
// symlink at name is replaced, not followed. On failure the temporary file
// is removed.
func writeTextfile(dir, name string, encode func(io.Writer) error) (err error) {
	dfd, err := openDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	f, tmp, err := createTemp(dfd, name)
	if err != nil {
		return err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			_ = unix.Unlinkat(dfd, tmp, 0) // whatever is there now: unlink follows no symlink
		}
	}()
	if afterCreate != nil {
		afterCreate(tmp)
	}
	step := func(name string, err error) error {
		if err != nil {
			return &stepError{name, err}
		}
		return nil
	}
	bw := bufio.NewWriter(f)
	if err := encode(bw); err != nil {
		return step("write", err)
	}
	if err := step("write", bw.Flush()); err != nil {
		return err
	}
	if err := step("chmod", f.Chmod(fileMode)); err != nil { // fchmod
		return err
	}
	if err := step("sync", f.Sync()); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return step("stat", err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return step("close", err)
	}
	// Rename only our file: the name may have been swapped meanwhile. This
	// narrows that window, no more (it is not closed until the rename), and
	// swapped later, the rename moves someone else's entry within their
	// own directory, gaining them nothing.
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, tmp, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return step("rename", err)
	}
	if own, ok := fi.Sys().(*syscall.Stat_t); !ok || own.Dev != st.Dev || own.Ino != st.Ino {
		return step("rename", errReplaced)
	}
	return step("rename", unix.Renameat(dfd, tmp, dfd, name))
}

// probeName names the temporary file PrepareDir creates and removes.
const probeName = "systemd-docker-probe"

// PrepareDir readies dir for WriteFile, at start-up. It creates dir and
// its missing parents as mkdir -p does (mode 0755 less the umask), then
// checks that a file can be created in it, the way WriteFile creates its
// temporary file, and removes that file. The error says what failed, with
// dir, and what to do.
func PrepareDir(dir string) error {
	const collector = "node_exporter's --collector.textfile.directory"
	if dir == "" {
		return fmt.Errorf("--metrics-dir is empty: give %s", collector)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if fi, serr := os.Stat(dir); serr == nil && !fi.IsDir() {
			return fmt.Errorf("--metrics-dir %s is not a directory: give %s", dir, collector)
		}
		return fmt.Errorf("--metrics-dir %s cannot be created (%w): create it, or give %s", dir, err, collector)
	}
	dfd, err := openDir(dir)
	if err != nil {
		return fmt.Errorf("--metrics-dir %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	f, tmp, err := createTemp(dfd, probeName)
	if err != nil {
		return fmt.Errorf("--metrics-dir %s is not writable by this service (%w): fix its permissions, or the unit's User=, ReadWritePaths= or ProtectSystem=", dir, err)
	}
	f.Close()
	if err := unix.Unlinkat(dfd, tmp, 0); err != nil {
		return fmt.Errorf("--metrics-dir %s: removing the probe file %s: %w", dir, tmp, err)
	}
	return nil
}
