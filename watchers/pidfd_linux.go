package watchers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// PidExit emits Exit when the process Pid ends, seen through a pidfd(2)
// that Go's poller waits on: no polling, no CPU while idle.
type PidExit struct {
	Pid int
	// Confirm, called after the pidfd is open, checks that Pid still
	// belongs to the container (a pid may have been reused between the
	// inspect that found it and the open). false means: already gone.
	Confirm func(ctx context.Context, pid int) (bool, error)
}

// Open opens the pidfd; call Wait with the file. It fails with ESRCH
// (wrapped) when the process is already gone.
func (w PidExit) Open() (*os.File, error) {
	fd, err := unix.PidfdOpen(w.Pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("pidfd_open %d: %w", w.Pid, err)
	}
	return os.NewFile(uintptr(fd), fmt.Sprintf("pidfd:%d", w.Pid)), nil
}

// Run implements a watcher.
func (w PidExit) Run(ctx context.Context, emit Emit) {
	exit := func() { emit(Event{Kind: Exit, Source: "pidfd", Pid: w.Pid}) }
	f, err := w.Open()
	if err != nil {
		if errors.Is(err, unix.ESRCH) {
			exit()
		}
		// Without pidfd (old kernel) Docker's events still tell the exit.
		return
	}
	defer f.Close()
	if w.Confirm != nil {
		if ok, err := w.Confirm(ctx, w.Pid); err == nil && !ok {
			exit()
			return
		}
	}
	if waitReadable(ctx, f) {
		exit()
	}
}

// waitReadable blocks until the pidfd is readable (the process ended) or
// ctx ends; it reports which.
func waitReadable(ctx context.Context, f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Now()) })
	defer stop()
	exited := false
	err = rc.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		if err == nil && n > 0 {
			exited = true
			return true
		}
		return false // not yet: wait for the poller
	})
	return err == nil && exited
}

// Exited reports whether process pid has ended, waiting up to wait for it
// to end: for a caller that saw a sign of the end (its output closed) a
// moment before the exit shows. A pid no pidfd can be opened for, other
// than a gone one, counts as running.
func Exited(pid int, wait time.Duration) bool {
	f, err := PidExit{Pid: pid}.Open()
	if err != nil {
		return errors.Is(err, unix.ESRCH)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return waitReadable(ctx, f)
}
