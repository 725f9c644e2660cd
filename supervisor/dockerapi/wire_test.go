package dockerapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/systemd-docker/systemd-docker/states"
)

func TestNewWireHosts(t *testing.T) {
	tests := []struct {
		name               string
		env                map[string]string
		network, addr, pin string
		wantErr            string // a part of the error; "" for none
	}{
		{name: "default", network: "unix", addr: "/var/run/docker.sock"},
		{name: "unix", env: map[string]string{"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, network: "unix", addr: "/run/user/1000/docker.sock"},
		{name: "tcp", env: map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2375"}, network: "tcp", addr: "127.0.0.1:2375"},
		{name: "tcp without port", env: map[string]string{"DOCKER_HOST": "tcp://localhost"}, network: "tcp", addr: "localhost:2375"},
		{name: "pinned version", env: map[string]string{"DOCKER_API_VERSION": "1.41"}, network: "unix", addr: "/var/run/docker.sock", pin: "1.41"},
		{name: "unix socket and a cert path", env: map[string]string{"DOCKER_CERT_PATH": "/certs"}, network: "unix", addr: "/var/run/docker.sock"},
		{name: "tls", env: map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:2376", "DOCKER_TLS_VERIFY": "1"}, wantErr: "DOCKER_HOST=tcp://127.0.0.1:2376 with TLS"},
		{name: "cert path", env: map[string]string{"DOCKER_HOST": "tcp://h:2376", "DOCKER_CERT_PATH": "/c"}, wantErr: "use its unix socket"},
		{name: "ssh", env: map[string]string{"DOCKER_HOST": "ssh://me@far"}, wantErr: "DOCKER_HOST=ssh://me@far: systemd-docker speaks to a daemon on its own host"},
		{name: "no scheme", env: map[string]string{"DOCKER_HOST": "/var/run/docker.sock"}, wantErr: "has no scheme; write unix://"},
		{name: "empty path", env: map[string]string{"DOCKER_HOST": "unix://"}, wantErr: "over unix:// or tcp://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := newWire(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.network != tt.network || w.addr != tt.addr || w.version != tt.pin {
				t.Errorf("got %s %s version %q, want %s %s version %q", w.network, w.addr, w.version, tt.network, tt.addr, tt.pin)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	for offered, want := range map[string]string{
		"":     "1.24", // a daemon too old to say
		"1.41": "1.41",
		"1.45": "1.45",
		"1.51": "1.51",
		"1.52": maxAPIVersion,
		"1.9":  "1.9",
		"2.0":  maxAPIVersion,
	} {
		if got := negotiate(offered); got != want {
			t.Errorf("negotiate(%q) = %q, want %q", offered, got, want)
		}
	}
}

// The version the daemon offers at the first contact is in every later
// request's path; the ping's own path has none.
func TestPingNegotiates(t *testing.T) {
	for _, tt := range []struct{ offered, pinned, want string }{
		{"1.45", "", "/v1.45/containers/c/json"},
		{"1.99", "", "/v" + maxAPIVersion + "/containers/c/json"},
		{"1.45", "1.41", "/v1.41/containers/c/json"},
	} {
		var paths []string
		daemon(t, func(w http.ResponseWriter, r *http.Request) {
			paths = append(paths, r.URL.Path)
			if r.URL.Path == "/_ping" {
				w.Header().Set("Api-Version", tt.offered)
				return
			}
			w.Write([]byte(`{"Id":"c1","State":{"Running":true,"Pid":7}}`))
		})
		t.Setenv("DOCKER_API_VERSION", tt.pinned)
		a := newAdapter(t)
		c, err := a.Inspect(context.Background(), "c")
		if err != nil || c.ID != "c1" || !c.Running || c.Pid != 7 {
			t.Fatalf("Inspect: %+v, %v", c, err)
		}
		if want := []string{"/_ping", tt.want}; strings.Join(paths, " ") != strings.Join(want, " ") {
			t.Errorf("offered %s, pinned %q: requests %q, want %q", tt.offered, tt.pinned, paths, want)
		}
	}
}

// daemon is a fake dockerd on a unix socket that answers everything,
// the ping included, with h; DOCKER_HOST points at it.
func daemon(t *testing.T, h http.HandlerFunc) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "d.sock")
	serve(t, sock, h)
	t.Setenv("DOCKER_HOST", "unix://"+sock)
}

func newAdapter(t *testing.T) *Adapter {
	t.Helper()
	a, err := New(context.Background(), &CLI{}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestChunked(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"two chunks", "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n", "abcdefg", nil},
		{"upper-case size", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789", nil},
		{"cut in a chunk", "5\r\nab", "ab", io.ErrUnexpectedEOF},
		{"cut before the size", "2\r\nab\r\n", "ab", io.ErrUnexpectedEOF},
		{"no CRLF after data", "2\r\nabX\r\n0\r\n", "ab", errors.New("chunked body: no CRLF after a chunk")},
		{"bad size", "zz\r\n", "", errors.New(`chunked body: bad chunk size "zz\r\n"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(&chunked{r: bufio.NewReader(strings.NewReader(tt.in))})
			if string(got) != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
			if (err == nil) != (tt.err == nil) || err != nil && err.Error() != tt.err.Error() {
				t.Errorf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

// A stream of events (chunked, one JSON object per flush) is read event
// by event as the daemon sends it; its end is an error.
func TestEventsStream(t *testing.T) {
	next := make(chan string)
	var query string
	daemon(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1.41/events" {
			w.Header().Set("Api-Version", "1.41")
			return
		}
		query = r.URL.Query().Get("filters")
		w.(http.Flusher).Flush()
		for ev := range next {
			io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
	})
	a := newAdapter(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	evs, errs := a.Events(ctx, "abc")
	next <- `{"status":"die","Action":"die","Actor":{"Attributes":{"exitCode":"3"}},"timeNano":1700000000000000001}`
	if e := <-evs; e.Action != "die" || e.ExitCode != "3" || e.Time.UnixNano() != 1700000000000000001 {
		t.Errorf("event %+v", e)
	}
	next <- `{"Action":"health_status: healthy"}` + "\n"
	if e := <-evs; e.Action != "health_status: healthy" {
		t.Errorf("event %+v", e)
	}
	if want := `{"container":{"abc":true},"type":{"container":true}}`; query != want {
		t.Errorf("filters %s, want %s", query, want)
	}
	close(next)
	select {
	case err := <-errs:
		if err == nil {
			t.Error("the end of the stream is no error")
		}
	case <-ctx.Done():
		t.Fatal("the end of the stream was not seen")
	}
}

// Attach takes over the connection (101 Upgraded): the stream is the
// daemon's frames, read after the call's own deadline, until Close.
func TestAttachHijacks(t *testing.T) {
	sent := make(chan struct{})
	var upgrade string
	daemon(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/attach") {
			return
		}
		upgrade = r.Header.Get("Upgrade") + " " + r.URL.RawQuery
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
		FrameWriter(rw, false).Write([]byte("out 1\n"))
		rw.Flush()
		<-sent
		FrameWriter(rw, true).Write([]byte("err 2\n"))
		rw.Flush()
	})
	old := CallTimeout
	CallTimeout = 100 * time.Millisecond
	t.Cleanup(func() { CallTimeout = old })
	a := newAdapter(t)
	st, err := a.Attach(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	time.Sleep(2 * CallTimeout) // past the call's deadline: the stream stays
	close(sent)
	var out, errw bytes.Buffer
	if err := st.Copy(&out, &errw, false); err != nil {
		t.Errorf("Copy: %v", err)
	}
	if out.String() != "out 1\n" || errw.String() != "err 2\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errw.String())
	}
	if upgrade != "tcp stderr=1&stdout=1&stream=1" {
		t.Errorf("request %q", upgrade)
	}
}

// Wait asks the daemon's wait endpoint once the container runs, then
// looks again: the final state is the inspected one.
func TestWaitUsesTheWaitEndpoint(t *testing.T) {
	running := true
	var waits int
	daemon(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/wait"):
			if r.URL.Query().Get("condition") != "not-running" || r.Method != http.MethodPost {
				t.Errorf("wait request %s %s", r.Method, r.URL)
			}
			waits++
			w.(http.Flusher).Flush() // dockerd answers the headers at once
			running = false
			json.NewEncoder(w).Encode(map[string]int{"StatusCode": 4})
		case strings.HasSuffix(r.URL.Path, "/json"):
			json.NewEncoder(w).Encode(map[string]any{"Id": "c", "State": map[string]any{"Running": running, "ExitCode": map[bool]int{true: 0, false: 4}[running], "FinishedAt": "2026-11-29T10:00:00.5Z"}})
		}
	})
	a := newAdapter(t)
	c, err := a.Wait(context.Background(), "c")
	if err != nil || c.Running || c.ExitCode != 4 || c.FinishedAt.IsZero() || waits != 1 {
		t.Errorf("Wait: %+v %v after %d waits", c, err, waits)
	}
}

// Nothing listening is Unreachable (the daemon is down); a daemon that
// accepts and does not answer is not (it is wedged).
func TestUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "none.sock"))
	a := newAdapter(t)
	_, err := a.Inspect(context.Background(), "c")
	var de *DaemonError
	if !Unreachable(err) || !errors.As(err, &de) || !strings.Contains(err.Error(), "is dockerd running") {
		t.Errorf("no daemon: %v, want an unreachable DaemonError", err)
	}
	wedgedSocket(t)
	a, err = New(context.Background(), &CLI{}, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Reached(context.Background()); err == nil || Unreachable(err) {
		t.Errorf("wedged daemon: %v, want a timeout that is not unreachable", err)
	}
}

// The logs request says what Replay was asked; the answer's frames are
// its entries.
func TestReplayRequest(t *testing.T) {
	var query string
	daemon(t, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		FrameWriter(w, true).Write([]byte("2026-11-29T10:00:00.000000001Z hello\n"))
	})
	a := newAdapter(t)
	since := time.Unix(1700000000, 5)
	st, err := a.Replay(context.Background(), "c", since, since.Add(time.Second), true)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got []Entry
	if err := st.Entries(false, func(e Entry) error {
		e.Line = append([]byte(nil), e.Line...)
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Stderr || string(got[0].Line) != "hello\n" {
		t.Errorf("entries %+v", got)
	}
	if want := "follow=1&since=1700000000.000000005&stderr=1&stdout=1&timestamps=1&until=1700000001.000000005"; query != want {
		t.Errorf("query %s, want %s", query, want)
	}
}

// Names go into the path escaped; a reference's slashes and colon stay.
func TestRequestPath(t *testing.T) {
	w := &wire{network: "unix", version: "1.41"}
	head := w.head(request{method: "GET", path: "/images/reg:5000/a/b:1@sha256:ab/json"})
	if want := "GET /v1.41/images/reg:5000/a/b:1@sha256:ab/json HTTP/1.1\r\n"; !strings.HasPrefix(head, want) {
		t.Errorf("head %q, want it to start %q", head, want)
	}
	head = w.head(request{method: "POST", path: "/containers/a b?/start"})
	if want := "POST /v1.41/containers/a%20b%3F/start HTTP/1.1\r\n"; !strings.HasPrefix(head, want) || !strings.Contains(head, "Content-Length: 0\r\n") {
		t.Errorf("head %q, want it to start %q with a Content-Length", head, want)
	}
}

// FindByLabel lists all containers with the label, by id.
func TestFindByLabel(t *testing.T) {
	var query string
	daemon(t, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		w.Write([]byte(`[{"Id":"a1","Names":["/x"]},{"Id":"b2"}]`))
	})
	ids, err := newAdapter(t).FindByLabel(context.Background(), "io.systemd-docker.unit", "x.service")
	if err != nil || strings.Join(ids, ",") != "a1,b2" {
		t.Errorf("FindByLabel: %q, %v", ids, err)
	}
	if want := `all=1&filters=%7B%22label%22%3A%7B%22io.systemd-docker.unit%3Dx.service%22%3Atrue%7D%7D`; query != want {
		t.Errorf("query %s, want %s", query, want)
	}
}

// An answer that is not HTTP, or not the JSON asked for, is an error that
// names the request.
func TestMalformedAnswers(t *testing.T) {
	daemon(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_ping" {
			return
		}
		w.Write([]byte(`not json`))
	})
	_, err := newAdapter(t).Inspect(context.Background(), "c")
	if err == nil || !strings.Contains(err.Error(), "GET /containers/c/json: the daemon's answer") || errors.Is(err, states.ErrNotFound) {
		t.Errorf("err = %v", err)
	}
	if _, err := parseStatus("SSH-2.0-OpenSSH_9.2"); err == nil || !strings.Contains(err.Error(), "not an HTTP answer") {
		t.Errorf("parseStatus: %v", err)
	}
}
