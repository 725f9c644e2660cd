//go:build integration

// Tests of systemd-docker run directly as a child process against the host's
// dockerd (not under systemd).
package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// runArgs builds `[FLAGS…] run --name NAME --network none [DOCKER…] IMAGE CMD…`.
func runArgs(flags []string, name string, docker []string, cmd ...string) []string {
	a := append([]string{}, flags...)
	a = append(a, "run", "--name", name, "--network", "none")
	a = append(a, docker...)
	a = append(a, image)
	return append(a, cmd...)
}

// hostTest is the common start of every host test: daemon, image, a unique
// container name removed at the end.
func hostTest(t *testing.T) string {
	t.Helper()
	t.Parallel()
	needBinary(t)
	needHostDocker(t)
	name := uniqueName(t)
	removeContainerAtCleanup(t, name)
	return name
}

func TestRunExitCode(t *testing.T) {
	name := hostTest(t)
	w := startWrapper(t, runArgs(nil, name, nil, "sh", "-c", "echo hi; exit 3"))
	if code := w.wait(longWait); code != 3 {
		t.Errorf("exit code = %d, want 3 (the container's)\nstderr:\n%s", code, w.stderr.String())
	}
	if !hasLine(w.stdout.String(), "hi") {
		t.Errorf("stdout = %q, want a line \"hi\"", w.stdout.String())
	}
}

func TestStopOnSIGTERMDrainsOutput(t *testing.T) {
	name := hostTest(t)
	w := startWrapper(t, runArgs(nil, name, nil, "sh", "-c", byeScript), withNotify())
	w.waitReady(longWait)
	waitFor(t, shortWait, `"ready" on stdout`, func() bool { return hasLine(w.stdout.String(), "ready") })
	w.signal(syscall.SIGTERM)
	code := w.wait(longWait)
	if !hasLine(w.stdout.String(), "bye") {
		t.Errorf("stdout = %q, want the line \"bye\" printed by the container while stopping", w.stdout.String())
	}
	if code != 0 {
		t.Errorf("exit code = %d, want 0 (the container exits 0 from its TERM trap)\nstderr:\n%s", code, w.stderr.String())
	}
	if running := hostInspect(t, name, "{{.State.Running}}"); running != "false" {
		t.Errorf("container still running after systemd-docker exited")
	}
}

func TestRmRemovesContainer(t *testing.T) {
	t.Run("AfterExit", func(t *testing.T) {
		name := hostTest(t)
		w := startWrapper(t, runArgs(nil, name, []string{"--rm"}, "echo", "removed-after-exit"))
		if code := w.wait(longWait); code != 0 {
			t.Errorf("exit code = %d, want 0\nstderr:\n%s", code, w.stderr.String())
		}
		if !hasLine(w.stdout.String(), "removed-after-exit") {
			t.Errorf("stdout = %q, want the container's output", w.stdout.String())
		}
		waitFor(t, shortWait, "the --rm container to be removed", func() bool { return hostContainerID(t, name) == "" })
	})
	t.Run("AfterSIGTERM", func(t *testing.T) {
		name := hostTest(t)
		w := startWrapper(t, runArgs(nil, name, []string{"--rm"}, "sh", "-c", byeScript), withNotify())
		w.waitReady(longWait)
		w.signal(syscall.SIGTERM)
		w.wait(longWait)
		if !hasLine(w.stdout.String(), "bye") {
			t.Errorf("stdout = %q, want \"bye\"", w.stdout.String())
		}
		waitFor(t, shortWait, "the --rm container to be removed after SIGTERM", func() bool { return hostContainerID(t, name) == "" })
	})
}

func TestStaleStoppedContainerReplaced(t *testing.T) {
	name := hostTest(t)
	mustHostDocker(t, "run", "--name", name, "--network", "none", image, "echo", "stale")
	old := hostContainerID(t, name)
	if st := hostInspect(t, name, "{{.State.Status}}"); st != "exited" {
		t.Fatalf("stale container status %q, want exited", st)
	}
	w := startWrapper(t, runArgs(nil, name, nil, "echo", "fresh"))
	if code := w.wait(longWait); code != 0 {
		t.Fatalf("exit code = %d, want 0\nstderr:\n%s", code, w.stderr.String())
	}
	out := w.stdout.String()
	if !hasLine(out, "fresh") || strings.Contains(out, "stale") {
		t.Errorf("stdout = %q, want \"fresh\" only", out)
	}
	if id := hostContainerID(t, name); id == "" || id == old {
		t.Errorf("container ID after run = %q, want a new one (old %s)", id, old)
	}
}

// detachRun runs systemd-docker in detach mode (--logs=false, no --rm) with
// the idle container and returns its container ID once it exited 0.
func detachRun(t *testing.T, name string, docker ...string) string {
	t.Helper()
	w := startWrapper(t, runArgs([]string{"--logs=false"}, name, docker, "sh", "-c", idleScript))
	if code := w.wait(longWait); code != 0 {
		t.Fatalf("detach mode: exit code = %d, want 0\nstderr:\n%s", code, w.stderr.String())
	}
	id := hostContainerID(t, name)
	if id == "" {
		t.Fatalf("no container %s after detach-mode run", name)
	}
	if r := hostInspect(t, name, "{{.State.Running}}"); r != "true" {
		t.Fatalf("container %s not running after detach-mode run", name)
	}
	return id
}

func TestRunningContainerAdoptedWhenArgsSame(t *testing.T) {
	name := hostTest(t)
	id1 := detachRun(t, name, "-e", "SDTEST_VARIANT=1")
	started1 := hostInspect(t, name, "{{.State.StartedAt}}")
	id2 := detachRun(t, name, "-e", "SDTEST_VARIANT=1")
	if id2 != id1 {
		t.Errorf("container replaced (%s -> %s), want the running one adopted", id1, id2)
	}
	if s := hostInspect(t, name, "{{.State.StartedAt}}"); s != started1 {
		t.Errorf("container restarted (StartedAt %s -> %s), want it adopted untouched", started1, s)
	}
}

func TestRunningContainerReplacedWhenArgsDiffer(t *testing.T) {
	name := hostTest(t)
	id1 := detachRun(t, name, "-e", "SDTEST_VARIANT=1")
	id2 := detachRun(t, name, "-e", "SDTEST_VARIANT=2")
	if id2 == id1 {
		t.Fatalf("container %s adopted although its arguments differ; want it replaced", id1)
	}
	if env := hostInspect(t, name, "{{json .Config.Env}}"); !strings.Contains(env, "SDTEST_VARIANT=2") {
		t.Errorf("container env %s, want SDTEST_VARIANT=2", env)
	}
	if _, err := hostDocker(t, "inspect", id1); err == nil {
		t.Errorf("old container %s still exists", id1)
	}
}

func TestTTYOutput(t *testing.T) {
	name := hostTest(t)
	w := startWrapper(t, runArgs(nil, name, []string{"-t"}, "sh", "-c", "test -t 1 && echo is-a-tty || echo not-a-tty"))
	if code := w.wait(longWait); code != 0 {
		t.Errorf("exit code = %d, want 0\nstderr:\n%s", code, w.stderr.String())
	}
	if out := w.stdout.String(); !strings.Contains(out, "is-a-tty") {
		t.Errorf("stdout = %q, want \"is-a-tty\"", out)
	}
}

func TestEnvCopiesEnvironment(t *testing.T) {
	name := hostTest(t)
	secret := "s3cr3t-" + randHex(8)
	invocation := randHex(16)
	// A docker client that records its command lines, then runs the real one.
	realDocker, err := exec.LookPath("docker")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	argLog := filepath.Join(dir, "argv.log")
	recorder := filepath.Join(dir, "docker")
	script := "#!/bin/sh\n{ echo '--- argv'; for a in \"$@\"; do printf '%s\\n' \"$a\"; done; } >>" + shQuote(argLog) +
		"\nexec " + shQuote(realDocker) + " \"$@\"\n"
	if err := os.WriteFile(recorder, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	w := startWrapper(t, runArgs([]string{"--env", "--docker-cli", recorder}, name, nil, "env"),
		withNotify(), // sets NOTIFY_SOCKET, which must not be copied
		withEnv("SDTEST_SECRET="+secret, "INVOCATION_ID="+invocation, "WATCHDOG_USEC=600000000"))
	if code := w.wait(longWait); code != 0 {
		t.Fatalf("exit code = %d, want 0\nstderr:\n%s", code, w.stderr.String())
	}
	out := w.stdout.String()
	if !hasLine(out, "SDTEST_SECRET="+secret) {
		t.Errorf("container env output lacks SDTEST_SECRET=%s:\n%s", secret, out)
	}
	for _, v := range []string{"NOTIFY_SOCKET", "INVOCATION_ID", "WATCHDOG_USEC"} {
		if strings.Contains(out, v+"=") {
			t.Errorf("container env has systemd's %s:\n%s", v, out)
		}
	}
	env := hostInspect(t, name, "{{json .Config.Env}}")
	if !strings.Contains(env, "SDTEST_SECRET="+secret) {
		t.Errorf("Config.Env %s lacks SDTEST_SECRET", env)
	}
	for _, v := range []string{"NOTIFY_SOCKET", "INVOCATION_ID", "WATCHDOG_USEC"} {
		if strings.Contains(env, v+"=") {
			t.Errorf("Config.Env has systemd's %s: %s", v, env)
		}
	}
	logData, err := os.ReadFile(argLog)
	if err != nil {
		t.Fatalf("--docker-cli %s was never run: %v", recorder, err)
	}
	argv := string(logData)
	if !strings.Contains(argv, "\ncreate\n") {
		t.Errorf("no `docker create` through --docker-cli; recorded:\n%s", argv)
	}
	if strings.Contains(argv, secret) {
		t.Errorf("the secret value appears on a docker command line:\n%s", argv)
	}
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func TestPidFile(t *testing.T) {
	name := hostTest(t)
	pidFile := filepath.Join(t.TempDir(), "container.pid")
	w := startWrapper(t, runArgs([]string{"--pid-file", pidFile}, name, nil, "sh", "-c", byeScript), withNotify())
	w.waitReady(longWait)
	pid := hostContainerPid(t, name)
	var got string
	if !waitForBool(shortWait, func() bool {
		b, _ := os.ReadFile(pidFile)
		got = strings.TrimSpace(string(b))
		return got == strconv.Itoa(pid)
	}) {
		t.Errorf("pid file holds %q, want the container's host pid %d", got, pid)
	}
	w.signal(syscall.SIGTERM)
	w.wait(longWait)
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file %s still there after exit (err %v)", pidFile, err)
	}
}

func TestNotifyMainPID(t *testing.T) {
	name := hostTest(t)
	w := startWrapper(t, runArgs(nil, name, nil, "sh", "-c", byeScript), withNotify())
	vars := w.waitReady(longWait)
	pid := hostContainerPid(t, name)
	if vars["MAINPID"] != strconv.Itoa(pid) {
		t.Errorf("MAINPID=%q before READY=1, want the container pid %d (messages %q)", vars["MAINPID"], pid, w.notify.messages())
	}
	w.signal(syscall.SIGTERM)
	w.wait(longWait)
}

func TestDetachMode(t *testing.T) {
	name := hostTest(t)
	w := startWrapper(t, runArgs([]string{"--logs=false"}, name, nil, "sh", "-c", idleScript), withNotify())
	vars := w.waitReady(longWait)
	if code := w.wait(longWait); code != 0 {
		t.Fatalf("exit code = %d, want 0\nstderr:\n%s", code, w.stderr.String())
	}
	if r := hostInspect(t, name, "{{.State.Running}}"); r != "true" {
		t.Fatalf("container not running after detach-mode exit")
	}
	if pid := hostContainerPid(t, name); vars["MAINPID"] != strconv.Itoa(pid) {
		t.Errorf("MAINPID=%q, want the container pid %d", vars["MAINPID"], pid)
	}
}

func TestMissingImage(t *testing.T) {
	t.Parallel()
	needBinary(t)
	needHostDocker(t)
	name := uniqueName(t)
	removeContainerAtCleanup(t, name)
	missing := "systemd-docker-missing-" + randHex(4)
	w := startWrapper(t, []string{"run", "--name", name, "--network", "none", missing + ":latest", "true"})
	if code := w.wait(longWait); code != 125 {
		t.Errorf("exit code = %d, want 125", code)
	}
	if stderr := w.stderr.String(); !strings.Contains(stderr, missing) {
		t.Errorf("stderr does not name the image %s:\n%s", missing, stderr)
	}
}

func TestNoDaemon(t *testing.T) {
	t.Parallel()
	needBinary(t)
	for _, tc := range []struct {
		name string
		env  []string
		want string // in stderr
	}{
		{"nothing listening", []string{"DOCKER_HOST=unix:///nonexistent.sock"}, "/nonexistent.sock"},
		// A supervisor must be on the daemon's host: what we refuse, we say.
		{"ssh", []string{"DOCKER_HOST=ssh://me@elsewhere"}, "DOCKER_HOST=ssh://me@elsewhere: systemd-docker speaks to a daemon on its own host"},
		{"tls", []string{"DOCKER_HOST=tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY=1"}, "with TLS (DOCKER_TLS_VERIFY/DOCKER_CERT_PATH)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := startWrapper(t, runArgs(nil, uniqueName(t), nil, "true"), withEnv(tc.env...))
			if code := w.wait(longWait); code != 125 {
				t.Errorf("exit code = %d, want 125", code)
			}
			if stderr := w.stderr.String(); !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, stderr)
			}
		})
	}
}

func TestContainerCommandNotRewritten(t *testing.T) {
	for _, tc := range []struct {
		name string
		cmd  []string
		want string
	}{
		{"Echo", []string{"echo", "--rm", "-d"}, "--rm -d"},
		{"Sh", []string{"sh", "-c", `echo "$@"`, "sh", "--logs=false", "-t", "--name", "x", "run"}, "--logs=false -t --name x run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := hostTest(t)
			w := startWrapper(t, runArgs(nil, name, []string{"--rm"}, tc.cmd...))
			if code := w.wait(longWait); code != 0 {
				t.Errorf("exit code = %d, want 0\nstderr:\n%s", code, w.stderr.String())
			}
			if !hasLine(w.stdout.String(), tc.want) {
				t.Errorf("stdout = %q, want the line %q", w.stdout.String(), tc.want)
			}
			waitFor(t, shortWait, "the --rm container to be removed", func() bool { return hostContainerID(t, name) == "" })
		})
	}
}
