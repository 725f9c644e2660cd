package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestPidFileWrite(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, path string) // what is at path before
	}{
		{name: "new file", setup: func(*testing.T, string) {}},
		{name: "replaces an old pid file", setup: func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("999999\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "web.pid")
			tt.setup(t, path)
			if err := (pidFile{path}).Write(4242); err != nil {
				t.Fatalf("Write: %v", err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != "4242\n" {
				t.Errorf("content %q, want %q", b, "4242\n")
			}
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, want a regular file with 0644", fi.Mode())
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("directory holds %q, want only web.pid (no temporary file left)", names)
			}
		})
	}
}

func TestPidFileReplacesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("do not touch\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "web.pid")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := (pidFile{path}).Write(4242); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "do not touch\n" {
		t.Errorf("symlink target now %q (%v): the symlink was followed", b, err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSymlink != 0 || !fi.Mode().IsRegular() {
		t.Errorf("%s is %v, want a regular file in place of the symlink", path, fi.Mode())
	}
	if b, _ := os.ReadFile(path); string(b) != "4242\n" {
		t.Errorf("content %q, want %q", b, "4242\n")
	}
}

func TestPidFileWriteMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "web.pid")
	err := (pidFile{path}).Write(1)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Write = %v, want an error naming %s", err, path)
	}
}

func TestPidFileRemove(t *testing.T) {
	const ours = 4242
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir, path string) // what is at path; nil: nothing
		removed bool
		check   func(t *testing.T, dir, path string) // what must be true after Remove
	}{
		{name: "ours", setup: writeAt("4242\n"), removed: true},
		{name: "another pid", setup: writeAt("4243\n")},
		{name: "a prefix of ours", setup: writeAt("42\n")},
		{name: "ours and more", setup: writeAt("4242\n4242\n")},
		{name: "no newline", setup: writeAt("4242")},
		{name: "ours followed by a megabyte", setup: writeAt("4242\n" + strings.Repeat("x", 1<<20))},
		{name: "no file"},
		{name: "a FIFO", setup: func(t *testing.T, _, path string) {
			if err := unix.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}, check: isType(os.ModeNamedPipe)},
		{name: "a symlink to a file holding ours", setup: func(t *testing.T, dir, path string) {
			target := filepath.Join(dir, "target")
			writeAt("4242\n")(t, dir, target)
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
		}, check: func(t *testing.T, dir, path string) {
			isType(os.ModeSymlink)(t, dir, path)
			if b, err := os.ReadFile(filepath.Join(dir, "target")); err != nil || string(b) != "4242\n" {
				t.Errorf("symlink target: %q, %v; want it untouched", b, err)
			}
		}},
		{name: "a symlink to /dev/zero", setup: func(t *testing.T, _, path string) {
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Fatal(err)
			}
		}, check: isType(os.ModeSymlink)},
		{name: "a symlink to a FIFO", setup: func(t *testing.T, dir, path string) {
			fifo := filepath.Join(dir, "fifo")
			if err := unix.Mkfifo(fifo, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(fifo, path); err != nil {
				t.Fatal(err)
			}
		}, check: isType(os.ModeSymlink)},
		{name: "a directory", setup: func(t *testing.T, _, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, check: isType(os.ModeDir)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "web.pid")
			if tt.setup != nil {
				tt.setup(t, dir, path)
			}
			// The old code blocked for ever on a FIFO and read /dev/zero
			// until memory ran out: bound the wait instead of hanging.
			done := make(chan struct{})
			go func() {
				defer close(done)
				pidFile{path}.Remove(ours)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatalf("Remove(%d) did not return within 5 s", ours)
			}
			_, err := os.Lstat(path)
			exists := err == nil
			switch {
			case tt.setup == nil && exists:
				t.Errorf("Remove created %s", path)
			case tt.setup != nil && exists == tt.removed:
				t.Errorf("%s exists = %t after Remove(%d), want removed %t", path, exists, ours, tt.removed)
			}
			if tt.check != nil {
				tt.check(t, dir, path)
			}
		})
	}
}

// A relative pid file path is looked up in the working directory.
func TestPidFileRemoveRelative(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := (pidFile{"web.pid"}).Write(4242); err != nil {
		t.Fatal(err)
	}
	pidFile{"web.pid"}.Remove(4242)
	if _, err := os.Lstat("web.pid"); !os.IsNotExist(err) {
		t.Errorf("relative pid file after Remove: %v, want removed", err)
	}
}

func writeAt(content string) func(t *testing.T, dir, path string) {
	return func(t *testing.T, _, path string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func isType(want os.FileMode) func(t *testing.T, dir, path string) {
	return func(t *testing.T, _, path string) {
		t.Helper()
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatalf("%s after Remove: %v, want it left in place", path, err)
		}
		if fi.Mode().Type() != want {
			t.Errorf("%s is %v after Remove, want type %v left in place", path, fi.Mode(), want)
		}
	}
}

func TestPidFileCheck(t *testing.T) {
	dir := t.TempDir()
	if err := (pidFile{filepath.Join(dir, "web.pid")}).check(); err != nil {
		t.Errorf("check in a writable directory: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("check left %d files behind", len(entries))
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing", "web.pid")
	tests := []struct {
		name string
		path string
		want []string // what the error must say
	}{
		{"missing directory", missing, []string{"--pid-file", missing, filepath.Dir(missing)}},
		{"a directory", filepath.Join(dir, "sub"), []string{"--pid-file", filepath.Join(dir, "sub"), "is a directory", filepath.Join(dir, "sub", "NAME.pid")}},
		{"a directory with a slash", dir + "/sub/", []string{"--pid-file", dir + "/sub/", "names a directory", dir + "/sub/NAME.pid"}},
		{"the working directory", ".", []string{"--pid-file", "is a directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (pidFile{tt.path}).check()
			if err == nil {
				t.Fatalf("check(%q) succeeded", tt.path)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "sub")); len(entries) != 0 {
		t.Errorf("check left %d files in the directory it refused", len(entries))
	}
}
