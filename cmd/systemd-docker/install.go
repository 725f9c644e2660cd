package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// installName is the file name the binary is installed under.
const installName = "systemd-docker"

// installBinary copies the file src into dir/systemd-docker atomically: a
// temporary file in dir is written, synced, made 0755 and renamed over the
// target, so a unit starting meanwhile runs either the old or the new
// binary, never a half-written one. It reports what it did on out.
func installBinary(src, dir string, out io.Writer) (err error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("install: directory %s does not exist: create it (mkdir -p %s) or, in a container, mount it (docker run --rm -v %s:%s IMAGE)",
			dir, dir, dir, dir)
	case err != nil:
		return fmt.Errorf("install: directory %s: %w", dir, err)
	case !st.IsDir():
		return fmt.Errorf("install: %s is not a directory: give the directory to install into, e.g. /opt/bin", dir)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("install: read the running binary: %w", err)
	}
	defer in.Close()

	target := filepath.Join(dir, installName)
	tmp, err := os.CreateTemp(dir, "."+installName+".tmp-*")
	if err != nil {
		return fmt.Errorf("install: cannot write into %s: %w (run as root, or choose a directory you can write to)", dir, unwrapPath(err))
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	n, err := io.Copy(tmp, in)
	if err != nil {
		return fmt.Errorf("install: copy to %s: %w (is the file system full?)", tmp.Name(), err)
	}
	if err = tmp.Chmod(0o755); err != nil {
		return fmt.Errorf("install: chmod 0755 %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("install: sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("install: close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("install: rename into %s: %w (is %s a directory? remove it)", target, unwrapPath(err), target)
	}
	// Make the rename itself durable.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	fmt.Fprintf(out, "installed %s (%d bytes, mode 0755) from %s\n", target, n, src)
	return nil
}

// unwrapPath drops the *PathError wrapper, whose path is in our message.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
