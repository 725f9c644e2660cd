package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
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

// Remove deletes the pid file if it still holds pid.
func (p pidFile) Remove(pid int) {
	b, err := os.ReadFile(p.Path)
	if err == nil && string(b) == strconv.Itoa(pid)+"\n" {
		_ = os.Remove(p.Path)
	}
}

// checkWritable fails early (before anything is created) when the pid
// file's directory cannot take it.
func (p pidFile) checkWritable() error {
	dir := filepath.Dir(p.Path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(p.Path)+".*")
	if err != nil {
		return fmt.Errorf("--pid-file %s: cannot write in %s: %w", p.Path, dir, err)
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}
