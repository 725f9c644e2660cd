package dockerapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// wedgedDaemon answers the ping, then accepts every request and never
// answers it: a dockerd that hangs.
func wedgedDaemon(t *testing.T) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			w.Header().Set("Api-Version", "1.41")
			w.Write([]byte("OK"))
			return
		}
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { close(stop); srv.Close() })
	t.Setenv("DOCKER_HOST", "unix://"+sock)
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
	zero := 0
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"inspect", func(ctx context.Context) error { _, err := a.Inspect(ctx, "c"); return err }},
		{"start", func(ctx context.Context) error { return a.Start(ctx, "c") }},
		{"stop", func(ctx context.Context) error { return a.Stop(ctx, "c", "TERM", &zero) }},
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

// A daemon that does not answer the first ping is reported with its address.
func TestNewWedgedDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "docker.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close() // accepted by the kernel's backlog, never answered
	t.Setenv("DOCKER_HOST", "unix://"+sock)
	t0 := time.Now()
	_, err = New(context.Background(), &CLI{}, 300*time.Millisecond)
	var de *DaemonError
	if !errors.As(err, &de) || de.Host != "unix://"+sock {
		t.Fatalf("New: %v, want a DaemonError naming unix://%s", err, sock)
	}
	if took := time.Since(t0); took > 3*time.Second {
		t.Errorf("New took %s with a 300ms timeout", took)
	}
}
