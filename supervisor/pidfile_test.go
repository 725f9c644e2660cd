package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	tests := []struct {
		name    string
		content string // "" : no file
		pid     int
		removed bool
	}{
		{name: "ours", content: "4242\n", pid: 4242, removed: true},
		{name: "another pid", content: "4243\n", pid: 4242},
		{name: "a prefix of ours", content: "42\n", pid: 4242},
		{name: "no newline", content: "4242", pid: 4242},
		{name: "no file", pid: 4242},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "web.pid")
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			pidFile{path}.Remove(tt.pid)
			_, err := os.Stat(path)
			exists := err == nil
			if tt.content != "" && exists == tt.removed {
				t.Errorf("file exists = %t after Remove(%d) of %q, want removed %t", exists, tt.pid, tt.content, tt.removed)
			}
			if tt.content == "" && exists {
				t.Errorf("Remove created %s", path)
			}
		})
	}
}

func TestPidFileCheckWritable(t *testing.T) {
	dir := t.TempDir()
	if err := (pidFile{filepath.Join(dir, "web.pid")}).checkWritable(); err != nil {
		t.Errorf("checkWritable in a writable directory: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("checkWritable left %d files behind", len(entries))
	}

	path := filepath.Join(dir, "missing", "web.pid")
	err := (pidFile{path}).checkWritable()
	if err == nil {
		t.Fatal("checkWritable succeeded for a missing directory")
	}
	for _, want := range []string{"--pid-file", path, filepath.Dir(path)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}
