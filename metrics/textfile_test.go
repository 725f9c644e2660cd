package metrics

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// inject sets *p to v for the test. The tests of this package are not
// parallel: hooks and the umask are process-wide.
func inject[T any](t *testing.T, p *T, v T) {
	t.Helper()
	old := *p
	*p = v
	t.Cleanup(func() { *p = old })
}

// withUmask runs the rest of the test under umask mask.
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func failOpenat(errno syscall.Errno) func(int, string, int, uint32) (int, error) {
	return func(int, string, int, uint32) (int, error) { return -1, errno }
}

// regularFile creates an empty regular file in dir and returns its path.
func regularFile(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "file")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// names lists dir's entries.
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, e := range ents {
		ns = append(ns, e.Name())
	}
	return ns
}

// TestWriteFileTempSwapped is the attack on prometheus.WriteToTextfile: a
// user who may write the directory swaps the temporary file for a symlink
// to a file of root's while it is written. Nothing may reach that file
// (WriteToTextfile chmodded it 0644), and the symlink must not become the
// textfile.
func TestWriteFileTempSwapped(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(victim, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	swapped := false
	inject(t, &afterCreate, func(tmp string) {
		p := filepath.Join(dir, tmp)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, p); err != nil {
			t.Fatal(err)
		}
		swapped = true
	})
	err := New(unit, nil).WriteFile(dir)
	if !swapped {
		t.Fatal("the hook did not run")
	}
	fi, serr := os.Stat(victim)
	if serr != nil {
		t.Fatal(serr)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("victim's mode is %v, want 0600 (chmodded through the symlink)", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(victim); string(b) != "secret\n" {
		t.Errorf("victim written through the symlink: %q", b)
	}
	if !errors.Is(err, errReplaced) {
		t.Errorf("WriteFile = %v, want %v", err, errReplaced)
	}
	if fi, err := os.Lstat(filepath.Join(dir, FileName(unit))); err == nil {
		t.Errorf("textfile is a %v, want none (the symlink renamed into place?)", fi.Mode())
	}
	if ns := names(t, dir); len(ns) != 0 {
		t.Errorf("directory holds %v, want nothing", ns)
	}
}

// TestWriteFileMode: the textfile is 0644 whatever the umask, for
// node_exporter, which runs as another user.
func TestWriteFileMode(t *testing.T) {
	for _, mask := range []int{0o000, 0o022, 0o077, 0o277} {
		dir := t.TempDir() // before the umask, which would narrow it
		withUmask(t, mask)
		if err := New(unit, nil).WriteFile(dir); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(filepath.Join(dir, FileName(unit)))
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
			t.Errorf("umask %#o: textfile is %v, want a regular file -rw-r--r--", mask, fi.Mode())
		}
	}
}

// TestWriteFileFailures: every failure names the path and its kind, and
// leaves no temporary file behind.
func TestWriteFileFailures(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the directory to write to
		step  string                                // the step the message names
		kind  string
	}{
		{"missing dir", func(t *testing.T, dir string) string { return filepath.Join(dir, "nope") }, "open directory", "ENOENT"},
		{"dir is a file", func(t *testing.T, dir string) string { return regularFile(t, dir) }, "open directory", "ENOTDIR"},
		{"read-only", func(t *testing.T, dir string) string {
			inject(t, &openat, failOpenat(unix.EROFS))
			return dir
		}, "create", "EROFS"},
		{"full", func(t *testing.T, dir string) string {
			// The temporary file exists when the write fails.
			inject(t, &openat, func(dfd int, name string, flags int, mode uint32) (int, error) {
				if _, err := unix.Openat(dfd, name, flags, mode); err != nil {
					return -1, err
				}
				return unix.Open("/dev/full", unix.O_WRONLY|unix.O_CLOEXEC, 0)
			})
			return dir
		}, "write", "ENOSPC"},
		{"textfile is a directory", func(t *testing.T, dir string) string {
			if err := os.MkdirAll(filepath.Join(dir, FileName(unit), "x"), 0o755); err != nil {
				t.Fatal(err)
			}
			return dir
		}, "rename", "EISDIR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir := tt.setup(t, base)
			err := New(unit, nil).WriteFile(dir)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, FileName(unit))) ||
				!strings.Contains(err.Error(), tt.step+": ") {
				t.Errorf("WriteFile = %v, want an error naming the path and the step %q", err, tt.step)
			}
			if k := failureKind(err); k != tt.kind {
				t.Errorf("kind %q, want %q (%v)", k, tt.kind, err)
			}
			for _, n := range names(t, base) {
				if strings.HasSuffix(n, ".tmp") {
					t.Errorf("temporary file %s left behind", n)
				}
			}
		})
	}
}

func TestNewFailure(t *testing.T) {
	m := New(unit, nil)
	enoent := m.WriteFile(filepath.Join(t.TempDir(), "nope"))
	enoent2 := m.WriteFile(filepath.Join(t.TempDir(), "other"))
	inject(t, &openat, failOpenat(unix.EROFS))
	erofs := m.WriteFile(t.TempDir())
	for i, tt := range []struct {
		err  error
		want bool
	}{
		{enoent, true},
		{enoent, false},
		{enoent2, false}, // another path, the same kind
		{erofs, true},
		{erofs, false},
		{nil, false},
	} {
		if got := m.NewFailure(tt.err); got != tt.want {
			t.Errorf("%d: NewFailure(%v) = %v, want %v", i, tt.err, got, tt.want)
		}
	}
	if (*Metrics)(nil).NewFailure(enoent) {
		t.Error("NewFailure on a nil *Metrics = true")
	}
}

// TestNewFailureDirRemovedMidWrite: a directory removed while a write is
// under way fails that write at its rename and the next one at opening
// the directory; both are ENOENT, one problem, one warning.
func TestNewFailureDirRemovedMidWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "textfile")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	afterCreate = func(string) {
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(func() { afterCreate = nil })
	m := New(unit, nil)
	mid := m.WriteFile(dir)
	afterCreate = nil
	next := m.WriteFile(dir)
	if mid == nil || !strings.Contains(mid.Error(), "rename: ") || next == nil || !strings.Contains(next.Error(), "open directory: ") {
		t.Fatalf("WriteFile = %v, then %v; want a failed rename, then a failed open of the directory", mid, next)
	}
	if !m.NewFailure(mid) {
		t.Errorf("NewFailure(%v) = false, want true: the first failure", mid)
	}
	if m.NewFailure(next) {
		t.Errorf("NewFailure(%v) = true after %v, want false: the same ENOENT", next, mid)
	}
}

func TestPrepareDir(t *testing.T) {
	withUmask(t, 0o022)
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T, base string) string // returns the --metrics-dir
		want  string                                 // in the error; "" for none
	}{
		{"existing", func(t *testing.T, base string) string { return base }, ""},
		{"missing", func(t *testing.T, base string) string { return filepath.Join(base, "a", "b") }, ""},
		{"empty", func(*testing.T, string) string { return "" }, "is empty"},
		{"file", func(t *testing.T, base string) string { return regularFile(t, base) }, "is not a directory"},
		{"under a file", func(t *testing.T, base string) string {
			return filepath.Join(regularFile(t, base), "metrics")
		}, "cannot be created"},
		{"read-only", func(t *testing.T, base string) string {
			inject(t, &openat, failOpenat(unix.EROFS))
			return base
		}, "is not writable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			dir := tt.setup(t, base)
			err := PrepareDir(dir)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), dir) {
					t.Errorf("PrepareDir(%q) = %v, want an error naming it and saying %q", dir, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("PrepareDir(%q) = %v", dir, err)
			}
			for d := dir; d != base; d = filepath.Dir(d) {
				fi, err := os.Lstat(d)
				if err != nil {
					t.Fatal(err)
				}
				if !fi.IsDir() || fi.Mode().Perm() != 0o755 {
					t.Errorf("%s is %v, want a directory drwxr-xr-x", d, fi.Mode())
				}
			}
			if ns := names(t, dir); len(ns) != 0 {
				t.Errorf("%s holds %v after the probe, want nothing", dir, ns)
			}
			if err := New(unit, nil).WriteFile(dir); err != nil {
				t.Errorf("WriteFile after PrepareDir: %v", err)
			}
		})
	}
	t.Run("read-only for real", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes to read-only directories; the injected case above stands for it")
		}
		ro := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		if err := PrepareDir(ro); err == nil || !strings.Contains(err.Error(), "is not writable") {
			t.Errorf("PrepareDir(%q) = %v, want one saying it is not writable", ro, err)
		}
	})
}
