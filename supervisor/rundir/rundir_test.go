package rundir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPickRunDir(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		euid    int
		want    string   // "" : an error
		errWant []string // what the error must say
	}{
		{name: "root", euid: 0, want: "/run/systemd-docker"},
		{name: "root ignores RuntimeDirectory=", euid: 0,
			environ: []string{"RUNTIME_DIRECTORY=/run/web", "XDG_RUNTIME_DIR=/run/user/0"}, want: "/run/systemd-docker"},
		{name: "RuntimeDirectory=", euid: 1000,
			environ: []string{"RUNTIME_DIRECTORY=/run/web", "XDG_RUNTIME_DIR=/run/user/1000"}, want: "/run/web"},
		{name: "several RuntimeDirectory= entries", euid: 1000,
			environ: []string{"RUNTIME_DIRECTORY=/run/web:/run/web2"}, want: "/run/web"},
		{name: "XDG_RUNTIME_DIR", euid: 1000,
			environ: []string{"XDG_RUNTIME_DIR=/run/user/1000"}, want: "/run/user/1000/systemd-docker"},
		{name: "empty RUNTIME_DIRECTORY", euid: 1000,
			environ: []string{"RUNTIME_DIRECTORY=", "XDG_RUNTIME_DIR=/run/user/1000"}, want: "/run/user/1000/systemd-docker"},
		{name: "neither", euid: 1000, environ: []string{"TMPDIR=/tmp", "HOME=/home/u"},
			errWant: []string{"not running as root", "RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR", "RuntimeDirectory=%N"}},
		{name: "relative RUNTIME_DIRECTORY", euid: 1000, environ: []string{"RUNTIME_DIRECTORY=web"},
			errWant: []string{"RUNTIME_DIRECTORY=web", "absolute"}},
		{name: "relative XDG_RUNTIME_DIR", euid: 1000, environ: []string{"XDG_RUNTIME_DIR=run"},
			errWant: []string{"XDG_RUNTIME_DIR=run", "absolute"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickRunDir(tt.environ, tt.euid)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Errorf("pickRunDir = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("pickRunDir = %q, want an error", got)
			}
			for _, w := range tt.errWant {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestMakeRunDir(t *testing.T) {
	me := os.Geteuid()
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) // what is at dir before; nil: nothing
		euid    int
		errWant []string // nil: succeeds
	}{
		{name: "made when missing", euid: me},
		{name: "ours already", euid: me, setup: mkdirMode(0o700)},
		{name: "ours, readable by others", euid: me, setup: mkdirMode(0o755)},
		{name: "someone else's", euid: me + 1, setup: mkdirMode(0o700),
			errWant: []string{"belongs to uid", "not to us", "remove it"}},
		{name: "group-writable", euid: me, setup: mkdirMode(0o770),
			errWant: []string{"mode 0770", "chmod go-w"}},
		{name: "world-writable sticky", euid: me, setup: mkdirMode(os.ModeSticky | 0o777),
			errWant: []string{"mode 1777", "group or others may write"}},
		{name: "a symlink to our directory", euid: me, setup: func(t *testing.T, dir string) {
			target := dir + ".real"
			mkdirMode(0o700)(t, target)
			if err := os.Symlink(target, dir); err != nil {
				t.Fatal(err)
			}
		}, errWant: []string{"is a symlink"}},
		{name: "a file", euid: me, setup: func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, errWant: []string{"not a directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "systemd-docker")
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			err := makeRunDir(dir, tt.euid)
			if tt.errWant == nil {
				if err != nil {
					t.Fatalf("makeRunDir: %v", err)
				}
				fi, err := os.Lstat(dir)
				if err != nil || !fi.IsDir() {
					t.Fatalf("after makeRunDir: %v, %v; want a directory", fi, err)
				}
				if tt.setup == nil && fi.Mode().Perm() != 0o700 {
					t.Errorf("made with mode %v, want 0700", fi.Mode().Perm())
				}
				return
			}
			if err == nil {
				t.Fatal("makeRunDir succeeded, want it refused")
			}
			for _, w := range append(tt.errWant, dir, "RuntimeDirectory=") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestMakeRunDirMissingParent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no", "systemd-docker")
	err := makeRunDir(dir, os.Geteuid())
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("makeRunDir under a missing parent = %v, want an error naming %s", err, dir)
	}
}

// runDir for a user without root: $XDG_RUNTIME_DIR/systemd-docker, private;
// a squatter's directory there is refused. As root (who cannot be that user
// here) the directory is made first and given to uid 1000.
func TestRunDirOfAUser(t *testing.T) {
	xdg := t.TempDir()
	env := []string{"XDG_RUNTIME_DIR=" + xdg}
	want := filepath.Join(xdg, "systemd-docker")
	uid := os.Geteuid()
	if uid == 0 {
		uid = 1000
		mkdirMode(0o700)(t, want)
		if err := os.Chown(want, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := Dir(env, uid)
	if err != nil || dir != want {
		t.Fatalf("runDir = %q, %v; want %s", dir, err, want)
	}
	if fi, err := os.Lstat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("%s: %v, %v; want mode 0700", dir, fi, err)
	}
	if _, err := Dir(env, uid+1); err == nil || !strings.Contains(err.Error(), "not to us") {
		t.Errorf("runDir of another uid = %v, want refused (not ours)", err)
	}
	if _, err := Dir(nil, uid); err == nil {
		t.Error("runDir without RUNTIME_DIRECTORY and XDG_RUNTIME_DIR succeeded")
	}
}

func mkdirMode(mode os.FileMode) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
}
