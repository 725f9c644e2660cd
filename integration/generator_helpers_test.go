//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
)

const (
	// genUnitDir is where the tests put .container/.network/.volume files
	// in the box: one of the generator's default search directories (the
	// box's /etc is its own tmpfs; systemd passes no test environment to
	// generators, so $SYSTEMD_DOCKER_UNIT_PATH is no way in).
	genUnitDir = "/etc/systemd-docker/units"
	// genLink is the generator as systemd finds it: a symlink to the binary
	// under test named systemd-docker-generator.
	genLink = "/run/systemd/system-generators/systemd-docker-generator"
	// genOutDir is systemd's normal generator directory.
	genOutDir = "/run/systemd/generator"
)

// genDockerStandIn replaces the host's docker.service in the box, which
// generated units require: the box's dockerd is the transient DockerUnit,
// and starting the real docker.service (with docker.socket on the same
// /run/docker.sock) would fight it. This one only waits for that daemon.
const genDockerStandIn = `[Unit]
Description=stand-in for docker.service: the box's dockerd is ` + box.DockerUnit + ` (generator tests)

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c "until docker version >/dev/null 2>&1; do sleep 0.2; done"
TimeoutStartSec=60
`

var (
	genSetupMu   sync.Mutex
	genSetupDone = map[*box.Box]*genSetupOnce{}
)

type genSetupOnce struct {
	once sync.Once
	err  error
}

// genBox returns the booted box of the subtest with the generator
// installed (once per box): the symlink in /run/systemd/system-generators,
// the search directory, the docker.service stand-in, a daemon-reload.
func genBox(t *testing.T, b *box.Box) *box.Box {
	t.Helper()
	needBinary(t)
	genSetupMu.Lock()
	s := genSetupDone[b]
	if s == nil {
		s = &genSetupOnce{}
		genSetupDone[b] = s
	}
	genSetupMu.Unlock()
	s.once.Do(func() {
		if err := os.WriteFile(filepath.Join(b.UnitDir, "docker.service"), []byte(genDockerStandIn), 0o644); err != nil {
			s.err = err
			return
		}
		script := `set -e; mkdir -p "$1" "$(dirname "$2")"; ln -sfn "$3" "$2"`
		if _, stderr, err := b.Exec("sh", "-c", script, "sh", genUnitDir, genLink, box.ShareMount+"/systemd-docker"); err != nil {
			s.err = fmt.Errorf("install the generator: %w: %s", err, stderr)
			return
		}
		if _, err := b.Systemctl("daemon-reload"); err != nil {
			s.err = err
		}
	})
	if s.err != nil {
		t.Fatalf("set up the generator in box %s: %v", b.Machine, s.err)
	}
	return b
}

// genPrefix is a short name unique to the test, for files, units and the
// Docker objects made from them (container names get "systemd-" in front).
func genPrefix() string { return "gt" + randHex(3) }

// genFiles puts files (name → text; a text "->TARGET" makes a symlink to
// TARGET) into the box's search directory and reloads systemd, which runs
// the generator. At cleanup units are stopped, the files removed and
// systemd reloaded; on failure the files, the generator's --dry-run output
// and the units' status and journals are logged first.
func genFiles(t *testing.T, b *box.Box, files map[string]string, units ...string) {
	t.Helper()
	stage, err := os.MkdirTemp(b.ShareDir, "gen-")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name, text := range files {
		p := filepath.Join(stage, name)
		if target, ok := strings.CutPrefix(text, "->"); ok {
			err = os.Symlink(target, p)
		} else {
			err = os.WriteFile(p, []byte(text), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	inBox := box.ShareMount + "/" + filepath.Base(stage)
	t.Cleanup(func() {
		if t.Failed() {
			genLogState(t, b, stage, units)
		}
		for _, u := range units {
			if _, err := b.Systemctl("stop", u); err != nil {
				t.Logf("cleanup: stop %s: %v", u, err)
			}
			_, _ = b.Systemctl("reset-failed", u)
		}
		rm := []string{"rm", "-f"}
		for _, n := range names {
			rm = append(rm, genUnitDir+"/"+n)
		}
		if _, stderr, err := b.Exec(rm...); err != nil {
			t.Logf("cleanup: %v: %s", err, stderr)
		}
		if _, err := b.Systemctl("daemon-reload"); err != nil {
			t.Logf("cleanup: daemon-reload: %v", err)
		}
		_ = os.RemoveAll(stage)
	})
	// cp -P keeps symlinks as they are (relative, into the same directory).
	if _, stderr, err := b.Exec("sh", "-c", `cp -P "$1"/* "$2"/`, "sh", inBox, genUnitDir); err != nil {
		t.Fatalf("copy the files into %s: %v: %s", genUnitDir, err, stderr)
	}
	if _, err := b.Systemctl("daemon-reload"); err != nil {
		t.Fatalf("daemon-reload: %v", err)
	}
}

// genLogState logs what helps to see why a generator test failed.
func genLogState(t *testing.T, b *box.Box, stage string, units []string) {
	t.Helper()
	entries, _ := os.ReadDir(stage)
	for _, e := range entries {
		p := filepath.Join(stage, e.Name())
		if target, err := os.Readlink(p); err == nil {
			t.Logf("file %s -> %s", e.Name(), target)
			continue
		}
		data, _ := os.ReadFile(p)
		t.Logf("file %s:\n%s", e.Name(), data)
	}
	dry, stderr, err := b.Exec(box.ShareMount+"/systemd-docker", "generator", "--dry-run")
	t.Logf("generator --dry-run (err %v):\n%s\nstderr:\n%s", err, dry, stderr)
	for _, u := range units {
		status, _ := b.Systemctl("status", "-l", u)
		t.Logf("systemctl status %s:\n%s\njournal:\n%s", u, status, b.Journal(u))
	}
}

// genRemoveAtCleanup removes Docker objects (kind: container, network or
// volume) from the box when the test ends. Call it before genFiles, so that
// it runs after genFiles' cleanup has stopped the units (last in, first out).
func genRemoveAtCleanup(t *testing.T, b *box.Box, kind string, names ...string) {
	t.Helper()
	t.Cleanup(func() {
		args := map[string][]string{"container": {"rm", "-f", "-v"}, "network": {"network", "rm"}, "volume": {"volume", "rm", "-f"}}[kind]
		for _, n := range names {
			_, _, _ = b.Docker(append(args, n)...)
		}
	})
}

// randByte returns a random number 0–255.
func randByte() int {
	n, _ := strconv.ParseUint(randHex(1), 16, 8)
	return int(n)
}

// genShow returns several properties of unit at once.
func genShow(t *testing.T, b *box.Box, unit string, props ...string) map[string]string {
	t.Helper()
	out, err := b.Systemctl("show", "-p", strings.Join(props, ","), unit)
	if err != nil {
		t.Fatalf("systemctl show %s: %v", unit, err)
	}
	m := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}
