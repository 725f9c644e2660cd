//go:build integration

// Tests of the packaging: a unit written by `systemd-docker generate` runs
// under a real systemd (hybrid box), and the installer image built from the
// Dockerfile installs the binary on the host.
package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/integration/internal/box"
	"github.com/systemd-docker/systemd-docker/integration/internal/buildbin"
)

// generateUnit runs the built binary's generate subcommand on the host for
// the binary in the box's /share, and points the docker.service dependency
// at the box's own dockerd unit.
func generateUnit(t *testing.T, args ...string) string {
	t.Helper()
	bin := needBinary(t)
	full := append([]string{"generate", "--binary=" + box.ShareMount + "/systemd-docker"}, args...)
	out, err := exec.Command(bin, full...).Output()
	if err != nil {
		t.Fatalf("systemd-docker %q: %v", full, err)
	}
	text := string(out)
	for _, dep := range []string{"After=", "Requires="} {
		if !strings.Contains(text, "\n"+dep+"docker.service\n") {
			t.Fatalf("generated unit lacks %sdocker.service:\n%s", dep, text)
		}
		text = strings.Replace(text, "\n"+dep+"docker.service\n", "\n"+dep+box.DockerUnit+"\n", 1)
	}
	return text
}

// installGenerated writes a generated unit file into b; see installUnitText.
func installGenerated(t *testing.T, b *box.Box, text string) string {
	t.Helper()
	return installUnitText(t, b, text)
}

func TestPackagingGeneratedUnit(t *testing.T) {
	b := getBox(t, box.Hybrid)
	text := generateUnit(t, "--", "--network", "none", image, "sleep", "1000")
	unit := installGenerated(t, b, text)
	startUnit(t, b, unit)
	if st := b.Show(unit, "ActiveState"); st != "active" {
		t.Fatalf("ActiveState = %q after start, want active", st)
	}
	checkMainPID(t, b, unit) // MainPID = the container's pid; the container is named %n
	for prop, want := range map[string]string{"KillMode": "control-group", "Type": "notify", "NotifyAccess": "all", "TimeoutStopUSec": "20s"} {
		if got := b.Show(unit, prop); got != want {
			t.Errorf("%s = %q, want %q", prop, got, want)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	start := time.Now()
	if _, stderr, err := b.ExecContext(ctx, "systemctl", "stop", unit); err != nil {
		t.Fatalf("systemctl stop: %v: %s", err, stderr)
	}
	t.Logf("systemctl stop took %s (sleep ignores SIGTERM as PID 1: docker stop kills it after 10 s)",
		time.Since(start).Round(100*time.Millisecond))
	waitFor(t, shortWait, "no container left after stop", func() bool { return !boxContainerExists(t, b, unit) })
	var st string
	if !waitForBool(shortWait, func() bool { st = b.Show(unit, "ActiveState"); return st == "inactive" }) {
		t.Errorf("ActiveState = %q after stop, want inactive (Result=%s)", st, b.Show(unit, "Result"))
	}
}

// TestPackagingStopSignal: with --stop-signal=SIGQUIT the generated unit has
// KillSignal=SIGQUIT, so systemctl stop ends the container through its own
// stop signal (a TERM would be ignored here), quickly and cleanly.
func TestPackagingStopSignal(t *testing.T) {
	b := getBox(t, box.Hybrid)
	script := `trap 'echo got-quit; exit 0' QUIT; trap 'echo got-term' TERM; echo up; while :; do sleep 0.2; done`
	text := generateUnit(t, "--", "--network", "none", "--stop-signal=SIGQUIT", "--stop-timeout=30", image, "sh", "-c", script)
	unit := installGenerated(t, b, text)
	startUnit(t, b, unit)
	checkMainPID(t, b, unit)
	if got := b.Show(unit, "KillSignal"); got != "3" {
		t.Errorf("KillSignal = %q, want 3 (SIGQUIT)", got)
	}
	waitFor(t, shortWait, "up in the journal", func() bool { return hasLine(b.Journal(unit), "up") })
	start := time.Now()
	if _, err := b.Systemctl("stop", unit); err != nil {
		t.Fatalf("systemctl stop: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("systemctl stop took %s: the container did not stop on its stop signal", d)
	}
	journal := b.Journal(unit)
	if !strings.Contains(journal, "got-quit") || strings.Contains(journal, "got-term") {
		t.Errorf("the container should get SIGQUIT and no SIGTERM; journal:\n%s", journal)
	}
	waitFor(t, shortWait, "no container left after stop", func() bool { return !boxContainerExists(t, b, unit) })
	if st, r := b.Show(unit, "ActiveState"), b.Show(unit, "Result"); st != "inactive" || r != "success" {
		t.Errorf("ActiveState = %s, Result = %s after stop, want inactive, success", st, r)
	}
}

// TestPackagingGeneratedQuoting has systemd itself read back an ExecStart=
// whose arguments need quoting and escaping: the container prints each
// argument it got.
func TestPackagingGeneratedQuoting(t *testing.T) {
	b := getBox(t, box.Hybrid)
	args := []string{"a b", "50%", "$HOME", "${HOME}", ";", "%n", `q"uote`, "it's", `back\slash`, ""}
	script := `for a in "$@"; do echo "arg<$a>"; done; echo args-done; exec sleep 1000`
	text := generateUnit(t, append([]string{"--", "--network", "none", "-e", "X=100% $PATH", image, "sh", "-c", script, "sh"}, args...)...)
	unit := installGenerated(t, b, text)
	startUnit(t, b, unit)
	checkMainPID(t, b, unit)
	waitFor(t, shortWait, "args-done in the journal", func() bool { return strings.Contains(b.Journal(unit), "args-done") })
	journal := b.Journal(unit)
	for _, a := range args {
		if !hasLine(journal, "arg<"+a+">") {
			t.Errorf("the container did not get the argument %q; journal:\n%s", a, journal)
		}
	}
	if env, _, err := b.Docker("inspect", "-f", `{{range .Config.Env}}{{println .}}{{end}}`, unit); err != nil || !hasLine(env, "X=100% $PATH") {
		t.Errorf("container environment lacks X=100%% $PATH: %v\n%s", err, env)
	}
}

// TestPackagingImage builds the installer image from the Dockerfile on the
// host's dockerd and installs the binary with it into a temporary directory.
func TestPackagingImage(t *testing.T) {
	bin := needBinary(t)
	if _, err := hostDocker(t, "version", "--format", "{{.Server.Version}}"); err != nil {
		t.Fatalf("host dockerd: %v", err)
	}
	root, err := buildbin.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// A build context like the repository's: Dockerfile, .dockerignore and
	// bin/systemd-docker (the binary under test).
	ctxDir := t.TempDir()
	for _, f := range []string{"Dockerfile", ".dockerignore"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ctxDir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(ctxDir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "bin", "systemd-docker"), data, 0o755); err != nil {
		t.Fatal(err)
	}

	tag := "systemd-docker-packaging-test:" + randHex(4)
	mustHostDocker(t, "build", "-q", "-t", tag, ctxDir)
	t.Cleanup(func() { _, _ = hostDocker(t, "rmi", "-f", tag) })

	dest := t.TempDir()
	out := mustHostDocker(t, "run", "--rm", "--network", "none", "-v", dest+":/opt/bin", tag)
	if !strings.Contains(out, "installed /opt/bin/systemd-docker") {
		t.Errorf("install output = %q", out)
	}
	installed := filepath.Join(dest, "systemd-docker")
	st, err := os.Stat(installed)
	if err != nil {
		t.Fatalf("nothing installed: %v", err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("mode = %v, want 0755", st.Mode().Perm())
	}
	version, err := exec.Command(installed, "version").Output()
	if err != nil || !strings.HasPrefix(string(version), "systemd-docker ") {
		t.Errorf("%s version: %v: %q", installed, err, version)
	}
	entries, _ := os.ReadDir(dest)
	if len(entries) != 1 {
		t.Errorf("%s holds %v, want only systemd-docker", dest, entries)
	}

	// Without the volume the entry point fails clearly (exit 125).
	_, err = hostDocker(t, "run", "--rm", "--network", "none", tag)
	if err == nil || !strings.Contains(err.Error(), "/opt/bin does not exist") {
		t.Errorf("run without -v: %v, want the missing-directory message", err)
	}
	// FROM scratch plus one COPY: the binary is the whole image.
	files := mustHostDocker(t, "image", "inspect", "-f", "{{len .RootFS.Layers}}", tag)
	if files != "1" {
		t.Errorf("image has %s layers, want 1 (COPY of the binary)", files)
	}
}
