package dockerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/states"
)

// fakeDaemon is a dockerd on a unix socket in t.TempDir() that answers the
// ping itself and every other request with h; DOCKER_HOST points at it.
func fakeDaemon(t *testing.T, h http.HandlerFunc) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	serve(t, sock, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("Api-Version", "1.41")
			w.Write([]byte("OK"))
			return
		}
		h(w, r)
	})
	t.Setenv("DOCKER_HOST", "unix://"+sock)
}

// serve answers HTTP on the unix socket sock with h until the test ends.
func serve(t *testing.T, sock string, h http.HandlerFunc) {
	t.Helper()
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

// wedgedDaemon accepts every request but the ping and never answers it: a
// dockerd that hangs.
func wedgedDaemon(t *testing.T) {
	t.Helper()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	fakeDaemon(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})
}

// Every daemon call but the streams ends with a deadline error when the
// daemon does not answer, so a wedged dockerd never hangs us.
func TestAdapterCallsHaveDeadlines(t *testing.T) {
	wedgedDaemon(t)
	old := CallTimeout
	CallTimeout = 200 * time.Millisecond
	t.Cleanup(func() { CallTimeout = old })
	a, err := New(context.Background(), &CLI{}, time.Second)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer a.Close()
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"inspect", func(ctx context.Context) error { _, err := a.Inspect(ctx, "c"); return err }},
		{"start", func(ctx context.Context) error { return a.Start(ctx, "c") }},
		{"stop", func(ctx context.Context) error { return a.Stop(ctx, "c") }},
		{"kill", func(ctx context.Context) error { return a.Kill(ctx, "c", "HUP") }},
		{"remove", func(ctx context.Context) error { return a.Remove(ctx, "c") }},
		{"find by label", func(ctx context.Context) error { _, err := a.FindByLabel(ctx, "k", "v"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The test's own bound is far longer than CallTimeout.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			t0 := time.Now()
			err := tc.call(ctx)
			took := time.Since(t0)
			if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
				t.Fatalf("err = %v after %s, want our own deadline", err, took)
			}
			if took > 2*time.Second {
				t.Errorf("took %s with CallTimeout %s", took, CallTimeout)
			}
		})
	}
}

// wedgedSocket is a socket whose connections the kernel accepts and no
// one answers; DOCKER_HOST points at it. It returns the address.
func wedgedSocket(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	return "unix://" + sock
}

// A daemon that does not answer the first ping is reported with its
// address, by Reached and by the first request, within the ping's timeout;
// New itself does not wait for it.
func TestNewWedgedDaemon(t *testing.T) {
	host := wedgedSocket(t)
	t0 := time.Now()
	a, err := New(context.Background(), &CLI{}, 300*time.Millisecond)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer a.Close()
	if took := time.Since(t0); took > 100*time.Millisecond {
		t.Errorf("New took %s: it waited for the ping", took)
	}
	for name, err := range map[string]error{
		"Reached": a.Reached(context.Background()),
		"Inspect": inspect(a),
	} {
		var de *DaemonError
		if !errors.As(err, &de) || de.Host != host {
			t.Errorf("%s: %v, want a DaemonError naming %s", name, err, host)
		}
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Errorf("took %s with a 300ms timeout", took)
	}
}

// docker create starts beside the first ping, not after it; when the
// daemon does not answer the ping, the CLI is stopped and the error is
// the daemon's, naming its address.
func TestCreateBesidePing(t *testing.T) {
	host := wedgedSocket(t)
	path, dir := fakeCLI(t, `
trap 'exit 143' TERM
echo started > "$DIR/started"
while :; do sleep 0.05; done
`)
	cli := &CLI{Path: path, Stderr: &bytes.Buffer{}, Environ: []string{"PATH=" + os.Getenv("PATH")}}
	a, err := New(context.Background(), cli, time.Second)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer a.Close()
	_, err = a.Create(context.Background(), states.CreateSpec{Image: "alpine"})
	var de *DaemonError
	if !errors.As(err, &de) || de.Host != host {
		t.Errorf("Create: %v, want a DaemonError naming %s", err, host)
	}
	if _, err := os.Stat(filepath.Join(dir, "started")); err != nil {
		t.Errorf("the CLI never ran while the ping waited: %v", err)
	}
}

// A failed create against a daemon that answered is the CLI's own error.
func TestCreateFailsDaemonAnswered(t *testing.T) {
	fakeDaemon(t, func(w http.ResponseWriter, r *http.Request) {})
	path, _ := fakeCLI(t, "echo 'Error response from daemon: No such image: nope' >&2; exit 125\n")
	a, err := New(context.Background(), &CLI{Path: path, Stderr: &bytes.Buffer{}}, time.Second)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer a.Close()
	_, err = a.Create(context.Background(), states.CreateSpec{Image: "nope"})
	var ce *CLIError
	if !errors.As(err, &ce) || ce.ExitCode != 125 {
		t.Errorf("Create: %v, want the CLI's error", err)
	}
}

// The daemon's errors are told apart by their kind (the HTTP status, which
// the client turns into an errdefs class), never by their text.
func TestAdapterErrorClasses(t *testing.T) {
	const (
		missing    = "No such container: c"
		inProgress = "removal of container c is already in progress"
	)
	tests := []struct {
		name   string
		status int
		msg    string
		call   func(a *Adapter) error
		want   func(error) bool
		req    string // the request, when checked
	}{
		{"remove", http.StatusNoContent, "", remove, isNil, "DELETE /v1.41/containers/c?force=1&v=1"},
		{"remove missing", http.StatusNotFound, missing, remove, isNil, ""},
		// What moby's containerRm answers a second forced removal.
		{"remove in progress", http.StatusConflict, inProgress, remove, isNil, ""},
		{"remove conflict, any text", http.StatusConflict, "conflict", remove, isNil, ""},
		{"remove failing", http.StatusInternalServerError, "driver failed to remove root filesystem", remove, notNil, ""},
		{"remove failing, in-progress text", http.StatusInternalServerError, inProgress, remove, notNil, ""},
		{"stop missing", http.StatusNotFound, missing, stop, isNil, ""},
		{"stop failing, missing text", http.StatusInternalServerError, missing, stop, notNil, ""},
		{"kill missing", http.StatusNotFound, missing, kill, isErrNotFound, ""},
		{"kill not running", http.StatusConflict, "Container c is not running", kill, notNotFound, ""},
		{"inspect missing", http.StatusNotFound, missing, inspect, isErrNotFound, ""},
		// The refusal of a hijack is an answer with a body, not a stream.
		{"attach missing", http.StatusNotFound, missing, attach, isErrNotFound, ""},
		{"inspect failing, missing text", http.StatusInternalServerError, missing, inspect, notNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			fakeDaemon(t, func(w http.ResponseWriter, r *http.Request) {
				got = r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery
				if tt.status == http.StatusNoContent {
					w.WriteHeader(tt.status)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				json.NewEncoder(w).Encode(map[string]string{"message": tt.msg})
			})
			a, err := New(context.Background(), &CLI{}, time.Second)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer a.Close()
			if err := tt.call(a); !tt.want(err) {
				t.Errorf("daemon answered %d %q to %s: err = %v", tt.status, tt.msg, got, err)
			}
			if tt.req != "" && got != tt.req {
				t.Errorf("request %s, want %s", got, tt.req)
			}
		})
	}
}

func remove(a *Adapter) error  { return a.Remove(context.Background(), "c") }
func kill(a *Adapter) error    { return a.Kill(context.Background(), "c", "HUP") }
func stop(a *Adapter) error    { return a.Stop(context.Background(), "c") }
func inspect(a *Adapter) error { _, err := a.Inspect(context.Background(), "c"); return err }
func attach(a *Adapter) error  { _, err := a.Attach(context.Background(), "c"); return err }

func isNil(err error) bool         { return err == nil }
func notNil(err error) bool        { return err != nil }
func isErrNotFound(err error) bool { return errors.Is(err, states.ErrNotFound) }
func notNotFound(err error) bool   { return err != nil && !errors.Is(err, states.ErrNotFound) }

// TestAdapterRemoveRetriesAConflict: a conflict (a container that stopped
// between an old daemon's check and its kill, or someone's removal in
// progress) is asked again until the daemon removes it or says it is gone,
// so a --rm container is not left behind.
func TestAdapterRemoveRetriesAConflict(t *testing.T) {
	for _, tt := range []struct {
		name      string
		conflicts int // answers 409 this many times, then 204
		wantCalls int
	}{
		{"removed at the second request", 1, 2},
		{"removed at the last request", removeAttempts - 1, removeAttempts},
		{"in progress throughout: someone else's removal ends it", 100, removeAttempts},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			fakeDaemon(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodDelete {
					w.WriteHeader(http.StatusNotFound)
					return
				}
				if int(calls.Add(1)) <= tt.conflicts {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusConflict)
					json.NewEncoder(w).Encode(map[string]string{"message": "Could not kill running container c, cannot remove - Container c is not running"})
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			a, err := New(context.Background(), &CLI{}, time.Second)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			defer a.Close()
			if err := a.Remove(context.Background(), "c"); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if got := int(calls.Load()); got != tt.wantCalls {
				t.Errorf("%d removal requests, want %d", got, tt.wantCalls)
			}
		})
	}
}
