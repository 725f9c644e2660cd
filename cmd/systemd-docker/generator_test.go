package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratorCommand runs the generator as systemd would (three output
// directories) and with --dry-run, over a search path given in the
// environment: units and links are written, a bad file gets no unit and
// one line, and the exit status says so.
func TestGeneratorCommand(t *testing.T) {
	units, out := t.TempDir(), t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(units, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("web.container", "[Container]\nImage=nginx\n[Install]\nWantedBy=multi-user.target\n")
	env := []string{"SYSTEMD_DOCKER_UNIT_PATH=" + units}
	var stdout, stderr bytes.Buffer
	if code, _ := run([]string{"generator", out, out, out}, env, &stdout, &stderr); code != 0 || stderr.Len() > 0 {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "web.service"))
	exe, _ := os.Executable()
	if err != nil || !strings.Contains(string(b), "ExecStart="+exe+" run --rm --name systemd-%N nginx") {
		t.Errorf("web.service: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(out, "multi-user.target.wants", "web.service")); err != nil {
		t.Errorf("no [Install] link: %v", err)
	}

	write("bad.container", "[Container]\nImage=nginx\nPod=p\n")
	stdout.Reset()
	stderr.Reset()
	code, _ := run([]string{"generator", "--dry-run"}, env, &stdout, &stderr)
	wantErr := "systemd-docker-generator: " + filepath.Join(units, "bad.container") + ":3: Pod=: not supported: Docker has no pods"
	if code != 1 || !strings.HasPrefix(stderr.String(), wantErr) || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), wantErr)
	}
	if !strings.HasPrefix(stdout.String(), "---web.service---\n") || strings.Contains(stdout.String(), "bad.service") {
		t.Errorf("dry run printed:\n%s", stdout.String())
	}
	stdout.Reset()
	if code, _ := run([]string{"generator", "--dry-run", filepath.Join(units, "web.container")}, nil, &stdout, &stderr); code != 0 ||
		!strings.HasPrefix(stdout.String(), "---web.service---\n") {
		t.Errorf("dry run of one file: exit %d:\n%s", code, stdout.String())
	}
}

func TestGeneratorAndCleanupArgs(t *testing.T) {
	for _, args := range [][]string{{}, {"a", "b"}, {"relative", "b", "c"}} {
		if _, err := parseGeneratorArgs(args); err == nil {
			t.Errorf("parseGeneratorArgs(%q) accepted", args)
		}
	}
	if o, err := parseGeneratorArgs([]string{"/run/systemd/generator", "/e", "/l"}); err != nil || o.OutDir != "/run/systemd/generator" || o.DryRun {
		t.Errorf("systemd's arguments: %+v, %v", o, err)
	}
	if o, err := parseGeneratorArgs([]string{"--dry-run", "a.container"}); err != nil || !o.DryRun || len(o.Files) != 1 {
		t.Errorf("--dry-run FILE: %+v, %v", o, err)
	}
	for _, args := range [][]string{{}, {"x"}, {"--unit=", "x"}, {"--unit=u.service", ""}, {"u.service", "x"}} {
		if _, _, err := parseCleanupArgs(args); err == nil || !strings.Contains(err.Error(), cleanupSynopsis) {
			t.Errorf("parseCleanupArgs(%q) = %v", args, err)
		}
	}
	if u, n, err := parseCleanupArgs([]string{"--unit=web.service", "systemd-web"}); err != nil || u != "web.service" || n != "systemd-web" {
		t.Errorf("cleanup args: %q %q %v", u, n, err)
	}
}

// TestGenerateContainerFormat: generate --format=container writes a file
// the generator accepts, and refuses what it would refuse.
func TestGenerateContainerFormat(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"--ready=healthy", "generate", "--format=container", "--watchdog=30s", "--",
		"--name", "web", "-p", "8080:80", "-e", "A=b c", "--health-cmd", "curl -f localhost || exit 1",
		"--read-only", "--cpus", "2", "-v", "/srv:/srv", "--init", "-e", "P=100%", "nginx", "nginx", "-g", "daemon off;"}
	if code, _ := run(args, nil, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"Image=nginx\n", `Exec=nginx -g "daemon off;"`, "ContainerName=web\n", "PublishPort=8080:80\n",
		`Environment="A=b c"`, "Environment=P=100%%\n", "HealthCmd=curl -f localhost || exit 1\n", "ReadOnly=true\nReadOnlyTmpfs=false\n",
		"Volume=/srv:/srv\n", "RunInit=true\n", "Notify=healthy\n", "Watchdog=30s\n", "DockerArgs=--cpus=2\n", "WantedBy=multi-user.target\n"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("no %q in\n%s", want, stdout.String())
		}
	}
	for _, bad := range [][]string{
		{"generate", "--format=container", "--", "--pull", "newer", "nginx"},
		{"--logs=false", "generate", "--format=container", "--", "nginx"},
		{"generate", "--format=yaml", "--", "nginx"},
	} {
		stderr.Reset()
		if code, _ := run(bad, nil, &stdout, &stderr); code != 125 || !strings.Contains(stderr.String(), "format") {
			t.Errorf("%q: exit %d, %q", bad, code, stderr.String())
		}
	}
}
