package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInstallBinary(t *testing.T) {
	src := filepath.Join(t.TempDir(), "built")
	if err := os.WriteFile(src, []byte("#!binary v1"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "systemd-docker")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := installBinary(src, dir, &out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(target)
	if err != nil || string(got) != "#!binary v1" {
		t.Fatalf("target = %q, %v", got, err)
	}
	st, _ := os.Stat(target)
	if st.Mode().Perm() != 0o755 {
		t.Errorf("mode = %v, want 0755", st.Mode().Perm())
	}
	if msg := out.String(); !strings.Contains(msg, "installed "+target) || !strings.Contains(msg, "from "+src) {
		t.Errorf("report = %q", msg)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left in %s: %v", dir, entries)
	}
}

func TestInstallBinaryErrors(t *testing.T) {
	tmp := t.TempDir()
	src := filepath.Join(tmp, "built")
	if err := os.WriteFile(src, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(tmp, "file")
	_ = os.WriteFile(file, nil, 0o644)
	blocked := t.TempDir()
	_ = os.Mkdir(filepath.Join(blocked, "systemd-docker"), 0o755) // a directory where the binary goes
	_ = os.WriteFile(filepath.Join(blocked, "systemd-docker", "x"), nil, 0o644)
	missing := filepath.Join(tmp, "nope")
	tests := []struct {
		name, src, dir string
		want           []string
	}{
		{"missing dir", src, missing, []string{missing + " does not exist", "mkdir -p " + missing, "-v " + missing + ":" + missing}},
		{"not a dir", src, file, []string{file + " is not a directory"}},
		{"missing source", filepath.Join(tmp, "gone"), tmp, []string{"read the running binary"}},
		{"target is a directory", src, blocked, []string{"rename into " + filepath.Join(blocked, "systemd-docker")}},
	}
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		_ = os.Chmod(ro, 0o555)
		tests = append(tests, struct {
			name, src, dir string
			want           []string
		}{"read-only dir", src, ro, []string{"cannot write into " + ro, "run as root"}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := installBinary(tc.src, tc.dir, &out)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if out.Len() > 0 {
				t.Errorf("reported success: %q", out.String())
			}
			if entries, _ := os.ReadDir(tc.dir); tc.name == "target is a directory" && len(entries) != 1 {
				t.Errorf("temporary file left: %v", entries)
			}
		})
	}
}

// TestInstallCommand runs "systemd-docker install DIR" through run(): the
// test binary installs itself.
func TestInstallCommand(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code, _ := run([]string{"install", dir}, nil, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	exe, _ := os.Executable()
	want, _ := os.ReadFile(exe)
	got, err := os.ReadFile(filepath.Join(dir, "systemd-docker"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("installed file differs from the running binary (%v)", err)
	}
	code, _ = run([]string{"install", filepath.Join(dir, "missing")}, nil, &stdout, &stderr)
	if code != 125 || !strings.Contains(stderr.String(), "does not exist") {
		t.Errorf("missing dir: exit %d, %q", code, stderr.String())
	}
}
