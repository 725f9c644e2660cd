package dockerapi

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/states"
)

func TestCreateArgs(t *testing.T) {
	tests := []struct {
		name   string
		spec   states.CreateSpec
		want   []string
		values []string // must appear nowhere in the args
	}{
		{
			name: "image only",
			spec: states.CreateSpec{Image: "alpine"},
			want: []string{"create", "--", "alpine"},
		},
		{
			name: "everything",
			spec: states.CreateSpec{
				Labels:  map[string]string{"io.b": "2", "io.a": "1", "io.c": "x=y"},
				Env:     []string{"TOKEN=s3cret-token", "DB_PASSWORD=pa55=word", "EMPTY=", "BARE"},
				Extra:   []string{"--volume", "/h:/c", "--env", "NOTIFY_SOCKET=/run/n.sock"},
				Options: []string{"--name", "web", "-p", "80:80"},
				Image:   "nginx:1",
				Command: []string{"nginx", "-g", "daemon off;"},
			},
			want: []string{"create",
				"--label", "io.a=1", "--label", "io.b=2", "--label", "io.c=x=y",
				"--env", "TOKEN", "--env", "DB_PASSWORD", "--env", "EMPTY", "--env", "BARE",
				"--volume", "/h:/c", "--env", "NOTIFY_SOCKET=/run/n.sock",
				"--name", "web", "-p", "80:80",
				"--", "nginx:1", "nginx", "-g", "daemon off;"},
			values: []string{"s3cret-token", "pa55=word"},
		},
		{
			name: "CMD that looks like options stays after the image",
			spec: states.CreateSpec{Options: []string{"--rm"}, Image: "busybox", Command: []string{"echo", "--rm", "-d", "--"}},
			want: []string{"create", "--rm", "--", "busybox", "echo", "--rm", "-d", "--"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CreateArgs(tt.spec)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("CreateArgs =\n  %q\nwant\n  %q", got, tt.want)
			}
			joined := strings.Join(got, " ")
			for _, v := range tt.values {
				if strings.Contains(joined, v) {
					t.Errorf("the value %q shows on the command line: %q", v, got)
				}
			}
		})
	}
}

// fakeCLI writes a shell script standing in for the docker CLI. In body,
// $DIR is a directory the script may write to, returned with the path.
func fakeCLI(t *testing.T, body string) (path, dir string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "docker")
	script := "#!/bin/sh\nDIR='" + dir + "'\n" + body
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCLICreate(t *testing.T) {
	path, dir := fakeCLI(t, `
for a in "$@"; do printf '%s\n' "$a"; done > "$DIR/args"
env > "$DIR/env"
echo "a warning on stdout"
echo 4f1e2d3c4b5a69788796a5b4c3d2e1f04f1e2d3c4b5a69788796a5b4c3d2e1f0
`)
	var stderr bytes.Buffer
	cli := &CLI{Path: path, Stderr: &stderr,
		Environ: []string{"PATH=" + os.Getenv("PATH"), "FROM_ENVIRON=yes", "TOKEN=stale"}}
	spec := states.CreateSpec{
		Env:     []string{"TOKEN=s3cret-token", "DB_PASSWORD=pa55=word"},
		Image:   "alpine:3",
		Command: []string{"echo", "--rm", "-d"},
	}
	id, err := cli.Create(context.Background(), spec)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if want := "4f1e2d3c4b5a69788796a5b4c3d2e1f04f1e2d3c4b5a69788796a5b4c3d2e1f0"; id != want {
		t.Errorf("ID = %q, want %q", id, want)
	}

	args := strings.Split(strings.TrimSuffix(readFile(t, filepath.Join(dir, "args")), "\n"), "\n")
	if want := CreateArgs(spec); !slices.Equal(args, want) {
		t.Errorf("the CLI's argv = %q, want %q", args, want)
	}
	for _, v := range []string{"s3cret-token", "pa55=word"} {
		if slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, v) }) {
			t.Errorf("the value %q is on the CLI's command line: %q", v, args)
		}
	}
	env := strings.Split(readFile(t, filepath.Join(dir, "env")), "\n")
	for _, kv := range []string{"TOKEN=s3cret-token", "DB_PASSWORD=pa55=word", "FROM_ENVIRON=yes"} {
		if !slices.Contains(env, kv) {
			t.Errorf("the CLI's environment lacks %q: %q", kv, env)
		}
	}
	if slices.Contains(env, "TOKEN=stale") {
		t.Errorf("spec.Env did not override Environ: %q", env)
	}
}

func TestCLICreateFails(t *testing.T) {
	path, _ := fakeCLI(t, `
echo "Unable to find image 'nosuch:latest' locally" >&2
echo "docker: Error response from daemon: pull access denied for nosuch." >&2
exit 125
`)
	var stderr bytes.Buffer
	cli := &CLI{Path: path, Stderr: &stderr, Environ: []string{"PATH=" + os.Getenv("PATH")}}
	spec := states.CreateSpec{Image: "nosuch"}
	_, err := cli.Create(context.Background(), spec)
	var ce *CLIError
	if !errors.As(err, &ce) {
		t.Fatalf("Create: %v (%T), want a *CLIError", err, err)
	}
	if ce.ExitCode != 125 {
		t.Errorf("ExitCode = %d, want 125", ce.ExitCode)
	}
	if !slices.Equal(ce.Args, CreateArgs(spec)) {
		t.Errorf("Args = %q, want %q", ce.Args, CreateArgs(spec))
	}
	if msg := err.Error(); !strings.Contains(msg, "pull access denied for nosuch") || !strings.Contains(msg, "125") {
		t.Errorf("error %q should give the exit status and the CLI's error", msg)
	}
	if !strings.Contains(stderr.String(), "Unable to find image 'nosuch:latest' locally") {
		t.Errorf("the CLI's stderr was not passed through: %q", stderr.String())
	}
	if strings.Contains(stderr.String(), "pull access denied") {
		t.Errorf("the CLI's error line was printed as well as put into our error: %q", stderr.String())
	}
}

func TestCLICreateOtherFailures(t *testing.T) {
	noID, _ := fakeCLI(t, "exit 0\n")
	tests := []struct {
		name string
		path string
		want string
	}{
		{name: "no ID printed", path: noID, want: "no container ID"},
		{name: "missing binary", path: filepath.Join(t.TempDir(), "nosuch"), want: "nosuch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cli := &CLI{Path: tt.path, Stderr: &bytes.Buffer{}, Environ: []string{"PATH=" + os.Getenv("PATH")}}
			_, err := cli.Create(context.Background(), states.CreateSpec{Image: "alpine"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Create: %v, want an error containing %q", err, tt.want)
			}
			var ce *CLIError
			if errors.As(err, &ce) {
				t.Errorf("Create: %v is a CLIError, but the CLI did not fail", err)
			}
		})
	}
}

func TestCLICreateCancelled(t *testing.T) {
	// The CLI runs until told to stop; on SIGTERM it leaves a marker and
	// exits, as the docker CLI cancels its request. (Short sleeps in a loop:
	// dash may miss a TERM that lands just before a "wait" builtin blocks.)
	path, dir := fakeCLI(t, `
trap 'echo term > "$DIR/term"; exit 143' TERM
echo started > "$DIR/started"
while :; do sleep 0.05; done
`)
	cli := &CLI{Path: path, Stderr: &bytes.Buffer{}, Environ: []string{"PATH=" + os.Getenv("PATH")}}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	cause := errors.New("stop requested")

	type result struct {
		id  string
		err error
	}
	done := make(chan result, 1)
	go func() {
		id, err := cli.Create(ctx, states.CreateSpec{Image: "alpine"})
		done <- result{id, err}
	}()

	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fake CLI did not start")
		}
		time.Sleep(time.Millisecond)
	}
	cancel(cause)
	start := time.Now()
	select {
	case r := <-done:
		if !errors.Is(r.err, cause) {
			t.Errorf("Create = %q, %v; want the context's cause %v", r.id, r.err, cause)
		}
		// The CLI's WaitDelay is 5 s: returning before it means SIGTERM worked.
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Create returned %s after cancel, want promptly", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Create did not return after cancel")
	}
	if got := readFile(t, filepath.Join(dir, "term")); got != "term\n" {
		t.Errorf("marker = %q, want the CLI to have got SIGTERM", got)
	}
}

func TestCLIErrorMessage(t *testing.T) {
	tests := []struct {
		err  CLIError
		want string
	}{
		{CLIError{ExitCode: 125, Stderr: "  boom\n"}, "docker create exited 125: boom"},
		{CLIError{ExitCode: 1}, "docker create exited 1: no message"},
		{CLIError{ExitCode: 1, Stderr: "\n \n"}, "docker create exited 1: no message"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestStderrRelay(t *testing.T) {
	var out bytes.Buffer
	var seen []string
	r := &stderrRelay{out: &out, progress: func(l string) { seen = append(seen, l) }}
	for _, w := range []string{"abc: Pulling fs layer\nabc: Downl", "oading\r\rabc: Pull complete\n", "\n  \nfinal err", "or\n"} {
		if n, err := r.Write([]byte(w)); n != len(w) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", w, n, err)
		}
	}
	if want := "abc: Pulling fs layer\nabc: Downloading\nabc: Pull complete\n"; out.String() != want {
		t.Errorf("passed on %q, want %q (every line but the last)", out.String(), want)
	}
	if r.Held() != "final error" {
		t.Errorf("Held() = %q, want the last line", r.Held())
	}
	if !slices.Equal(seen, []string{"abc: Pulling fs layer", "abc: Downloading", "abc: Pull complete", "final error"}) {
		t.Errorf("progress saw %q", seen)
	}
	r.Write([]byte("unfinished"))
	r.Flush()
	if !strings.HasSuffix(out.String(), "final error\nunfinished\n") || r.Held() != "" {
		t.Errorf("after Flush: out %q, held %q", out.String(), r.Held())
	}
}

func TestCLICheck(t *testing.T) {
	exe, _ := fakeCLI(t, "exit 0\n")
	notExe := filepath.Join(t.TempDir(), "docker")
	if err := os.WriteFile(notExe, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "no", "docker")
	tests := []struct {
		name    string
		path    string
		wantErr bool
	}{
		{name: "executable", path: exe},
		{name: "missing", path: missing, wantErr: true},
		{name: "not executable", path: notExe, wantErr: true},
		{name: "not in PATH", path: "systemd-docker-no-such-cli", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&CLI{Path: tt.path}).Check()
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Check: nil error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.path) || !strings.Contains(msg, "--docker-cli") {
				t.Errorf("Check: %q should name %s and say to use --docker-cli", msg, tt.path)
			}
		})
	}
}

// systemctl stop signals every process of the unit: a CLI killed by a
// signal is reported as states.ErrKilled, so the supervisor can wait for
// the stop request that comes with it instead of failing with 125.
func TestCLIKilledBySignal(t *testing.T) {
	path, _ := fakeCLI(t, "echo pulling >&2\nkill -TERM $$\nsleep 5\n")
	var stderr bytes.Buffer
	cli := &CLI{Path: path, Stderr: &stderr, Environ: []string{"PATH=" + os.Getenv("PATH")}}
	_, err := cli.Create(context.Background(), states.CreateSpec{Image: "x"})
	if !errors.Is(err, states.ErrKilled) || !strings.Contains(err.Error(), "terminated") {
		t.Fatalf("Create: %v, want states.ErrKilled naming the signal", err)
	}
	if !strings.Contains(stderr.String(), "pulling") {
		t.Errorf("held output lost: %q", stderr.String())
	}
}
